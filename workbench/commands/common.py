"""Provides what every command that reads audit logs shares: input arguments and opening the case."""

import argparse
import sys
from pathlib import Path

import polars as pl

from workbench.core.case import Case, case_name_for
from workbench.core.case_index import resolve_name
from workbench.core.case_set import CaseSet
from workbench.core.cases import CasesUsageError, plan_case_set
from workbench.core.config import cases_root, load_config
from workbench.core.table_fit import TABLE_ROWS, frame_columns, print_rows, print_table
from workbench.core.inert import visible
from workbench.core.load_report import LoadReport


class UsageError(Exception):
    """Bad usage or unreadable input: exit status 2 with the message on stderr."""


def add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """PATH... (optional when --case names a loaded case), --case, --case-dir and --config."""
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="audit log files or folders (searched recursively; .gz accepted); "
                        "none: reopen --case NAME")
    add_case_arguments(parser)


def add_case_arguments(parser: argparse.ArgumentParser) -> None:
    """--case, --case-dir and --config."""
    parser.add_argument("--case", metavar="NAME", help="case name (default: derived from the paths)")
    parser.add_argument("--case-dir", metavar="DIR", help="folder holding the cases (default: user data dir)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (default: user config dir)")


def add_format_argument(parser: argparse.ArgumentParser, choices: tuple[str, ...] = ("table", "json", "csv")) -> None:
    """--format with the given choices; table by default."""
    parser.add_argument("--format", choices=choices, default="table", help="output format (default: table)")


def add_rows_argument(parser: argparse.ArgumentParser) -> None:
    """--rows N: the rows a table shows."""
    parser.add_argument("--rows", type=_row_count, default=TABLE_ROWS, metavar="N",
                        help=f"rows a table shows (default: {TABLE_ROWS:,}; 0: every row; json and csv list every row)")


def _row_count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of rows (0 or more)")
    return int(text)


def case_from_args(args: argparse.Namespace) -> Case:
    """The case named by --case (or derived from the paths) under --case-dir."""
    config = load_config(args.config)
    paths = getattr(args, "paths", []) or []
    if not args.case and not paths:
        raise UsageError("give PATH... to load, or --case NAME to reopen a case")
    try:
        name = args.case or case_name_for(paths)
        if not paths:  # reopening: `--case case-a` finds the one case named case-a-<hash>
            name = resolve_name(name, cases_root(args.case_dir, config))
        return Case.named(name, args.case_dir, config)
    except ValueError as error:
        raise UsageError(str(error)) from error


def existing_case(name: str, args: argparse.Namespace) -> Case:
    """A loaded case named on the command line: its whole name, or its folder's stem when one case has it."""
    config = load_config(args.config)
    try:
        case = Case.named(resolve_name(name, cases_root(args.case_dir, config)), args.case_dir, config)
    except ValueError as error:
        raise UsageError(str(error)) from error
    if not case.exists:
        raise UsageError(f"no case named {name!r} in {case.root.parent}; `workbench cases` lists them")
    return case


def opened_case_set(args: argparse.Namespace, config: dict) -> CaseSet:
    """The cases the arguments of `add_cases_arguments` name, opened (loaded or reused), their frames not read;
    usage problems as UsageError."""
    try:
        cases = plan_case_set(args.paths, args.case, args.case_dir, config)
    except CasesUsageError as error:
        raise UsageError(str(error)) from error
    cases.open()
    return cases


def tell(message: str) -> None:
    """A note for the analyst on stderr (`workbench: ...`), apart from the command's output."""
    print(visible(f"workbench: {message}"), file=sys.stderr)


def open_case(args: argparse.Namespace, quiet: bool = False) -> tuple[Case, LoadReport]:
    """Open (loading or reusing) the case for the command's inputs, with progress on stderr."""
    case = case_from_args(args)
    paths = getattr(args, "paths", []) or []

    def progress(done: int, total: int, rows: int, current: str) -> None:
        if current and not quiet and sys.stderr.isatty():
            print(f"\rloading {done + 1}/{total}: {visible(current)} ({rows:,} rows read)\x1b[K", end="", file=sys.stderr)

    report, _reused = case.open(paths, progress, tell)
    if not quiet and sys.stderr.isatty():
        print("\r\x1b[K", end="", file=sys.stderr)
    return case, report


def print_frame(frame: pl.DataFrame, fmt: str, title: str | None = None, rows: int = TABLE_ROWS) -> None:
    """Print a result frame to stdout as a table fitted to the terminal, its first `rows` rows (log text inert;
    columns and rows left out are counted), or as a JSON array or formula-safe CSV with every row and column."""
    if fmt in ("json", "csv", "jsonl"):
        print_rows(frame, fmt)
    else:
        print_table(frame, frame_columns(frame), title, rows=rows)
