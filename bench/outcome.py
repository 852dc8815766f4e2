"""What a new outcome costs: the journey order, metrics, flags and the pre-encoded row of
one distinct set of fired rules (issue #11 item 3: <= 30 us at 10 rules fired, growing at
most linearly with steps).

    .venv/bin/python bench/outcome.py [--rules 200] [--cases 20000] [--repeat 3] [--detail summary]
                                      [--baseline OTHER/engine]

The cases are matched first (not timed); every distinct outcome key is then built from
scratch, with an empty cache, --repeat times (median), and the microseconds per outcome are
printed overall and by rules fired, with the steps of those journeys.

--baseline loads another checkout's package (its `engine` directory) in the same process,
as `friction_base`, and times it on the same outcomes, round by round alternating with this
checkout's: this machine's speed drifts by 10-20% over seconds, so two processes run
minutes apart do not compare; two codes timed in alternation within one process do.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import friction  # noqa: E402
from workload import case_dicts, write_policy_set  # noqa: E402

TARGET_US = 30.0   # at 10 rules fired


def load_baseline(path: str) -> ModuleType:
    """Another checkout's package directory, imported as `friction_base` (its modules
    import one another relatively, so the name does not matter to them)."""
    init = Path(path) / "__init__.py"
    if not init.is_file():
        raise SystemExit(f"--baseline: {path} is not a package directory (no __init__.py)")
    spec = importlib.util.spec_from_file_location("friction_base", init, submodule_search_locations=[str(path)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["friction_base"] = module
    spec.loader.exec_module(module)
    return module


class Subject:
    """One code under test: its compiled set and the distinct outcomes, by rules fired."""

    def __init__(self, name: str, pkg: ModuleType, folder: Path, args: argparse.Namespace):
        self.name, self.pkg, self.detail = name, pkg, args.detail
        self.cps = pkg.compile_policy_set(pkg.load_policy_set(str(folder)))
        ev = pkg.Evaluator(self.cps, detail=args.detail)
        seen: dict[tuple, tuple] = {}
        for d in case_dicts(args.cases, distinct_bits=args.distinct_bits):
            case = pkg.Case(**d)
            fired = frozenset(ev.engine.fire(case))
            key = (fired, case.channel, self.cps.choices(case), self.cps.signature(case))
            seen.setdefault(key, (key, case, fired))
        self.groups: dict[int, list] = defaultdict(list)
        for w in seen.values():
            self.groups[len(w[2])].append(w)
        self.outcomes = len(seen)
        self.per: dict[int, list[float]] = defaultdict(list)   # rules fired -> seconds per outcome, a run each
        self.totals: list[float] = []

    def run(self) -> None:
        """Build every distinct outcome once, from scratch, timing each group (CPU time of
        this process: a slice another process takes is not this code's cost)."""
        pkg, cps, total, n = self.pkg, self.cps, 0.0, 0
        for k, items in self.groups.items():
            ev = pkg.Evaluator(cps, detail=self.detail, cache_size=len(items) + 1)
            # what Evaluator.outcome does on a miss; in a checkout before build_outcome,
            # the Trace it built, or its whole-result path
            build = getattr(ev, "build_outcome", None)
            if build is None:
                old = getattr(ev, "new_outcome", ev.result)
                trace = pkg.trace.build_trace
                build = lambda case, fired: old(trace(cps, case, fired))   # noqa: E731
            t = time.process_time()
            for key, case, fired in items:
                ev._remember(key, build(case, fired))
            dt = time.process_time() - t
            total += dt
            n += len(items)
            self.per[k].append(dt / len(items))
        self.totals.append(total / n)

    def at(self, fired: int) -> float:
        return statistics.median(self.per[fired]) * 1e6 if self.per.get(fired) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--detail", choices=friction.evaluate.DETAILS, default="summary")
    ap.add_argument("--distinct-bits", type=int, default=0,
                    help="rules testing bits of the case number (see workload.py)")
    ap.add_argument("--baseline", help="another checkout's package directory (its engine/), timed alternately")
    ap.add_argument("--out", default="/tmp/friction-bench")
    args = ap.parse_args()
    folder = write_policy_set(Path(args.out) / f"outcome-{args.rules}-{args.distinct_bits}", args.rules,
                              distinct_bits=args.distinct_bits)
    this = Subject("this", friction, folder, args)
    subjects = [this]
    if args.baseline:
        subjects.append(Subject("baseline", load_baseline(args.baseline), folder, args))
    for _ in range(args.repeat):
        for s in subjects:
            s.run()
    steps = {k: [len(friction.trace.build_trace(this.cps, case, fired).step_ids)
                 for _, case, fired in items] for k, items in this.groups.items()}
    print(f"new outcomes, {args.rules} rules, detail {args.detail}: {this.outcomes:,} distinct of {args.cases:,} "
          f"cases, median of {args.repeat}" + (", alternating with the baseline" if args.baseline else ""))
    for s in subjects:
        print(f"  all outcomes [{s.name}]: {statistics.median(s.totals) * 1e6:.1f} us each (CPU time)")
    print("  rules fired  outcomes  steps(mean)  us each (CPU, median of runs)" + ("  baseline" if args.baseline else ""))
    for k in sorted(this.per):
        if len(this.groups[k]) >= 3:
            line = f"  {k:11d}  {len(this.groups[k]):8d}  {statistics.mean(steps[k]):11.1f}  {this.at(k):10.1f}"
            if args.baseline:
                line += f"  {subjects[1].at(k):8.1f}"
            print(line)
    at10 = this.at(10)
    line = (f"  at 10 rules fired: {at10:.1f} us, limit {TARGET_US:g} us: ratio {at10 / TARGET_US:.2f} "
            f"({'met' if at10 <= TARGET_US else 'not met'})")
    if args.baseline:
        base = subjects[1].at(10)
        line += f"; baseline {base:.1f} us: {at10 / base:.2f}x of it"
    print(line)


if __name__ == "__main__":
    main()
