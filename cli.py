"""friction's command line: parse options, call the library, pick a reporter, map the
outcome to an exit code (friction.commands.shared.EXIT_CODES). Nothing else lives here;
how every command reads its inputs and writes its outputs is in friction.commands.shared.

One grammar for every command: `friction COMMAND [POLICY_SET] [CATALOG] [options]`, where
CATALOG may be `-` (standard input), `-o FILE` writes the report atomically, and a metric
may be named by its name or its table column (`cust` for customer_steps)."""
from __future__ import annotations

import gc
import json
import sys
from pathlib import Path
from typing import Any

import click

# Only what building the command line needs is imported here (`import friction` imports
# nothing yet); each command imports the library modules it uses (friction.commands.shared).
import friction
from friction import ci_formats
from friction.commands import shared
from friction.output import AtomicOutput, write_atomic
from friction.selection import ALL_UP_TO, WORST_DEFAULT

DEFAULT_SNAPSHOT = "friction.lock.json"
DEFAULT_FUZZ_DB = ".friction/fuzz"


@click.group(cls=shared.Friction, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="friction", prog_name="friction")
def main() -> None:
    """Replay customer life events through policy sets and measure the friction they make.

    Every command reads [POLICY_SET] [CATALOG]; without them, the bundled example
    (policies/bank and cases/life-events.yaml). CATALOG `-` is standard input."""
    # A batch run allocates millions of short-lived objects next to a long-lived outcome
    # cache; the default thresholds rescan that cache constantly (measured: about 2x slower).
    gc.set_threshold(50_000, 20, 20)


# --------------------------------------------------------------------------- inputs

# --------------------------------------------------------------------------- commands

@main.command()
@shared.policy_set_argument
@shared.catalog_argument
@click.option("--format", "fmt", type=shared.LazyChoice("friction.report", "FORMATS"),
              help="Default: from the -o file's extension (.json .jsonl .csv .md), else table. "
                   "jsonl and csv stream row by row.")
@click.option("--detail", type=click.Choice(["full", "summary"]),
              help="Rows with every step and flag (full; the default for json), or metrics, the "
                   "ordered actions and flag counts (summary; the default for jsonl).")
@shared.output_option
@shared.engine_option
@shared.workers_option
@shared.scheduler_option
def evaluate(policy_set: str | None, catalog: str | None, fmt: str | None, detail: str | None, output: str | None,
             engine_name: str, workers: int, scheduler: str | None, blocksize: int) -> None:
    """Evaluate every case of CATALOG (YAML, or JSON Lines: one case per line) against POLICY_SET.

    Exit 0 when every case was evaluated, 2 on bad input. A bad case is reported on stderr
    (and as an error row in jsonl/csv) and every other case is still evaluated and written.
    With --scheduler, the catalog is evaluated on a Dask cluster: -o names a folder for one
    JSON Lines file per block plus totals.json; without -o, the rows come back and are
    printed as without --scheduler, in any format."""
    from friction import report

    fmt = fmt or shared.FORMAT_BY_SUFFIX.get(Path(output).suffix.lower() if output else "", "table")
    if scheduler:
        return _evaluate_on_cluster(shared.policy_set_path(policy_set), shared.catalog_path(catalog), fmt, detail,
                                    output, engine_name, scheduler, blocksize)
    cps = shared.compiled(policy_set)
    stream = shared.open_catalog(shared.catalog_path(catalog), cps.manifest)
    evaluator = friction.Evaluator(cps, engine_name, detail=detail or ("full" if fmt == "json" else "summary"),
                                   loads=fmt not in report.STREAMING_FORMATS)   # streaming shows no yearly figures
    target = AtomicOutput(output, keep_partial=fmt in report.STREAMING_FORMATS) if output else None
    failed = bad_personas = 0
    writer = None
    try:
        with target or shared.Stdout() as out:
            cap = cps.manifest.capacity
            writer = report.RowWriter(fmt, out, cps.name, cps.manifest.version, engine_name, stream.name,
                                      capacity=cap if friction.capacity.capacity_configured(cap) else None)
            encoder = report.RowEncoder(fmt)
            # Streaming formats: each chunk of rows is encoded and tallied where it was
            # evaluated (a worker) and arrives as one block of bytes, written as it is.
            blocks = fmt in report.STREAMING_FORMATS
            rows = friction.run_cases(lambda case: encoder.encode(evaluator.row(case)), stream,
                                      workers or friction.default_workers(),
                                      combine=report.BlockEncoder(fmt) if blocks else None)
            try:
                for item in shared.progress(rows, "evaluating", size=lambda b: b.tally.cases + b.tally.errors
                                            if blocks else 1):
                    for p in item.problems if blocks else [item] if isinstance(item, friction.Problem) else ():
                        click.echo(f"error: {p}", err=True)   # every failed case arrives as a Problem
                        if (p.subject or "").startswith("persona "):
                            bad_personas += 1
                        else:
                            failed += 1
                    if blocks:
                        writer.add_block(item)
                    else:
                        writer.add(encoder.encode(item) if isinstance(item, friction.Problem) else item)
            finally:
                rows.close()   # a closed pipe stops the run here: end the worker pool now, not at exit
            writer.close()
    except KeyboardInterrupt:
        click.echo(shared.interrupted(fmt, writer, target, output), err=True)
        sys.exit(shared.EXIT_INTERRUPTED)
    if bad_personas:
        click.echo(f"{bad_personas} persona(s) are invalid; their cases were not evaluated.", err=True)
    if failed:
        click.echo(f"{failed} case(s) could not be evaluated; {writer.cases} were.", err=True)
    if failed or bad_personas:
        sys.exit(shared.EXIT_INPUT)


