"""The checks a CI pipeline runs: `test` (expectations and snapshots), `snapshot`, `lint`, `coverage`.

Commands of friction.cli, registered on its group there."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

import friction
from friction import ci_formats
from friction.commands import shared
from friction.output import write_atomic

DEFAULT_SNAPSHOT = "friction.lock.json"


@click.command("test")
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


@click.command()
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


@click.command()
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


@click.command()
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
