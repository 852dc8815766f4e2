"""Write the benchmark workload: a 200-rule policy set and a 100k-case JSON Lines catalog.

    .venv/bin/python bench/generate.py [--rules 200] [--cases 100000] [--out bench/out]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import case_dicts, write_policy_set  # noqa: E402


def generate(out: Path, rules: int, cases: int) -> tuple[Path, Path]:
    policy = write_policy_set(out / f"policy-{rules}", rules)
    catalog = out / f"catalog-{cases}.jsonl"
    if not catalog.exists():
        with open(catalog, "w") as f:
            for d in case_dicts(cases):
                f.write(json.dumps(d) + "\n")
    return policy, catalog


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    a = ap.parse_args()
    p, c = generate(Path(a.out), a.rules, a.cases)
    print(f"policy set: {p}\ncatalog:    {c}")
