"""Provides `workbench hunt`: every hunt's hits over the inputs, as a Rich table, JSON or CSV."""

import argparse
import sys
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

import hunts
from workbench.commands.common import add_format_argument, add_input_arguments, open_case
from workbench.core.config import load_config
from workbench.core.export import to_text
from workbench.core.hunting import case_hits, hunt_pack
from workbench.core.inert import visible

HELP = "hunt hits: one row per (hunt, event, ATT&CK technique)"
WIDE = 150
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "informational": "dim"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `hunt`."""
    add_input_arguments(parser)
    add_hunts_argument(parser)
    add_format_argument(parser)


def add_hunts_argument(parser: argparse.ArgumentParser) -> None:
    """--hunts DIR (repeatable): user hunt folders beside the bundled pack and the config's `hunts_dirs`."""
    parser.add_argument("--hunts", action="append", type=Path, default=[], metavar="DIR",
                        help="folder of extra hunt files (*.toml); repeatable; adds to the config's hunts_dirs")


def hunts_and_hits(args: argparse.Namespace, quiet: bool) -> tuple[list[hunts.Hunt], pl.DataFrame]:
    """Load the hunts (bundled, config `hunts_dirs`, --hunts) and run them over the opened case."""
    config = load_config(args.config)
    pack = hunt_pack(config, args.hunts)
    case, _report = open_case(args, quiet=quiet)
    return pack, case_hits(case.activity(), config, pack)


def _table(hits: pl.DataFrame, console: Console) -> None:
    wide = console.width >= WIDE
    text_columns = ("hunt_id", "user_id", "operation", "client_ip", "record_id") if wide else ("hunt_id", "user_id", "operation")
    table = Table(title=Text(f"{hits.height} hunt hits" + ("" if wide else " (JSON or a wider terminal shows IPs and record ids)")))
    for name in ("time (UTC)", "severity", "technique"):
        table.add_column(name, no_wrap=True)
    for name in text_columns:
        table.add_column(name.removesuffix("_id").replace("_", " "), overflow="fold")
    for row in hits.iter_rows(named=True):
        table.add_row(
            Text(row["creation_time"].strftime("%Y-%m-%d %H:%M")),
            Text(row["severity"], style=SEVERITY_STYLE[row["severity"]]),
            Text(row["technique_id"]),
            *(Text(visible(row[key] or "")) for key in text_columns),
        )
    console.print(table)


def run(args: argparse.Namespace) -> int:
    """Load (or reuse) the case, run the hunts and print the hits."""
    _pack, hits = hunts_and_hits(args, quiet=args.format != "table")
    if args.format == "table":
        _table(hits, Console())
        return 0
    printable = hits.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
    sys.stdout.write(to_text(printable, args.format, terminal=sys.stdout.isatty()))
    return 0
