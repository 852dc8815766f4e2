"""friction's command line: parse options, call the library, pick a reporter, map the
outcome to an exit code (friction.commands.shared.EXIT_CODES). Nothing else lives here;
how every command reads its inputs and writes its outputs is in friction.commands.shared,
and the commands other than `evaluate` are in friction.commands, a module per family.

One grammar for every command: `friction COMMAND [POLICY_SET] [CATALOG] [options]`, where
CATALOG may be `-` (standard input), `-o FILE` writes the report atomically, and a metric
may be named by its name or its table column (`cust` for customer_steps)."""
from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import click

# Only what building the command line needs is imported here (`import friction` imports
# nothing yet); each command imports the library modules it uses (friction.commands.shared).
import friction
from friction.commands import analysis, authoring, checks, observed, pages, shared
from friction.output import AtomicOutput


@click.group(cls=shared.Friction, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="friction", prog_name="friction")
def main() -> None:
    """Replay customer life events through policy sets and measure the friction they make.

    Every command reads [POLICY_SET] [CATALOG]; without them, the bundled example
    (policies/bank and cases/life-events.yaml). CATALOG `-` is standard input."""
    # A batch run allocates millions of short-lived objects next to a long-lived outcome
    # cache; the default thresholds rescan that cache constantly (measured: about 2x slower).
    gc.set_threshold(50_000, 20, 20)


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


def _evaluate_on_cluster(policy_set: str, catalog: str, fmt: str, detail: str | None, output: str | None,
                         engine_name: str, scheduler: str, blocksize: int) -> None:
    from friction import cluster, report

    if output and fmt not in ("table", "jsonl"):   # table is the default: parts are JSON Lines
        raise friction.InputError(f"--scheduler -o writes a folder of JSON Lines parts; --format {fmt} is "
                                  "not available there (without -o it is printed)")
    source, name, invalid = shared.cluster_source(policy_set, catalog)
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


# The other commands, from their modules (`friction --help` lists them all, sorted).
for _command in (observed.observe, observed.compare_cmd, analysis.explain, analysis.diff, analysis.rank, analysis.fuzz,
                 checks.test_cmd, checks.snapshot, checks.lint, checks.coverage, pages.report_cmd, pages.serve,
                 authoring.schema_cmd, authoring.compile_cmd):
    main.add_command(_command)


if __name__ == "__main__":
    main()
