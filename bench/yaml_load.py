"""Reading policy sets' YAML: libyaml's fast path against the pure-Python loader, same run.

For the 200-rule set of bench/end_to_end.py (distinct-200), its 2,000-rule shaped set, and
the bundled bank (policies/bank), prints the best of --repeat runs of
- `parse`: parse_yaml over every YAML file of the set (texts read beforehand), and
- `load`: load_policy_set (reading, parsing, validating the rules),
each with the Python loader and with libyaml, and the ratio (Python / libyaml). With `--cli`,
also the wall time of a whole `friction evaluate` of one case (the serial start of every
command: import, load, compile, one case), wall and CPU (user + system) seconds, median of
--cli-runs runs each way.

    .venv/bin/python bench/yaml_load.py [--repeat 5] [--cli] [--cli-runs 7] [--out bench/out/yaml]
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import case_dicts, write_policy_set  # noqa: E402

import friction  # noqa: E402
from friction import yamlio  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

# `friction evaluate` with the fast path switched off (libyaml left out)
PYTHON_ONLY = "import friction.yamlio as y; y._FastLoader = None; from friction.__main__ import run; run()"
WITH_LIBYAML = "from friction.__main__ import run; run()"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def python_only():
    return mock.patch.object(yamlio, "_FastLoader", None)


def measure(name: str, folder: Path, repeat: int) -> None:
    texts = [(str(p), p.read_text(encoding="utf-8")) for p in sorted(folder.rglob("*.yaml"))]
    for path, text in texts:   # the two paths read the same values (tests/test_yaml_libyaml.py checks lines too)
        assert yamlio.parse_yaml(text, path, fast=True) == yamlio.parse_yaml(text, path, fast=False), path

    def parse(fast: bool) -> None:
        for path, text in texts:
            yamlio.parse_yaml(text, path, fast=fast)

    def load() -> None:
        friction.load_policy_set(folder)

    parse_py, parse_c = best(lambda: parse(False), repeat), best(lambda: parse(True), repeat)
    with python_only():
        load_py = best(load, repeat)
    load_c = best(load, repeat)
    size = sum(len(t.encode()) for _, t in texts) / 1024
    print(f"{name:<14} {len(texts):>5} {size:>7.0f} {parse_py:>9.3f} {parse_c:>9.3f} {parse_py / parse_c:>6.1f}x"
          f" {load_py:>9.3f} {load_c:>9.3f} {load_py / load_c:>6.1f}x")


def cli(folder: Path, out: Path, runs: int) -> None:
    case = out / "one-case.jsonl"
    case.write_text(json.dumps(next(case_dicts(1, distinct_bits=17))) + "\n")
    args = ["evaluate", str(folder), str(case), "-o", str(out / "one-case-out.jsonl"), "--format", "jsonl"]
    runs_of: dict[str, dict[str, list[float]]] = {label: {"wall": [], "cpu": []} for label in ("python", "libyaml")}
    for _ in range(runs):   # interleaved, so a change of machine load hits both alike
        for label, code in (("python", PYTHON_ONLY), ("libyaml", WITH_LIBYAML)):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t = time.perf_counter()
            subprocess.run([sys.executable, "-c", code, *args], check=True)
            runs_of[label]["wall"].append(time.perf_counter() - t)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            runs_of[label]["cpu"].append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    print(f"\nfriction evaluate {folder.name} (one case, the serial start), seconds, median of {runs}:")
    for what in ("wall", "cpu"):
        py, c = (statistics.median(runs_of[label][what]) for label in ("python", "libyaml"))
        print(f"  {what:<5} python {py:.3f}  libyaml {c:.3f}  saved {py - c:.3f} ({py / c:.2f}x)"
              f"   runs: {' '.join(f'{w:.2f}' for w in runs_of['python'][what])} | "
              f"{' '.join(f'{w:.2f}' for w in runs_of['libyaml'][what])}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--cli", action="store_true", help="also time a whole `friction evaluate` of one case")
    ap.add_argument("--cli-runs", type=int, default=7)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "yaml"))
    a = ap.parse_args()
    if yamlio._FastLoader is None:
        sys.exit("PyYAML here is built without libyaml: there is no fast path to compare")
    out = Path(a.out)
    sets = {"distinct-200": write_policy_set(out / "distinct-200", 200, distinct_bits=17),
            "shaped-2000": write_policy_set(out / "shaped-2000", 2000),
            "bank": ROOT / "policies" / "bank"}
    print(f"best of {a.repeat}, seconds; ratio = python / libyaml")
    print(f"{'set':<14} {'files':>5} {'KB':>7} {'parse py':>9} {'parse c':>9} {'ratio':>7}"
          f" {'load py':>9} {'load c':>9} {'ratio':>7}")
    for name, folder in sets.items():
        measure(name, folder, a.repeat)
    if a.cli:
        cli(sets["distinct-200"], out, a.cli_runs)


if __name__ == "__main__":
    main()
