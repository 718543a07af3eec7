"""Provides `workbench report --case NAME -o FILE.md|FILE.html`: the incident report of the marked events."""

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path

from workbench.commands.common import UsageError, add_case_arguments, existing_case
from workbench.commands.hunt import add_hunts_argument
from workbench.core.config import load_config
from workbench.core.inert import visible
from workbench.core.ioc import IocFileError, read_iocs
from workbench.core.report import case_report
from workbench.core.report_format import format_for_report, write_report

HELP = "writes the incident report of a case's marked events (by ATT&CK tactic and technique) to .md or .html"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--case (required), -o FILE, --iocs FILE, --compare-case NAME, --hunts DIR."""
    add_case_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                        help="report file: .md (Markdown) or .html (one self-contained file)")
    parser.add_argument("--iocs", type=Path, metavar="FILE", help="also list which of these indicators the marked events carry")
    parser.add_argument("--compare-case", action="append", default=[], metavar="NAME",
                        help="another case (repeatable): the indicators list says which of them it shares")


def run(args: argparse.Namespace) -> int:
    """Build the report of the case's marked events and write it."""
    if not args.case:
        raise UsageError("report needs --case NAME (see the case name the TUI shows)")
    try:
        format_for_report(args.output)
        iocs = read_iocs(args.iocs) if args.iocs else None
    except (ValueError, IocFileError) as error:
        raise UsageError(str(error)) from error
    case = existing_case(args.case, args)
    others = [existing_case(name, args) for name in args.compare_case]
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = case_report(case, load_config(args.config), iocs, generated, others, hunt_dirs=tuple(args.hunts))
    write_report(report, args.output)
    print(visible(f"wrote the report of {report.marked} marked events to {args.output}"), file=sys.stderr)
    return 0
