"""What every command shares: how it reads POLICY_SET and CATALOG (the bundled example when
absent, `-` for standard input), writes its report (stdout, or `-o FILE` atomically), reports
problems, shows progress, and maps how it ended to an exit code."""
from __future__ import annotations

import importlib
import io
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import click

import friction
from friction import ci_formats
from friction.bundled import DEFAULT_CATALOG, DEFAULT_POLICY_SET, bundled_path
from friction.output import AtomicOutput, write_atomic

# A command imports the library modules it uses when it runs, not when the command line is
# built: every command would otherwise pay for all of them before doing any work.

STDIN = "-"

EXIT_OK, EXIT_FAILED, EXIT_INPUT, EXIT_BROKEN, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 3, 130, 141
EXIT_CODES = {   # the README's table says the same
    EXIT_OK: "everything ran and every check passed",
    EXIT_FAILED: "a check failed: an expectation, a snapshot metric, lint error, --fail-on-increase, --min, fuzz",
    EXIT_INPUT: "bad input (files, options) or an output that cannot be written; one line each on stderr",
    EXIT_BROKEN: "the run could not finish: a worker process died (killed, out of memory); outputs unchanged",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_PIPE: "standard output was closed early (`| head`); nothing more is printed",
}
# Output format by the -o file's extension, when --format does not say.
FORMAT_BY_SUFFIX = {".json": "json", ".jsonl": "jsonl", ".csv": "csv", ".md": "markdown", ".txt": "table"}


