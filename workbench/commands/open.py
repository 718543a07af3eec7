"""Provides `workbench [PATH...]`: open a case. Until the TUI lands it prints the load report."""

import argparse

from workbench.commands import info

HELP = "opens the case (loading PATH... or reopening --case NAME) and prints its load report"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of the default command: PATH... optional (reopen --case)."""
    info.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Open the case and show it."""
    return info.run(args)
