"""Soak the rete engine: replay N generated cases in ONE process and print cases/s and
memory at checkpoints. Memory must stay flat (one durable_rules session per case, deleted
after it) and nothing may crash: the engine fails at the 1025th live session otherwise.

    .venv/bin/python bench/rete_soak.py [--cases 100000] [--rules 100]
"""
from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import friction  # noqa: E402
from workload import cases, write_policy_set  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--rules", type=int, default=100)
    ap.add_argument("--checkpoints", type=int, default=10)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        cps = friction.compile_policy_set(friction.load_policy_set(write_policy_set(Path(tmp) / "p", args.rules)))
    rete = friction.make_engine("rete", cps)
    every = max(1, args.cases // args.checkpoints)
    print(f"rete soak: {args.rules} rules, {args.cases:,} cases, one process")
    print(f"{'cases':>9} {'cases/s':>9} {'rss MB':>8} {'peak MB':>8} {'firings':>8}")
    rates, rss_at = [], []
    start = t0 = time.perf_counter()
    firings = 0
    for i, case in enumerate(cases(args.cases), 1):
        firings += len(rete.replay(case).firings)
        if i % every == 0:
            now = time.perf_counter()
            rates.append(every / (now - t0))
            rss_at.append(rss_mb())
            print(f"{i:>9,} {rates[-1]:>9,.0f} {rss_at[-1]:>8.1f} {peak_rss_mb():>8.1f} {firings / i:>8.1f}")
            t0 = now
    total = time.perf_counter() - start
    growth = rss_at[-1] - rss_at[0] if rss_at else 0.0
    print(f"done: {args.cases:,} cases in {total:.1f}s; median {statistics.median(rates):,.0f} cases/s; "
          f"peak RSS {peak_rss_mb():.1f} MB; RSS growth from first to last checkpoint {growth:+.1f} MB")


if __name__ == "__main__":
    main()
