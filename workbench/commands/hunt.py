"""Provides `workbench hunt`: every hunt's hits over the inputs, as a Rich table, JSON or CSV, and the Sigma rules
that do not run (after the table, or as JSON on stderr beside JSON or CSV hits)."""

import argparse
import json
import sys
from pathlib import Path

import polars as pl
from rich.text import Text

import hunts
from workbench.commands.common import add_format_argument, add_input_arguments, add_rows_argument, open_case
from workbench.core.config import load_config
from workbench.core.hunting import hunt_case, hunt_pack, sigma_rules
from workbench.core.inert import visible
from workbench.core.table_fit import Column, console, print_rows, print_table

HELP = "hunt hits: one row per (hunt, event) with its ATT&CK techniques and why it fired"
SEVERITY_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "informational": "dim"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `hunt`."""
    add_input_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("--sigma", action="append", type=Path, default=[], metavar="DIR",
                        help="folder of Sigma rules (searched recursively, e.g. a SigmaHQ checkout): those of the m365 "
                             "and azure sign-in and audit log sources run as hunts; repeatable; adds to the config's "
                             "sigma_dirs")
    add_format_argument(parser)
    add_rows_argument(parser)


def add_hunts_argument(parser: argparse.ArgumentParser) -> None:
    """--hunts DIR (repeatable): user hunt folders beside the bundled pack and the config's `hunts_dirs`."""
    parser.add_argument("--hunts", action="append", type=Path, default=[], metavar="DIR",
                        help="folder of extra hunt files (*.toml); repeatable; adds to the config's hunts_dirs")


def hunts_and_hits(args: argparse.Namespace, quiet: bool) -> tuple[list[hunts.Hunt], pl.DataFrame]:
    """Load the hunts (bundled, config `hunts_dirs`, --hunts, Sigma rules of config `sigma_dirs` and --sigma) and run
    them over the opened case."""
    config = load_config(args.config)
    pack = hunt_pack(config, args.hunts, getattr(args, "sigma", []))
    case, _report = open_case(args, quiet=quiet)
    return pack, hunt_case(case, config, pack)


#: The hunt table's columns, most wanted first (the TUI keeps time, user, operation and client IP at 80 columns).
TABLE_COLUMNS = [
    Column("time", "time (UTC)", 16), Column("severity", min_width=8, style="severity_style"),
    Column("hunt_id", "hunt", 16), Column("user_id", "user", 12), Column("operation", min_width=12),
    Column("client_ip", "client IP", 15), Column("technique_id", "technique", 9), Column("why", min_width=20),
    Column("title", min_width=20), Column("record_id", "record", 12),
]


def _table(hits: pl.DataFrame, rows: int) -> None:
    print_table(hits.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%d %H:%M").alias("time"),
                                  pl.col("severity").replace_strict(SEVERITY_STYLE, default="").alias("severity_style")),
                TABLE_COLUMNS, title=f"{hits.height} hunt hits: {hits['hunt_id'].n_unique()} hunts on "
                                     f"{hits.select('source', 'record_id', 'case').n_unique()} records", rows=rows)


NOT_RUN_COLUMNS = [Column("file", min_width=24), Column("rule_id", "rule id", 12), Column("reason", min_width=30),
                   Column("title", min_width=20)]


def _sigma_report(args: argparse.Namespace) -> None:
    """The Sigma rules that do not run, and the files of other log sources: a table after the hits, or one JSON object
    on stderr (`sigma_run`, `sigma_not_run`, `sigma_other_sources`) when the hits are JSON or CSV."""
    pack = sigma_rules(load_config(args.config), args.sigma)
    if pack is None:
        return
    rows = [{"file": problem.path, "rule_id": problem.rule_id, "title": problem.title, "reason": problem.reason}
            for problem in pack.not_run]
    if args.format != "table":
        report = {"sigma_run": len(pack.hunts), "sigma_not_run": rows, "sigma_other_sources": pack.other_sources}
        print(json.dumps(report, ensure_ascii=True), file=sys.stderr)
        return
    output = console()
    if rows:
        frame = pl.DataFrame(rows, schema={"file": pl.String, "rule_id": pl.String, "title": pl.String, "reason": pl.String})
        print_table(frame, NOT_RUN_COLUMNS, title=f"{len(rows)} Sigma rules not run", output=output)
    others = ", ".join(f"{product} {count:,}" for product, count in pack.other_sources.items())
    summary = f"Sigma: {len(pack.hunts):,} rules run, {len(rows):,} not run"
    output.print(Text(visible(summary + (f"; files of other log sources not read: {others}" if others else ""))))


def run(args: argparse.Namespace) -> int:
    """Load (or reuse) the case, run the hunts and print the hits, then the Sigma rules that do not run."""
    _pack, hits = hunts_and_hits(args, quiet=args.format != "table")
    if args.format == "table":
        _table(hits, args.rows)
    else:
        print_rows(hits.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ")), args.format)
    _sigma_report(args)
    return 0