def _cluster_source(policy_set: str, catalog: str) -> tuple[str | bytes, str, list]:
    """What the cluster reads: a JSON Lines catalog's path (workers read their blocks), or a
    YAML catalog expanded here into JSON Lines, and its invalid cases, each with the number
    of valid cases before it (so that their error rows keep their place)."""
    from friction import cluster

    if catalog.endswith(".jsonl"):
        return catalog, friction.load.relative_path(Path(catalog)), []
    cps = friction.compile_policy_set(friction.load_policy_set(policy_set))
    stream = friction.open_catalog(catalog, cps.manifest)
    cases, invalid = [], []
    for item in stream:
        if isinstance(item, friction.Problem):
            invalid.append((len(cases), item))
        else:
            cases.append(item)
    return cluster.cases_as_jsonl(iter(cases)), stream.name, invalid


def _evaluate_on_cluster(policy_set: str, catalog: str, fmt: str, detail: str | None, output: str | None,
                         engine_name: str, scheduler: str, blocksize: int) -> None:
    from friction import cluster, report

    if output and fmt not in ("table", "jsonl"):   # table is the default: parts are JSON Lines
        raise friction.InputError(f"--scheduler -o writes a folder of JSON Lines parts; --format {fmt} is "
                                  "not available there (without -o it is printed)")
    source, name, invalid = _cluster_source(policy_set, catalog)
    shared.report_problems([p for _, p in invalid])   # once: the workers put their rows in place, silently
    encoder, rows = report.RowEncoder(fmt), []

    def keep(text: str) -> None:   # split at "\n" only: a row may hold U+2028, a line break to splitlines
        rows.extend(encoder.encode(json.loads(line)) for line in text.split("\n")[:-1])

    with cluster.connect(scheduler) as client:
        run = cluster.evaluate_on_cluster(
            client, policy_set, source, name, engine=engine_name,
            detail=detail or ("full" if fmt == "json" else "summary"), out_dir=output, blocksize=blocksize,
            emit=None if output else (lambda t: click.echo(t, nl=False)) if fmt == "jsonl" else keep, invalid=invalid)
    for m in run.messages:
        click.echo(f"error: {m}", err=True)
    if not output and fmt != "jsonl":
        # what one process prints: the rows sent back, and the yearly figures reduced on the cluster
        with shared.Stdout() as out:
            writer = report.RowWriter(fmt, out, run.policy_set, run.version, engine_name, name)
            for row in rows:   # a YAML catalog's invalid cases among them, in their place
                writer.add(row)
            writer.close(yearly=run.yearly)
    if output:
        click.echo(f"wrote {run.parts} part(s) and totals.json to {output}: {run.cases} cases, "
                   f"{run.errors} error row(s)", err=True)
    if run.errors:
        click.echo(f"{run.errors} case(s) could not be evaluated; {run.cases} were.", err=True)
        sys.exit(shared.EXIT_INPUT)


