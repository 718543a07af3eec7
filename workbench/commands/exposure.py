"""Provides `workbench exposure PATH...`: what the attacker read, synced, searched, opened, sent and deleted, per
mailbox, with the attribution rule, the window and what could not be known (core/exposure.py)."""

import argparse
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import IO

import polars as pl
from rich.text import Text

from workbench.commands.common import (
    UsageError, add_format_argument, add_rows_argument, opened_case_set, print_frame, tell,
)
from workbench.core.attribution import RULE
from workbench.core.activity import SOURCES
from workbench.core.case_exposure import EXPOSURE_READS, attribution_in_force, case_exposure, given_attribution
from workbench.core.cases import add_cases_arguments
from workbench.core.config import load_config
from workbench.core.enrichment import cached_enrichment
from workbench.core.export import format_for_path, write_atomic, write_frame
from workbench.core.exposure import SECTIONS, Exposure
from workbench.core.hunting import hunt_case_apart
from workbench.core.inert import dumps, visible
from workbench.core.table_fit import TABLE_ROWS, Column, console, print_table

HELP = "what the attacker read, synced, searched, opened, sent and deleted, per mailbox (for breach notification)"
ROWS_PER_PIECE = 10_000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `exposure`."""
    add_cases_arguments(parser)
    parser.add_argument("--user", action="append", default=[], metavar="UPN",
                        help="a mailbox or account to report (repeatable; default: every mailbox)")
    parser.add_argument("--from", dest="start", metavar="TIME", help="window start, UTC (default: first attacker event)")
    parser.add_argument("--to", dest="end", metavar="TIME", help="window end, UTC (default: last attacker event)")
    parser.add_argument("--attacker-ip", action="append", default=[], metavar="IP", help="an attacker IP (repeatable)")
    parser.add_argument("--attacker-session", action="append", default=[], metavar="ID",
                        help="an attacker session id (repeatable)")
    parser.add_argument("--proposed", action="store_true",
                        help="when nothing is marked, use the proposed attribution (high-severity hunt hits, hosting IPs)")
    add_format_argument(parser)
    add_rows_argument(parser)
    parser.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE (.csv or .json) instead of stdout")


def _time(text: str | None, option: str) -> datetime | None:
    """An ISO date or time given on the command line, in UTC when it names no zone."""
    if text is None:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise UsageError(f"{option} {text!r}: not a date or time (e.g. 2023-02-20 or 2023-02-20T15:00)") from error
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def flat_rows(found: Exposure) -> pl.DataFrame:
    """The rows as plain columns for CSV (record ids joined by spaces)."""
    return found.rows.with_columns(pl.col("record_ids").list.join(" "))


def _write_document(found: Exposure, handle: IO[str]) -> None:
    """Write the JSON document (`Exposure.as_dict`, indented by one space, inert) and a newline to `handle`, its rows
    made Python objects `ROWS_PER_PIECE` at a time (1M rows of a 10M-event case: 8.0 GB at the peak at once, 5.6 GB
    in pieces)."""
    document = dumps(found.as_dict(with_rows=False), default=_iso, indent=1)
    if not found.rows.height:
        handle.write(document + "\n")
        return
    handle.write(document.removesuffix("[]\n}") + "[")
    for start in range(0, found.rows.height, ROWS_PER_PIECE):
        piece = dumps(found.rows.slice(start, ROWS_PER_PIECE).to_dicts(), default=_iso, indent=1)
        # a list of the document's rows, one level deeper than as a document of its own
        handle.write(("," if start else "") + piece.removeprefix("[").removesuffix("\n]").replace("\n", "\n "))
    handle.write("\n ]\n}\n")


def _iso(value: object) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, datetime) else str(value)


def _window(found: Exposure) -> str:
    if found.start is None:
        return "window: none (no attacker activity)"
    return f"window: {found.start:%Y-%m-%d %H:%M} .. {found.end:%Y-%m-%d %H:%M} UTC"


def render(found: Exposure, shown_rows: int = TABLE_ROWS) -> None:
    """Print the exposure as tables: attribution and rule, window, notes, per-mailbox counts, then each kind (its first
    `shown_rows` rows; 0: all)."""
    out = console()
    out.print(Text(f"Exposure: {found.attribution.describe()}", style="bold"))
    out.print(Text(f"rule: {RULE}", style="dim"))
    out.print(Text(_window(found)))
    for note in found.notes:
        out.print(Text(f"note: {visible(note)}", style="yellow"))
    print_table(found.summary(), [Column(name, name, 7 if name != "mailbox" else 24) for name in found.summary().columns],
                title="attacker's exposure per mailbox", rows=shown_rows)
    for kind, (title, columns) in SECTIONS.items():
        rows = found.rows.filter(pl.col("kind") == kind)
        if rows.height:
            shown = rows.with_columns(pl.when(pl.col("attribution") != "attacker").then(
                pl.concat_str(pl.col("mailbox"), pl.lit(" (uncertain)"))).otherwise("mailbox").alias("mailbox"))
            print_table(shown, [Column(name, name, 16 if name in ("time", "received", "until") else 10) for name in columns],
                        title=f"{title}: {rows.height}", rows=shown_rows)


def run(args: argparse.Namespace) -> int:
    """Open the cases, settle the attribution and print or write the exposure."""
    config = load_config(args.config)
    case = opened_case_set(args, config)
    hits = None
    if given_attribution(case, args.attacker_ip, args.attacker_session).empty:
        # The proposal reads the hunts: run in a process of their own, so that what they take is the system's again
        # when they end (with the enrichment of the audit log's IPs, as the proposal reads).
        ual = case.activity_scan().filter(pl.col("source") == SOURCES["events"])
        hits = hunt_case_apart(case, config, enrichment=cached_enrichment(ual, config))
    activity = case.activity_scan().select(EXPOSURE_READS)  # the exposure reads only the rows it needs
    attribution, proposal = attribution_in_force(case, activity, config, args.attacker_ip, args.attacker_session,
                                                 args.proposed, hits)
    if attribution.empty:
        offer = "" if proposal is None or proposal.empty else (
            f"; proposed: IPs {', '.join(sorted(proposal.ips)) or 'none'}, {len(proposal.sessions)} sessions "
            "(--proposed uses them)")
        if proposal is not None and proposal.passed_over:
            offer += f"; nothing proposed from hunts flagging many accounts: {', '.join(proposal.passed_over)}"
        raise UsageError(f"nothing is attributed to the attacker: mark IPs or sessions in the workbench, or give "
                         f"--attacker-ip / --attacker-session{offer}")
    found = case_exposure(case, attribution, activity, args.user, _time(args.start, "--from"), _time(args.end, "--to"),
                          tell)
    fmt = format_for_path(args.output) if args.output else args.format
    if args.output:
        if fmt == "json":
            write_atomic(args.output, lambda handle: _write_document(found, handle))
        else:
            write_frame(flat_rows(found), args.output, "csv")
        print(f"wrote {found.rows.height} rows to {visible(str(args.output))}", file=sys.stderr)
    elif fmt == "json":
        _write_document(found, sys.stdout)
    elif fmt == "csv":
        print_frame(flat_rows(found), "csv")
    else:
        render(found, args.rows)
    return 0
