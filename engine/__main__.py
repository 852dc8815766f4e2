"""`python -m friction`: the same command line as the `friction` script."""
from .cli import main

main(prog_name="friction")