@main.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", required=True, type=click.Path(dir_okay=False),
              help="YAML map: case id, activity, timestamp, department, channel, lanes, life event.")
@click.option("--format", "fmt", type=shared.LazyChoice("friction.report", "FORMATS"), default="table", show_default=True,
              help="jsonl and csv stream a row per case; table, json and markdown add the distributions.")
@click.option("--detail", type=click.Choice(["full", "summary"]),
              help="Rows with every step (full; the default but for jsonl), or metrics and the ordered "
                   "actions (summary; the default for jsonl).")
@click.option("--no-cases", is_flag=True, help="Only the per life event distributions (in any format).")
@shared.output_option
def observe(log: str, map_file: str, fmt: str, detail: str | None, no_cases: bool, output: str | None) -> None:
    """Measure the observed journeys of an event LOG (XES, .xes.gz or CSV) as friction measures
    modelled ones, plus rework and ping-pong; per case, and per life event median, 90th
    percentile, max and mean. Exit 2 when any case could not be read (the others are written)."""
    from friction import report
    from friction.logmap import load_log_map
    from friction.observe import OBSERVED_METRICS, Distributions, observe_log
    from friction.observed_report import render_distributions

    logmap = load_log_map(map_file)
    journeys = observe_log(log, logmap)
    dist = Distributions(OBSERVED_METRICS)
    title = f"observed journeys of {log} (map {map_file})"
    failed = 0
    with AtomicOutput(output) if output else shared.Stdout() as out:
        writer = None if no_cases else report.RowWriter(
            fmt, out, "", "", "", "", columns=OBSERVED_METRICS, meta={"log": log, "map": map_file}, title=title)
        encoder = report.RowEncoder(fmt, OBSERVED_METRICS)
        for j in shared.progress(journeys, "observing"):
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
    if failed:
        click.echo(f"{failed} case(s) of the log could not be read; {sum(dist.cases(e) for e in summary)} were.",
                   err=True)
        sys.exit(shared.EXIT_INPUT)


@main.command("compare")
@click.argument("policy_set")
@click.argument("catalog")
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", required=True, type=click.Path(dir_okay=False),
              help="YAML map from the log to life events, lanes, departments and step actions.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@click.option("--top", type=click.IntRange(1), default=5, show_default=True, help="Observed variants to list.")
@shared.output_option
@shared.engine_option
def compare_cmd(policy_set: str, catalog: str, log: str, map_file: str, fmt: str, top: int, output: str | None,
                engine_name: str) -> None:
    """Policy as written against practice as lived: per life event, the medians of CATALOG's
    modelled journeys and LOG's observed ones, steps observed that no rule requires, rule
    steps never observed, and the most common observed variants."""
    from friction.compare import compare
    from friction.logmap import load_log_map
    from friction.observe import observe_log
    from friction.observed_report import render_comparison

    cps, _, ev = shared.evaluated(policy_set, catalog, engine_name)
    logmap = load_log_map(map_file)
    cmp = compare(cps, ev, shared.progress(observe_log(log, logmap), "observing"), log, map_file)
    shared.emit(render_comparison(cmp, fmt, top), output)
    shared.report_problems(cmp.problems)
    if cmp.problems:
        click.echo(f"{len(cmp.problems)} case(s) of the log could not be read; the others were compared.", err=True)
    shared.exit_on_case_problems(ev.problems)
    if cmp.problems:
        sys.exit(shared.EXIT_INPUT)


@main.command()
@click.argument("args", nargs=-1, required=True, metavar="[POLICY_SET] [CATALOG] CASE_ID")
@click.option("--policies", "old_policies", hidden=True)
@click.option("--catalog", "old_catalog", hidden=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown", "mermaid"]), default="text",
              show_default=True, help="mermaid: the journey as a flowchart in blueprint lanes.")
