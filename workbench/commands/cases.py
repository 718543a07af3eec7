"""Provides `workbench cases`: the cases under the cases folder, and `cases rename OLD NEW`, `cases remove NAME`."""

import argparse
import sys

import polars as pl

from workbench.commands.common import UsageError, add_format_argument, existing_case
from workbench.core.bounded import human_size
from workbench.core.case import Case
from workbench.core.case_index import CaseNameError, remove, rename, summaries
from workbench.core.config import cases_root, load_config
from workbench.core.inert import visible
from workbench.core.table_fit import Column, print_rows, print_table

HELP = "lists the cases (inputs, rows per source, tenants, size, created, last opened); `cases rename`, `cases remove`"
COLUMNS = {"name": pl.String, "events": pl.Int64, "sign_ins": pl.Int64, "directory_audits": pl.Int64,
           "messages": pl.Int64, "rejected": pl.Int64, "tenants": pl.String, "size": pl.String, "created": pl.String, "last_opened": pl.String,
           "inputs": pl.String}
#: The table's columns, most wanted first.
TABLE_COLUMNS = [
    Column("name", min_width=16), Column("events", min_width=7), Column("tenants", min_width=16),
    Column("last_opened", min_width=16), Column("size", min_width=6), Column("inputs", min_width=16),
    Column("sign_ins", min_width=8), Column("directory_audits", "directory audits", 8), Column("messages", min_width=8),
    Column("rejected", min_width=8),
    Column("created", min_width=16),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `cases`."""
    parser.add_argument("action", nargs="?", choices=("list", "rename", "remove"), default="list",
                        help="list (default), rename OLD NEW, remove NAME")
    parser.add_argument("names", nargs="*", metavar="NAME", help="the case (and, to rename, its new name)")
    parser.add_argument("--yes", action="store_true", help="remove without asking")
    parser.add_argument("--case-dir", metavar="DIR", help="folder holding the cases (default: user data dir)")
    parser.add_argument("--config", help="config file (default: user config dir)")
    add_format_argument(parser)


def _case(name: str, args: argparse.Namespace) -> Case:
    """The case named, not read by this process (so that only other processes can keep it from changing)."""
    case = existing_case(name, args)
    case.close()
    return case


def _confirmed(case: Case) -> bool:
    if not sys.stdin.isatty():
        raise UsageError(f"removing {case.name} needs --yes when not asked at a terminal")
    answer = input(visible(f"remove case {case.name} ({case.root}) and everything in it? [y/N] "))
    return answer.strip().lower() in ("y", "yes")


def run(args: argparse.Namespace) -> int:
    """List, rename or remove cases."""
    wanted = {"list": 0, "rename": 2, "remove": 1}[args.action]
    if len(args.names) != wanted:
        raise UsageError(f"cases {args.action} takes {wanted or 'no'} name{'s' if wanted != 1 else ''}")
    try:
        if args.action == "rename":
            renamed = rename(_case(args.names[0], args), args.names[1])
            print(visible(f"case renamed to {renamed.name}"), file=sys.stderr)
        elif args.action == "remove":
            case = _case(args.names[0], args)
            if args.yes or _confirmed(case):
                remove(case)
                print(visible(f"case {case.name} removed"), file=sys.stderr)
        else:
            _list(args)
    except (CaseNameError, ValueError) as error:
        raise UsageError(str(error)) from error
    return 0


def _list(args: argparse.Namespace) -> None:
    rows = summaries(cases_root(args.case_dir, load_config(args.config)))
    if args.format == "json":
        print_rows(pl.DataFrame(rows) if rows else pl.DataFrame(schema=COLUMNS), "json")
        return
    table = pl.DataFrame([row | {"tenants": ", ".join(row["tenants"]), "inputs": ", ".join(row["inputs"]),
                                 "size": human_size(row["size_bytes"])} for row in rows], schema=COLUMNS)
    if args.format == "table":
        print_table(table, TABLE_COLUMNS, title="Cases")
    else:
        print_rows(table, args.format)
