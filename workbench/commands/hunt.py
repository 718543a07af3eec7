"""Provides `workbench hunt`: every hunt's hits over the inputs, as a Rich table, JSON or CSV."""

import argparse
from pathlib import Path

import polars as pl

import hunts
from workbench.commands.common import add_format_argument, add_input_arguments, open_case
from workbench.core.config import load_config
from workbench.core.hunting import case_hits, hunt_pack
from workbench.core.table_fit import Column, print_rows, print_table

HELP = "hunt hits: one row per (hunt, event) with its ATT&CK techniques and why it fired"
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
    return pack, case_hits(case.activity(), config, pack, case=case)


#: The hunt table's columns, most wanted first (the TUI keeps time, user, operation and client IP at 80 columns).
TABLE_COLUMNS = [
    Column("time", "time (UTC)", 16), Column("severity", min_width=8, style="severity_style"),
    Column("hunt_id", "hunt", 16), Column("user_id", "user", 12), Column("operation", min_width=12),
    Column("client_ip", "client IP", 15), Column("technique_id", "technique", 9), Column("why", min_width=20),
    Column("title", min_width=20), Column("record_id", "record", 12),
]


def _table(hits: pl.DataFrame) -> None:
    print_table(hits.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%d %H:%M").alias("time"),
                                  pl.col("severity").replace_strict(SEVERITY_STYLE, default="").alias("severity_style")),
                TABLE_COLUMNS, title=f"{hits.height} hunt hits")


def run(args: argparse.Namespace) -> int:
    """Load (or reuse) the case, run the hunts and print the hits."""
    _pack, hits = hunts_and_hits(args, quiet=args.format != "table")
    if args.format == "table":
        _table(hits)
    else:
        print_rows(hits.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ")), args.format)
    return 0