@shared.output_option
@shared.engine_option
def explain(args: tuple[str, ...], old_policies: str | None, old_catalog: str | None, fmt: str,
            output: str | None, engine_name: str) -> None:
    """Why each step of one case is there: rules, conditions with actual values, chains.
    The case id comes last: `friction explain policies/bank cases/x.yaml relocate/elder`."""
    from friction import mermaid, report
    from friction.explain import explain as explain_case

    if len(args) > 3:
        raise click.UsageError("give at most POLICY_SET, CATALOG and CASE_ID")
    *sources, case_id = args
    policy_set, catalog = (sources + [None, None])[:2]
    if old_policies:
        shared.deprecated("--policies", "give the policy set as the first argument")
        policy_set = policy_set or old_policies
    if old_catalog:
        shared.deprecated("--catalog", "give the catalog as the second argument")
        catalog = catalog or old_catalog
    cps, _, ev = shared.evaluated(shared.policy_set_path(policy_set), shared.catalog_path(catalog), engine_name)
    result = next((r for r in ev.results if r.case.id == case_id), None)
    if result is None:
        ids = [r.case.id for r in ev.results]
        bad = [p for p in ev.problems if p.subject == f"case {case_id}"]
        if bad:
            raise friction.InputError(bad)
        raise friction.InputError(f"no case '{case_id}' in {ev.catalog}{friction.errors.did_you_mean(case_id, ids)}")
    if fmt == "mermaid":
        shared.emit(mermaid.case_chart(result), output)
        return
    shared.emit(report.render_explain(explain_case(cps, result), fmt), output)


@main.command()
@click.argument("baseline")
@click.argument("draft")
@shared.catalog_argument
@shared.ci_format_option("table", "json", "markdown", default="table")
@click.option("--fail-on-increase", default="", metavar="METRICS",
              help="Comma-separated metrics or table columns (or 'any'): exit 1 when one rises for any case.")
@click.option("--all", "show_all", is_flag=True, help="List unchanged cases too.")
@shared.output_option
@shared.engine_option
def diff(baseline: str, draft: str, catalog: str | None, fmt: str, fail_on_increase: str, show_all: bool,
         output: str | None, engine_name: str) -> None:
    """What DRAFT changes against BASELINE, case by case and in total. The CI formats report
    the --fail-on-increase checks: one per case and watched metric."""
    from friction import diff as diff_mod
    from friction import mermaid, report

    watch = shared.metric_list(fail_on_increase, "--fail-on-increase")
    if fmt in ci_formats.CI_FORMATS and not watch:
        raise friction.InputError(f"--format {fmt} reports the --fail-on-increase checks: say which metrics")
    cat = shared.catalog_path(catalog)
    _, loaded, before = shared.evaluated(baseline, cat, engine_name)
    _, _, after = shared.evaluated(draft, cat, engine_name)
    d = diff_mod.diff(before, after)
    rises = diff_mod.increases(d, watch)
    if fmt in ci_formats.CI_FORMATS:
        checks = ci_formats.from_increases(d, watch, rises, ci_formats.catalog_case_lines(loaded))
        shared.emit(ci_formats.render_checks(checks, fmt, f"friction diff {baseline} {draft}"), output)
    else:
        text = report.render_diff(d, fmt, only_changed=not show_all)
        if fmt == "markdown":   # the journeys before and after, drawn where a pull request is reviewed
            text += "\n" + mermaid.diff_charts(before, after, d)
        shared.emit(text, output)
    shared.exit_on_case_problems(d.problems)
    for cid, m, a, b in rises:
        click.echo(f"increase: {cid}: {m} {a:g} → {b:g}", err=True)
    if rises:
        sys.exit(shared.EXIT_FAILED)


@main.command("test")
@shared.policy_set_argument
@shared.catalog_argument
@click.option("--expectations", "expectations", metavar="PATH",
              help="Expectation file or folder (default: POLICY_SET/expectations).")
@click.option("--policies", "old_policies", hidden=True)
@click.option("--catalog", "old_catalog", hidden=True)
@click.option("--snapshot", "snapshot_file", type=click.Path(dir_okay=False),
              help="Also fail when any metric rose since this snapshot (see `friction snapshot`).")
@shared.ci_format_option("text", default="text")
@shared.output_option
@click.option("--junit", type=click.Path(dir_okay=False), help="Also write JUnit XML here (as --format junit).")
@click.option("--allow-outside-paths", is_flag=True,
              help="Let expectation files name a policy set or catalog outside their project.")
