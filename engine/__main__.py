"""`python -m friction` and the `friction` script: the command line of friction.cli, and
a Ctrl-C that lands while it is still starting up.

The command line maps Ctrl-C to exit 130 with one line and no traceback, but only once a
command runs: before that, while its modules are imported, KeyboardInterrupt would escape
as a traceback. This module imports nothing but the standard library, so that window is
left to the interpreter's own start."""
import sys

EXIT_INTERRUPTED = 130   # friction.commands.shared.EXIT_INTERRUPTED, without importing it yet


def run() -> None:
    try:
        from .cli import main

        main(prog_name="friction")
    except KeyboardInterrupt:
        sys.stderr.write("friction: interrupted\n")
        sys.exit(EXIT_INTERRUPTED)


if __name__ == "__main__":
    run()
