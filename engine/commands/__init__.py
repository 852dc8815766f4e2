"""The command line's commands and plumbing (click lives here and in cli.py only): shared.py
is what every command shares, the other modules hold the commands by family; friction.cli
builds the group and registers them."""
