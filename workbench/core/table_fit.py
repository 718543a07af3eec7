"""Provides `print_table`: a result frame as a Rich table that fits the terminal; `print_rows`: as JSON or CSV.

A table declares its columns in priority order, each with the narrowest width at which it is still useful.
At the console's width the lowest-priority columns that do not fit are left out (a line under the table
names them and points to `--format json|csv`, which carry every column in full); the kept columns share
the spare width, each up to its widest cell, and a longer cell is cut with an ellipsis on its one line.
A table shows its first `TABLE_ROWS` rows unless told otherwise (`--rows`), and says how many it left out: a
million-row table is minutes of scrolling, and JSON or CSV lists every row.
Cell text is made `visible` and put in `rich.text.Text`: log text is never markup or a terminal control.
"""

import os
import sys
from dataclasses import dataclass

import polars as pl
from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from workbench.core.export import to_text
from workbench.core.inert import visible

#: Width of a table written with no terminal attached and no `COLUMNS`: wide rows rather than squeezed ones.
PIPED_WIDTH = 200
#: Characters of a cell read before it is shown (a cell is never wider; hostile logs hold 50 MB values).
CELL_SOURCE = 1_000
#: Cells between two columns.
GAP = 1
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
TIME_WIDTH = 19
#: Rows a table shows by default (`--rows`; 0: every row).
TABLE_ROWS = 1_000


@dataclass(frozen=True)
class Column:
    """A table column: the frame column shown, its heading (default: the name with spaces), the narrowest
    useful width, and optionally the frame column that holds each cell's Rich style."""

    key: str
    title: str = ""
    min_width: int = 10
    style: str | None = None

    @property
    def heading(self) -> str:
        """The column's heading."""
        return self.title or self.key.replace("_", " ")


def console() -> Console:
    """A console as wide as the terminal (`COLUMNS` honoured), also when the output is piped to a pager or a
    file from one; with no terminal at all, `PIPED_WIDTH` wide."""
    if os.environ.get("COLUMNS", "").isdigit():
        return Console()
    return Console(width=_terminal_width() or PIPED_WIDTH)


def _terminal_width() -> int | None:
    """The width of the terminal that stdout, stderr or stdin is attached to, if any."""
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):  # replaced by a test harness, closed, or not a terminal
            continue
    return None


def frame_columns(frame: pl.DataFrame, min_width: int = 12) -> list[Column]:
    """One column per frame column, in the frame's order (for results whose columns nobody declared); times and
    numbers are never cut, text down to `min_width`."""
    return [Column(name, name, TIME_WIDTH if isinstance(dtype, pl.Datetime) else 20 if dtype.is_numeric()
                   else min_width) for name, dtype in frame.schema.items()]


def print_rows(frame: pl.DataFrame, fmt: str) -> None:
    """Print every column of `frame` with full values as `json`, `csv` or `jsonl` (CSV formula-safe, and made
    visible when written to a terminal)."""
    sys.stdout.write(to_text(frame, fmt, terminal=sys.stdout.isatty()))


def print_table(frame: pl.DataFrame, columns: list[Column], title: str | None = None, output: Console | None = None,
                full: str = "--format json or csv", rows: int = TABLE_ROWS) -> None:
    """Print the first `rows` rows of `frame` (0: every row) as a table of the `columns` that fit the console, then a
    line naming the columns left out and one counting the rows left out, each with the `full` output that shows
    them."""
    output = output or console()
    shown = frame.head(rows) if rows else frame
    table, left_out = fitted_table(shown, columns, output.width, title)
    output.print(table)
    if left_out:
        names = ", ".join(column.heading for column in left_out)
        output.print(Text(f"left out at {output.width} columns: {names} ({full} shows every column)",
                          style="dim"))
    if shown.height < frame.height:
        output.print(Text(f"the first {shown.height:,} of {frame.height:,} rows shown (--rows 0 shows every row, "
                          f"{full} lists them)", style="dim"))


def fitted_table(frame: pl.DataFrame, columns: list[Column], width: int,
                 title: str | None = None) -> tuple[Table, list[Column]]:
    """The table of `frame` as the `columns` that fit in `width` cells, and the columns left out."""
    texts = frame.select(_text(frame[column.key]) for column in columns)
    rows = [[visible(value) for value in row] for row in texts.iter_rows()]
    widest = [max([cell_len(column.heading), *(cell_len(row[index]) for row in rows)])
              for index, column in enumerate(columns)]
    widths = fit_widths([min(column.min_width, most) for column, most in zip(columns, widest)], widest, width)
    kept = columns[:len(widths)]
    table = Table(title=Text(visible(title)) if title else None, box=box.SIMPLE_HEAD, show_edge=False,
                  pad_edge=False, padding=(0, 0))  # the box's one-space column separator is the GAP
    for column, cells in zip(kept, widths):
        justify = "right" if frame.schema[column.key].is_numeric() else "left"
        table.add_column(Text(column.heading), width=cells, no_wrap=True, overflow="ellipsis", justify=justify)
    styles = [frame[column.style].cast(pl.String).fill_null("").to_list() if column.style else None for column in kept]
    for index, row in enumerate(rows):
        table.add_row(*(Text(value, style=style[index] if style else "") for value, style in zip(row, styles)))
    return table, columns[len(widths):]


def fit_widths(narrowest: list[int], widest: list[int], width: int) -> list[int]:
    """Widths of the leading columns that fit in `width` cells (at least one): each at least its narrowest,
    the spare cells shared out evenly, no column wider than its widest cell."""
    count = 1
    while count < len(narrowest) and sum(narrowest[:count + 1]) + GAP * count <= width:
        count += 1
    widths = [max(1, cells) for cells in narrowest[:count]]
    spare = width - sum(widths) - GAP * (count - 1)
    growing = [index for index in range(count) if widths[index] < widest[index]]
    while spare > 0 and growing:
        share = max(1, spare // len(growing))
        for index in growing:
            extra = min(share, widest[index] - widths[index], spare)
            widths[index] += extra
            spare -= extra
        growing = [index for index in growing if widths[index] < widest[index]]
    if count == 1:
        widths[0] = min(widths[0], width)
    return widths


def _text(values: pl.Series) -> pl.Series:
    """A column as display text: times to the second, nested values as Python shows them, at most CELL_SOURCE."""
    if isinstance(values.dtype, pl.Datetime):
        values = values.dt.to_string(TIME_FORMAT)
    elif values.dtype.is_nested():  # rare in a printed result, and Polars cannot cast it to text
        values = pl.Series(values.name, [None if value is None else str(value) for value in values.to_list()], pl.String)
    elif values.dtype != pl.String:
        values = values.cast(pl.String)
    return values.str.slice(0, CELL_SOURCE).fill_null("")
