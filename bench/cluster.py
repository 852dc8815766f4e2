"""friction on Dask against one process, on the same catalog in the same run.

    .venv/bin/python bench/cluster.py [--rules 200] [--cases 1000000] [--workers 2]

Prints cases/s for: one process (`friction evaluate ... --format jsonl -o FILE`), the
in-process pool (`--workers N`), and a Dask LocalCluster of N processes
(`--scheduler local:N -o DIR`, cluster start included and also shown apart); checks that
the cluster wrote every case exactly once and that its totals equal the one-process run;
prints the client's peak RSS (the cluster run is driven from this process, so RUSAGE_SELF
is the client alone) and, from the measured per-worker rate, how many worker processes a
70M-case run needs to finish within an hour.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from compare import friction_cmd, run_cli  # noqa: E402
from generate import generate  # noqa: E402

from friction import cluster  # noqa: E402
from friction.metrics import SCORES  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--blocksize", type=int, default=cluster.DEFAULT_BLOCKSIZE)
    ap.add_argument("--out", default=str(HERE / "out"))
    a = ap.parse_args()
    policy, catalog = generate(Path(a.out), a.rules, a.cases)
    tmp = Path(tempfile.mkdtemp(prefix="friction-bench-"))
    try:
        single = tmp / "single.jsonl"
        one = run_cli(friction_cmd("evaluate", str(policy), str(catalog), "--format", "jsonl", "-o", str(single)))
        pool = run_cli(friction_cmd("evaluate", str(policy), str(catalog), "--format", "jsonl",
                                    "--workers", str(a.workers), "-o", str(tmp / "pool.jsonl")))
        t0 = time.perf_counter()
        with cluster.connect(f"local:{a.workers}") as client:
            started = time.perf_counter() - t0
            t1 = time.perf_counter()
            run = cluster.evaluate_on_cluster(client, str(policy), str(catalog), catalog.name,
                                              out_dir=str(tmp / "parts"), blocksize=a.blocksize)
            work = time.perf_counter() - t1
        wall = time.perf_counter() - t0
        client_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        ids = set()
        rows = 0
        for part in sorted((tmp / "parts").glob("part-*.jsonl")):
            with open(part) as f:
                for line in f:
                    rows += 1
                    ids.add(json.loads(line)["id"])
        totals = [0.0] * len(SCORES)
        with open(single) as f:
            for line in f:
                d = json.loads(line)
                totals = [t + v for t, v in zip(totals, (*(d["metrics"][m] for m in SCORES[:-1]), d["effort"]))]
        same = all(abs(run.totals[k] - v) < 1e-6 * max(1.0, abs(v)) for k, v in zip(SCORES, totals))

        n = a.cases
        print(f"{a.rules} rules, {n:,} cases, {a.workers} workers, blocks of {a.blocksize:,} bytes ({run.parts} blocks)")
        print(f"{'run':<44}{'seconds':>9}{'cases/s':>10}{'vs 1 process':>14}")
        print(f"{'1 process (evaluate -o FILE)':<44}{one[0]:>9.1f}{n / one[0]:>10,.0f}{1:>14.2f}")
        print(f"{f'--workers {a.workers} (one machine, fork)':<44}{pool[0]:>9.1f}{n / pool[0]:>10,.0f}"
              f"{one[0] / pool[0]:>14.2f}")
        print(f"{f'--scheduler local:{a.workers} (cluster start incl.)':<44}{wall:>9.1f}{n / wall:>10,.0f}"
              f"{one[0] / wall:>14.2f}")
        print(f"{f'  of which cluster start':<44}{started:>9.1f}")
        print(f"{f'  of which evaluation':<44}{work:>9.1f}{n / work:>10,.0f}{one[0] / work:>14.2f}")
        print(f"every case once: {'yes' if rows == n == len(ids) else 'NO'} ({rows:,} rows, {len(ids):,} ids); "
              f"totals equal the 1-process run: {'yes' if same else 'NO'}")
        print(f"peak RSS: client {client_rss:.0f} MB; 1 process {one[1]:.0f} MB")
        per_worker = n / work / a.workers
        needed = math.ceil(70_000_000 / 3600 / per_worker)   # a part of a process is a whole one
        print(f"per worker process: {per_worker:,.0f} cases/s -> 70M cases in 1 hour needs "
              f"{needed} worker process{'' if needed == 1 else 'es'} at this rate (no allowance for scheduling or I/O)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
