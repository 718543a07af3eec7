"""Provides `constant_columns`: the columns of a frame's Parquet parts that hold one value in every row, or none,
found from the parts' statistics alone.

A text column of ten million rows takes 160 MB in memory even when every row holds the same text (the case's name,
its only input file, the tenant) or nothing (a column no record of the case fills); read as a literal it takes
nothing, and a scan does not read it.
"""

from functools import lru_cache
from pathlib import Path

import pyarrow.parquet as pq

#: Polars writes the statistics of text cut to this many bytes: a value that long may be a cut one.
STATISTICS_CUT = 64


@lru_cache(maxsize=64)
def constant_columns(parts: tuple[Path, ...], columns: tuple[str, ...]) -> dict[str, str | None]:
    """{column: its one value} of the `columns` that hold the same text in every row of `parts`, or nothing (None;
    a part without the column reads as nothing there). Parts are never rewritten, so the answer is kept."""
    found: dict[str, str | None] | None = None
    for part in parts:
        metadata = pq.read_metadata(part)
        for group in range(metadata.num_row_groups):
            here = _row_group_constants(metadata.row_group(group), columns)
            found = here if found is None else {name: value for name, value in found.items()
                                                if name in here and here[name] == value}
            if not found:
                return {}
    return found or {}


def _row_group_constants(group: pq.RowGroupMetaData, columns: tuple[str, ...]) -> dict[str, str | None]:
    """The `columns` one row group holds a single text in, or nothing, by its statistics."""
    chunks = {group.column(index).path_in_schema: group.column(index) for index in range(group.num_columns)}
    constants = {}
    for name in columns:
        if name not in chunks:
            constants[name] = None
            continue
        statistics = chunks[name].statistics
        if statistics is None or statistics.null_count is None:
            continue
        if statistics.null_count == group.num_rows:
            constants[name] = None
        elif (statistics.null_count == 0 and statistics.has_min_max and isinstance(statistics.min, str)
              and statistics.min == statistics.max and len(statistics.min.encode()) < STATISTICS_CUT):
            constants[name] = statistics.min
    return constants
