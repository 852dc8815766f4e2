"""How fast `evaluate` could be if building outcomes cost nothing: the per-case path alone
(read and validate a JSON line, match, look the outcome up, encode and tally the row) timed
with every outcome already in the cache, beside the same cases with none in it; and what a
target in cases/s leaves for each new outcome once that path and the process start are paid.

    .venv/bin/python bench/ceiling.py [--rules 200] [--cases 20000] [--repeat 3] [--target 25000]
                                      [--distinct-bits 17]

In process, CPU time, median of --repeat passes of each kind, alternating (the machine's
speed drifts). The catalog is bench/workload.py's with --distinct-bits rules telling cases
apart (17: every case of the first 131,072 has an outcome of its own, the distinct-200 of
bench/end_to_end.py). The process start charged against the target is measured in the same
run: `friction evaluate` on a one-line catalog in a fresh process, wall time, median of 5.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import friction  # noqa: E402
from friction import report  # noqa: E402
from friction.catalog import open_catalog  # noqa: E402
from workload import case_dicts, write_policy_set  # noqa: E402


def one_pass(evaluator: friction.Evaluator, catalog: Path) -> float:
    """CPU seconds of the per-case path over the catalog, as `evaluate --format jsonl` runs it
    with one worker (blocks of encoded rows, tallied), output discarded."""
    encoder, blocks = report.RowEncoder("jsonl"), report.BlockEncoder("jsonl")
    stream = open_catalog(catalog, evaluator.cps.manifest)
    t = time.process_time()
    for block in friction.run_cases(lambda case: encoder.encode(evaluator.row(case)), stream, 1, combine=blocks):
        if block.problems:
            raise SystemExit(f"unexpected problems: {block.problems[0]}")
    return time.process_time() - t


def start_seconds(folder: Path, catalog: Path, out: Path) -> float:
    one = out / "one.jsonl"
    with catalog.open() as f:
        one.write_text(next(f))
    args = [sys.executable, "-m", "friction", "evaluate", str(folder), str(one), "--format", "jsonl",
            "-o", str(out / "one-out.jsonl")]
    subprocess.run(args, check=True)   # bytecode compiled and cached before timing
    times = []
    for _ in range(5):
        t = time.perf_counter()
        subprocess.run(args, check=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--target", type=float, default=25_000, help="cases/s, end to end, 100,000 cases")
    ap.add_argument("--distinct-bits", type=int, default=17)
    a = ap.parse_args()
    out = Path(tempfile.mkdtemp(prefix="friction-ceiling-"))
    folder = write_policy_set(out / "set", a.rules, distinct_bits=a.distinct_bits)
    catalog = out / "cases.jsonl"
    with catalog.open("w") as f:
        for d in case_dicts(a.cases, distinct_bits=a.distinct_bits):
            f.write(json.dumps(d) + "\n")
    cps = friction.compile_policy_set(friction.load_policy_set(str(folder)))
    start = start_seconds(folder, catalog, out)
    cold, warm = [], []
    for _ in range(a.repeat):
        # cold: an empty cache; warm: the same evaluator again, every outcome cached
        ev = friction.Evaluator(cps, detail="summary", loads=False, cache_size=a.cases * 2, cache_bytes=2**40)
        cold.append(one_pass(ev, catalog))
        warm.append(one_pass(ev, catalog))
        distinct = len(ev._cache)
    c_us, w_us = (statistics.median(x) / a.cases * 1e6 for x in (cold, warm))
    budget = (100_000 / a.target - start) / 100_000 * 1e6
    print(f"{a.rules} rules, {a.cases:,} cases, {distinct:,} distinct outcomes; CPU time per case, median of {a.repeat}:")
    print(f"  no outcome cached (as evaluate meets them)   {c_us:6.1f} us   {1e6 / c_us:9,.0f} cases/s")
    print(f"  every outcome cached (the per-case path)     {w_us:6.1f} us   {1e6 / w_us:9,.0f} cases/s")
    print(f"  so a new outcome costs, all told             {c_us - w_us:6.1f} us")
    print(f"target {a.target:,.0f} cases/s end to end, 100,000 cases, a start of {start:.2f} s: {budget:.1f} us a case;")
    left = budget - w_us
    if left <= 0:
        print(f"  the per-case path alone takes {w_us / budget:.2f}x of it: not reachable however cheap outcomes get")
    else:
        print(f"  {left:.1f} us left for each new outcome: {(c_us - w_us) / left:.2f}x what one costs now")


if __name__ == "__main__":
    main()
