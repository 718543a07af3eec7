"""Provides readers that turn each input shape into raw chunks: one row per input record.

A raw chunk has `source_row` (line for JSON Lines, record number for CSV with the header as row 1,
position for JSON arrays), `audit_data` (the record's JSON text) and the envelope columns some shapes
carry beside it (`env_*`, all text). The JSON Lines reader adds the fields of `AUDIT_SCHEMA` that
DuckDB decoded, where they match the lines; otherwise `normalise` decodes them. `reader_problem` says
why the reader could not read a row as one record (the row is then rejected with that reason).
"""

import csv
import json
import mmap
from functools import partial
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from workbench.core.duck import connect
from workbench.core.duckjson import ODD_LINE, DecodedLines, audit_fields, lines_match
from workbench.core.formats import NotAnAuditLog, Shape
from workbench.core.kept_records import SPAN_COLUMNS, CsvRowSpans, LineSpans

CHUNK_BYTES = 48 << 20  # measured: 48 MB blocks load ~6 % faster than 24 MB; 96 MB no faster, 0.6 GB more RSS
#: At most; a CSV batch is about CHUNK_BYTES of rows (48 MB of a Purview CSV is 40,000 rows, of a message trace
#: 200,000). Measured on a 1M-row trace: batches of 100,000 load it 8 % faster than 40,000, for 190 MB more memory.
CHUNK_ROWS = 100_000
ENVELOPE = ("env_id", "env_time", "env_record_type", "env_operation", "env_user", "env_client_ip", "env_workload",
            "env_object_id", "reader_problem")

#: Makes one raw chunk when called; chunks of one file can be made on several threads at once.
RawChunk = Callable[[], pl.DataFrame]

PURVIEW_COLUMNS = {
    "RecordId": "env_id", "CreationDate": "env_time", "RecordType": "env_record_type",
    "Operation": "env_operation", "UserId": "env_user", "AuditData": "audit_data",
}
LEGACY_COLUMNS = {
    "CreationDate": "env_time", "RecordType": "env_record_type", "Operations": "env_operation",
    "UserIds": "env_user", "AuditData": "audit_data",
}
GRAPH_ENVELOPE = {
    "id": "env_id", "createdDateTime": "env_time", "auditLogRecordType": "env_record_type",
    "operation": "env_operation", "userPrincipalName": "env_user", "clientIp": "env_client_ip",
}


def _with_envelope(frame: pl.DataFrame) -> pl.DataFrame:
    missing = [pl.lit(None, pl.String).alias(name) for name in ENVELOPE if name not in frame.columns]
    spans = [name for name in SPAN_COLUMNS if name in frame.columns]
    return frame.with_columns(missing).select("source_row", "audit_data", *ENVELOPE, *spans)


def _byte_chunks(path: Path, after_line: int = 0) -> Iterator[bytes]:
    """The file (without a BOM) in blocks of whole lines, from the line after `after_line` on."""
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        start = 3 if mapped[:3] == b"\xef\xbb\xbf" else 0
        for _ in range(after_line):
            start = mapped.find(b"\n", start) + 1 or len(mapped)
        while start < len(mapped):
            end = mapped.find(b"\n", start + CHUNK_BYTES)
            end = len(mapped) if end < 0 else end + 1
            yield mapped[start:end]
            start = end


#: Lines read as the one text column of a CSV without quotes; the separator is a control byte that JSON
#: text never holds unescaped.
_AS_LINES = {"has_header": False, "separator": "\x1f", "quote_char": None, "schema": {"audit_data": pl.String},
             "encoding": "utf8-lossy"}


def _lines(data: bytes) -> pl.Series:
    """The lines of `data` as text (blank lines as null), read natively when the bytes allow it."""
    try:
        lines = pl.read_csv(data, **_AS_LINES)["audit_data"]
        if lines.len():  # a block that is only a BOM reads as no line
            return lines
    except pl.exceptions.PolarsError:
        pass
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    text = pl.Series("audit_data", lines, dtype=pl.Binary).cast(pl.String, strict=False).str.strip_suffix("\r")
    return pl.select(pl.when(text.str.strip_chars() != "").then(text)).to_series().alias("audit_data")


