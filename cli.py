"""friction's command line: parse options, call the library, pick a reporter, map the
outcome to an exit code (0 ok, 1 a check failed, 2 bad input). Nothing else lives here."""
from __future__ import annotations

import functools
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

import friction
from friction import coverage as coverage_mod
from friction import diff as diff_mod
from friction import expect as expect_mod
from friction import blueprint, mermaid
from friction import rank as rank_mod
from friction import report
from friction.blueprint import ALL_UP_TO, WORST_DEFAULT
from friction.explain import explain as explain_case
from friction.page import render_report
from friction.schemas import KINDS, json_schema

from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path

DEFAULT_SNAPSHOT = "friction.lock.json"
DEFAULT_FUZZ_DB = ".friction/fuzz"

EXIT_FAILED, EXIT_INPUT = 1, 2   # 0: everything passed


def _bundled(relative: str) -> str:
    """The bundled example, wherever friction is installed; says on stderr which one."""
    path = bundled_path(relative)
    click.echo(f"friction: using the bundled example {relative} ({path})", err=True)
    return path


def _policies(p: str | None) -> str:
    return p or _bundled(DEFAULT_POLICY_SET)


def _catalog(c: str | None) -> str:
    return c or _bundled(DEFAULT_CATALOG)


def _write(path: str, text: str) -> None:
    with _open_output(path) as f:
        f.write(text)


def _emit(text: str, output: str | None = None) -> None:
    if output:
        _write(output, text)
    else:
        click.echo(text, nl=False)


def _report_problems(problems: list) -> None:
    for p in problems:
        click.echo(f"error: {p}", err=True)


