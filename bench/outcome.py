"""What a new outcome costs: the journey order, metrics, flags and the pre-encoded row of
one distinct set of fired rules (issue #11 item 3: <= 30 us at 10 rules fired, growing at
most linearly with steps).

    .venv/bin/python bench/outcome.py [--rules 200] [--cases 20000] [--repeat 3] [--detail summary]

Run with PYTHONPATH pointing at an older checkout's package to time the code before.

The cases are matched first (not timed); every distinct outcome key is then built from
scratch, with an empty cache, --repeat times (median), and the microseconds per outcome are
printed overall and by rules fired, with the steps of those journeys.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import friction  # noqa: E402
from friction.trace import build_trace  # noqa: E402
from workload import case_dicts, write_policy_set  # noqa: E402

TARGET_US = 30.0   # at 10 rules fired


def distinct(evaluator: friction.Evaluator, n: int, distinct_bits: int) -> list[tuple[tuple, friction.Case, frozenset]]:
    cps = evaluator.cps
    seen: dict[tuple, tuple] = {}
    for d in case_dicts(n, distinct_bits=distinct_bits):
        case = friction.Case(**d)
        fired = frozenset(evaluator.engine.fire(case))
        key = (fired, case.channel, cps.choices(case), cps.signature(case))
        if key not in seen:
            seen[key] = (key, case, fired)
    return list(seen.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--detail", choices=friction.evaluate.DETAILS, default="summary")
    ap.add_argument("--distinct-bits", type=int, default=0,
                    help="rules testing bits of the case number (see workload.py)")
    ap.add_argument("--out", default="/tmp/friction-bench")
    args = ap.parse_args()
    folder = write_policy_set(Path(args.out) / f"outcome-{args.rules}-{args.distinct_bits}", args.rules,
                              distinct_bits=args.distinct_bits)
    cps = friction.compile_policy_set(friction.load_policy_set(str(folder)))
    ev = friction.Evaluator(cps, detail=args.detail)
    work = distinct(ev, args.cases, args.distinct_bits)
    groups: dict[int, list] = defaultdict(list)
    for w in work:
        groups[len(w[2])].append(w)
    # CPU time of this process (time.process_time): the machine is shared, and a slice
    # another process takes is not this code's cost.
    per: dict[int, list[float]] = defaultdict(list)
    totals = []
    for _ in range(args.repeat):
        total = 0.0
        for k, items in groups.items():
            ev = friction.Evaluator(cps, detail=args.detail, cache_size=len(items) + 1)
            # what Evaluator.outcome does on a miss; in a checkout before build_outcome
            # (PYTHONPATH=old/src), with the Trace it built, or its whole-result path
            build = getattr(ev, "build_outcome", None)
            if build is None:
                old = getattr(ev, "new_outcome", ev.result)
                build = lambda case, fired: old(build_trace(cps, case, fired))   # noqa: E731
            t = time.process_time()
            for key, case, fired in items:
                ev._remember(key, build(case, fired))
            dt = time.process_time() - t
            total += dt
            per[k].append(dt / len(items))
        totals.append(total / len(work))
    steps = {k: [len(build_trace(cps, case, fired).step_ids) for _, case, fired in items]
             for k, items in groups.items()}
    print(f"new outcomes, {args.rules} rules, detail {args.detail}: {len(work):,} distinct of {args.cases:,} cases, "
          f"median of {args.repeat}")
    mean = statistics.median(totals) * 1e6
    print(f"  all outcomes: {mean:.1f} us each (CPU time)")
    print("  rules fired  outcomes  steps(mean)  us each (CPU, median of runs)")
    for k in sorted(per):
        if len(groups[k]) >= 3:
            print(f"  {k:11d}  {len(groups[k]):8d}  {statistics.mean(steps[k]):11.1f}  "
                  f"{statistics.median(per[k]) * 1e6:10.1f}")
    at10 = statistics.median(per[10]) * 1e6 if per.get(10) else float("nan")
    print(f"  at 10 rules fired: {at10:.1f} us, limit {TARGET_US:g} us: ratio {at10 / TARGET_US:.2f} "
          f"({'met' if at10 <= TARGET_US else 'not met'})")


if __name__ == "__main__":
    main()