def _rows_per_block(path: Path) -> int:
    """About CHUNK_BYTES worth of lines, judged by the lines at the start of the file."""
    with open(path, "rb") as handle:
        head = handle.read(1 << 20)
    return max(1, CHUNK_BYTES * (head.count(b"\n") + 1) // max(len(head), 1))


def _line_chunks(path: Path) -> Iterator[pl.DataFrame]:
    """Each block of a file of lines as a frame of `source_row` and line text.

    Polars streams the lines out of the file; from a block it cannot split (a line holding the
    separator byte, say) on, the rest is read in blocks of bytes and split by `_lines`.
    """
    first_line = 1
    try:
        for block in pl.scan_csv(path, glob=False, **_AS_LINES).collect_batches(chunk_size=_rows_per_block(path)):
            yield _numbered(block["audit_data"], first_line)
            first_line += block.height
    except pl.exceptions.PolarsError:
        for data in _byte_chunks(path, after_line=first_line - 1):
            text = _lines(data)
            yield _numbered(text, first_line)
            first_line += text.len()


def _numbered(text: pl.Series, first_line: int) -> pl.DataFrame:
    return pl.DataFrame([pl.int_range(first_line, first_line + text.len(), eager=True).alias("source_row"), text])


def _json_lines_chunk(lines: pl.DataFrame, block: pl.DataFrame | None, odd: pl.Series) -> pl.DataFrame:
    """A raw chunk of JSON Lines, with the fields of DuckDB's `block` when they match its lines (else `normalise`
    decodes it); `odd`, the lines that match `duckjson.ODD_LINE`."""
    frame = _with_envelope(lines)
    fields = None if block is None else audit_fields(block)
    if fields is not None and lines_match(frame["audit_data"], fields, odd):
        return frame.hstack(fields)
    return frame


def _records(lines: pl.Series) -> int:
    """How many lines hold more than spaces, tabs and `\\r`: those DuckDB reads as records."""
    opened = lines.str.starts_with("{").fill_null(False)  # most lines, told apart without a scan
    return opened.sum() + lines.filter(~opened).str.contains(r"[^ \t\r]").sum()


def read_json_lines(path: Path) -> Iterator[RawChunk]:
    """Management API JSON Lines: one AuditData object per line, read in blocks of lines.

    Each line's byte span comes with it (kept_records.py), so that the case can read the record back from its copy
    of the file. DuckDB decodes the AuditData fields of the file in order; a chunk whose lines they do not match
    (and every chunk after DuckDB stopped at a line it cannot read) is left to `normalise`, which
    decodes it as a column of texts and explains the lines it cannot read.
    """
    decoded, spans = DecodedLines(path), LineSpans(path)
    try:
        for lines in _line_chunks(path):
            odd = lines["audit_data"].str.contains(ODD_LINE)  # one pass for the spans and for `lines_match`
            yield partial(_json_lines_chunk, spans.add(lines, odd), decoded.take(_records(lines["audit_data"])), odd)
    finally:
        decoded.close()
        spans.close()


#: The header of the column that holds the record in the CSV exports of the audit log.
RECORD_CELL = "AuditData"


def read_csv_export(path: Path, shape: Shape) -> Iterator[RawChunk]:
    """Purview or legacy CSV exports: their columns renamed to the envelope's, in raw chunks.

    While the rows are single lines, each row's byte span comes with it (kept_records.py), so that the case reads its
    `AuditData` back from its copy of the file rather than storing it again.
    """
    columns = PURVIEW_COLUMNS if shape is Shape.PURVIEW_CSV else LEGACY_COLUMNS
    spans = CsvRowSpans(path, _line_chunks(path), itemgetter("audit_data"), RECORD_CELL, skip_lines=0)
    try:
        yield from csv_chunks(path, columns, _with_envelope, spans=spans.add)
    finally:
        spans.close()


def csv_chunks(path: Path, columns: dict[str, str] | None, finish: Callable[[pl.DataFrame], pl.DataFrame],
               skip_lines: int = 0, spans: Callable[[pl.DataFrame], pl.DataFrame] | None = None) -> Iterator[RawChunk]:
    """The rows of an RFC 4180 CSV file with a header, streamed in batches of text columns: those of `columns`
    renamed (None: every column under its header name), `source_row` (the header is row 1, or the row after the
    `skip_lines` lines before it, such as the `#TYPE` line of Windows PowerShell's Export-Csv) and, for a row that
    is not one record, its text as `audit_data` and why as `reader_problem`; `finish` makes each batch a chunk.

    Polars reads well-formed files. From the first row it cannot read, or that holds a line break (where an
    unterminated quote may have swallowed the rows after it), the rest of the file is read record by record
    by `_csv_records`, which costs an unterminated quote only its own row. `spans` (CsvRowSpans.add) gives the
    batches Polars reads their rows' byte spans.
    """
    scan = pl.scan_csv(path, glob=False, infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy",
                       skip_lines=skip_lines)
    header = scan.collect_schema().names()
    if columns is None:
        columns = {name.strip(): name.strip() for name in header}
    renames = {name: columns[name.strip()] for name in header if name.strip() in columns}
    scan = scan.with_row_index("source_row", offset=2 + skip_lines).select(
        pl.col("source_row").cast(pl.Int64), *[pl.col(k).alias(v) for k, v in renames.items()]
    )
    last_row = 1
    try:
        for batch in scan.collect_batches(chunk_size=min(CHUNK_ROWS, _rows_per_block(path))):
            broken = batch.select(pl.any_horizontal(pl.col(pl.String).str.contains("\n", literal=True))).to_series()
            if broken.any():
                first = broken.arg_true()[0]
                if first:
                    yield partial(finish, spans(batch.head(first)) if spans else batch.head(first))
                last_row = batch["source_row"][first] - 1
                break
            yield partial(finish, spans(batch) if spans else batch)
            last_row = batch["source_row"].max() or last_row
        else:
            return
    except pl.exceptions.PolarsError:
        pass
    yield from _read_csv_slowly(path, columns, max(last_row, 1 + skip_lines), finish, skip_lines)


def _csv_values(text: str) -> list[str] | None:
    """The fields of one CSV record's text, or None when it does not parse as one."""
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error:
        return None


UNTERMINATED = "unterminated quote: a quoted field of this row never closes"


def _csv_records(lines: Iterator[str], width: int) -> Iterator[tuple[str, list[str] | str]]:
    """The records of CSV lines, each as its text and its fields, or why it is not a record.

    A record whose quoted field is still open when a line comes that is a whole row of `width` fields on its
    own ends before that line, so an unterminated quote costs only its own row.
    """
    pending: list[str] = []
    for line in lines:
        if pending and line.count('"') % 2 == 0 and len(_csv_values(line) or ()) == width:
            yield "".join(pending), f"{UNTERMINATED} (the row ends where the next whole row starts)"
            pending = []
        pending.append(line)
        text = "".join(pending)
        if text.count('"') % 2 == 0:
            yield text, _csv_values(text) or "not a CSV record"
            pending = []
    if pending:
        yield "".join(pending), f"{UNTERMINATED}: it runs to the end of the file (cut off?)"


def _read_csv_slowly(path: Path, columns: dict[str, str], after_row: int,
                     finish: Callable[[pl.DataFrame], pl.DataFrame], skip_lines: int = 0) -> Iterator[RawChunk]:
    """The records after `after_row`, in chunks, each unreadable one with its reason."""
    schema = {"source_row": pl.Int64, **{column: pl.String for column in columns.values()}, "audit_data": pl.String,
              "reader_problem": pl.String}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        header = [name.strip() for name in _csv_values(handle.readline()) or []]
        rows: list[dict] = []
        for number, (text, values) in enumerate(_csv_records(handle, len(header)), start=2 + skip_lines):
            if number <= after_row:
                continue
            if isinstance(values, str):
                rows.append({"source_row": number, "audit_data": text.rstrip("\r\n"), "reader_problem": values})
            else:
                record = dict(zip(header, values))
                rows.append({"source_row": number, **{column: record.get(name) for name, column in columns.items()}})
            if len(rows) == CHUNK_ROWS:
                yield partial(finish, pl.DataFrame(rows, schema=schema))
                rows = []
    if rows:
        yield partial(finish, pl.DataFrame(rows, schema=schema))


def records_frame(records: list, first_row: int = 1, envelope: bool = False) -> pl.DataFrame:
    """A raw chunk of records already parsed from JSON (AuditData objects, or Graph records when `envelope`)."""
    if envelope:
        rows = {name: [] for name in ("audit_data", *GRAPH_ENVELOPE.values())}
        rows["reader_problem"] = []
        for number, record in enumerate(records, start=first_row):
            rows["reader_problem"].append(None if isinstance(record, dict) else
                                          f"Graph value entry {number} is a JSON {_json_kind(record)}, not a record")
            record = record if isinstance(record, dict) else {}
            audit = record.get("auditData")
            rows["audit_data"].append(json.dumps(audit) if isinstance(audit, dict) else None)
            for key, column in GRAPH_ENVELOPE.items():
                value = record.get(key)
                rows[column].append(None if value is None else str(value))
    else:
        rows = {"audit_data": [json.dumps(record) for record in records]}
    frame = pl.DataFrame(rows, schema={name: pl.String for name in rows})
    index = pl.int_range(first_row, first_row + len(records), eager=True, dtype=pl.Int64)
    return _with_envelope(frame.with_columns(index.alias("source_row")))


def _json_kind(value: object) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")


def read_json_document(path: Path, shape: Shape) -> Iterator[RawChunk]:
    """A whole JSON document: a Management API array, one AuditData object, or Graph `{"value": [...]}`.

    These documents are API pages (small by construction), so they are parsed with `json` and each
    record is written back as JSON text; large exports arrive as JSON Lines or CSV.
    """
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotAnAuditLog(path, f"broken JSON document at line {error.lineno} column {error.colno}: {error.msg}") from error
    except RecursionError:  # a record nested deeper than Python reads: split the document with DuckDB instead
        yield from _deep_document_chunks(text)
        return
    if isinstance(document, dict) and isinstance(document.get("value"), list):
        records, envelope = document["value"], True
    elif isinstance(document, list):
        records = document
        envelope = bool(records) and isinstance(records[0], dict) and "auditData" in records[0]
    else:
        records, envelope = [document], shape is Shape.GRAPH_JSON
    for start in range(0, len(records), CHUNK_ROWS):
        yield partial(records_frame, records[start:start + CHUNK_ROWS], start + 1, envelope)


def _deep_document_chunks(text: str) -> Iterator[RawChunk]:
    """The records of a JSON document as raw chunks of their texts, split by DuckDB, whose JSON reader has no
    depth limit; Graph entries keep their envelope, and `normalise` explains a record it cannot read."""
    with connect() as con:
        kind, graph = con.execute("SELECT json_type(?::JSON), json_type(?::JSON, '$.value') = 'ARRAY'", [text, text]).fetchone()
        where = "$.value[*]" if graph else "$[*]" if kind == "ARRAY" else None
        records = [text] if where is None else [row[0] for row in con.execute(
            "SELECT unnest(json_extract(?::JSON, ?))::VARCHAR", [text, where]).fetchall()]
    for start in range(0, len(records), CHUNK_ROWS):
        lines = _numbered(pl.Series("audit_data", records[start:start + CHUNK_ROWS], dtype=pl.String), start + 1)
        yield partial(_graph_lines_chunk, lines) if graph else partial(_with_envelope, lines)


def _graph_lines_chunk(chunk: pl.DataFrame) -> pl.DataFrame:
    lines = chunk["audit_data"]
    envelope = [lines.str.json_path_match(f"$.{key}").alias(column) for key, column in GRAPH_ENVELOPE.items()]
    audit = lines.str.json_path_match("$.auditData")
    # A line that is not JSON keeps its text so that the reject shows it.
    audit = pl.select(pl.when(audit.is_null()).then(lines).otherwise(audit)).to_series().alias("audit_data")
    return _with_envelope(chunk.select("source_row").with_columns(audit, *envelope))


def read_graph_lines(path: Path) -> Iterator[RawChunk]:
    """Graph audit records, one per line: the envelope beside the original record under `auditData`."""
    for lines in _line_chunks(path):
        yield partial(_graph_lines_chunk, lines)


def read_raw_chunks(path: Path, shape: Shape) -> Iterator[RawChunk]:
    """Makers of the raw chunks of the plain file at `path`, which has the given shape."""
    if shape in (Shape.PURVIEW_CSV, Shape.LEGACY_CSV):
        yield from read_csv_export(path, shape)
    elif shape is Shape.MGMT_JSONL:
        yield from read_json_lines(path)
    elif shape is Shape.GRAPH_JSONL:
        yield from read_graph_lines(path)
    elif shape in (Shape.MGMT_JSON, Shape.GRAPH_JSON):
        yield from read_json_document(path, shape)
