"""`friction report` on growing JSON Lines catalogs: wall time, peak memory (max RSS) and
page size, to show that the overview streams (memory flat in the number of cases).

    .venv/bin/python bench/report_memory.py [--cases 10000 100000] [--rules 200]

Each size runs in its own process (the catalogs are the first N lines of the workload's)."""
from __future__ import annotations

import argparse
import itertools
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import generate  # noqa: E402

CHILD = """
import resource, sys, friction
from friction import blueprint
from friction.page import render_report
cps = friction.compile_policy_set(friction.load_policy_set(sys.argv[1]))
rep = blueprint.build_report(cps, friction.open_catalog(sys.argv[2], cps.manifest))
html = render_report(rep)
print(rep.overview.cases, len(rep.cases), len(html.encode()), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    a = ap.parse_args()
    out = Path(a.out)
    policy, full = generate(out, a.rules, max(a.cases))
    print(f"{'cases':>8} {'blueprints':>10} {'seconds':>8} {'max RSS MiB':>11} {'page KiB':>9}")
    for n in a.cases:
        part = out / f"report-head-{n}.jsonl"
        with open(full) as src, open(part, "w") as dst:
            dst.writelines(itertools.islice(src, n))
        start = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", CHILD, str(policy), str(part)], capture_output=True,
                           text=True, check=True)
        secs = time.perf_counter() - start
        cases, drawn, size, rss_kib = map(int, r.stdout.split())
        print(f"{cases:>8} {drawn:>10} {secs:>8.1f} {rss_kib / 1024:>11.1f} {size / 1024:>9.0f}")


if __name__ == "__main__":
    main()
