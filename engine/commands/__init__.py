"""Command-line plumbing shared by the commands of friction.cli (click lives here and in cli.py only)."""
