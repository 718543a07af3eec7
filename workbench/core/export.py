"""Provides the one writer of tables to CSV, JSON (array) and JSON Lines: atomic, formula-safe CSV; and the
export of a case's events, also to Excel (xlsx.py) and Timesketch (timesketch.py).

Log text is attacker-controlled: a CSV cell that starts with `= + - @`, a tab or a carriage return
is prefixed with `'` so that a spreadsheet shows it as text instead of evaluating it.
"""

import io
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

import polars as pl

from hunts import hit_pairs
from hunts.model import as_text
from workbench.core.case_set import CaseSet
from workbench.core.inert import inert_json, visible
from workbench.core.kept_records import fill_by_case, kept_by_case
from workbench.core.readable import readable_columns
from workbench.core.schema import RECORD_COLUMN
from workbench.core.timesketch import timesketch_rows
from workbench.core.xlsx import check_rows, write_workbook

if TYPE_CHECKING:
    from workbench.core.case import Case

FORMULA_START = r"^[=+\-@\t\r]"
FORMATS = ("csv", "json", "jsonl")
#: Rows of an events export made and written at a time.
EXPORT_BATCH = 200_000
#: Rows of a scan read at a time by `export_batches` (one window of time), sorted in memory then written in batches.
WINDOW_ROWS = 1_000_000
#: Formats of an events export by the file name's ending (longest first): the table formats, Excel, Timesketch.
EVENT_FORMATS = {".timesketch.csv": "timesketch-csv", ".timesketch.jsonl": "timesketch-jsonl", ".csv": "csv",
                 ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}


