"""Provides `DecodedLines` (the AuditData fields of a JSON Lines file decoded by DuckDB, in file order)
and `decode_texts` (the same for a column of AuditData texts, as in a CSV export).

DuckDB's JSON reader decodes the declared fields on its own threads at a fraction of the cost of
Polars' `read_ndjson`, and writes nested values back as valid (minified) JSON. In the same parse it
reads the two fields the events' `operation_count` and `throttled` come from (mail_items.py). It skips
lines that hold only spaces, tabs or `\\r`, and stops with an error at the first line it cannot read;
the reader then decodes the rest of the file itself, line by line where needed.
"""

import json
from pathlib import Path

import polars as pl
import pyarrow

from workbench.core.duck import ERRORS, connect, quiet
from workbench.core.jsontext import NESTED_FIELDS
from workbench.core.mail_items import ACCESS_FIELDS, access_columns
from workbench.core.schema import AUDIT_FIELDS, AUDIT_SCHEMA

BATCH_ROWS = 20_000
ALIGNMENT_STRIDE = 16

#: The fields read: nested ones as JSON text, the rest as text (only the session id of `AppAccessContext`),
#: and those of the events' access columns (with DuckDB types).
_TYPES = ({name: "JSON" if name in NESTED_FIELDS else "VARCHAR" for name in AUDIT_FIELDS}
          | {"AppAccessContext": "STRUCT(AADSessionId VARCHAR)"} | ACCESS_FIELDS)
#: The same as the `columns` argument of `read_json` and as a `json_transform` structure.
_COLUMNS = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in _TYPES.items()) + "}"
_STRUCTURE = json.dumps(_TYPES)

_DATABASE = connect()


def decode_texts(texts: pl.Series) -> pl.DataFrame | None:
    """The fields (AUDIT_SCHEMA) and access columns of AuditData texts, row for row, or None when DuckDB cannot read
    one."""
    con = quiet(_DATABASE.cursor())  # one per call: chunks are decoded on several threads
    try:
        table = con.from_arrow(pl.DataFrame([texts.alias("text")]).to_arrow()).select(
            f"json_transform(text, '{_STRUCTURE}') AS fields").to_arrow_table()
    except ERRORS:
        return None
    finally:
        con.close()
    return audit_fields(pl.from_arrow(table).to_series().struct.unnest())


def audit_fields(read: pl.DataFrame) -> pl.DataFrame:
    """The fields (AUDIT_SCHEMA) and access columns (mail_items.access_columns) of records as DuckDB read them (the
    fields of `_TYPES`, as `DecodedLines.take` gives them)."""
    return _strings_unquoted(read.select(*AUDIT_FIELDS).cast(AUDIT_SCHEMA)).hstack(access_columns(read))


def _strings_unquoted(fields: pl.DataFrame) -> pl.DataFrame:
    """Nested fields that hold a JSON string, as its text (as Polars decodes it; DuckDB keeps the quotes)."""
    columns = {}
    for name in NESTED_FIELDS:
        quoted = fields[name].str.starts_with('"')
        if quoted.any():
            rows = quoted.fill_null(False).arg_true()
            columns[name] = fields[name].scatter(rows, fields[name].gather(rows).str.json_decode(pl.String))
    return fields.with_columns(**columns) if columns else fields


class DecodedLines:
    """The records of one JSON Lines file as DuckDB read them (the fields of `_TYPES`), taken in order, a block at a
    time; `audit_fields` makes a block the fields of its records (on the block's own thread)."""

    def __init__(self, path: Path) -> None:
        self._con = connect()
        self._rest: pl.DataFrame | None = None
        self._stopped = False
        source = str(path).replace("'", "''")  # a relation streams; a prepared statement's result is copied first
        if any(sign in source for sign in "*?[{"):  # DuckDB would read the name as a glob pattern
            self.close()
            return
        try:
            self._reader = self._con.sql(
                f"SELECT * FROM read_json('{source}', format = 'newline_delimited', records = true, columns = {_COLUMNS})"
            ).to_arrow_reader(BATCH_ROWS)
        except ERRORS:  # a line it cannot read among the first ones
            self.close()

    def take(self, rows: int) -> pl.DataFrame | None:
        """The next `rows` records, or None once DuckDB stopped or ran out."""
        if self._stopped:
            return None
        parts, have = ([self._rest], self._rest.height) if self._rest is not None else ([], 0)
        self._rest = None
        try:
            while have < rows:
                batch = pl.from_arrow(self._reader.read_next_batch())
                parts.append(batch)
                have += batch.height
        except (StopIteration, *ERRORS, pyarrow.ArrowException, OSError):  # the end, or a line it cannot read
            self.close()
            return None
        fields = pl.concat(parts)
        if fields.height > rows:
            self._rest, fields = fields.slice(rows), fields.slice(0, rows)
        return fields

    def close(self) -> None:
        """Stop reading and free the connection."""
        self._stopped = True
        self._con.close()


_JSON_SPACE = r"[ \t\r\n]*"  # JSON's whitespace; `\s` (any Unicode space) makes the scan three times slower
#: A bare NaN or Infinity (after `:`, `[` or `,`), which DuckDB reads and JSON does not.
_CONSTANT = rf"[:\[,]{_JSON_SPACE}-?(?:NaN|Infinity)"
#: A trailing comma (`{"a": 1,}`), which DuckDB reads and JSON does not (or such text inside a string).
_TRAILING_COMMA = rf",{_JSON_SPACE}[}}\]]"
#: The texts worth the closer look, found by one pass over all of them: those above, and those holding U+FFFD, for which
#: the JSON Lines reader uses the same pass (kept_records.LineSpans gives no span to such a line). Measured per 48 MB
#: block: 9.6 ms, against 13.4 ms for the trailing comma or a bare `NaN|Infinity` (whose literals the regex looks for
#: first, among the many commas of JSON) and 6.5 ms more for U+FFFD on its own.
ODD_LINE = rf"{_CONSTANT}|{_TRAILING_COMMA}|\x{{FFFD}}"


def lines_match(texts: pl.Series, fields: pl.DataFrame, odd: pl.Series | None = None) -> bool:
    """Whether `fields` were decoded from `texts` line for line, and no line needs a closer reading; `odd`, the texts
    that match `ODD_LINE` when the caller found them already.

    Records' `Id`s must be in their own lines (so that no skipped or extra line shifted them); a
    record decoded as all nulls (a `null` line), a bare NaN or Infinity and a trailing comma are left
    to the line-by-line reader, which says why.
    """
    if fields.height != texts.len() or texts.len() == 0 or texts.null_count():
        return False
    empty = fields.select(pl.all_horizontal(pl.col("Id", "CreationTime", "Operation").is_null()).any()).item()
    suspect = texts.str.contains(ODD_LINE) if odd is None else odd
    if empty or (suspect.any() and texts.filter(suspect).str.contains(f"{_CONSTANT}|{_TRAILING_COMMA}").any()):
        return False
    # A skipped or extra line shifts every record after it: every 16th and the last are checked.
    rows = pl.concat([pl.int_range(0, texts.len(), ALIGNMENT_STRIDE, eager=True), pl.Series([texts.len() - 1])])
    checked = pl.DataFrame([texts.gather(rows).alias("text"), fields["Id"].gather(rows)])
    return checked.select(pl.col("text").str.contains(pl.col("Id"), literal=True).fill_null(True).all()).item()
