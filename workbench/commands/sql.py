"""Provides `workbench sql`: one read-only SQL query over a case's events, printed or exported."""

import argparse
import sys
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.commands.common import (
    UsageError, add_case_arguments, add_format_argument, add_rows_argument, case_from_args, open_case,
)
from workbench.commands.sweep import spark_conf
from workbench.core.config import load_config
from workbench.core.enrichment import cached_enrichment
from workbench.core.hunting import hunt_case
from workbench.core.export import format_for_path, write_frame
from workbench.core.inert import visible
from workbench.core.sql import (
    DEFAULT_TIMEOUT, EVENTS_ALIAS, EVENTS_TABLE, SqlError, SqlSession, SqlTimeout, example_queries, parameter_value,
    query_parameters, sql_limits,
)
from workbench.core.spark import SparkMissing
from workbench.core.store_sql import store_query
from workbench.core.sweep import ENGINES
from workbench.core.table_fit import frame_columns, print_rows, print_table
from workbench.core.tenant_store import StoreError

HELP = f"runs SQL over table {EVENTS_TABLE} (alias {EVENTS_ALIAS})"

EPILOG = f"""\
The query is read-only: one SELECT (or WITH ... SELECT) over {EVENTS_TABLE} / {EVENTS_ALIAS}.
Queries pasted from articles run as printed: typographic quotes read as ASCII quotes, and print
damage with one sensible reading is repaired (a note on stderr says what changed). Text comparison
(=, <>, IN, LIKE ...) ignores case unless --exact. QUERY may be - to read it from stdin.
A query may take parameters, :user, :ip, :since (a date or ISO time) or any :name: give each
with --param NAME=VALUE; values are bound as values, never pasted into the SQL.
Examples:
  workbench sql sample_logs/case-a "SELECT operation, count(*) AS n FROM events GROUP BY ALL ORDER BY n DESC"
  workbench sql sample_logs/case-a --run logins --param user=CompromisedAdmin@example.com
  workbench sql sample_logs/case-a --run ip-activity --param ip=104.161.20.102 --param since=2023-02-20
  workbench sql sample_logs/case-a --run article-logins
  workbench sql --list
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `sql`."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("items", nargs="*", metavar="PATH... QUERY",
                        help="audit log files or folders, then the SQL query (none with --run or --list)")
    add_case_arguments(parser)
    add_format_argument(parser)
    add_rows_argument(parser)
    parser.add_argument("--exact", action="store_true", help="compare text exactly (default: ignore case)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"stop the query after SECONDS (default: sql_timeout in the config, else {DEFAULT_TIMEOUT:g}; 0: no limit)")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE",
                        help="write the result to FILE (.csv, .json or .jsonl) instead of printing it")
    parser.add_argument("--save", metavar="NAME", help="save the query in the case under NAME")
    parser.add_argument("--run", metavar="NAME", help="run a saved or example query (see --list)")
    parser.add_argument("--list", action="store_true", help="list the case's saved queries and the example queries")
    parser.add_argument("--store", metavar="STORE",
                        help="query a tenant store (`workbench publish`) instead of a case: tables events, sign_ins, "
                             "directory_audits, messages, each with tenant and day")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb", help="engine of a --store query (default: duckdb)")
    parser.add_argument("--master", metavar="URL", help="Spark master of a --store query (default: local[2])")
    parser.add_argument("--conf", action="append", default=[], metavar="K=V", help="a Spark setting (repeatable)")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="the value of the query's parameter :NAME (repeatable); :since and :until take a date "
                             "or ISO time, such as 2023-02-20 or 2023-02-20T08:00:00Z")


def run(args: argparse.Namespace) -> int:
    """List queries, or run one and print (or export) its rows."""
    if args.list:
        args.paths = [Path(item) for item in args.items]
        return _list(args)
    if args.store:
        return _store_query(args)
    if args.run:
        args.paths, query = [Path(item) for item in args.items], None
    elif args.items:
        args.paths, query = [Path(item) for item in args.items[:-1]], args.items[-1]
        query = sys.stdin.read() if query == "-" else query
    else:
        raise UsageError("give PATH... and a QUERY (or --run NAME, or --list)")
    config = load_config(args.config)
    limits = sql_limits(config, args.timeout)
    case, _report = open_case(args)
    if args.run:
        query = _named_query(args.run, case.store.saved_queries())
    params = _parameters(args.param, query)
    session = SqlSession(case, exact=args.exact, **limits, **_result_tables(case, query, config))
    try:
        result = session.run_in_foreground(query, params)
    except KeyboardInterrupt:
        print("workbench: query interrupted", file=sys.stderr)
        return 130
    except SqlTimeout as error:
        print(f"workbench: {visible(str(error))}", file=sys.stderr)
        return 1
    except SqlError as error:
        print(f"workbench: {visible(error.render(), keep_newlines=True)}", file=sys.stderr)
        return 2
    finally:
        session.close()
    if args.save:
        case.store.save_query(args.save, result.query_used)
        print(f"saved as {visible(args.save)}", file=sys.stderr)
    _print_result(args, result)
    return 0


def _print_result(args: argparse.Namespace, result) -> None:
    """The result's notes on stderr, its rows printed or written to --output."""
    for note in result.notes:
        print(f"note: {visible(note)}", file=sys.stderr)
    if args.output:
        try:
            write_frame(result.frame, args.output, format_for_path(args.output))
        except ValueError as error:
            raise UsageError(str(error)) from error
        print(visible(f"{_rows(result.frame.height)} written to {args.output}"), file=sys.stderr)
    elif args.format == "table":
        print_table(result.frame, frame_columns(result.frame), rows=args.rows)
        print(_rows(result.frame.height), file=sys.stderr)
    else:
        print_rows(result.frame, args.format)


