"""Where `friction observe` spends its time: reading and parsing the event log, against the
whole of observing it (parsing, then building and measuring each observed journey). The
share says how much distributing the per-case work could save while one process parses.

    .venv/bin/python bench/observe_split.py [LOG MAP] [--repeat N]
"""
from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from friction.eventlog import read_log
from friction.logmap import load_log_map
from friction.observe import observe_log

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", nargs="?", default=str(ROOT / "cases" / "receipt.xes.gz"))
    ap.add_argument("map", nargs="?", default=str(ROOT / "cases" / "receipt-map.yaml"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    logmap = load_log_map(args.map)
    parse, whole = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        n_read = sum(1 for _ in read_log(args.log, logmap))
        t1 = time.perf_counter()
        n_obs = sum(1 for _ in observe_log(args.log, logmap))
        t2 = time.perf_counter()
        assert n_read == n_obs, (n_read, n_obs)
        parse.append(t1 - t0)
        whole.append(t2 - t1)
    p, w = statistics.median(parse), statistics.median(whole)
    print(f"{args.log}: {n_obs:,} cases, median of {args.repeat}")
    print(f"read and parse the log   {p:6.2f} s")
    print(f"observe (parse included) {w:6.2f} s")
    print(f"parsing is {p / w:.0%} of observe; distributing the rest saves at most {1 - p / w:.0%}")


if __name__ == "__main__":
    main()
