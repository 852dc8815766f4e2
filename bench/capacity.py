"""What weighting by volume and counting minutes costs `friction evaluate` (issue #12).

    .venv/bin/python bench/capacity.py [--rules 200] [--cases 100000] [--repeat 3]
        [--baseline-python /work/main/.venv/bin/python]

Fresh processes, run back to back and alternating (the machine is shared: read the ratios):
  plain      the bench set without a `capacity` section, a JSON Lines catalog without volumes
             (what every run did before minutes and volumes existed)
  weighted   the same set with lane minutes, practical capacities and costs, and every line
             carrying a `volume`: minutes per outcome, the yearly tally, the footer
  baseline   (with --baseline-python) `plain` run by another checkout's interpreter, e.g.
             main's: the code before this change on the same files
Each is `friction evaluate SET CATALOG --format jsonl -o FILE`, wall seconds, median of --repeat.
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from workload import MANIFEST, case_dicts, write_policy_set  # noqa: E402

CAPACITY = {
    "minutes": {"customer": 5, "frontstage": 8, "backstage": 20, "support": 5},
    "customer_minutes": {"customer": 15, "frontstage": 5},
    "practical_hours_per_fte": 1330,
    "departments": {d: {"fte": 10, "cost_per_hour": 35} for d in MANIFEST["departments"]},
    "channels": {c: {"cost_per_contact": 0.5} for c in MANIFEST["channels"]},
}


def timed(python: str, policy_set: Path, catalog: Path, out: Path) -> float:
    start = time.perf_counter()
    subprocess.run([python, "-m", "friction", "evaluate", str(policy_set), str(catalog), "--format", "jsonl",
                    "-o", str(out)], check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--baseline-python")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        plain_set = write_policy_set(t / "plain", args.rules)
        weighted_set = write_policy_set(t / "weighted", args.rules)
        (weighted_set / "policy-set.yaml").write_text(yaml.safe_dump({**MANIFEST, "capacity": CAPACITY},
                                                                     sort_keys=False))
        rng = random.Random(5)
        plain, weighted = t / "plain.jsonl", t / "weighted.jsonl"
        with plain.open("w") as a, weighted.open("w") as b:
            for d in case_dicts(args.cases):
                a.write(json.dumps(d) + "\n")
                b.write(json.dumps({**d, "volume": rng.randint(1, 5000)}) + "\n")
        runs = {"plain": (sys.executable, plain_set, plain), "weighted": (sys.executable, weighted_set, weighted)}
        if args.baseline_python:
            runs["baseline"] = (args.baseline_python, plain_set, plain)
        times: dict[str, list[float]] = {k: [] for k in runs}
        for _ in range(args.repeat):
            for name, (python, s, c) in runs.items():
                times[name].append(timed(python, s, c, t / f"{name}.out"))
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"friction evaluate, {args.cases:,} cases, {args.rules} rules, median of {args.repeat} (wall s):")
        for k, v in med.items():
            print(f"  {k:9s} {v:7.2f}  runs: {', '.join(f'{x:.2f}' for x in times[k])}")
        print(f"  weighted / plain: {med['weighted'] / med['plain']:.3f}")
        if "baseline" in med:
            print(f"  plain / baseline: {med['plain'] / med['baseline']:.3f}")
            print(f"  weighted / baseline: {med['weighted'] / med['baseline']:.3f}")


if __name__ == "__main__":
    main()
