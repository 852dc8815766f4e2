"""Are this checkout's results byte-identical to another's? (issue #11: speed work must not
change an answer.)

    .venv/bin/python bench/same_results.py --baseline-python OLD [--cases 10000]

OLD is a Python that imports the other checkout's friction (a venv of it, or a wrapper that
sets PYTHONPATH). Each command below runs under both, writing to a file, and the files are
compared byte for byte: `evaluate` in every output format and both details on the bundled
policy sets with their catalogs, the generated benches' catalogs (every outcome distinct at
200 rules; 2,000 rules), with 1 worker and with 2, and `rank --format json`. Prints one line
per command and exits 1 if any differ or any exit code differs.
"""
from __future__ import annotations

import argparse
import filecmp
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from workload import case_dicts, write_policy_set  # noqa: E402


def catalog(path: Path, n: int, bits: int) -> Path:
    import json
    if not path.exists():
        with open(path, "w") as f:
            for d in case_dicts(n, distinct_bits=bits):
                f.write(json.dumps(d) + "\n")
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-python", required=True)
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "friction-same"))
    a = ap.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    distinct = write_policy_set(out / "distinct-200", 200, distinct_bits=17)
    big = write_policy_set(out / "shaped-2000", 2000)
    runs: list[list[str]] = []
    bundled = [("policies/bank", "cases/life-events.yaml"), ("policies/bank-draft", "cases/life-events.yaml"),
               ("policies/receipt-intake", "cases/receipt-intake.yaml")]
    for policy, cases in bundled:
        for fmt in ("jsonl", "json", "csv", "table", "markdown"):
            for detail in ("summary", "full"):
                runs.append(["evaluate", policy, cases, "--format", fmt, "--detail", detail])
        runs.append(["rank", policy, cases, "--format", "json"])
    generated = [(distinct, catalog(out / f"distinct-{a.cases}.jsonl", a.cases, 17)),
                 (big, catalog(out / f"shaped-{a.cases // 5}.jsonl", a.cases // 5, 0))]
    for policy, cases in generated:
        for fmt in ("jsonl", "csv"):
            for workers in ("1", "2"):
                runs.append(["evaluate", str(policy), str(cases), "--format", fmt, "--workers", workers])
        runs.append(["rank", str(policy), str(cases), "--format", "json"])
    differ = 0
    for i, args in enumerate(runs):
        files, codes = [], []
        for who, python in (("this", sys.executable), ("baseline", a.baseline_python)):
            target = out / f"{i}-{who}.out"
            target.unlink(missing_ok=True)
            # rank's table and JSON go to stdout; evaluate writes its file with -o
            with open(target, "w") as f:
                r = subprocess.run([python, "-m", "friction", *args], cwd=ROOT, stdout=f, stderr=subprocess.PIPE,
                                   text=True)
            files.append(target)
            codes.append(r.returncode)
        same = codes[0] == codes[1] and filecmp.cmp(*files, shallow=False)
        differ += not same
        size = files[0].stat().st_size
        print(f"{'same   ' if same else 'DIFFER '} exit {codes[0]}/{codes[1]} {size:>11,} bytes  friction {' '.join(args)}")
    print(f"{len(runs) - differ} of {len(runs)} commands byte-identical to the baseline's")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
