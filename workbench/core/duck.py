"""Provides `connect`: an embedded DuckDB database configured for a headless tool.

DuckDB draws a progress bar on stdout for a query that runs a few seconds, which would corrupt JSON
written to stdout and the TUI's screen; and it spills to `.tmp` in the current directory. Every
connection of the workbench comes from here: no progress bar, spills into a folder of its own, and text
handed to Polars as Arrow string views, Polars' own layout (the JSON Lines reader's fields then need no
copy: 0.3 CPU-s less per 1M mailbox records).
"""

import os
import tempfile
from pathlib import Path

import duckdb

#: What a failed DuckDB query raises: its own errors, and the `UnicodeDecodeError` of its Python binding when the
#: message quotes input cut inside a UTF-8 character (a JSON parse error on a line of non-ASCII text).
ERRORS = (duckdb.Error, UnicodeDecodeError)

def connect(spill: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB without a progress bar that spills into `spill` (default: a folder of this process
    in the system's temporary directory, made only when DuckDB spills)."""
    folder = spill or Path(tempfile.gettempdir()) / f"workbench-duckdb-{os.getpid()}"
    return quiet(duckdb.connect(":memory:", config={"temp_directory": str(folder)}))


def quiet(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """`connection` (or a cursor of it: the settings are per connection) without the progress bar, giving text to
    Arrow as string views."""
    connection.execute("SET enable_progress_bar = false")
    connection.execute("SET produce_arrow_string_view = true")
    connection.execute("SET arrow_output_version = '1.5'")
    return connection
