"""What a policy set does to cases, and why: `explain`, `diff`, `rank` and `fuzz`.

Commands of friction.cli, registered on its group there."""
from __future__ import annotations

import sys

import click

import friction
from friction import ci_formats
from friction.commands import shared

DEFAULT_FUZZ_DB = ".friction/fuzz"


@click.command()
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


@click.command()
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


@click.command()
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
        source, name, bad = shared.cluster_source(ps, shared.catalog_path(catalog))
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


@click.command()
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
