"""The HTML report: `report` writes it, `serve` draws it again as files change.

Commands of friction.cli, registered on its group there."""
from __future__ import annotations

import sys

import click

import friction
from friction.commands import shared
from friction.output import write_atomic
from friction.selection import ALL_UP_TO, WORST_DEFAULT


@click.command("report")
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


@click.command()
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