def input_errors_exit_2(fn: Callable) -> Callable:
    """Bad input: one line per problem on stderr, exit 2, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except friction.InputError as e:
            _report_problems(e.problems)
            sys.exit(EXIT_INPUT)
    return wrapper


def _evaluate(policy_set: str, catalog: str, engine_name: str) -> tuple[friction.CompiledPolicySet, Any, friction.Evaluation]:
    """(compiled set, the YAML catalog or None for JSON Lines, the evaluation)."""
    cps = friction.compile_policy_set(friction.load_policy_set(policy_set))
    stream = friction.open_catalog(catalog, cps.manifest)
    return cps, stream.loaded, friction.evaluate.evaluate_items(cps, stream.name, stream, engine_name)


def _case_problems_exit(ev_problems: list) -> None:
    """Cases that could not be evaluated were reported; the rest were written. Exit 2."""
    if ev_problems:
        _report_problems(ev_problems)
        click.echo(f"{len(ev_problems)} case(s) could not be evaluated; the others were.", err=True)
        sys.exit(EXIT_INPUT)


engine_option = click.option(
    "--engine", "engine_name", type=click.Choice(friction.ENGINES), default="compiled", show_default=True,
    help="compiled: generated Python (fast); rete: durable_rules (the reference semantics).")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write here, not stdout.")


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="friction", prog_name="friction")
def main() -> None:
    """Replay customer life events through policy sets and measure the friction they make.

    Without arguments, commands use the bundled example: policies/bank and
    cases/life-events.yaml."""
    # A batch run allocates millions of short-lived objects next to a long-lived outcome
    # cache; the default thresholds rescan that cache constantly (measured: about 2x slower).
    gc.set_threshold(50_000, 20, 20)


workers_option = click.option(
    "--workers", type=click.IntRange(0), default=1, show_default=True,
    help="Worker processes (0: one per core). Results keep the catalog's order.")


def scheduler_option(fn: Callable) -> Callable:
    fn = click.option("--blocksize", type=click.IntRange(1024), default=16 * 2 ** 20, show_default=True,
                      help="With --scheduler: bytes of catalog per task.")(fn)
    return click.option("--scheduler", metavar="ADDRESS",
                        help="Run on Dask: tcp://host:8786 (a running cluster) or local:N (N worker "
                             "processes started for this run). Needs friction[dask].")(fn)


def _progress(items, label: str):
    """A progress line with cases/s on a terminal; nothing at all in pipes and CI."""
    if not sys.stderr.isatty():
        yield from items
        return
    start, count = time.perf_counter(), 0

    def rate(_: Any) -> str:
        elapsed = time.perf_counter() - start
        return f"{count / elapsed:,.0f} cases/s" if elapsed > 0 else ""

    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True, item_show_func=rate,
                           length=None) as bar:
        for item in bar:
            count += 1
            yield item


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("--format", "fmt", type=click.Choice(friction.FORMATS), default="table", show_default=True,
              help="jsonl and csv stream row by row; a .jsonl catalog is read line by line.")
@click.option("--detail", type=click.Choice(["full", "summary"]),
              help="Rows with every step and flag (full; the default for json), or metrics, the "
                   "ordered actions and flag counts (summary; the default for jsonl).")
@output_option
@engine_option
@workers_option
@scheduler_option
@input_errors_exit_2
def evaluate(policy_set: str | None, catalog: str | None, fmt: str, detail: str | None, output: str | None,
             engine_name: str, workers: int, scheduler: str | None, blocksize: int) -> None:
    """Evaluate every case of CATALOG (YAML, or JSON Lines: one case per line) against POLICY_SET.

    Exit 0 when every case was evaluated, 2 on bad input. A bad case is reported on stderr
    (and as an error row in jsonl/csv) and every other case is still evaluated and written.
    With --scheduler, the catalog is evaluated on a Dask cluster (JSON Lines rows; -o names
    a folder for one file per block plus totals.json)."""
    if scheduler:
        return _evaluate_on_cluster(_policies(policy_set), _catalog(catalog), fmt, detail, output,
                                    engine_name, scheduler, blocksize)
    cps = friction.compile_policy_set(friction.load_policy_set(_policies(policy_set)))
    stream = friction.open_catalog(_catalog(catalog), cps.manifest)
    evaluator = friction.Evaluator(cps, engine_name, detail=detail or ("full" if fmt == "json" else "summary"))
    out = _open_output(output)
    failed = bad_personas = 0
    try:
        writer = report.RowWriter(fmt, out, cps.name, cps.manifest.version, engine_name, stream.name)
        encoder = report.RowEncoder(fmt)
        rows = friction.run_cases(lambda case: encoder.encode(evaluator.row(case)), stream,
                                workers or friction.default_workers())
        for row in _progress(rows, "evaluating"):
            if isinstance(row, friction.Problem):   # every failed case arrives as a Problem
                click.echo(f"error: {row}", err=True)
                if (row.subject or "").startswith("persona "):
                    bad_personas += 1
                else:
                    failed += 1
                row = encoder.encode(row)
            writer.add(row)
        writer.close()
    finally:
        if output:
            out.close()
    if bad_personas:
        click.echo(f"{bad_personas} persona(s) are invalid; their cases were not evaluated.", err=True)
    if failed:
        click.echo(f"{failed} case(s) could not be evaluated; {writer.cases} were.", err=True)
    if failed or bad_personas:
        sys.exit(EXIT_INPUT)


def _cluster_source(policy_set: str, catalog: str) -> tuple[str | bytes, str, list]:
    """What the cluster reads: a JSON Lines catalog's path (workers read their blocks), or a
    YAML catalog expanded here into JSON Lines (its invalid cases reported here)."""
    from friction import cluster

    if catalog.endswith(".jsonl"):
        return catalog, friction.load.relative_path(Path(catalog)), []
    cps = friction.compile_policy_set(friction.load_policy_set(policy_set))
    stream = friction.open_catalog(catalog, cps.manifest)
    cases, problems = [], []
    for item in stream:
        (problems if isinstance(item, friction.Problem) else cases).append(item)
    _report_problems(problems)
    return cluster.cases_as_jsonl(iter(cases)), stream.name, problems


def _evaluate_on_cluster(policy_set: str, catalog: str, fmt: str, detail: str | None, output: str | None,
                         engine_name: str, scheduler: str, blocksize: int) -> None:
    from friction import cluster

    if fmt not in ("table", "jsonl"):   # table is the default: on a cluster rows are JSON Lines
        raise friction.InputError(f"--scheduler writes JSON Lines rows; --format {fmt} is not available there")
    source, name, problems = _cluster_source(policy_set, catalog)
    with cluster.connect(scheduler) as client:
        run = cluster.evaluate_on_cluster(
            client, policy_set, source, name, engine=engine_name, detail=detail or "summary",
            out_dir=output, blocksize=blocksize, emit=None if output else lambda t: click.echo(t, nl=False))
    for m in run.messages:
        click.echo(f"error: {m}", err=True)
    if output:
        click.echo(f"wrote {run.parts} part(s) and totals.json to {output}: {run.cases} cases, "
                   f"{run.errors} error row(s)", err=True)
    if run.errors or problems:
        click.echo(f"{run.errors + len(problems)} case(s) could not be evaluated; {run.cases} were.", err=True)
        sys.exit(EXIT_INPUT)


def _open_output(output: str | None):
    if not output:
        return sys.stdout
    try:
        return open(output, "w", encoding="utf-8")
    except OSError as e:
        raise friction.InputError(f"{output}: cannot write: {e.strerror}") from None


@main.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", required=True, type=click.Path(dir_okay=False),
              help="YAML map: case id, activity, timestamp, department, channel, lanes, life event.")
@click.option("--format", "fmt", type=click.Choice(friction.FORMATS), default="table", show_default=True,
              help="jsonl and csv stream a row per case; table, json and markdown add the distributions.")
@click.option("--detail", type=click.Choice(["full", "summary"]),
              help="Rows with every step (full; the default but for jsonl), or metrics and the ordered "
                   "actions (summary; the default for jsonl).")
@click.option("--no-cases", is_flag=True, help="Only the per life event distributions (in any format).")
@output_option
@input_errors_exit_2
def observe(log: str, map_file: str, fmt: str, detail: str | None, no_cases: bool, output: str | None) -> None:
    """Measure the observed journeys of an event LOG (XES, .xes.gz or CSV) as friction measures
    modelled ones, plus rework and ping-pong; per case, and per life event median, 90th
    percentile, max and mean. Exit 2 when any case could not be read (the others are written)."""
    from friction.logmap import load_log_map
    from friction.observe import OBSERVED_METRICS, Distributions, observe_log
    from friction.observed_report import render_distributions

    logmap = load_log_map(map_file)
    journeys = observe_log(log, logmap)
    dist = Distributions(OBSERVED_METRICS)
    title = f"observed journeys of {log} (map {map_file})"
    out = _open_output(output)
    failed = 0
    try:
        writer = None if no_cases else report.RowWriter(
            fmt, out, "", "", "", "", columns=OBSERVED_METRICS, meta={"log": log, "map": map_file}, title=title)
        encoder = report.RowEncoder(fmt, OBSERVED_METRICS)
        for j in _progress(journeys, "observing"):
            if isinstance(j, friction.Problem):
                click.echo(f"error: {j}", err=True)
                failed += 1
                row = encoder.encode(j)
            else:
                dist.add(j.life_event, j.metrics)
                row = encoder.encode(j.as_dict(detail or ("summary" if fmt == "jsonl" else "full"))) if writer else None
            if writer:
                writer.add(row)
        summary = dist.summary()
        if writer is None:
            out.write(render_distributions(summary, fmt, title))
        else:
            writer.close({"distributions": summary})
            if fmt in ("table", "markdown"):
                out.write("\n" + render_distributions(summary, fmt))
    finally:
        if output:
            out.close()
    if failed:
        click.echo(f"{failed} case(s) of the log could not be read; {sum(dist.cases(e) for e in summary)} were.",
                   err=True)
        sys.exit(EXIT_INPUT)


@main.command("compare")
@click.argument("policy_set")
@click.argument("catalog")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", required=True, type=click.Path(dir_okay=False),
              help="YAML map from the log to life events, lanes, departments and step actions.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--top", type=click.IntRange(1), default=5, show_default=True, help="Observed variants to list.")
@output_option
@engine_option
@input_errors_exit_2
def compare_cmd(policy_set: str, catalog: str, log: str, map_file: str, fmt: str, top: int, output: str | None,
                engine_name: str) -> None:
    """Policy as written against practice as lived: per life event, the medians of CATALOG's
    modelled journeys and LOG's observed ones, steps observed that no rule requires, rule
    steps never observed, and the most common observed variants."""
    from friction.compare import compare
    from friction.logmap import load_log_map
    from friction.observe import observe_log
    from friction.observed_report import render_comparison

    cps, _, ev = _evaluate(policy_set, catalog, engine_name)
    logmap = load_log_map(map_file)
    cmp = compare(cps, ev, _progress(observe_log(log, logmap), "observing"), log, map_file)
    _emit(render_comparison(cmp, fmt, top), output)
    _report_problems(cmp.problems)
    if cmp.problems:
        click.echo(f"{len(cmp.problems)} case(s) of the log could not be read; the others were compared.", err=True)
    _case_problems_exit(ev.problems)
    if cmp.problems:
        sys.exit(EXIT_INPUT)


@main.command()
@click.argument("case_id")
@click.option("--policies", "policy_set", help="Policy set folder (default: the bundled bank).")
@click.option("--catalog", help="Catalog file (default: the bundled life events).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "mermaid"]), default="text",
              show_default=True, help="mermaid: the journey as a flowchart in blueprint lanes.")
@engine_option
@input_errors_exit_2
def explain(case_id: str, policy_set: str | None, catalog: str | None, fmt: str, engine_name: str) -> None:
    """Why each step of one case is there: rules, conditions with actual values, chains."""
    cps, _, ev = _evaluate(_policies(policy_set), _catalog(catalog), engine_name)
    result = next((r for r in ev.results if r.case.id == case_id), None)
    if result is None:
        ids = [r.case.id for r in ev.results]
        bad = [p for p in ev.problems if p.subject == f"case {case_id}"]
        if bad:
            raise friction.InputError(bad)
        raise friction.InputError(f"no case '{case_id}' in {ev.catalog}{friction.errors.did_you_mean(case_id, ids)}")
    if fmt == "mermaid":
        click.echo(mermaid.case_chart(result), nl=False)
        return
    click.echo(report.render_explain(explain_case(cps, result), fmt), nl=False)


@main.command()
@click.argument("baseline")
@click.argument("draft")
@click.argument("catalog", required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--fail-on-increase", default="", metavar="METRICS",
              help="Comma-separated metrics (or 'any'): exit 1 when one rises for any case.")
@click.option("--all", "show_all", is_flag=True, help="List unchanged cases too.")
@output_option
@engine_option
@input_errors_exit_2
def diff(baseline: str, draft: str, catalog: str | None, fmt: str, fail_on_increase: str, show_all: bool,
         output: str | None, engine_name: str) -> None:
    """What DRAFT changes against BASELINE, case by case and in total."""
    watch = [m.strip() for m in fail_on_increase.split(",") if m.strip()]
    if watch == ["any"]:
        watch = list(diff_mod.DIFF_KEYS)
    for m in watch:
        if m not in diff_mod.DIFF_KEYS:
            raise friction.InputError(f"--fail-on-increase: unknown metric '{m}'"
                                    f"{friction.errors.did_you_mean(m, diff_mod.DIFF_KEYS)}")
    cat = _catalog(catalog)
    _, _, before = _evaluate(baseline, cat, engine_name)
    _, _, after = _evaluate(draft, cat, engine_name)
    d = diff_mod.diff(before, after)
    text = report.render_diff(d, fmt, only_changed=not show_all)
    if fmt == "markdown":   # the journeys before and after, drawn where a pull request is reviewed
        text += "\n" + mermaid.diff_charts(before, after, d)
    _emit(text, output)
    _case_problems_exit(d.problems)
    rises = diff_mod.increases(d, watch)
    for cid, m, a, b in rises:
        click.echo(f"increase: {cid}: {m} {a:g} → {b:g}", err=True)
    if rises:
        sys.exit(EXIT_FAILED)


@main.command("test")
@click.argument("path", required=False)
@click.option("--policies", "policy_set", help="Run the expectations on this policy set instead.")
@click.option("--catalog", help="Catalog for expectation files that do not name one.")
@click.option("--snapshot", "snapshot_file", type=click.Path(dir_okay=False),
              help="Also fail when any metric rose since this snapshot (see `friction snapshot`).")
@click.option("--junit", type=click.Path(dir_okay=False), help="Write JUnit XML here for CI servers.")
@click.option("--allow-outside-paths", is_flag=True,
              help="Let expectation files name a policy set or catalog outside their project.")
@engine_option
@input_errors_exit_2
def test_cmd(path: str | None, policy_set: str | None, catalog: str | None, snapshot_file: str | None,
             junit: str | None, allow_outside_paths: bool, engine_name: str) -> None:
    """Check policy expectations (PATH: a policy set with an expectations/ folder, or an
    expectation file; default: the bundled bank). Exit 0 all pass, 1 any fail, 2 input error."""
    run = expect_mod.TestRun()
    cache: dict[tuple[str, str], Any] = {}

    def evaluation(ps: str, cat: str) -> friction.Evaluation:
        key = (str(Path(ps).resolve()), str(Path(cat).resolve()))
        if key not in cache:
            cache[key] = _evaluate(ps, cat, engine_name)[2]
            _case_problems_exit(cache[key].problems)
        return cache[key]

    snap_report = None
    if snapshot_file:
        snap = expect_mod.read_snapshot(snapshot_file)
        snap_set, snap_catalog = expect_mod.snapshot_paths(snap, snapshot_file, allow_outside_paths,
                                                           (policy_set is None, catalog is None))
        ps = policy_set or snap_set or _policies(None)
        snap_report = expect_mod.compare_snapshot(snap, evaluation(ps, catalog or snap_catalog or _catalog(None)))
    if path or not snapshot_file:
        target = path or policy_set or _policies(None)
        files = expect_mod.find_expectation_files(target)
        if not files:
            raise friction.InputError(f"{target}: no expectation files found (looked for {target}/expectations/*.yaml)")
        for f in files:
            loaded = expect_mod.load_expectations(f, allow_outside=allow_outside_paths,
                                                  own_policy_set=policy_set is None)
            ps = policy_set or loaded.policy_set
            if ps is None:
                raise friction.InputError(f"{loaded.path}: say which policy set it tests (policy_set: or --policies)")
            expect_mod.run_expectations(loaded, evaluation(ps, loaded.catalog or _catalog(catalog)), run)
    if junit:
        _write(junit, expect_mod.junit_xml(run))
    click.echo(report.render_test(run, snap_report), nl=False)
    if run.failed or (snap_report is not None and snap_report.failed):
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=DEFAULT_SNAPSHOT, show_default=True)
@engine_option
@input_errors_exit_2
def snapshot(policy_set: str | None, catalog: str | None, output: str, engine_name: str) -> None:
    """Write every case's metrics to a lock file for `friction test --snapshot`."""
    ps, cat = _policies(policy_set), _catalog(catalog)
    _, _, ev = _evaluate(ps, cat, engine_name)
    _case_problems_exit(ev.problems)
    _write(output, json.dumps(expect_mod.snapshot(ev, ps, cat), indent=2) + "\n")
    click.echo(f"wrote {output}: {len(ev.results)} cases of {ev.policy_set} {ev.version}")


