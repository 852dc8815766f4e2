"""One benchmark run, one workload, every number against a baseline measured in the same run.

    .venv/bin/python bench/compare.py [--rules 200] [--cases 100000] [--engine-cases 5000] [--repeat 3] [--clock cpu]

In-process (the best of --repeat interleaved rounds, on the same --engine-cases cases):
  raw-durable   a minimal durable_rules loop: the same rules, actions that assert the steps
                they require as facts (chaining inside the engine), one session per case
  rete          friction's rete engine (durable_rules with every guard), with the trace
  compiled      friction's compiled engine, with the trace
  limit         the yardstick (bench/limit.py): one generated function per life event,
                attributes read once into locals, rules in step-dependency order so one
                pass reaches the fixed point (loops only for rules that chain in a cycle);
                its answers are checked equal to the compiled engine's on every case first
  per-rule      a weaker generated evaluator, kept for comparison only: one function per
                rule and a naive loop to a fixed point
From JSON text: each line parsed and turned into what the matcher reads, then matched —
friction (JsonLineResolver: parse, validate against the manifest, the case; then the
compiled engine) against the limit (json.loads + limit, no validation). friction parses
with the json module's C scanner directly (json.loads without its Python wrapper): the
row "limit (C scanner)" is the limit parsing the same way, for what that part is worth.
End to end (fresh processes): `friction evaluate` on the JSON Lines catalog with 1 and 2
workers, peak RSS for 10k and all cases, and `friction rank` against one evaluate pass.
Machines are shared and noisy: read the ratios, measured in the same run (in process,
round by round); in-process rows are timed by this process's CPU time (`--clock wall`
for wall time, which other jobs on a shared machine inflate unevenly).
"""
from __future__ import annotations

import argparse
import json
import json.scanner
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import friction  # noqa: E402
from friction.compile import guard_expression  # noqa: E402
from friction.catalog import JsonLineResolver, iter_jsonl_cases, iter_jsonl_lines  # noqa: E402
from friction.replay.rete import _QuietHost, ruleset_definitions  # noqa: E402
from generate import generate  # noqa: E402
from limit import generated_limit  # noqa: E402


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = time.process_time


def best_rates(fns: dict, cases, repeat: int) -> dict[str, float]:
    """Cases per second of each function, the best of `repeat` rounds; each round runs
    every function once, in turn, so that a shared machine's load weighs on all alike.
    The best, not the median: other jobs on the machine only ever add time (timeit's advice).
    Timed by `clock`: this process's CPU time by default (time another job takes the core
    for is not counted; what it does to the caches is)."""
    rates: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = clock()
            for c in cases:
                fn(c)
            rates[k].append(len(cases) / (clock() - t))
    return {k: max(v) for k, v in rates.items()}


# --------------------------------------------------------------------------- baselines


def raw_durable(cps: friction.CompiledPolicySet):
    """The least a durable_rules user would write: facts, nested asserts, delete the state."""
    host = _QuietHost()
    have: set[int] = set()

    def action_for(index: int):
        requires = cps.rules[index].requires

        def act(c):
            for s in requires:
                if s not in have and s in used:
                    have.add(s)
                    c.assert_fact({"kind": "step", "step": s, "id": s + 1})
                elif s not in have:
                    have.add(s)
        return act

    (definition, used, _), = ruleset_definitions(cps, action_for)  # one ruleset: under 400 rules, no unless
    name = f"raw_{os.getpid()}"
    host.register_rulesets({name: definition})
    counter = iter(range(1, 1 << 62))

    def replay(case: friction.Case) -> None:
        have.clear()
        sid = str(next(counter))
        fact = {"kind": "case", "id": 0, "sid": sid, "event": case.event}
        fact.update({"a_" + k: v for k, v in case.attrs.items()})
        host.assert_fact(name, fact)
        host.delete_state(name, sid)
    return replay


def plain_python(cps: friction.CompiledPolicySet):
    """A minimal generated evaluator: each rule a function, loop until nothing new fires."""
    lines = []
    for r in cps.rules:
        local = {name: f"a.get({name!r}, MISSING)" for name in r.attributes}
        alternatives = [f"({guard_expression(guard, local, None)} and {' and '.join(f'{s} in have' for s in steps) or 'True'})"
                        for steps, guard in zip(r.alternatives, r.guards)]
        lines.append(f"def rule_{r.index}(a, have):\n    return {' or '.join(alternatives) or 'False'}\n")
    ns: dict = {"MISSING": object()}
    exec("\n".join(lines), ns)  # noqa: S102 - trusted: generated from a validated set, values via repr
    by_event = {e: [(r.index, ns[f"rule_{r.index}"], r.requires) for r in cps.rules
                    if not r.events or e in r.events] for e in cps.manifest.events}

    def replay(case: friction.Case) -> set[int]:
        a, have, fired = case.attrs, set(), set()
        rules = by_event.get(case.event, ())
        changed = True
        while changed:
            changed = False
            for i, f, req in rules:
                if i not in fired and f(a, have):
                    fired.add(i)
                    have.update(req)
                    changed = True
        return fired
    return replay


# --------------------------------------------------------------------------- end to end


def run_cli(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB of the command and its workers), in a fresh process."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
             "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, check=True)
    wall, rss, code = out.stdout.split()
    if code not in ("0",):
        raise SystemExit(f"command failed ({code}): {' '.join(args)}")
    return float(wall), int(rss) / 1024


