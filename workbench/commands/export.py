"""Provides `workbench export --case NAME [--marked] [--filter QUERY] -o FILE`: a case's events to CSV, JSON, JSON
Lines, an Excel workbook or a Timesketch import file."""

import argparse
import sys
from pathlib import Path

from workbench.commands.common import UsageError, add_case_arguments, case_from_args
from workbench.core.export import event_format_for_path, export_case_events
from workbench.core.filter import FilterError, parse_filter
from workbench.core.inert import visible
from workbench.core.xlsx import TooManyRows

HELP = ("writes a case's events (or only the marked ones) to CSV, JSON, JSON Lines, Excel or a Timesketch import "
        "file, chosen by the file name's ending")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--case (required), --marked, --filter, -o FILE."""
    add_case_arguments(parser)
    parser.add_argument("--marked", action="store_true", help="only the events marked in the TUI")
    parser.add_argument("--filter", metavar="QUERY", default="", help='filter-bar syntax, e.g. "op:HardDelete user:admin"')
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="output file: .csv, .json (array), .jsonl (JSON Lines), .xlsx (Excel: sheets of events "
                             "and of notes and tags), .timesketch.csv or .timesketch.jsonl (Timesketch's import "
                             "fields message, datetime, timestamp_desc first)")


def run(args: argparse.Namespace) -> int:
    """Write the export and say how many events it holds."""
    if not args.case:
        raise UsageError("export needs --case NAME (see the case name the TUI shows)")
    try:
        event_format_for_path(args.output)
        expression = parse_filter(args.filter)
    except (ValueError, FilterError) as error:
        raise UsageError(str(error)) from error
    case = case_from_args(args)
    if not case.exists:
        raise UsageError(f"no case named {args.case!r} in {case.root.parent}")
    rows = case.activity_scan()  # the rows the filter keeps, read a window of time at a time, in time order
    if expression is not None:
        rows = rows.filter(expression)
    try:
        count = export_case_events(case, args.output, rows, marked_only=args.marked)
    except TooManyRows as error:
        raise UsageError(str(error)) from error
    print(visible(f"wrote {count:,} events to {args.output}"), file=sys.stderr)
    return 0