def format_for_path(path: Path) -> str:
    """The export format named by a file's suffix: .csv, .json, .jsonl/.ndjson."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "json"
    raise ValueError(f"{path}: export to .csv, .json or .jsonl")


def event_format_for_path(path: Path) -> str:
    """The events export format named by a file's ending: `.csv`, `.json`, `.jsonl`, `.xlsx`, `.timesketch.csv` or
    `.timesketch.jsonl`."""
    name = path.name.lower()
    for ending, fmt in EVENT_FORMATS.items():
        if name.endswith(ending):
            return fmt
    raise ValueError(f"{path}: export to .csv, .json, .jsonl, .xlsx, .timesketch.csv or .timesketch.jsonl")


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """Every text cell that a spreadsheet would evaluate, prefixed with `'`."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START)).then(pl.lit("'") + pl.col(name)).otherwise(pl.col(name)).alias(name)
        for name in text
    )


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Nested and temporal columns as text, for CSV; times in ISO 8601."""
    converted = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, (pl.List, pl.Struct, pl.Array)):
            converted.append(pl.col(name).map_batches(_json_texts, return_dtype=pl.String))  # per value: exports are small
        elif isinstance(dtype, pl.Datetime):
            converted.append(pl.col(name).dt.to_string("%Y-%m-%dT%H:%M:%S%.fZ"))
    return frame.with_columns(converted) if converted else frame


def _json_texts(series: pl.Series) -> pl.Series:
    return pl.Series([None if v is None else json.dumps(v, default=str) for v in series.to_list()], dtype=pl.String)


#: Every character `inert_json` writes as a `\\uXXXX` escape (below U+3000 and the BOM: a Polars string holds no lone
#: surrogates), with its escape.
_RAW_IN_JSON = [chr(code) for code in [*range(0x3000), 0xFEFF] if inert_json(chr(code)) != chr(code)]
_JSON_ESCAPES = [inert_json(ch) for ch in _RAW_IN_JSON]


def _json_lines(frame: pl.DataFrame) -> pl.Series:
    """One JSON object per row (as `write_ndjson` writes it), made inert as `inert_json` makes JSON text inert.

    Only lines with a character past ASCII or a DEL can hold one that needs escaping: the others are left as
    they are, which spares a search through the whole export.
    """
    lines = frame.select(pl.struct(pl.all()).struct.json_encode()).to_series()
    rows = ((lines.str.len_bytes() != lines.str.len_chars()) | lines.str.contains("\x7f", literal=True)).arg_true()
    return lines.scatter(rows, lines.gather(rows).str.replace_many(_RAW_IN_JSON, _JSON_ESCAPES)) if rows.len() else lines


def write_stream(frame: pl.DataFrame, handle: IO[bytes], fmt: str) -> None:
    """Write `frame` to an open binary stream in `fmt` (csv, json or jsonl), as UTF-8."""
    write_batches([frame], handle, fmt)


def write_batches(frames: Iterable[pl.DataFrame], handle: IO[bytes], fmt: str) -> None:
    """Write the rows of `frames` (of one shape, made one at a time: a big export is never in memory whole) to an
    open binary stream in `fmt` (csv, json or jsonl), as UTF-8, as one table; at least one frame (maybe empty)."""
    if fmt not in ("csv", "json", "jsonl"):
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    if fmt == "json":
        handle.write(b"[\n")  # objects separated by `,` and a newline
    written = 0
    for frame in frames:
        if fmt == "csv":
            neutralise_formulas(_plain(frame)).write_csv(handle, include_header=written == 0)
            written += max(frame.height, 1)  # the header, once
            continue
        lines = _json_lines(frame).to_frame()
        if fmt == "jsonl":
            lines.write_csv(handle, include_header=False, quote_style="never")
        elif lines.height:
            if written:
                handle.write(b",\n")
            lines.head(-1).write_csv(handle, include_header=False, quote_style="never", line_terminator=",\n")
            handle.write(lines.item(-1, 0).encode())
        written += lines.height
    if fmt == "json":
        handle.write(b"\n]\n" if written else b"]\n")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: os.umask is process-wide and exports run in worker threads


def write_frame(frame: pl.DataFrame, path: Path, fmt: str | None = None) -> Path:
    """Write `frame` to `path` atomically (temp file in the same folder, then rename)."""
    fmt = fmt or format_for_path(path)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            write_stream(frame, handle, fmt)

    return write_atomic_file(path, write)


def write_atomic(path: Path, write: Callable[[IO[str]], None]) -> Path:
    """Write the UTF-8 text file `path` atomically: `write` fills a temp file beside it, which is then renamed."""

    def write_text(temporary: Path) -> None:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            write(handle)

    return write_atomic_file(path, write_text)


def write_atomic_file(path: Path, write: Callable[[Path], None]) -> Path:
    """Write the file `path` atomically: `write` fills the temp file beside it whose path it is given, which is then
    renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)
    try:
        write(Path(temporary))
        os.chmod(temporary, 0o666 & ~_UMASK)  # mkstemp's 0600 would surprise whoever reads the export
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def to_text(frame: pl.DataFrame, fmt: str, terminal: bool = False) -> str:
    """`frame` rendered in `fmt` as one string (for stdout); for a terminal, CSV cells are made `visible`
    (a file or pipe gets the exact text: CSV has no escapes of its own)."""
    buffer = io.BytesIO()
    write_stream(inert_text(frame, keep=()) if terminal and fmt == "csv" else frame, buffer, fmt)
    return buffer.getvalue().decode("utf-8")


#: The leading columns of an events export, in order.
EXPORT_KEY_COLUMNS = (
    "record_id", "creation_time", "user_id", "operation", "client_ip", "workload", "record_type_name",
    "result_status", "object_id", "session_id", "user_agent",
)


