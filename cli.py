"""friction's command line: parse options, call the library, pick a reporter, map the
outcome to an exit code (0 ok, 1 a check failed, 2 bad input). Nothing else lives here."""
from __future__ import annotations

import sys
from pathlib import Path

import click

import engine

HERE = Path(__file__).resolve().parent
DEFAULT_POLICIES = "policies/bank"
DEFAULT_CATALOG = "cases/life-events.yaml"

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2


def _bundled(relative: str) -> str:
    """The bundled example: from the working directory if it has one, else beside cli.py."""
    here = Path(relative)
    return relative if here.exists() else str(HERE / relative)


def _fail_input(err: engine.InputError) -> None:
    for p in err.problems:
        click.echo(f"error: {p}", err=True)
    sys.exit(EXIT_INPUT)


engine_option = click.option("--engine", "engine_name", type=click.Choice(engine.ENGINES),
                             default="compiled", show_default=True,
                             help="compiled: generated Python (fast); rete: durable_rules (reference).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="friction")
def main() -> None:
    """Replay customer life events through policy sets and measure the friction."""


@main.command()
@click.argument("policy_set", required=False)
@click.argument("catalog", required=False)
@click.option("--format", "fmt", type=click.Choice(engine.FORMATS), default="table", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="Write here, not stdout.")
@engine_option
def evaluate(policy_set: str | None, catalog: str | None, fmt: str, output: str | None,
             engine_name: str) -> None:
    """Evaluate every case of CATALOG against POLICY_SET (default: the bundled bank).

    Exit 0 when every case was evaluated, 2 on bad input; a bad case is reported on stderr
    and every other case is still evaluated and written out."""
    try:
        ev = engine.evaluate_paths(policy_set or _bundled(DEFAULT_POLICIES),
                                   catalog or _bundled(DEFAULT_CATALOG), engine_name)
    except engine.InputError as e:
        _fail_input(e)
    text = engine.render(ev, fmt)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
    for p in ev.problems:
        click.echo(f"error: {p}", err=True)
    if ev.problems:
        click.echo(f"{len(ev.problems)} case(s) could not be evaluated; "
                   f"{len(ev.results)} were.", err=True)
        sys.exit(EXIT_INPUT)


if __name__ == "__main__":
    main()
