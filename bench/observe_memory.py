"""Stream a generated XES log of a million events through `friction observe` and print its
peak RSS: it must stay under 200 MB and about the same as for a log a tenth the size
(elements are cleared as they are read; only one case's events are held at a time).

    .venv/bin/python bench/observe_memory.py [--events 1000000] [--per-case 10] [--gzip]

The logs are written to bench/out/ (kept for reruns). Each size runs in its own process,
and CPU seconds are printed beside wall seconds (the machine may be shared).
`friction observe LOG --map MAP --format jsonl --detail summary -o /dev/null`, so the peak
is that command's own.
"""
from __future__ import annotations

import argparse
import gzip
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
FRICTION = Path(sys.executable).parent / "friction"

MAP = """\
case: concept:name
activity: concept:name
timestamp: time:timestamp
department: org:group
channel: {case: channel, values: {Internet: web, Desk: desk, Post: post}}
life_event: {case: event}
lanes: {default: backstage, frontstage: [{pattern: '^Send '}], customer: [Submit application]}
informs: [{pattern: '^Send '}]
"""

ACTIVITIES = ["Submit application", "Register", "Check", "Determine", "Send confirmation", "Advise",
              "Adjust", "Decide", "Send decision", "Archive"]
GROUPS = [f"Group {i}" for i in range(1, 9)]


def write_log(path: Path, events: int, per_case: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=timezone.utc)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8" ?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n')
        for c in range(events // per_case):
            f.write(f'\t<trace>\n\t\t<string key="concept:name" value="case-{c}"/>\n'
                    f'\t\t<string key="channel" value="{rnd.choice(["Internet", "Desk", "Post"])}"/>\n'
                    f'\t\t<string key="event" value="{rnd.choice(["apply", "renew", "object"])}"/>\n')
            t = start + timedelta(minutes=c)
            for _ in range(per_case):
                t += timedelta(minutes=rnd.randint(1, 5000))
                f.write(f'\t\t<event>\n\t\t\t<string key="concept:name" value="{rnd.choice(ACTIVITIES)}"/>\n'
                        f'\t\t\t<string key="org:group" value="{rnd.choice(GROUPS)}"/>\n'
                        f'\t\t\t<string key="org:resource" value="Resource{rnd.randint(1, 60):02d}"/>\n'
                        f'\t\t\t<date key="time:timestamp" value="{t.isoformat(timespec="milliseconds")}"/>\n'
                        f'\t\t\t<string key="lifecycle:transition" value="complete"/>\n\t\t</event>\n')
            f.write("\t</trace>\n")
        f.write("</log>\n")


def run(log: Path, map_file: Path) -> tuple[float, float, float]:
    """(seconds, CPU seconds, peak RSS MB) of one `friction observe` process."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    t0 = time.perf_counter()
    subprocess.run([str(FRICTION), "observe", str(log), "--map", str(map_file), "--format", "jsonl",
                    "--detail", "summary", "-o", "/dev/null"], check=True)
    seconds = time.perf_counter() - t0
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss
    if peak <= before:
        sys.exit("cannot measure: an earlier child process had a higher peak; run one size per process")
    return seconds, usage.ru_utime + usage.ru_stime - cpu, peak / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--per-case", type=int, default=10)
    ap.add_argument("--gzip", action="store_true", help="write and read .xes.gz")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    map_file = OUT / "observe-map.yaml"
    map_file.write_text(MAP, encoding="utf-8")
    suffix = ".xes.gz" if args.gzip else ".xes"
    print(f"python {sys.version.split()[0]}; {args.per_case} events per case")
    print(f"{'events':>10} {'MB on disk':>11} {'seconds':>8} {'CPU s':>6} {'events/CPU s':>13} {'peak MB':>8}")
    # Smallest first: RUSAGE_CHILDREN keeps the highest peak of any child so far.
    for n in (args.events // 10, args.events):
        log = OUT / f"observe-{n}{suffix}"
        if not log.exists():
            write_log(log, n, args.per_case)
        seconds, cpu, peak = run(log, map_file)
        print(f"{n:>10,} {log.stat().st_size / 2**20:>11.1f} {seconds:>8.1f} {cpu:>6.1f} {n / cpu:>13,.0f} {peak:>8.1f}")
    print(f"target: peak under 200 MB for {args.events:,} events: {'met' if peak < 200 else 'NOT MET'}")


if __name__ == "__main__":
    main()
