"""`friction observe` and `friction compare`: policy as written, practice as lived (event logs).

Commands of friction.cli, registered on its group there."""
from __future__ import annotations

import sys

import click

import friction
from friction.commands import shared
from friction.output import AtomicOutput


@click.command()
@click.argument("log", type=click.Path(dir_okay=False))
@click.option("--map", "map_file", required=True, type=click.Path(dir_okay=False),
              help="YAML map: case id, activity, timestamp, department, channel, lanes, life event.")
@click.option("--format", "fmt", type=shared.LazyChoice("friction.report", "FORMATS"), default="table",
              show_default=True,
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


@click.command("compare")
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
