"""Provides `workbench ioc PATH... --iocs FILE`: the events that carry an indicator of a list, and where."""

import argparse
import sys
from pathlib import Path

import polars as pl

from workbench.commands.common import UsageError, add_format_argument, add_rows_argument
from workbench.commands.correlate import opened
from workbench.core.cases import add_cases_arguments
from workbench.core.inert import visible
from workbench.core.ioc import IocFileError, ioc_matches, read_iocs
from workbench.core.table_fit import Column, print_rows, print_table

HELP = "flags the events carrying an indicator from a list (IPs, CIDRs, domains, addresses, user agents, rule names)"
#: The table's columns, most wanted first.
TABLE_COLUMNS = [
    Column("creation_time", "time (UTC)", 19), Column("indicator", min_width=15), Column("user_id", "user", 12),
    Column("operation", min_width=12), Column("field", min_width=10), Column("client_ip", "client IP", 15),
    Column("type", min_width=8), Column("case", min_width=10), Column("matched", min_width=12),
    Column("record_id", "record", 12),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `ioc`."""
    add_cases_arguments(parser)
    parser.add_argument("--iocs", type=Path, required=True, metavar="FILE",
                        help="indicators: text (one per line, # comments, defanged 1.2.3[.]4 accepted) "
                        "or CSV with a column `indicator` and optionally `type`")
    add_format_argument(parser)
    add_rows_argument(parser)


def run(args: argparse.Namespace) -> int:
    """Read the indicators, open the cases and print the matching events."""
    try:
        iocs = read_iocs(args.iocs)
    except IocFileError as error:
        raise UsageError(str(error)) from error
    cases = opened(args)
    matches = ioc_matches(cases.events, iocs)
    hit = set(matches["indicator"].to_list())
    missing = [ioc.value for ioc in iocs if ioc.value not in hit]
    print(visible(f"{len(hit)} of {len(iocs)} indicators matched {matches['record_id'].n_unique()} events"
                  + (f"; no match: {', '.join(missing)}" if missing else "")), file=sys.stderr)
    if args.format == "table":
        print_table(matches, TABLE_COLUMNS, title=f"IOC matches in {', '.join(cases.names)}", rows=args.rows)
    else:
        print_rows(matches.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ")), args.format)
    return 0
