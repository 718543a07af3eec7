"""Provides `workbench timeline PATH... --user U | --ip IP`: a per-day activity strip with hunt hits,
first-seen IPs and user agents, the dormant gap, and the log coverage per workload."""

import argparse
from datetime import date, timedelta

import polars as pl
from rich.console import Console
from rich.text import Text

from workbench.commands.common import UsageError, add_format_argument, add_rows_argument, opened_case_set
from workbench.core.cases import add_cases_arguments
from workbench.core.config import load_config
from workbench.core.enrichment import cached_enrichment
from workbench.core.hunting import hunt_case_apart
from workbench.core.inert import dumps, visible
from workbench.core.timeline import (Timeline, account_timeline, failure_lines, intensity_strip, ip_timeline,
                                     month_labels, timeline_record, with_places)
from workbench.core.table_fit import TABLE_ROWS, Column, console, print_table

HELP = "an account's (or IP's) activity per day with hunt hits, first-seen IPs and agents, dormant gap, log coverage"
MAX_LABEL = 40
SEVERITY_MARK = {"critical": ("!", "bold red"), "high": ("!", "red"), "medium": ("+", "yellow"),
                 "low": ("+", "cyan"), "informational": ("·", "dim")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `timeline`."""
    add_cases_arguments(parser)
    subject = parser.add_mutually_exclusive_group(required=True)
    subject.add_argument("--user", metavar="UPN", help="the account (any case; matched case-insensitively)")
    subject.add_argument("--ip", metavar="IP", help="a client IP")
    add_format_argument(parser, ("table", "json"))
    add_rows_argument(parser)


def _chunks(start: date, total: int, width: int) -> list[tuple[int, int]]:
    """Day index ranges of at most `width` days, broken at month starts when the range must wrap."""
    if total <= width:
        return [(0, total)]
    bounds, begin = [], 0
    while begin < total:
        end = min(total, begin + width)
        if end < total:
            month_starts = [i for i in range(begin + 1, end) if (start + timedelta(days=i)).day == 1]
            end = month_starts[-1] if month_starts else end
        bounds.append((begin, end))
        begin = end
    return bounds


def _month_row(start: date, begin: int, end: int, label: int) -> Text:
    """`Dec 2022` over the first day of each month (and of the chunk), after `label` blanks."""
    return Text("".ljust(label) + month_labels(start, begin, end), style="dim")


def _strip_text(timeline: Timeline, begin: int, end: int) -> tuple[Text, Text]:
    strip = Text(timeline.strip[begin:end])
    dormant = timeline.dormant
    if dormant and dormant["first_activity"]:
        quiet_from = (dormant["created"].date() - timeline.start).days + 1
        quiet_to = (dormant["first_activity"].date() - timeline.start).days
        low, high = max(quiet_from, begin), min(quiet_to, end)
        if low < high:
            strip.stylize("on dark_red", low - begin, high - begin)
    marks = Text()
    for severity, hits in timeline.days.select("severity", "hits").slice(begin, end - begin).iter_rows():
        char, style = SEVERITY_MARK.get(severity, (" ", "")) if hits else (" ", "")
        marks.append(char, style=style)
    return strip, marks


#: A first-seen table's columns, most wanted first.
FIRST_SEEN_COLUMNS = [
    Column("first", "first seen (UTC)", 16), Column("value", min_width=20), Column("events", min_width=6),
    Column("last", "last seen (UTC)", 16),
]


def _first_seen_table(title: str, frame: pl.DataFrame, console: Console, rows: int) -> None:
    minutes = "%Y-%m-%d %H:%M"
    columns = [*FIRST_SEEN_COLUMNS, *([Column("place", "place (geo db)", 16)] if "place" in frame.columns else [])]
    print_table(frame.with_columns(pl.col("first_seen").dt.to_string(minutes).alias("first"),
                                   pl.col("last_seen").dt.to_string(minutes).alias("last")),
                columns, title=title, output=console, full="--format json", rows=rows)


def render(timeline: Timeline, console: Console, rows: int = TABLE_ROWS) -> None:
    """Print a timeline with Rich, each first-seen table its first `rows` rows (0: all); all log text is inert."""
    total = timeline.days.height
    console.print(Text(f"Timeline of {timeline.kind} {visible(timeline.subject)}: "
                       f"{timeline.start} .. {timeline.end} ({total} days, one character per day)", style="bold"))
    sources = [visible(source) for source in timeline.coverage["source"].to_list()]
    label = min(MAX_LABEL, max(len(name) for name in ["hunt hits", *sources, *timeline.lanes]) + 1)
    width = max(20, console.width - label)
    for begin, end in _chunks(timeline.start, total, width):
        strip, marks = _strip_text(timeline, begin, end)
        console.print(_month_row(timeline.start, begin, end, label))
        console.print(Text("activity".ljust(label)) + strip)
        console.print(Text("hunt hits".ljust(label)) + marks)
        for lane, counts in timeline.lanes.items():
            console.print(Text(lane.ljust(label)) + Text(intensity_strip(counts)[begin:end]))
    dormant = timeline.dormant
    if dormant:
        line = Text(f"dormant: created {dormant['created']:%Y-%m-%d %H:%M} by {visible(dormant['created_by'])}", style="bold red")
        if dormant["first_activity"]:
            line.append(f"; first own activity {dormant['first_activity']:%Y-%m-%d %H:%M}, {dormant['days']} days later")
        console.print(line)
    for start, end, days in timeline.gaps.iter_rows():
        console.print(Text(f"quiet: {days} days without events between {start} and {end}"))
    for line in failure_lines(timeline):
        console.print(Text(line, style="yellow"))
    for name, frame in timeline.first_seen.items():
        if frame.height:
            _first_seen_table(f"first-seen {name.replace('_', ' ')}", frame, console, rows)
    _coverage(timeline, console, width, label)
    for warning in timeline.warnings:
        console.print(Text(f"warning: {visible(warning)}", style="yellow"))


def _coverage(timeline: Timeline, console: Console, width: int, label: int) -> None:
    console.print(Text("log coverage per workload (export start .. end)", style="bold"))
    for begin, end in _chunks(timeline.start, timeline.days.height, width):
        console.print(_month_row(timeline.start, begin, end, label))
        for row in timeline.coverage.iter_rows(named=True):
            name = Text(visible(row["source"])[: label - 1].ljust(label))
            console.print(name + Text(intensity_strip(row["counts"])[begin:end]))
    for row in timeline.coverage.iter_rows(named=True):
        console.print(Text(f"{visible(row['source'])}: {row['first']} .. {row['last']}, "
                           f"{row['active_days']} days with events, {len(row['missing_days'])} without"))


def run(args: argparse.Namespace) -> int:
    """Open the cases, build the timeline (with hunt hits) and print it."""
    config = load_config(args.config)
    cases = opened_case_set(args, config)
    # The hunts run in a process of their own (the memory they take is the system's again after); the timeline reads
    # the case's scan: only the subject's rows, and per day what the coverage counts.
    events = cases.activity_scan()
    enrichment = cached_enrichment(events, config)
    hits = hunt_case_apart(cases, config, enrichment=enrichment)
    if events.select(pl.len()).collect().item() == 0:
        raise UsageError("the cases hold no events")
    timeline = account_timeline(events, args.user, hits) if args.user else ip_timeline(events, args.ip, hits)
    timeline = with_places(timeline, enrichment)
    if timeline.days["events"].sum() == 0:
        raise UsageError(f"no events by or about {args.user or args.ip} in {', '.join(case.name for case in cases.cases)}")
    if args.format == "json":
        print(dumps(timeline_record(timeline), indent=1))
    else:
        render(timeline, console(), args.rows)
    return 0