class Friction(click.Group):
    """Maps how a command ended to an exit code, with one line on stderr and no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except friction.InputError as e:
            report_problems(e.problems)
            sys.exit(EXIT_INPUT)
        except friction.errors.RunError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(EXIT_BROKEN)
        except KeyboardInterrupt:
            click.echo("friction: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            # The reader left (`| head -1`): stop quietly, and keep Python from complaining
            # again when it flushes stdout on the way out.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_PIPE)


def bundled(relative: str) -> str:
    """The bundled example, wherever friction is installed; says on stderr which one."""
    path = bundled_path(relative)
    click.echo(f"friction: using the bundled example {relative} ({path})", err=True)
    return path


def policy_set_path(p: str | None) -> str:
    return p or bundled(DEFAULT_POLICY_SET)


def catalog_path(c: str | None) -> str:
    return c or bundled(DEFAULT_CATALOG)


_stdin: bytes | None = None


def open_catalog(catalog: str, manifest: friction.Manifest, again: bool = False):
    """A catalog stream; `-` is standard input, streamed, or kept in memory when the command
    reads the catalog more than once (`again`)."""
    from friction.catalog import open_catalog_stream

    global _stdin
    if catalog != STDIN:
        stream = friction.open_catalog(catalog, manifest)
    elif again:
        if _stdin is None:
            _stdin = sys.stdin.buffer.read()
        stream = open_catalog_stream(io.BytesIO(_stdin), "<stdin>", manifest)
    else:
        stream = open_catalog_stream(sys.stdin.buffer, "<stdin>", manifest)
    if stream.note:
        click.echo(f"friction: {stream.note}", err=True)
    return stream


def compiled(policy_set: str | None) -> friction.CompiledPolicySet:
    return friction.compile_policy_set(friction.load_policy_set(policy_set_path(policy_set)))


def evaluated(policy_set: str, catalog: str, engine_name: str) -> tuple[friction.CompiledPolicySet, Any, friction.Evaluation]:
    """(compiled set, the YAML catalog or None for JSON Lines, the evaluation)."""
    cps = friction.compile_policy_set(friction.load_policy_set(policy_set))
    stream = open_catalog(catalog, cps.manifest, again=True)
    return cps, stream.loaded, friction.evaluate.evaluate_items(cps, stream.name, stream, engine_name)


def cluster_source(policy_set: str, catalog: str) -> tuple[str | bytes, str, list]:
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


def deprecated(old: str, new: str) -> None:
    click.echo(f"friction: {old} is deprecated; {new}", err=True)


def metric_list(text: str, what: str) -> list[str]:
    """Comma-separated metrics by name or table column (`cust`), or `any`."""
    names = [m.strip() for m in text.split(",") if m.strip()]
    if names == ["any"]:
        from friction.diff import DIFF_KEYS
        return list(DIFF_KEYS)
    return list(dict.fromkeys(friction.metric_named(m, what) for m in names))


# --------------------------------------------------------------------------- outputs

def emit(text: str, output: str | None = None) -> None:
    if output:
        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


def report_problems(problems: list) -> None:
    for p in problems:
        click.echo(f"error: {p}", err=True)


def exit_on_case_problems(ev_problems: list) -> None:
    """Cases that could not be evaluated were reported; the rest were written. Exit 2."""
    if ev_problems:
        report_problems(ev_problems)
        click.echo(f"{len(ev_problems)} case(s) could not be evaluated; the others were.", err=True)
        sys.exit(EXIT_INPUT)


def progress(items, label: str, size: Callable[[Any], int] = lambda item: 1):
    """A progress line with cases/s on a terminal; nothing at all in pipes and CI. `size`:
    how many cases an item stands for (a block of rows)."""
    if not sys.stderr.isatty():
        yield from items
        return
    start, count = time.perf_counter(), 0

    def rate(_: Any) -> str:
        elapsed = time.perf_counter() - start
        return f"{count / elapsed:,.0f} cases/s" if elapsed > 0 else ""

    with click.progressbar(items, label=label, file=sys.stderr, show_pos=True, item_show_func=rate,
                           length=None) as bar:
        for item in bar:   # the bar counts one per item: the rest of a block's cases added
            n = size(item)
            count += n
            if n != 1:
                bar.update(n - 1)
            yield item


engine_option = click.option(
    "--engine", "engine_name", type=click.Choice(friction.ENGINES), default="compiled", show_default=True,
    help="compiled: generated Python (fast); rete: durable_rules (the reference semantics).")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False),
                             help="Write here (atomically: complete or not at all), not stdout.")
workers_option = click.option(
    "--workers", type=click.IntRange(0), default=1, show_default=True,
    help="Worker processes (0: one per core). Results keep the catalog's order.")
def scheduler_option(fn):
    fn = click.option("--blocksize", type=click.IntRange(1024), default=16 * 2 ** 20, show_default=True,
                      help="With --scheduler: bytes of catalog per task.")(fn)
    return click.option("--scheduler", metavar="ADDRESS",
                        help="Run on Dask: tcp://host:8786 (a running cluster) or local:N (N worker "
                             "processes started for this run). Needs friction[dask].")(fn)


policy_set_argument = click.argument("policy_set", required=False)
catalog_argument = click.argument("catalog", required=False)


def ci_format_option(*plain: str, default: str):
    return click.option("--format", "fmt", type=click.Choice([*plain, *ci_formats.CI_FORMATS]), default=default,
                        show_default=True,
                        help="github: workflow annotations; sarif: SARIF 2.1.0 for code scanning; "
                             "junit: JUnit XML; tap: TAP 14.")


class LazyChoice(click.Choice):
    """A choice among the names `module`.`name` holds, imported only when the command runs or
    shows its help (`friction --help` and the other commands do not pay for the module)."""

    def __init__(self, module: str, name: str):
        self._source = module, name
        super().__init__(())

    @property
    def choices(self) -> Any:
        module, name = self._source
        return getattr(importlib.import_module(module), name)

    @choices.setter
    def choices(self, _: Any) -> None:   # click.Choice.__init__ sets it; the module says
        pass


class Stdout:
    def __enter__(self):
        return sys.stdout

    def __exit__(self, *exc: Any) -> None:
        return None


def _rows_in(path: str) -> int:
    """Rows in a partial JSON Lines file: one a line (JSON escapes line breaks)."""
    with open(path, "rb") as f:
        return sum(block.count(b"\n") for block in iter(lambda: f.read(1 << 20), b""))


def interrupted(fmt: str, writer, target: AtomicOutput | None, output: str | None) -> str:
    """What an interrupted evaluate left behind, in one line."""
    from friction import report

    cases = writer.cases + len(writer.errors) if writer else 0
    if fmt not in report.STREAMING_FORMATS:
        return f"friction: interrupted; nothing written{f' ({output} is unchanged)' if output else ''}"
    if target is None:
        return f"friction: interrupted after {cases} case(s) written (whole lines)"
    if target.partial:
        # JSON Lines kept are counted in the file: Ctrl-C can land between a row's write
        # and the writer's count of it
        kept = _rows_in(target.partial) if fmt == "jsonl" else cases
        return (f"friction: interrupted; {kept} case(s) written to {target.partial} "
                f"(whole lines); {output} is unchanged")
    return f"friction: interrupted after {cases} case(s); {output} is unchanged"