def annotated_events(
    events: pl.DataFrame,
    marks: set[str],
    notes: dict[str, str],
    tags: dict[str, list[str]],
    records: pl.DataFrame,
    by_record: pl.DataFrame | None = None,
    by_ip: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The export table of `events` (or of the activity of every source): key columns, readable text, mark, note,
    tags, extra columns, the log (`source`) and the raw record (`records`: `record_id`, `audit_data`).

    `by_record` (keyed by `record_id`, e.g. hunt hits) and `by_ip` (keyed by `client_ip`, e.g.
    enrichment) add their columns when given.
    """
    ids = pl.col("record_id")
    audit_data = events.select("record_id").join(records, on="record_id", how="left", maintain_order="left")["audit_data"]
    readable = readable_columns(events, audit_data)
    table = pl.concat([events.select(EXPORT_KEY_COLUMNS), readable], how="horizontal").with_columns(
        ids.is_in(list(marks)).alias("marked"),
        ids.replace_strict(notes, default=None, return_dtype=pl.String).alias("note"),
        ids.replace_strict({k: ", ".join(v) for k, v in tags.items()}, default=None, return_dtype=pl.String).alias("tags"),
    )
    if by_record is not None:
        table = table.join(by_record, on="record_id", how="left", maintain_order="left")
    if by_ip is not None:
        table = table.join(by_ip, on="client_ip", how="left", maintain_order="left")
    source = [events["source"]] if "source" in events.columns else []  # which log: ual, signin, audit
    return table.with_columns(
        *source, events["case"], events["source_file"], events["source_row"], audit_data,
    )


#: Every character `visible` escapes (below U+3000 and the BOM), with its escape.
_INVISIBLE = [chr(code) for code in [*range(0x3000), 0xFEFF] if visible(chr(code)) != chr(code)]
_ESCAPES = [visible(ch) for ch in _INVISIBLE]
#: Columns exported exactly as stored: ids and the original record (JSON escapes its control characters).
VERBATIM_COLUMNS = ("record_id", "audit_data")


def inert_text(frame: pl.DataFrame, keep: tuple[str, ...] = VERBATIM_COLUMNS) -> pl.DataFrame:
    """Every text column except `keep` (ids and the raw record) with control and zero-width characters escaped
    visibly."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String and name not in keep]
    return frame.with_columns(pl.col(name).str.replace_many(_INVISIBLE, _ESCAPES) for name in text)


def _joined(column: str) -> pl.Expr:
    return pl.col(column).unique(maintain_order=True).str.join("; ")


def hits_by_record(hits: pl.DataFrame) -> pl.DataFrame:
    """Hunt hits (DESIGN §4 `hunt` rows) as one row per record: hunt ids, techniques and severities, `; `-joined."""
    return hit_pairs(hits).group_by("record_id", maintain_order=True).agg(
        _joined("hunt_id").alias("hunt_ids"), _joined("technique_id").alias("techniques"),
        _joined("severity").alias("severities"),
    )


def enrichment_by_ip(enrichment: pl.DataFrame) -> pl.DataFrame:
    """Enrichment (DESIGN §4 `enrich` rows) as export columns keyed by `client_ip`: asn, org, hosting, reasons."""
    return enrichment.select(
        pl.col("ip").alias("client_ip"), "asn", "org", "hosting", pl.col("reasons").list.join("; "),
    ).unique("client_ip", keep="first", maintain_order=True)


def stored_records(case: "Case | CaseSet", events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """`record_id` and `audit_data` of the rows of `events` whose original record the case's Parquet holds (a sign-in's
    or directory audit's, an audit record not kept by span such as a CSV export's), read in one scan of every frame of
    the case (or of each case of a set); one row per record id."""
    wanted = events.select("record_id").lazy()
    scans = [
        one.scan(with_audit_data=True, frame=frame, from_kept_inputs=False)
        .select("record_id", pl.col(column).alias("audit_data")).filter(pl.col("audit_data").is_not_null())
        .join(wanted, on="record_id", how="semi")
        for one in (case.cases if isinstance(case, CaseSet) else [case]) for frame, column in RECORD_COLUMN.items()
    ]
    return pl.concat(scans).unique("record_id", keep="first", maintain_order=True).collect()


def original_records(case: "Case | CaseSet", events: pl.DataFrame, stored: pl.DataFrame | None = None) -> pl.DataFrame:
    """`record_id` and `audit_data` (the original record) of the rows of `events`, one row per record id: those the
    case's Parquet holds (`stored`, default `stored_records` of `events`), the others read from the case's copy of
    their input by span (by their `case`, `source_file` and `source_row`)."""
    stored = stored_records(case, events) if stored is None else stored.join(events.select("record_id"), on="record_id",
                                                                             how="semi")
    kept = kept_by_case(case.cases if isinstance(case, CaseSet) else [case])
    if not kept or not {"case", "source_file", "source_row"} <= set(events.columns):
        return stored
    rows = events.join(stored, on="record_id", how="anti").select(
        "record_id", "case", "source_file", "source_row", pl.lit(None, pl.String).alias("audit_data"))
    spanned = rows.select("record_id", fill_by_case(kept, rows)).drop_nulls("audit_data")
    return pl.concat([stored, spanned]).unique("record_id", keep="first", maintain_order=True)


def annotations(table: pl.DataFrame) -> pl.DataFrame:
    """The events of an export that are marked or carry a note or tags: record id, time, user, operation, mark,
    tags, note (the `notes` sheet of a workbook)."""
    annotated = pl.col("marked") | pl.col("note").is_not_null() | pl.col("tags").is_not_null()
    return table.filter(annotated).select("record_id", "creation_time", "user_id", "operation", "marked", "tags", "note")


def export_batches(rows: pl.DataFrame | pl.LazyFrame) -> Iterator[pl.DataFrame]:
    """`rows` `EXPORT_BATCH` at a time (at least one batch, maybe empty): a frame in its own order (the events view's),
    a scan in time order (ties as the case holds them), read one window of time at a time (`WINDOW_ROWS` rows, the
    bounds found from the times alone) so that only that window is in memory: the same rows, in the same order, as
    the whole scan sorted at once."""
    if isinstance(rows, pl.DataFrame):
        windows = [rows]
    else:
        times = rows.select("creation_time").collect().to_series().sort()
        bounds = [None, *times.gather_every(WINDOW_ROWS)[1:].unique().sort(), None]
        windows = (rows.filter(_between(low, high)).collect().sort("creation_time", maintain_order=True)
                   for low, high in zip(bounds, bounds[1:]))
    empty = True
    for window in windows:
        for start in range(0, window.height, EXPORT_BATCH):
            empty = False
            yield as_text(window.slice(start, EXPORT_BATCH))  # the events view holds texts that repeat as categoricals
    if empty:
        yield as_text(rows.clear() if isinstance(rows, pl.DataFrame) else rows.clear().collect())


def _between(low, high) -> pl.Expr:
    """Rows at or after `low` and before `high` (either None: unbounded)."""
    keep = pl.lit(True)
    if low is not None:
        keep &= pl.col("creation_time") >= low
    if high is not None:
        keep &= pl.col("creation_time") < high
    return keep


def export_case_events(case: "Case | CaseSet", path: Path, events: pl.DataFrame | pl.LazyFrame, marked_only: bool = False,
                       **extra) -> int:
    """Write `events` of `case` (or only its marked ones; in memory, or a scan of the case read a window of time at a
    time, `export_batches`) with the case's annotations to `path`, in the format its name ends with
    (`event_format_for_path`); returns the row count. Made and written `EXPORT_BATCH` rows at a time (the original
    records are bulky), but for a workbook (at most `check_rows` rows)."""
    fmt = event_format_for_path(path)
    store = case.store
    marks, notes, tags = store.marks(), store.notes(), store.tags()
    if marked_only:
        events = events.filter(pl.col("record_id").is_in(list(marks)))
    count = events.lazy().select(pl.len()).collect().item()
    if fmt == "xlsx":
        check_rows(count)  # before any record is read
    stored = stored_records(case, events)  # one scan for every batch (records kept by span are read per batch)

    def table(rows: pl.DataFrame) -> pl.DataFrame:
        return inert_text(annotated_events(rows, marks, notes, tags, original_records(case, rows, stored), **extra))

    if fmt == "xlsx":
        cells = neutralise_formulas(table(pl.concat(export_batches(events))).drop("audit_data"))
        write_atomic_file(path, lambda temporary: write_workbook(temporary, cells, annotations(cells)))
        return count
    batches = (table(batch) for batch in export_batches(events))
    if fmt.startswith("timesketch-"):
        batches = (timesketch_rows(batch) for batch in batches)

    def write(temporary: Path) -> None:
        with open(temporary, "wb") as handle:
            write_batches(batches, handle, fmt.removeprefix("timesketch-"))

    write_atomic_file(path, write)
    return count
