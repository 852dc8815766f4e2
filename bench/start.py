"""What a command pays before it does any work: the start of a fresh `friction` process.

    .venv/bin/python bench/start.py [--runs 7] [--baseline-python PATH]

For each command, the median over --runs fresh processes of the wall time and of the CPU
time (user + system, what the shared machine's other jobs inflate least):
  version    friction --version
  help       friction --help
  evaluate   friction evaluate <a 200-rule set> <a one-line .jsonl> --format jsonl -o FILE
  lint       friction lint policies/bank
  nothing    python -c pass (the interpreter's own start, for scale)
and the import time of `friction` and `friction.cli` (-X importtime, cumulative, median).
Bytecode is cached as an installed package has it (in a folder of this run, after one
round not timed), even where PYTHONDONTWRITEBYTECODE is set; --no-pyc compiles every
module's source in every process instead.
Commands run as `python -m friction`, so --baseline-python can be any interpreter that
imports another checkout's friction, e.g. a script that sets PYTHONPATH to a folder holding
a link `friction -> /work/main/engine` and execs /work/main/.venv/bin/python "$@". The two
run round by round, interleaved, so both see the same load."""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from workload import case_dicts, write_policy_set  # noqa: E402


def commands(work: Path) -> dict[str, list[str]]:
    return {
        "version": ["-m", "friction", "--version"],
        "help": ["-m", "friction", "--help"],
        "evaluate": ["-m", "friction", "evaluate", str(work / "set200"), str(work / "one.jsonl"),
                     "--format", "jsonl", "-o", str(work / "out.jsonl")],
        "lint": ["-m", "friction", "lint", str(ROOT / "policies" / "bank")],
        "nothing": ["-c", "pass"],
    }


def environment(work: Path, pyc: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    if pyc:   # beside the run, not in either checkout
        env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def timed(python: str, args: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([python, *args], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):   # lint exits 1 on errors; the bank has none
        raise SystemExit(f"{python} {' '.join(args)}: exit {done.returncode}\n{done.stderr.decode()}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_time(python: str, module: str, cwd: Path, env: dict[str, str]) -> float:
    """Seconds to import `module` (and all it imports), from -X importtime."""
    err = subprocess.run([python, "-X", "importtime", "-c", f"import {module}"], cwd=cwd, env=env,
                         capture_output=True, text=True, check=True).stderr
    for line in reversed(err.splitlines()):
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line)
        if m and m.group(2) == module:
            return int(m.group(1)) / 1e6
    raise SystemExit(f"{python}: no import time for {module}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline-python")
    ap.add_argument("--no-pyc", action="store_true", help="compile every module's source in every process")
    a = ap.parse_args()
    pythons = {"this": sys.executable, **({"baseline": a.baseline_python} if a.baseline_python else {})}
    with tempfile.TemporaryDirectory(prefix="friction-start-") as tmp:
        work = Path(tmp)
        write_policy_set(work / "set200", 200, distinct_bits=17)
        (work / "one.jsonl").write_text(json.dumps(next(case_dicts(1, distinct_bits=17))) + "\n")
        cmds = commands(work)
        env = environment(work, not a.no_pyc)
        for python in pythons.values():   # not timed: writes the bytecode
            for args in cmds.values():
                timed(python, args, work, env)
        walls = {(p, c): [] for p in pythons for c in cmds}
        cpus = {(p, c): [] for p in pythons for c in cmds}
        imports = {(p, m): [] for p in pythons for m in ("friction", "friction.cli")}
        for _ in range(a.runs):   # round by round: this and the baseline see the same load
            for c, args in cmds.items():
                for p, python in pythons.items():
                    wall, cpu = timed(python, args, work, env)
                    walls[p, c].append(wall)
                    cpus[p, c].append(cpu)
            for p, python in pythons.items():
                for m in ("friction", "friction.cli"):
                    imports[p, m].append(import_time(python, m, work, env))
    med = statistics.median
    print(f"median of {a.runs} fresh processes ({'no bytecode cache' if a.no_pyc else 'bytecode cached'}); "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'command':<24}" + "".join(f"{p + ' wall':>15}{p + ' cpu':>15}" for p in pythons)
          + ("   this / baseline (wall, cpu)" if "baseline" in pythons else ""))
    for c in cmds:
        line = f"{c:<24}" + "".join(f"{med(walls[p, c]):>14.3f}s{med(cpus[p, c]):>14.3f}s" for p in pythons)
        if "baseline" in pythons:
            line += (f"   {med(walls['this', c]) / med(walls['baseline', c]):.2f}, "
                     f"{med(cpus['this', c]) / med(cpus['baseline', c]):.2f}")
        print(line)
    for m in ("friction", "friction.cli"):
        line = f"{'import ' + m:<24}" + "".join(f"{med(imports[p, m]):>14.3f}s{'':>15}" for p in pythons)
        if "baseline" in pythons:
            line += f"   {med(imports['this', m]) / med(imports['baseline', m]):.2f}"
        print(line)


if __name__ == "__main__":
    main()
