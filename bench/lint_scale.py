"""Time `friction lint` on generated policy sets of growing size (bench/workload.py's
rules: chains, conditions, several life events): seconds to read the set, and seconds for
the checks (dead rules through chains, duplicates and shadowing, cycles, unused, names).

    .venv/bin/python bench/lint_scale.py [--rules 200 1000 2000] [--out bench/out]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import write_policy_set  # noqa: E402

from friction.lint import lint_report  # noqa: E402
from friction.load import read_policy_set  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, nargs="+", default=[200, 1000, 2000])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    a = ap.parse_args()
    print(f"{'rules':>6} {'read s':>8} {'lint s':>8} {'checks s':>9} {'findings':>9}")
    for n in a.rules:
        folder = write_policy_set(Path(a.out) / f"policy-{n}", n)
        t0 = time.process_time()
        read_policy_set(folder)
        t1 = time.process_time()
        report = lint_report(folder, config=False)
        t2 = time.process_time()
        read = t1 - t0
        print(f"{n:>6} {read:>8.2f} {t2 - t1:>8.2f} {max(t2 - t1 - read, 0):>9.2f} {len(report.findings):>9}")


if __name__ == "__main__":
    main()