@main.command()
@click.argument("policy_set", required=False)
@click.option("--catalog", "catalogs", multiple=True,
              help="Catalogs whose life events count as used (repeatable; default: the bundled one "
                   "when linting the bundled bank).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--show-suppressed", is_flag=True,
              help="Also list what a rule's `lint: {ignore, reason}` or the lint config kept out, and why.")
@click.option("--config", "config", type=click.Path(dir_okay=False),
              help="Lint config file (default: friction.toml, or pyproject.toml with [tool.friction.lint], "
                   "found from the policy set's folder upward).")
def lint(policy_set: str | None, catalogs: tuple[str, ...], fmt: str, show_suppressed: bool,
         config: str | None) -> None:
    """Static checks: unknown names, rules that can never fire, duplicates, shadowed rules,
    chaining cycles, unused manifest entries. Exit 1 when any error is found."""
    from friction.lint import format_findings, has_errors, lint_report
    if not catalogs and policy_set is None:
        catalogs = (_catalog(None),)
    report_ = lint_report(_policies(policy_set), list(catalogs), config)
    findings = report_.findings
    if fmt == "json":
        out = [f.as_dict() for f in findings]
        if show_suppressed:
            out = {"findings": out, "suppressed": [s.as_dict() for s in report_.suppressed]}
        click.echo(json.dumps(out, indent=2))
    else:
        click.echo(format_findings(findings), nl=False)
        if show_suppressed:
            click.echo(f"{len(report_.suppressed)} suppressed"
                       + (f" (config: {report_.config})" if report_.config else "") + ":")
            for s in report_.suppressed:
                click.echo(f"  {s}")
    if has_errors(findings):
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("--min", "minimum", type=click.FloatRange(0, 100), help="Exit 1 when rule coverage is below this percent.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@engine_option
@input_errors_exit_2
def coverage(policy_set: str | None, catalog: str | None, minimum: float | None, fmt: str, engine_name: str) -> None:
    """Rules no case fires, and life event × persona pairs the catalog leaves out."""
    cps, loaded, ev = _evaluate(_policies(policy_set), _catalog(catalog), engine_name)
    cov = coverage_mod.coverage(cps, ev, loaded)
    click.echo(report.render_coverage(cov, fmt), nl=False)
    _case_problems_exit(ev.problems)
    if minimum is not None and cov.rule_percent < minimum:
        click.echo(f"rule coverage {cov.rule_percent:g}% is below --min {minimum:g}%", err=True)
        sys.exit(EXIT_FAILED)


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("--by", type=click.Choice([*friction.METRICS, "effort"]), default="effort", show_default=True,
              help="Rank by what removing the rule takes away.")
@click.option("--top", type=click.IntRange(0), default=20, show_default=True, help="Rules to list (0: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@engine_option
@workers_option
@scheduler_option
@input_errors_exit_2
def rank(policy_set: str | None, catalog: str | None, by: str, top: int, fmt: str, engine_name: str,
         workers: int, scheduler: str | None, blocksize: int) -> None:
    """Which rules make the most friction, and whose are they: each rule's attribution
    (what leaves the catalog's totals without it), rolled up per owner and cause."""
    if scheduler:
        from friction import cluster

        ps = _policies(policy_set)
        source, name, bad = _cluster_source(ps, _catalog(catalog))
        with cluster.connect(scheduler) as client:
            ranking, problems = cluster.rank_on_cluster(client, ps, source, name, by=by, engine=engine_name,
                                                        blocksize=blocksize)
        problems = bad + problems
    else:
        cps = friction.compile_policy_set(friction.load_policy_set(_policies(policy_set)))
        stream = friction.open_catalog(_catalog(catalog), cps.manifest)
        ranking, problems = rank_mod.rank(friction.Evaluator(cps, engine_name), stream, by,
                                          workers or friction.default_workers(), lambda it: _progress(it, "ranking"))
    click.echo(report.render_rank(ranking, fmt, top or None), nl=False)
    _case_problems_exit(problems)


@main.command()
@click.argument("policy_set", required=False)
@click.option("--limit", "limits", multiple=True, metavar="METRIC<=N",
              help="A limit no case may break (repeatable); default: the manifest's `limits`.")
@click.option("--event", "events", multiple=True, help="Only this life event (repeatable).")
@click.option("--examples", type=click.IntRange(1), default=300, show_default=True, help="Cases to try at most.")
@click.option("--seed", type=int, help="Make the search repeatable (Hypothesis then saves nothing).")
@click.option("--db", default=DEFAULT_FUZZ_DB, show_default=True,
              help="Folder for counterexamples, tried first next run (commit it to share them).")
@click.option("--no-db", is_flag=True, help="Keep no counterexamples.")
@engine_option
@input_errors_exit_2
def fuzz(policy_set: str | None, limits: tuple[str, ...], events: tuple[str, ...], examples: int,
         seed: int | None, db: str, no_db: bool, engine_name: str) -> None:
    """Search for the customer on their worst day: a case that breaks a limit, shrunk to
    the fewest attributes away from their defaults. Exit 1 when one is found, 0 when none
    was found within the budget, 2 on bad input."""
    from friction import fuzz as fuzz_mod
    from friction.yamlio import dump_yaml
    cps = friction.compile_policy_set(friction.load_policy_set(_policies(policy_set)))
    parsed = [fuzz_mod.parse_limit(t) for t in limits] or fuzz_mod.manifest_limits(cps.manifest)
    res = fuzz_mod.fuzz(cps, parsed, events=events or None, examples=examples, seed=seed,
                        database=None if no_db else db, engine=engine_name)
    what = ", ".join(map(str, parsed))
    if res.found is None:
        click.echo(f"no counterexample: {res.tried} cases of {cps.name} {cps.manifest.version} "
                   f"kept {what} (budget --examples {examples}).")
        return
    m = cps.manifest
    r = res.result
    values = ", ".join(f"{lim.metric} = {fuzz_mod._value(r, lim.metric):g}" for lim in res.broken)
    first = len(fuzz_mod.away_from_defaults(res.first, m))
    shrunk = len(fuzz_mod.away_from_defaults(res.found, m))
    entry = fuzz_mod.catalog_entry(res.found, m, f"fuzz/{res.found.event}")
    click.echo(f"# broken: {', '.join(map(str, res.broken))} ({values}) after {res.tried} cases; the first "
               f"counterexample had {first} attributes away from their defaults, shrunk to {shrunk}.")
    if res.worst is not None and res.worst is not res.found:
        w = res.worst_result
        worst = ", ".join(f"{lim.metric} = {fuzz_mod._value(w, lim.metric):g}" for lim in res.limits)
        click.echo(f"# worst case seen: {res.worst.event} from {res.worst.channel} ({worst}), "
                   f"{len(fuzz_mod.away_from_defaults(res.worst, m))} attributes away from defaults: "
                   + ", ".join(f"{k}={v}" for k, v in fuzz_mod.away_from_defaults(res.worst, m).items()))
    click.echo("# Paste under `cases:` in a catalog:")
    click.echo(dump_yaml([entry], default_flow_style=None).rstrip())
    click.echo("# Its journey:")
    for i, s in enumerate(r.journey.steps, 1):
        click.echo(f"#  {i:>2}. {s.action}  ({s.lane.value}, {s.department}, {s.channel})  [{', '.join(s.rules)}]")
    sys.exit(EXIT_FAILED)


@main.command("report")
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("-o", "--output", type=click.Path(dir_okay=False), default="report.html", show_default=True)
@click.option("--baseline", metavar="POLICY_SET",
              help="Draft mode: POLICY_SET is the draft and this the set in force; each case is drawn "
                   "as-is above draft, with the differences.")
@click.option("--cases", "selection", metavar="GLOB|worst:N",
              help="Which cases get a blueprint: ids matching a glob (relocate/*) or the N worst by "
                   f"effort. Default: every case up to {ALL_UP_TO}, else the {WORST_DEFAULT} worst.")
@click.option("--log", type=click.Path(dir_okay=False),
              help="An event log (XES or CSV): adds a section comparing the model with practice (needs --map).")
@click.option("--map", "map_file", type=click.Path(dir_okay=False), help="The log's map (see `friction observe`).")
@engine_option
@input_errors_exit_2
def report_cmd(policy_set: str | None, catalog: str | None, output: str, baseline: str | None,
               selection: str | None, log: str | None, map_file: str | None, engine_name: str) -> None:
    """One HTML page: the catalog's overview and a service blueprint per case (self-contained:
    open it from disk, print it, mail it). Exit 2 when a case could not be evaluated (the page
    lists it; every other case is drawn)."""
    if (log is None) != (map_file is None):
        raise friction.InputError("--log and --map go together: the map says how to read the log")
    sel = blueprint.parse_selection(selection)
    cat = _catalog(catalog)
    rep = blueprint.report_from_paths(_policies(policy_set), cat, baseline=baseline, selection=sel, engine=engine_name,
                                      watch=lambda it: _progress(it, "drawing"))
    comparison = None
    if log is not None:
        cps = friction.compile_policy_set(friction.load_policy_set(_policies(policy_set)))
        from friction.compare import compare
        from friction.logmap import load_log_map
        from friction.observe import observe_log
        logmap = load_log_map(map_file)
        model = friction.evaluate.evaluate_items(cps, cat, friction.open_catalog(cat, cps.manifest), engine_name)
        comparison = compare(cps, model, _progress(observe_log(log, logmap), "observing"), log, map_file)
        _report_problems(comparison.problems)
    _write(output, render_report(rep, _version(), comparison.as_dict() if comparison else None))
    click.echo(f"wrote {output}: {rep.overview.cases} cases, {len(rep.cases)} blueprints"
               + (", the comparison with the log" if comparison else ""), err=True)
    _case_problems_exit(rep.problems)
    if comparison is not None and comparison.problems:
        click.echo(f"{len(comparison.problems)} case(s) of the log could not be read; the others were compared.",
                   err=True)
        sys.exit(EXIT_INPUT)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version("friction")
    except PackageNotFoundError:
        return "unknown"


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("--baseline", metavar="POLICY_SET", help="Draft mode, as in `friction report`.")
@click.option("--cases", "selection", metavar="GLOB|worst:N", help="Which cases get a blueprint, as in `friction report`.")
@click.option("--port", type=click.IntRange(0, 65535), default=8400, show_default=True,
              help="Port on 127.0.0.1 (0: any free one; the address is printed).")
@click.option("--stop-after", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop by itself after this long (scripts, tests); default: until Ctrl-C.")
@engine_option
@input_errors_exit_2
def serve(policy_set: str | None, catalog: str | None, baseline: str | None, selection: str | None, port: int,
          stop_after: float | None, engine_name: str) -> None:
    """The report from a local web server (127.0.0.1 only), drawn again whenever a policy,
    manifest or catalog file changes; load and lint problems are shown on the page."""
    from friction import serve as serve_mod
    sel = blueprint.parse_selection(selection)
    ps, cat = _policies(policy_set), _catalog(catalog)
    version = _version()

    def draw() -> str:
        rep = blueprint.report_from_paths(ps, cat, baseline=baseline, selection=sel, engine=engine_name)
        return render_report(rep, version, live=True)

    live = serve_mod.LiveReport(draw, [ps, *([baseline] if baseline else [])], [cat], version)
    try:
        server = serve_mod.make_server(live, port)
    except OSError as e:
        raise friction.InputError(f"--port {port}: cannot listen on {serve_mod.HOST}:{port}: {e.strerror}") from None
    click.echo(f"friction: serving http://{serve_mod.HOST}:{server.server_address[1]}/ "
               f"(watching {', '.join(live.watched)}; Ctrl-C stops)", err=True)
    try:
        serve_mod.run(server, live, stop_after)
    except KeyboardInterrupt:
        pass


@main.command("schema")
@click.argument("kind", type=click.Choice(KINDS), default="policy")
@output_option
def schema_cmd(kind: str, output: str | None) -> None:
    """JSON Schema of the YAML files people write (policy rule files, the manifest, catalogs,
    expectations), for editors: start a file with
    `# yaml-language-server: $schema=<path to schema/KIND.json>`."""
    _emit(json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n", output)


@main.command("compile")
@click.argument("policy_set", required=False)
@click.option("--show", is_flag=True, help="Print the generated Python matchers.")
@input_errors_exit_2
def compile_cmd(policy_set: str | None, show: bool) -> None:
    """Compile a policy set (a check that it loads); --show prints the generated source."""
    cps = friction.compile_policy_set(friction.load_policy_set(_policies(policy_set)))
    if show:
        click.echo(cps.source, nl=False)
    else:
        click.echo(f"{cps.name} {cps.manifest.version}: {len(cps.rules)} rules, {len(cps.actions)} steps, "
                   f"{len(cps.manifest.events)} life events compiled")


if __name__ == "__main__":
    main()
