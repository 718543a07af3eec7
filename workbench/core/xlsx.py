"""Provides `write_workbook`: an events export as an Excel workbook (XlsxWriter), a sheet `events` and a sheet `notes`.

Each sheet has a frozen header row with filters and column widths fitted to the values. Times are real Excel
date-times in UTC (Excel has no time zones; the header says `(UTC)`), so that a client can sort and filter them.

Log text is attacker-controlled. Every text cell is written as a string (`strings_to_formulas`,
`strings_to_urls` and `strings_to_numbers` off), so nothing in it is evaluated when the file is opened; cells
that start with `= + - @`, a tab or a carriage return are also prefixed with `'` as in the CSV export, because
Excel evaluates such a text as soon as someone edits the cell and presses Enter. A cell holds at most 32,767
characters: longer text is cut, and says how many characters were left out.

XlsxWriter is pure Python and writes about 150,000 cells a second; it runs in `constant_memory` mode (a row is
written to disk once complete), so a large export takes time but not memory.
"""

from pathlib import Path

import polars as pl

#: Excel's rows per sheet, the header included.
MAX_ROWS = 1_048_576
#: Characters one Excel cell holds.
CELL_LIMIT = 32_767
#: Column widths, in characters: never narrower or wider than these; the widest values decide in between.
WIDTH_RANGE = (8, 60)
#: Rows read to fit the column widths.
WIDTH_SAMPLE = 1_000
TIME_FORMAT = "yyyy-mm-dd hh:mm:ss.000"
_OPTIONS = {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
            "strings_to_numbers": False, "remove_timezone": True, "default_date_format": TIME_FORMAT}


class TooManyRows(ValueError):
    """More events than one Excel sheet holds."""


def check_rows(count: int) -> None:
    """Raise `TooManyRows` when `count` events do not fit on one sheet below the header."""
    if count > MAX_ROWS - 1:
        raise TooManyRows(f"{count:,} events do not fit in an Excel sheet (at most {MAX_ROWS - 1:,} rows): "
                          "export fewer (--marked, --filter) or write .csv or .jsonl")


def write_workbook(path: Path, events: pl.DataFrame, notes: pl.DataFrame) -> None:
    """Write the sheets `events` and `notes` to the new file `path` (text already neutralised by the caller)."""
    check_rows(events.height)
    import xlsxwriter  # here: every headless command imports the exports, few write a workbook

    with xlsxwriter.Workbook(str(path), _OPTIONS) as workbook:
        header = workbook.add_format({"bold": True})
        for name, frame in (("events", events), ("notes", notes)):
            _write_sheet(workbook.add_worksheet(name), _cells(frame), header)


def _cells(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with text cut to what a cell holds and times in UTC (their header says so)."""
    notice = " … {} more characters"
    cut = CELL_LIMIT - len(notice) - 10
    return frame.with_columns(
        [pl.when(pl.col(name).str.len_chars() > CELL_LIMIT)
         .then(pl.format("{}" + notice, pl.col(name).str.slice(0, cut), pl.col(name).str.len_chars() - cut))
         .otherwise(pl.col(name)).alias(name)
         for name, dtype in frame.schema.items() if dtype == pl.String]
        + [pl.col(name).dt.convert_time_zone("UTC").alias(f"{name} (UTC)")
           for name, dtype in frame.schema.items() if isinstance(dtype, pl.Datetime)]
    ).select([f"{name} (UTC)" if isinstance(dtype, pl.Datetime) else name for name, dtype in frame.schema.items()])


def _widths(frame: pl.DataFrame) -> list[int]:
    """Each column's width: its header or its widest value in the first rows, within `WIDTH_RANGE`."""
    sample = frame.head(WIDTH_SAMPLE).select(pl.all().cast(pl.String).str.len_chars().max())
    low, high = WIDTH_RANGE
    return [min(high, max(low, len(name) + 2, (sample[name][0] or 0) + 1)) for name in frame.columns]


def _write_sheet(sheet, frame: pl.DataFrame, header) -> None:
    """The header (frozen, with filters), then the rows one by one as constant-memory mode requires."""
    for column, width in enumerate(_widths(frame)):
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, frame.height, max(0, frame.width - 1))
    sheet.write_row(0, 0, frame.columns, header)
    for row, values in enumerate(frame.iter_rows(), start=1):
        sheet.write_row(row, 0, values)
