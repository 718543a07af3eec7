"""Provides `workbench export --case NAME [--marked] -o FILE`: a case's events to CSV, JSON or JSON Lines."""

import argparse
import sys
from pathlib import Path

from workbench.commands.common import UsageError, add_case_arguments, case_from_args
from workbench.core.export import export_case_events, format_for_path
from workbench.core.filter import FilterError, parse_filter
from workbench.core.inert import visible

HELP = "writes a case's events (or only the marked ones) to a CSV, JSON or JSON Lines file, chosen by the suffix"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--case (required), --marked, --filter, -o FILE."""
    add_case_arguments(parser)
    parser.add_argument("--marked", action="store_true", help="only the events marked in the TUI")
    parser.add_argument("--filter", metavar="QUERY", default="", help='filter-bar syntax, e.g. "op:HardDelete user:admin"')
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="output file: .csv, .json (array) or .jsonl (JSON Lines)")


def run(args: argparse.Namespace) -> int:
    """Write the export and say how many events it holds."""
    if not args.case:
        raise UsageError("export needs --case NAME (see the case name the TUI shows)")
    try:
        format_for_path(args.output)
        expression = parse_filter(args.filter)
    except (ValueError, FilterError) as error:
        raise UsageError(str(error)) from error
    case = case_from_args(args)
    if not case.exists:
        raise UsageError(f"no case named {args.case!r} in {case.root.parent}")
    events = case.activity()
    if expression is not None:
        events = events.filter(expression)
    count = export_case_events(case, args.output, events, marked_only=args.marked)
    print(visible(f"wrote {count:,} events to {args.output}"), file=sys.stderr)
    return 0
