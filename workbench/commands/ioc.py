"""Provides `workbench ioc PATH... --iocs FILE`: the events that carry an indicator of a list, and where."""

import argparse
import sys
from pathlib import Path

import polars as pl

from workbench.commands.common import UsageError, add_format_argument, print_frame
from workbench.commands.correlate import opened
from workbench.core.cases import add_cases_arguments
from workbench.core.inert import visible
from workbench.core.ioc import IocFileError, ioc_matches, read_iocs

HELP = "flags the events carrying an indicator from a list (IPs, CIDRs, domains, addresses, user agents, rule names)"
TABLE_COLUMNS = ("creation_time", "case", "user_id", "operation", "client_ip", "indicator", "type", "field", "record_id")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `ioc`."""
    add_cases_arguments(parser)
    parser.add_argument("--iocs", type=Path, required=True, metavar="FILE",
                        help="indicators: text (one per line, # comments, defanged 1.2.3[.]4 accepted) "
                        "or CSV with a column `indicator` and optionally `type`")
    add_format_argument(parser)


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
    printable = matches.with_columns(pl.col("creation_time").dt.to_string("%Y-%m-%dT%H:%M:%SZ"))
    if args.format == "json":
        print_frame(printable, "json")
    else:
        print_frame(printable.select(TABLE_COLUMNS), args.format, title=f"IOC matches in {', '.join(cases.names)}")
    return 0