@shared.engine_option
def test_cmd(policy_set: str | None, catalog: str | None, expectations: str | None, old_policies: str | None,
             old_catalog: str | None, snapshot_file: str | None, fmt: str, output: str | None, junit: str | None,
             allow_outside_paths: bool, engine_name: str) -> None:
    """Check the expectations of POLICY_SET (its expectations/*.yaml; default: the bundled
    bank) on CATALOG (default: the catalog each expectation file names). Exit 0 all pass,
    1 any fail (an expectation, or a metric that rose since --snapshot), 2 input error."""
    from friction import expect as expect_mod
    from friction import report
    from friction.load import MANIFEST_FILE

    if policy_set and not (Path(policy_set) / MANIFEST_FILE).is_file() and expectations is None:
        expectations, policy_set = policy_set, None   # `friction test FILE`: an expectation file or folder
    fallback_catalog = None
    if old_policies:
        shared.deprecated("--policies", "give the policy set as the first argument")
        policy_set = policy_set or old_policies
    if old_catalog:
        shared.deprecated("--catalog", "give the catalog as the second argument")
        fallback_catalog = old_catalog
    run = expect_mod.TestRun()
    cache: dict[tuple[str, str], Any] = {}

    def evaluation(ps: str, cat: str) -> friction.Evaluation:
        key = (str(Path(ps).resolve()), cat if cat == shared.STDIN else str(Path(cat).resolve()))
        if key not in cache:
            cache[key] = shared.evaluated(ps, cat, engine_name)[2]
            shared.exit_on_case_problems(cache[key].problems)
        return cache[key]

    snap_report = None
    if snapshot_file:
        snap = expect_mod.read_snapshot(snapshot_file)
        snap_set, snap_catalog = expect_mod.snapshot_paths(snap, snapshot_file, allow_outside_paths,
                                                           (policy_set is None, (catalog or fallback_catalog) is None))
        ps = policy_set or snap_set or shared.policy_set_path(None)
        snap_report = expect_mod.compare_snapshot(snap, evaluation(ps, catalog or fallback_catalog or snap_catalog
                                                                  or shared.catalog_path(None)))
    if expectations or not snapshot_file:
        target = expectations or policy_set or shared.policy_set_path(None)
        files = expect_mod.find_expectation_files(target)
        if not files:
            raise friction.InputError(f"{target}: no expectation files found (looked for {target}/expectations/*.yaml)")
        for f in files:
            loaded = expect_mod.load_expectations(f, allow_outside=allow_outside_paths,
                                                  own_policy_set=policy_set is None)
            ps = policy_set or loaded.policy_set
            if ps is None:
                raise friction.InputError(f"{loaded.path}: say which policy set it tests "
                                          "(policy_set: in the file, or friction test POLICY_SET --expectations FILE)")
            cat = catalog or loaded.catalog or fallback_catalog or shared.catalog_path(None)
            expect_mod.run_expectations(loaded, evaluation(ps, cat), run)
    checks = ci_formats.from_test_run(run, snap_report, snapshot_file)
    if junit:
        write_atomic(junit, ci_formats.render_checks(checks, "junit", "friction test"))
    if fmt == "text":
        shared.emit(report.render_test(run, snap_report), output)
    else:
        shared.emit(ci_formats.render_checks(checks, fmt, "friction test"), output)
    if any(c.failed for c in checks):
        sys.exit(shared.EXIT_FAILED)


@main.command()
@shared.policy_set_argument
@shared.catalog_argument
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=DEFAULT_SNAPSHOT, show_default=True)
@shared.engine_option
def snapshot(policy_set: str | None, catalog: str | None, output: str, engine_name: str) -> None:
    """Write every case's metrics to a lock file for `friction test --snapshot`."""
    from friction import expect as expect_mod

    ps, cat = shared.policy_set_path(policy_set), shared.catalog_path(catalog)
    _, _, ev = shared.evaluated(ps, cat, engine_name)
    shared.exit_on_case_problems(ev.problems)
    write_atomic(output, json.dumps(expect_mod.snapshot(ev, ps, cat), indent=2) + "\n")
    click.echo(f"wrote {output}: {len(ev.results)} cases of {ev.policy_set} {ev.version}")


@main.command()
@shared.policy_set_argument
@click.argument("catalogs", nargs=-1, metavar="[CATALOG]...")
@click.option("--catalog", "old_catalogs", multiple=True, hidden=True)
@shared.ci_format_option("text", "json", default="text")
@shared.output_option
@click.option("--show-suppressed", is_flag=True,
              help="Also list what a rule's `lint: {ignore, reason}` or the lint config kept out, and why.")
