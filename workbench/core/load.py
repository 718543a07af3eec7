"""Provides loading of audit exports into Parquet parts of the events frame, accounting for every row.

Every input row ends as exactly one of: loaded, duplicate (a record `Id` seen before, in this file
or an earlier one) or rejected (written to the rejects file with file, row and reason).
"""

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import polars as pl

from workbench.core.formats import NotAnAuditLog, Shape, detect_shape, expand_paths, plain_file
from workbench.core.load_report import FileReport, LoadReport, Progress
from workbench.core.normalise import REJECT_SCHEMA, REJECT_TEXT_CHARS, Normalised, normalise
from workbench.core.readers import RawChunk, read_raw_chunks, records_frame
from workbench.core.schema import empty_events

MAX_LISTED_WARNINGS = 200
PARQUET_COMPRESSION = {"compression": "zstd", "compression_level": 1}  # measured: lz4's CPU, half its size
WORKERS = 2  # chunks normalised at once (measured with 48 MB blocks: as fast as 3 or faster, with less memory)


class EventSink:
    """Writes loaded rows of a state folder as numbered Parquet parts and rejects as JSON Lines.

    The first row of each record id is loaded; later ones are set aside in `duplicates/` for
    `conflicts.resolve` to tell exact duplicates from conflicting ones once every file is read.
    """

    def __init__(self, state: Path):
        self.events_dir = state / "events"
        self.duplicates_dir = state / "duplicates"
        self.rejects_path = state / "rejects.jsonl"
        self.seen_ids = pl.Series("record_id", [], dtype=pl.String)
        self.seen_hashes = pl.Series("hash", [], dtype=pl.UInt64)
        self.parts = 0
        self.duplicate_parts = 0
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self._pending: Future | None = None
        self.events_dir.mkdir(parents=True, exist_ok=True)
        self.rejects_path.write_bytes(b"")

    def add(self, events: pl.DataFrame, rejects: pl.DataFrame, source_file: str) -> tuple[int, int]:
        """Store one chunk; returns (loaded, duplicates), the duplicates not yet told exact from conflicting."""
        ids = events["record_id"]
        hashes = ids.hash()
        # Hashing the chunk's ids (not the ones seen) keeps this linear; a hash match is confirmed on the text.
        seen = hashes.is_in(self.seen_hashes.filter(self.seen_hashes.is_in(hashes.implode())).implode())
        if seen.any():
            same_hash = self.seen_ids.filter(self.seen_hashes.is_in(hashes.filter(seen).implode()))
            seen = ids.is_in(same_hash.implode())
        duplicate = seen | ~ids.is_first_distinct()
        fresh = events.filter(~duplicate) if duplicate.any() else events
        if fresh.height:
            self._write(fresh, self.events_dir / f"part-{self.parts:05d}.parquet")
            self.parts += 1
            self.seen_ids.append(fresh["record_id"])
            self.seen_hashes.append(hashes.filter(~duplicate))
        if fresh.height < events.height:
            self.duplicates_dir.mkdir(exist_ok=True)
            self._write(events.filter(duplicate), self.duplicates_dir / f"part-{self.duplicate_parts:05d}.parquet")
            self.duplicate_parts += 1
        if rejects.height:
            with open(self.rejects_path, "ab") as handle:
                rejects.select(pl.lit(source_file).alias("file"), pl.col("source_row").alias("row"), "reason", "text").write_ndjson(handle)
        return fresh.height, events.height - fresh.height

    def _write(self, frame: pl.DataFrame, path: Path) -> None:
        """Write a part in the background while the next chunk is parsed (Polars releases the GIL)."""
        self.flush()
        self._pending = self._writer.submit(_write_part, frame, path)

    def flush(self) -> None:
        """Wait for the part being written; raises what the write raised."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None

    def close(self) -> None:
        """Finish writing and stop the writer thread."""
        try:
            self.flush()
        finally:
            self._writer.shutdown()


def _write_part(frame: pl.DataFrame, path: Path) -> None:
    """Write a Parquet part and flush it to disk (here, beside the parsing, rather than all at the swap)."""
    frame.write_parquet(path, **PARQUET_COMPRESSION)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


#: The format shown for a file that is not an audit log among others that are (its note says why).
UNREADABLE = "unreadable"


def _shape_or_reason(path: Path) -> Shape | NotAnAuditLog:
    try:
        return detect_shape(path)
    except NotAnAuditLog as error:
        return error


def load_paths(paths: list[Path], case: str, sink: EventSink, scratch: Path, progress: Progress | None = None) -> LoadReport:
    """Load every file under `paths` into `sink`.

    A file that is not an audit log is reported (format `unreadable`, the reason in its note) and the others
    load; when none of the files holds records, raises NotAnAuditLog for the first one.
    """
    files = expand_paths(paths)
    missing = [path for path in paths if not path.exists()]
    if missing:
        raise NotAnAuditLog(missing[0], "no such file or folder")
    if not files:
        raise NotAnAuditLog(paths[0] if paths else Path("."), "no files found")
    shapes = [_shape_or_reason(path) for path in files]
    problems = [shape for shape in shapes if isinstance(shape, NotAnAuditLog)]
    if problems and all(shape is Shape.EMPTY or isinstance(shape, NotAnAuditLog) for shape in shapes):
        raise problems[0]
    report = LoadReport()
    rows_read = 0
    for done, (path, shape) in enumerate(zip(files, shapes)):
        if progress:
            progress(done, len(files), rows_read, str(path))
        if isinstance(shape, NotAnAuditLog):
            report.files.append(FileReport(str(path), UNREADABLE, note=str(shape)))
            continue
        file_report = FileReport(str(path), shape.value)
        report.files.append(file_report)
        if shape is Shape.EMPTY:
            file_report.note = "empty file: no records"
            continue
        with plain_file(path, scratch) as plain, ThreadPoolExecutor(WORKERS, thread_name_prefix="normalise") as pool:
            pending: deque[Future] = deque()
            try:
                for make_raw in read_raw_chunks(plain.path, shape):
                    pending.append(pool.submit(_normalised_chunk, make_raw, case, str(path)))
                    if len(pending) > WORKERS:
                        rows_read += _account(pending.popleft().result(), sink, file_report, report)
            except NotAnAuditLog as error:  # a whole JSON document that does not parse: nothing of it was read
                file_report.format, file_report.note = UNREADABLE, "; ".join(filter(None, (str(error), plain.damage)))
                continue
            while pending:
                rows_read += _account(pending.popleft().result(), sink, file_report, report)
            if plain.damage:
                file_report.note = plain.damage
                rows_read += _account_cut_record(plain.tail, shape, sink, file_report, report)
    if progress:
        progress(len(files), len(files), rows_read, "")
    return report


def _account_cut_record(tail: bytes, shape: Shape, sink: EventSink, file_report: FileReport, report: LoadReport) -> int:
    """Reject the incomplete record a damaged file ends with (if any), numbered after the rows read."""
    if not tail.strip():
        return 0
    header_rows = 1 if shape in (Shape.PURVIEW_CSV, Shape.LEGACY_CSV) else 0
    reject = pl.DataFrame({"source_row": [file_report.rows + header_rows + 1],
                           "reason": [f"incomplete record: {file_report.note}"],
                           "text": [tail[:REJECT_TEXT_CHARS].decode("utf-8", errors="replace")]}, schema=REJECT_SCHEMA)
    empty = Normalised(empty_events(), reject, pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String}))
    return _account((1, empty), sink, file_report, report)


def _normalised_chunk(make_raw: RawChunk, case: str, source_file: str) -> tuple[int, Normalised]:
    raw = make_raw()
    return raw.height, normalise(raw, case, source_file)


def _account(chunk: tuple[int, Normalised], sink: EventSink, file_report: FileReport, report: LoadReport) -> int:
    """Store one normalised chunk and count its rows; returns the rows read."""
    rows, result = chunk
    loaded, duplicates = sink.add(result.events, result.rejects, file_report.path)
    file_report.rows += rows
    file_report.loaded += loaded
    file_report.duplicates += duplicates
    file_report.rejected += result.rejects.height
    file_report.warnings += result.warnings.height
    room = MAX_LISTED_WARNINGS - len(report.warnings)
    if room > 0:
        report.warnings += [
            {"file": file_report.path, "row": row["source_row"], "reason": row["reason"]}
            for row in result.warnings.head(room).to_dicts()
        ]
    return rows


def events_from_records(records: list[dict], case: str = "inline", source_file: str = "<inline>") -> pl.DataFrame:
    """The events frame (with `audit_data`) of raw AuditData records given as dicts, e.g. a hunt's test events."""
    result = normalise(records_frame(records), case, source_file)
    if result.rejects.height:
        first = result.rejects.row(0, named=True)
        raise ValueError(f"record {first['source_row']}: {first['reason']}")
    return result.events
