"""Provides `workbench info`: the load report of the inputs, as a Rich table or JSON."""

import argparse

from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.commands.common import add_format_argument, add_input_arguments, open_case
from workbench.core.inert import dumps, visible
from workbench.core.load_report import FileReport, LoadReport
from workbench.core.summary import summarise

HELP = "load report: per file format, loaded / duplicate / rejected, time range, sources, sign-ins, workloads"
SOURCE_NAMES = {"ual": "audit log records", "signin": "sign-ins", "audit": "directory audits",
                "message": "message trace rows"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `info`."""
    add_input_arguments(parser)
    add_format_argument(parser, ("table", "json"))
    parser.add_argument("--top", type=int, default=15, metavar="N", help="operations to list (default 15)")


def _plain(value: object) -> Text:
    return Text(visible(str(value)))


def render(summary: dict, case_name: str, console: Console) -> None:
    """Print the summary as Rich tables; all log text goes in as plain Text, never markup."""
    files = Table(title=Text(f"Case {case_name}: load report"), show_footer=True)
    totals = summary["totals"]
    files.add_column("file", footer="total", overflow="fold", ratio=2, min_width=10)
    files.add_column("format", overflow="fold", ratio=1)
    counts = ("rows", "loaded", "duplicates", "conflicting", "rejected")
    for key, header in zip(counts, ("rows", "loaded", "dup", "conflict", "rejected")):
        files.add_column(header, justify="right", footer=f"{totals[key]:,}")
    for file in summary["files"]:
        files.add_row(_plain(file["path"]), file["format"], *(f"{file[key]:,}" for key in counts))
    console.print(files)
    facts = Table.grid(padding=(0, 2))
    facts.add_row("time range (UTC)", _plain(f"{summary['first_event']} .. {summary['last_event']}"))
    facts.add_row("loaded", ", ".join(f"{count:,} {SOURCE_NAMES.get(name, name)}" for name, count in summary["sources"].items()))
    for kind, statuses in summary["sign_ins"].items():
        facts.add_row(f"{kind.replace('_', '-')} sign-ins", ", ".join(f"{count:,} {status}" for status, count in statuses.items()))
    facts.add_row("users", str(summary["users"]))
    facts.add_row("distinct client IPs", str(summary["client_ips"]))
    names = summary["tenant_names"]
    facts.add_row("tenants", _plain(", ".join(names.get(tenant, tenant) for tenant in summary["tenants"]) or "-"))
    console.print(facts)
    for title, counts in (("workload", summary["workloads"]), ("operation (top)", summary["operations"])):
        table = Table(title=title)
        table.add_column(title.split()[0])
        table.add_column("events", justify="right")
        for name, count in counts.items():
            table.add_row(_plain(name), f"{count:,}")
        console.print(table)
    for file in summary["files"]:
        if file.get("note"):
            console.print(Text(visible(f"note: {FileReport(**file).note_line()}")))
        if FileReport(**file).row_unit():
            console.print(Text(visible(f"note: {file['path']}: {FileReport(**file).row_unit()}")))
    if totals["folded"]:
        console.print(Text(f"{totals['folded']:,} repeated rows of a sign-in, directory audit or message folded into the "
                           "loaded one (counted as duplicates)"))
    if totals["rejected"]:
        console.print(Text(f"{totals['rejected']:,} rows rejected: see the case's rejects.jsonl (file, row, reason)"))
    if totals["conflicting"]:
        console.print(Text(f"warning: {totals['conflicting']:,} conflicting duplicates: records that share an Id with a "
                           "loaded record but differ from it; both versions are kept (SQL: conflicting_duplicates)"))
        for line in LoadReport([], [], summary["conflicts"]).conflict_lines(10):
            console.print(Text(visible(f"warning: {line}")))
    for warning in summary["warnings"][:10]:
        console.print(Text(visible(f"warning: {warning['file']} row {warning['row']}: {warning['reason']}")))
    _custody(summary, console)


#: How the case keeps an input whose records it reads back (FileReport.kept), in words.
KEPT_AS = {"reflink": "copy-on-write copy", "link": "hard link (it survives moving or deleting the input, not editing it)",
           "copy": "copy", "plain copy": "decompressed or transcoded copy"}


def _custody(summary: dict, console: Console) -> None:
    """The inputs' SHA-256 as `sha256sum -c` reads them (never wrapped), and the inputs changed since."""
    hashed = [file for file in summary["files"] if file.get("sha256")]
    if hashed:
        console.print(Text("inputs as loaded (SHA-256; `sha256sum -c` checks these lines):", style="bold"))
        for file in hashed:
            console.print(Text(visible(f"{file['sha256']}  {file['path']}")), soft_wrap=True)
    for file in summary["files"]:
        if file.get("kept"):
            console.print(Text(visible(f"original records read from the case's {KEPT_AS[file['kept']]} of {file['path']}")))
    for problem in summary.get("changed_inputs", []):
        console.print(Text(visible(f"warning: {problem}")))


def run(args: argparse.Namespace) -> int:
    """Load (or reuse) the case and print its report."""
    case, report = open_case(args, quiet=args.format == "json")
    summary = summarise(case.activity_scan(), report, top=args.top) | {"changed_inputs": case.changed_inputs()}
    if args.format == "json":
        print(dumps(summary, indent=2))
    else:
        render(summary, case.name, Console())
        print(visible(f"case folder: {case.root}"))
    return 0