@click.option("--config", "config", type=click.Path(dir_okay=False),
              help="Lint config file (default: friction.toml, or pyproject.toml with [tool.friction.lint], "
                   "found from the policy set's folder upward).")
def lint(policy_set: str | None, catalogs: tuple[str, ...], old_catalogs: tuple[str, ...], fmt: str,
         output: str | None, show_suppressed: bool, config: str | None) -> None:
    """Static checks: unknown names, rules that can never fire, duplicates, shadowed rules,
    chaining cycles, unused manifest entries. CATALOGs name the life events in use (default:
    the bundled one when linting the bundled bank). Exit 1 when any error is found."""
    if old_catalogs:
        shared.deprecated("--catalog", "give catalogs as arguments after the policy set")
        catalogs = (*catalogs, *old_catalogs)
    if not catalogs and policy_set is None:
        catalogs = (shared.catalog_path(None),)
    from friction.lint import lint_report
    ps = shared.policy_set_path(policy_set)
    report_ = lint_report(ps, list(catalogs), config)
    findings = report_.findings
    if fmt == "json":
        out = [f.as_dict() for f in findings]
        if show_suppressed:
            out = {"findings": out, "suppressed": [s.as_dict() for s in report_.suppressed]}
        shared.emit(json.dumps(out, indent=2) + "\n", output)
    elif fmt == "text":
        text = friction.format_findings(findings)
        if show_suppressed:
            text += (f"{len(report_.suppressed)} suppressed" + (f" (config: {report_.config})" if report_.config else "")
                     + ":\n" + "".join(f"  {s}\n" for s in report_.suppressed))
        shared.emit(text, output)
    else:
        shared.emit(ci_formats.render_checks(ci_formats.from_findings(findings, ps), fmt, "friction lint"), output)
    if friction.has_errors(findings):
        sys.exit(shared.EXIT_FAILED)


