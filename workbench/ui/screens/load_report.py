"""Provides `LoadReportScreen`: per input file, rows loaded, duplicated and rejected, and the first warnings."""

import polars as pl
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.core.inert import visible
from workbench.core.load_report import LoadReport


def report_table(report: LoadReport) -> Table:
    """The per-file counts as a table (file names made inert)."""
    table = Table(expand=True, show_edge=False)
    table.add_column("file", ratio=2, min_width=16, overflow="fold")
    table.add_column("format", ratio=1, overflow="fold")  # `graph-directory-audits-json` folds at 80 columns
    for name in ("rows", "loaded", "dup", "conflict", "rejected"):
        table.add_column(name, justify="right")
    for file in report.files:
        table.add_row(Text(visible(file.path)), Text(file.format), f"{file.rows:,}", f"{file.loaded:,}",
                      f"{file.duplicates:,}", f"{file.conflicting:,}", f"{file.rejected:,}")
    totals = report.totals()
    table.add_row(Text("total", style="bold"), "", f"{totals['rows']:,}", f"{totals['loaded']:,}",
                  f"{totals['duplicates']:,}", f"{totals['conflicting']:,}", f"{totals['rejected']:,}")
    return table


def problems_text(rejects: pl.DataFrame, warnings: list[dict], limit: int = 50) -> Text:
    """The first rejected rows and warnings as `file:row reason`, one per line, inert."""
    text = Text()
    for kind, rows in (("rejected", rejects.head(limit).select("file", "row", "reason").rows()),
                       ("warning", [(w.get("file"), w.get("row"), w.get("reason")) for w in warnings[:limit]])):
        for file, row, reason in rows:
            text.append(f"{kind} ", style="bold")
            text.append(visible(f"{file}:{row} {reason}") + "\n")
    return text


class LoadReportScreen(ModalScreen[None]):
    """The load report; Esc or l closes it."""

    BINDINGS = [Binding("escape,l,q", "close", "Close", id="report.close")]

    def __init__(self, report: LoadReport, rejects: pl.DataFrame, rejects_path: str) -> None:
        super().__init__()
        self.report, self.rejects, self.rejects_path = report, rejects, rejects_path

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="report-dialog"):
            yield Static(Text("Load report", style="bold"))
            yield Static(report_table(self.report))
            yield Static(Text(self.report.frame_line()))
            notes = [file.note_line() for file in self.report.files if file.note]
            if notes:
                yield Static(Text("\nFiles:", style="bold"))
                yield Static(Text(visible("\n".join(notes), keep_newlines=True)))
            if self.rejects.height or self.report.warnings:
                yield Static(Text("\nFirst problems:", style="bold"))
                yield Static(problems_text(self.rejects, self.report.warnings))
            if self.report.conflicts:
                yield Static(Text(f"\n{self.report.totals()['conflicting']:,} conflicting duplicates (same Id, other "
                                  "content; both kept, SQL table conflicting_duplicates):", style="bold"))
                yield Static(Text(visible("\n".join(self.report.conflict_lines(50)), keep_newlines=True)))
            yield Static(Text(f"\nRejected rows are kept in {visible(self.rejects_path)}"))

    def action_close(self) -> None:
        self.dismiss(None)