def friction_cmd(*args: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "friction"), *args]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rules", type=int, default=200)
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--engine-cases", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--clock", choices=sorted(CLOCKS), default="cpu",
                    help="what the in-process rows time: this process's CPU time (default) or wall time")
    ap.add_argument("--matching-only", action="store_true",
                    help="only the in-process rows (matching and from JSON text), no end-to-end runs")
    a = ap.parse_args()
    global clock
    clock = CLOCKS[a.clock]

    policy, catalog = generate(Path(a.out), a.rules, a.cases)
    small = Path(a.out) / "catalog-10000.jsonl"
    if not small.exists():
        generate(Path(a.out), a.rules, 10_000)
    cps = friction.compile_policy_set(friction.load_policy_set(policy))
    cases = [c for c in iter_jsonl_cases(catalog, cps.manifest) if isinstance(c, friction.Case)][:a.engine_cases]
    firings = sum(len(friction.make_engine("compiled", cps).fire(c)) for c in cases) / len(cases)
    print(f"workload: {a.rules} rules, {a.cases:,}-case catalog ({catalog.name}); "
          f"{firings:.1f} rules fire per case on average")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; in process the best of {a.repeat} rounds ({a.clock} time), end to end the median of {a.repeat} runs\n")

    rete = friction.make_engine("rete", cps)
    compiled = friction.make_engine("compiled", cps)
    limit = generated_limit(cps)
    wrong = [c.id for c in cases if sorted(limit(c.event, c.attrs)) != sorted(compiled.fire(c))]
    if wrong:
        raise SystemExit(f"the limit and the compiled engine disagree on {len(wrong)} cases, e.g. {wrong[:3]}")
    rates = best_rates({
        "raw-durable": raw_durable(cps),
        "rete": rete.replay,
        "compiled": compiled.replay,
        "compiled (fire only)": compiled.fire,
        "per-rule (weaker)": plain_python(cps),
        "limit": lambda c: limit(c.event, c.attrs),
    }, cases, a.repeat)
    rows = [(k, v, v / rates["raw-durable"], v / rates["limit"]) for k, v in rates.items()]
    print(f"{'replay (in process)':<22}{'cases/s':>12}{'× raw-durable':>15}{'× limit':>12}")
    for k, v, rd, bl in rows:
        print(f"{k:<22}{v:>12,.0f}{rd:>15.2f}{bl:>12.2f}")

    lines = list(iter_jsonl_lines(catalog))[:a.engine_cases]
    resolve = JsonLineResolver(cps.manifest, catalog.name)

    def friction_from_text(item):
        compiled.fire(resolve(item))

    def limit_from_text(item):
        d = json.loads(item.text)
        limit(d["event"], d["attrs"])

    scan = json.scanner.make_scanner(json.JSONDecoder())   # what friction's case reader parses with

    def limit_from_text_scanner(item):
        d = scan(item.text, 0)[0]
        limit(d["event"], d["attrs"])
    text_rates = best_rates({"compiled from text": friction_from_text, "limit from text": limit_from_text,
                               "limit (C scanner)": limit_from_text_scanner}, lines, a.repeat)
    print(f"\n{'from JSON text':<22}{'cases/s':>12}{'× limit':>15}{'× limit (C scanner)':>21}")
    for k, v in text_rates.items():
        print(f"{k:<22}{v:>12,.0f}{v / text_rates['limit from text']:>15.2f}"
              f"{v / text_rates['limit (C scanner)']:>21.2f}")
    if a.matching_only:
        return

    print(f"\n{'end to end':<44}{'seconds':>9}{'cases/s':>10}{'peak MB':>9}")
    results = {}
    for label, args, n in [
        (f"evaluate {small.name} (1 worker)", ["evaluate", str(policy), str(small), "--format", "jsonl",
                                               "-o", os.devnull], 10_000),
        (f"evaluate {catalog.name} (1 worker)", ["evaluate", str(policy), str(catalog), "--format", "jsonl",
                                                 "-o", os.devnull], a.cases),
        (f"evaluate {catalog.name} (2 workers)", ["evaluate", str(policy), str(catalog), "--format", "jsonl",
                                                  "-o", os.devnull, "--workers", "2"], a.cases),
        (f"evaluate {catalog.name} --detail full", ["evaluate", str(policy), str(catalog), "--format", "jsonl",
                                                    "--detail", "full", "-o", os.devnull], a.cases),
        (f"rank {small.name} (1 worker)", ["rank", str(policy), str(small), "--top", "0"], 10_000),
    ]:
        walls, rss = [], 0.0
        for _ in range(a.repeat):
            w, r = run_cli(friction_cmd(*args))
            walls.append(w)
            rss = max(rss, r)
        wall = statistics.median(walls)
        results[label] = (wall, rss)
        print(f"{label:<44}{wall:>9.2f}{n / wall:>10,.0f}{rss:>9.1f}")
    one = results[f"evaluate {catalog.name} (1 worker)"][0]
    two = results[f"evaluate {catalog.name} (2 workers)"][0]
    ten = results[f"evaluate {small.name} (1 worker)"]
    rank_wall = results[f"rank {small.name} (1 worker)"][0]
    print(f"\n2 workers vs 1: {one / two:.2f}x;  rank vs one evaluate pass (10k cases): "
          f"{rank_wall / ten[0]:.2f}x;  peak RSS 10k vs {a.cases // 1000}k: {ten[1]:.0f} vs "
          f"{results[f'evaluate {catalog.name} (1 worker)'][1]:.0f} MB")


if __name__ == "__main__":
    main()