@main.command()
@shared.policy_set_argument
@shared.catalog_argument
@click.option("--min", "minimum", type=click.FloatRange(0, 100), help="Exit 1 when rule coverage is below this percent.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@shared.output_option
@shared.engine_option
def coverage(policy_set: str | None, catalog: str | None, minimum: float | None, fmt: str, output: str | None,
             engine_name: str) -> None:
    """Rules no case fires, and life event × persona pairs the catalog leaves out."""
    from friction import coverage as coverage_mod
    from friction import report

    cps, loaded, ev = shared.evaluated(shared.policy_set_path(policy_set), shared.catalog_path(catalog), engine_name)
    cov = coverage_mod.coverage(cps, ev, loaded)
    shared.emit(report.render_coverage(cov, fmt), output)
    shared.exit_on_case_problems(ev.problems)
    if minimum is not None and cov.rule_percent < minimum:
        click.echo(f"rule coverage {cov.rule_percent:g}% is below --min {minimum:g}%", err=True)
        sys.exit(shared.EXIT_FAILED)


@main.command()
@shared.policy_set_argument
@shared.catalog_argument
@click.option("--by", default="effort", show_default=True, metavar="METRIC",
              help="Rank by what removing the rule takes away: a metric, its table column, effort, or a "
                   "yearly figure weighted by case volumes (staff_hours, customer_hours, yearly_cost).")
@click.option("--top", type=click.IntRange(0), default=20, show_default=True, help="Rules to list (0: all).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "markdown"]), default="table", show_default=True)
@shared.output_option
@shared.engine_option
@shared.workers_option
@shared.scheduler_option
def rank(policy_set: str | None, catalog: str | None, by: str, top: int, fmt: str, output: str | None,
         engine_name: str, workers: int, scheduler: str | None, blocksize: int) -> None:
    """Which rules make the most friction, and whose are they: each rule's attribution
    (what leaves the catalog's totals without it), rolled up per owner and cause."""
    from friction import rank as rank_mod
    from friction import report

    by = friction.metric_named(by, "--by", allow_yearly=True)
    if scheduler:
        from friction import cluster

        ps = shared.policy_set_path(policy_set)
        source, name, bad = _cluster_source(ps, shared.catalog_path(catalog))
        with cluster.connect(scheduler) as client:
            ranking, problems = cluster.rank_on_cluster(client, ps, source, name, by=by, engine=engine_name,
                                                        blocksize=blocksize)
        problems = [p for _, p in bad] + problems
    else:
        cps = shared.compiled(policy_set)
        stream = shared.open_catalog(shared.catalog_path(catalog), cps.manifest)
        ranking, problems = rank_mod.rank(friction.Evaluator(cps, engine_name), stream, by,
                                          workers or friction.default_workers(),
                                          lambda it: shared.progress(it, "ranking", size=rank_mod.cases_in))
    shared.emit(report.render_rank(ranking, fmt, top or None), output)
    shared.exit_on_case_problems(problems)


@main.command()
@shared.policy_set_argument
@click.option("--limit", "limits", multiple=True, metavar="METRIC<=N",
              help="A limit no case may break (repeatable); default: the manifest's `limits`.")
@click.option("--event", "events", multiple=True, help="Only this life event (repeatable).")
@click.option("--examples", type=click.IntRange(1), default=300, show_default=True,
              help="Cases generated in the search (Hypothesis' max_examples); replaying saved "
                   "counterexamples and shrinking one that breaks a limit try a few more.")
@click.option("--seed", type=int, help="Make the search repeatable (Hypothesis then saves nothing).")
@click.option("--db", default=DEFAULT_FUZZ_DB, show_default=True,
              help="Folder for counterexamples, tried first next run (commit it to share them).")
@click.option("--no-db", is_flag=True, help="Keep no counterexamples.")
@shared.output_option
@shared.engine_option
def fuzz(policy_set: str | None, limits: tuple[str, ...], events: tuple[str, ...], examples: int,
         seed: int | None, db: str, no_db: bool, output: str | None, engine_name: str) -> None:
    """Search for the customer on their worst day: a case that breaks a limit, shrunk to
    the fewest attributes away from their defaults. Exit 1 when one is found, 0 when none
    was found within the budget, 2 on bad input."""
    from friction import fuzz as fuzz_mod
    from friction.yamlio import dump_yaml
    cps = shared.compiled(policy_set)
    parsed = [fuzz_mod.parse_limit(t) for t in limits] or fuzz_mod.manifest_limits(cps.manifest)
    res = fuzz_mod.fuzz(cps, parsed, events=events or None, examples=examples, seed=seed,
                        database=None if no_db else db, engine=engine_name)
    what = ", ".join(map(str, parsed))
    if res.found is None:
        shared.emit(f"no counterexample: {res.tried} cases of {cps.name} {cps.manifest.version} "
              f"kept {what} (budget --examples {examples}).\n", output)
        return
    m = cps.manifest
    r = res.result
    out = []
    values = ", ".join(f"{lim.metric} = {fuzz_mod._value(r, lim.metric):g}" for lim in res.broken)
    first = len(fuzz_mod.away_from_defaults(res.first, m))
    shrunk = len(fuzz_mod.away_from_defaults(res.found, m))
    entry = fuzz_mod.catalog_entry(res.found, m, f"fuzz/{res.found.event}")
    out.append(f"# broken: {', '.join(map(str, res.broken))} ({values}) after {res.tried} cases; the first "
               f"counterexample had {first} attributes away from their defaults, shrunk to {shrunk}.")
    if res.worst is not None and res.worst is not res.found:
        w = res.worst_result
        worst = ", ".join(f"{lim.metric} = {fuzz_mod._value(w, lim.metric):g}" for lim in res.limits)
        out.append(f"# worst case seen: {res.worst.event} from {res.worst.channel} ({worst}), "
                   f"{len(fuzz_mod.away_from_defaults(res.worst, m))} attributes away from defaults: "
                   + ", ".join(f"{k}={v}" for k, v in fuzz_mod.away_from_defaults(res.worst, m).items()))
    out.append("# Paste under `cases:` in a catalog:")
    out.append(dump_yaml([entry], default_flow_style=None).rstrip())
    out.append("# Its journey:")
    for i, s in enumerate(r.journey.steps, 1):
        out.append(f"#  {i:>2}. {s.action}  ({s.lane.value}, {s.department}, {s.channel})  [{', '.join(s.rules)}]")
    shared.emit("\n".join(out) + "\n", output)
    sys.exit(shared.EXIT_FAILED)


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
@shared.workers_option
@shared.engine_option
def report_cmd(policy_set: str | None, catalog: str | None, output: str, baseline: str | None,
               selection: str | None, log: str | None, map_file: str | None, workers: int, engine_name: str) -> None:
    """One HTML page: the catalog's overview and a service blueprint per case (self-contained:
    open it from disk, print it, mail it). Exit 2 when a case could not be evaluated (the page
    lists it; every other case is drawn)."""
    from friction import blueprint
    from friction.bundled import package_version
    from friction.page import render_report

    if (log is None) != (map_file is None):
        raise friction.InputError("--log and --map go together: the map says how to read the log")
    sel = blueprint.parse_selection(selection)
    cat = shared.catalog_path(catalog)
    rep = blueprint.report_from_paths(shared.policy_set_path(policy_set), cat, baseline=baseline, selection=sel,
                                      engine=engine_name, watch=lambda it: shared.progress(it, "drawing"),
                                      workers=workers or friction.default_workers())
    comparison = None
    if log is not None:
        cps = friction.compile_policy_set(friction.load_policy_set(shared.policy_set_path(policy_set)))
        from friction.compare import compare
        from friction.logmap import load_log_map
        from friction.observe import observe_log
        logmap = load_log_map(map_file)
        model = friction.evaluate.evaluate_items(cps, cat, friction.open_catalog(cat, cps.manifest), engine_name)
        comparison = compare(cps, model, shared.progress(observe_log(log, logmap), "observing"), log, map_file)
        shared.report_problems(comparison.problems)
    write_atomic(output, render_report(rep, package_version(), comparison.as_dict() if comparison else None))
    click.echo(f"wrote {output}: {rep.overview.cases} cases, {len(rep.cases)} blueprints"
               + (", the comparison with the log" if comparison else ""), err=True)
    shared.exit_on_case_problems(rep.problems)
    if comparison is not None and comparison.problems:
        click.echo(f"{len(comparison.problems)} case(s) of the log could not be read; the others were compared.",
                   err=True)
        sys.exit(shared.EXIT_INPUT)


@main.command()
@shared.policy_set_argument
@shared.catalog_argument
@click.option("--baseline", metavar="POLICY_SET", help="Draft mode, as in `friction report`.")
@click.option("--cases", "selection", metavar="GLOB|worst:N", help="Which cases get a blueprint, as in `friction report`.")
@click.option("--port", type=click.IntRange(0, 65535), default=8400, show_default=True,
              help="Port on 127.0.0.1 (0: any free one; the address is printed).")
@click.option("--stop-after", type=click.FloatRange(0, min_open=True), metavar="SECONDS",
              help="Stop by itself after this long (scripts, tests); default: until Ctrl-C.")
@shared.engine_option
def serve(policy_set: str | None, catalog: str | None, baseline: str | None, selection: str | None, port: int,
          stop_after: float | None, engine_name: str) -> None:
    """The report from a local web server (127.0.0.1 only), drawn again whenever a policy,
    manifest or catalog file changes; load and lint problems are shown on the page."""
    from friction import blueprint
    from friction import serve as serve_mod
    from friction.bundled import package_version
    from friction.page import render_report

    sel = blueprint.parse_selection(selection)
    ps, cat = shared.policy_set_path(policy_set), shared.catalog_path(catalog)
    version = package_version()

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
@click.argument("kind", type=shared.LazyChoice("friction.schemas", "KINDS"), default="policy")
@shared.output_option
def schema_cmd(kind: str, output: str | None) -> None:
    """JSON Schema of the YAML files people write (policy rule files, the manifest, catalogs,
    expectations), for editors: start a file with
    `# yaml-language-server: $schema=<path to schema/KIND.json>`."""
    from friction.schemas import json_schema

    shared.emit(json.dumps(json_schema(kind), indent=2, ensure_ascii=False) + "\n", output)


@main.command("compile")
@shared.policy_set_argument
@click.option("--show", is_flag=True, help="Print the generated Python matchers.")
@shared.output_option
def compile_cmd(policy_set: str | None, show: bool, output: str | None) -> None:
    """Compile a policy set (a check that it loads); --show prints the generated source."""
    cps = shared.compiled(policy_set)
    if show:
        shared.emit(cps.source, output)
    else:
        shared.emit(f"{cps.name} {cps.manifest.version}: {len(cps.rules)} rules, {len(cps.actions)} steps, "
              f"{len(cps.manifest.events)} life events compiled\n", output)


if __name__ == "__main__":
    main()