def _store_query(args: argparse.Namespace) -> int:
    """`--store STORE QUERY`: one query over a tenant store, printed or exported."""
    if len(args.items) != 1 or args.run or args.save or args.param or args.case:
        raise UsageError("with --store give only the QUERY (no PATH, --case, --run, --save or --param)")
    query = sys.stdin.read() if args.items[0] == "-" else args.items[0]
    conf = spark_conf(args.conf, args.engine, args.master)
    try:
        result = store_query(args.store, args.engine, query, args.exact, args.master, conf)
    except SqlError as error:
        print(f"workbench: {visible(error.render(), keep_newlines=True)}", file=sys.stderr)
        return 2
    except (StoreError, SparkMissing) as error:
        raise UsageError(str(error)) from error
    _print_result(args, result)
    return 0


def _result_tables(case, query: str, config: dict) -> dict:
    """Hunt hits and cached enrichment as tables, computed only when the query names them."""
    tables = {}
    if "hunt_hits" in query.lower():
        tables["hunts"] = hunt_case(case, config)
    if "ip_enrichment" in query.lower():
        tables["enrichment"] = cached_enrichment(case.scan(), config)
    return tables


def _parameters(given: list[str], query: str) -> dict[str, str]:
    """The --param values by name, or a UsageError naming a parameter that is missing, unknown or malformed."""
    params = {}
    for item in given:
        name, equals, value = item.partition("=")
        name = name.strip().removeprefix(":")
        if not equals or not name:
            raise UsageError(f"--param {item!r}: give NAME=VALUE, such as --param user=admin@example.com")
        params[name] = value
    needed = query_parameters(query)
    missing = [name for name in needed if name not in params]
    if missing:
        raise UsageError("the query needs a value for " + ", ".join(f":{name}" for name in missing) + ": give "
                         + " ".join(f"--param {name}=VALUE" for name in missing))
    unknown = [name for name in params if name not in needed]
    if unknown:
        takes = ", ".join(f":{name}" for name in needed) or "no parameters"
        raise UsageError("the query has no " + ", ".join(f":{name}" for name in unknown) + f" (it takes {takes})")
    for name in needed:
        try:
            parameter_value(name, params[name])
        except SqlError as error:
            raise UsageError(f"--param {name}: {error}") from None
    return params


def _named_query(name: str, saved: dict[str, str]) -> str:
    queries = example_queries() | saved
    if name not in queries:
        raise UsageError(f"no saved or example query named {name!r}; see `workbench sql --list`")
    return queries[name]


def _list(args: argparse.Namespace) -> int:
    saved: dict[str, str] = {}
    if args.paths or args.case:
        case = case_from_args(args)
        saved = case.store.saved_queries() if case.exists else {}
    rows = [{"name": name, "kind": kind, "params": " ".join(f":{param}" for param in query_parameters(sql)), "sql": sql}
            for kind, queries in (("saved", saved), ("example", example_queries())) for name, sql in queries.items()]
    if args.format != "table":
        schema = {"name": pl.String, "kind": pl.String, "params": pl.String, "sql": pl.String}
        print_rows(pl.DataFrame(rows, schema=schema), args.format)
        return 0
    table = Table(title="SQL queries (run one with --run NAME)", show_lines=True)
    for column in ("name", "kind", "sql"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(Text(visible(row["name"])), row["kind"], Text(visible(row["sql"].strip(), keep_newlines=True)))
    Console().print(table)
    return 0


def _rows(count: int) -> str:
    return f"{count:,} row" + ("" if count == 1 else "s")
