"""Provides loading of exports into Parquet parts of the case's frames, accounting for every row.

Every input row ends as exactly one of: loaded (into one frame), duplicate (a record id seen before in
that frame, in this file or an earlier one) or rejected (written to the rejects file with file, row and
reason). Which shapes exist and how each is read is the sources registry's business (sources/).
"""

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable

import polars as pl

from workbench.core.evidence import file_facts, sha256_of
from workbench.core.formats import NotAnAuditLog, PlainFilesAhead, expand_paths
from workbench.core.kept_records import keep_input, write_kept
from workbench.core.load_report import FileReport, LoadReport, Progress
from workbench.core.truncation import cut_off_note
from workbench.core.normalise import REJECT_SCHEMA, REJECT_TEXT_CHARS, Sorted, normalise
from workbench.core.readers import RawChunk, records_frame
from workbench.core.schema import RECORD_COLUMN
from workbench.core.seen_hashes import SeenHashes
from workbench.core.sources import FRAMES, FileShape, detect

MAX_LISTED_WARNINGS = 200
PARQUET_COMPRESSION = {"compression": "zstd", "compression_level": 1}  # measured: lz4's CPU, half its size
WORKERS = 2  # chunks normalised at once (measured with 48 MB blocks: as fast as 3 or faster, with less memory)


class FrameSink:
    """Writes the loaded rows of one frame of a state folder as numbered Parquet parts in `<state>/<frame>/`.

    The first row of each record id is loaded; later ones are set aside in `duplicates/<frame>/` to be told apart
    once every file is read (conflicts.py for events, folds.py for sign-ins and directory audits).
    """

    def __init__(self, state: Path, frame: str, writer: ThreadPoolExecutor):
        self.frame, self.dir = frame, state / frame
        self.duplicates_dir = state / "duplicates" / frame
        self.seen_ids = pl.Series("record_id", [], dtype=pl.String)
        self.seen_hashes = SeenHashes()
        self.parts = 0
        self.duplicate_parts = 0
        self._writer = writer
        self._pending: Future | None = None
        self.dir.mkdir(parents=True, exist_ok=True)

    def add(self, rows: pl.DataFrame, spanned: pl.Series | None = None) -> pl.DataFrame:
        """Store one chunk's rows; returns those loaded (the others are duplicates, not yet told apart).

        The original records of the rows at `spanned` (source rows whose record the case's copy of the input
        holds: kept_records.py) are not stored again; duplicates keep theirs, to be compared.
        """
        ids = rows["record_id"]
        hashes = ids.hash()
        seen = self.seen_hashes.among(hashes)  # a hash seen before is confirmed on the text
        if seen.any():
            same_hash = ids.filter(seen)
            seen = ids.is_in(self.seen_ids.filter(self.seen_ids.is_in(same_hash.implode())).implode())
        duplicate = seen | ~ids.is_first_distinct()
        fresh = rows.filter(~duplicate) if duplicate.any() else rows
        if fresh.height:
            stored = fresh if spanned is None else fresh.with_columns(
                pl.when(~pl.col("source_row").is_in(spanned.implode())).then(pl.col(RECORD_COLUMN[self.frame]))
                .alias(RECORD_COLUMN[self.frame]))
            self._write(stored, self.dir / f"part-{self.parts:05d}.parquet")
            self.parts += 1
            self.seen_ids.append(fresh["record_id"])
            self.seen_hashes.add(hashes.filter(~duplicate))
        if fresh.height < rows.height:
            self.duplicates_dir.mkdir(parents=True, exist_ok=True)
            self._write(rows.filter(duplicate), self.duplicates_dir / f"part-{self.duplicate_parts:05d}.parquet")
            self.duplicate_parts += 1
        return fresh

    def add_derived(self, rows: pl.DataFrame) -> str:
        """Store rows derived from loaded ones (several may share a record id: no duplicates are looked for); returns
        the part's file name."""
        name = f"part-{self.parts:05d}.parquet"
        self._write(rows, self.dir / name)
        self.parts += 1
        return name

    def _write(self, frame: pl.DataFrame, path: Path) -> None:
        """Write a part in the background while the next chunk is parsed (Polars releases the GIL)."""
        self.flush()
        self._pending = self._writer.submit(write_part, frame, path)

    def flush(self) -> None:
        """Wait for the part being written; raises what the write raised."""
        if self._pending is not None:
            self._pending.result()
            self._pending = None


class StateSink:
    """Writes a load into a state folder: each frame's rows (`FrameSink`), the rejects as JSON Lines, and the inputs
    whose records it reads back by byte span (kept_records.py: the files in `inputs/`, the spans in `spans/`)."""

    def __init__(self, state: Path):
        self.state = state
        self.rejects_path = state / "rejects.jsonl"
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet-writer")
        self.frames = {frame: FrameSink(state, frame, self._writer) for frame in FRAMES}
        self.spans = FrameSink(state, "spans", self._writer)
        self.kept: dict[str, dict] = {}
        #: Per input whose records are kept by span: its span parts as [file name, first row, last row].
        self._span_parts: dict[str, list[list]] = {}
        self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keep-input")
        self.rejects_path.write_bytes(b"")

    def add(self, chunk: Sorted, source_file: str, spans: pl.DataFrame | None = None) -> tuple[dict[str, int], int]:
        """Store one chunk and the byte spans of its records in the input (`source_row`, `offset`, `length`); returns
        (loaded per frame, duplicates)."""
        spanned = None
        if spans is not None and spans.height:
            part = self.spans.add_derived(spans.select(pl.lit(source_file).alias("source_file"), "source_row",
                                                       "offset", "length"))
            spanned = spans["source_row"]
            self._span_parts.setdefault(source_file, []).append([part, spanned.min(), spanned.max()])
        loaded, duplicates = {}, 0
        for frame, rows in chunk.rows.items():
            if rows.height:
                fresh = self.frames[frame].add(rows, spanned)
                loaded[frame], duplicates = fresh.height, duplicates + rows.height - fresh.height
        if chunk.rejects.height:
            with open(self.rejects_path, "ab") as handle:
                chunk.rejects.select(pl.lit(source_file).alias("file"), pl.col("source_row").alias("row"), "reason",
                                     "text").write_ndjson(handle)
        return loaded, duplicates

    def keep(self, source_file: str, plain: Path, allow_link: bool, case: str,
             record_cell: str | None = None, skip_lines: int = 0) -> Callable[[], None]:
        """Start keeping the input of `source_file` in the state, for its records to be read back by span; `plain`
        is its content as read (the file itself, copied on a thread of its own while the file loads, or a
        decompressed or transcoded copy in scratch, moved in once read); `case` is the name its events carry;
        `record_cell`, the CSV column that holds the record in each span's row (None: the span is the record;
        WHOLE_ROW: the row is), `skip_lines` the lines before a CSV's header.
        Returns what to call once the file is read: it finishes the keeping, or undoes it when no record is read by
        span."""
        (self.state / "inputs").mkdir(exist_ok=True)
        name = Path(source_file).name if plain == Path(source_file) else Path(source_file).name.removesuffix(".gz")
        target = self.state / "inputs" / f"{len(self.kept):05d}-{name}"
        self.kept[source_file] = {"file": str(target.relative_to(self.state)), "case": case}
        if record_cell:
            self.kept[source_file] |= {"cell": record_cell, "skip_lines": skip_lines}
        copying = self._copier.submit(keep_input, plain, target, allow_link) if plain == Path(source_file) else None

        def finish() -> None:
            how = copying.result() if copying else "plain copy"
            if source_file not in self._span_parts:
                del self.kept[source_file]
                target.unlink(missing_ok=True)
                return
            if not copying:
                plain.rename(target)
            stat = target.stat()
            self.kept[source_file] |= {"how": how, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
                                       "spans": self._span_parts[source_file]}
        return finish

    def close(self) -> None:
        """Finish writing and stop the writer thread."""
        try:
            for sink in (*self.frames.values(), self.spans):
                sink.flush()
            write_kept(self.state, self.kept)
        finally:
            self._writer.shutdown()
            self._copier.shutdown()


def write_part(frame: pl.DataFrame, path: Path) -> None:
    """Write a Parquet part of a state (the loader's compression) and flush it to disk as it is written, rather than
    all at the state's swap; also used for the parts derived from a load (folds, the mail item index)."""
    frame.write_parquet(path, **PARQUET_COMPRESSION)
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


#: The format shown for a file that is not an audit log among others that are (its note says why).
UNREADABLE = "unreadable"


def _shape_or_reason(path: Path) -> FileShape | NotAnAuditLog:
    try:
        return detect(path)
    except NotAnAuditLog as error:
        return error


def load_paths(paths: list[Path], case: str, sink: StateSink, scratch: Path, progress: Progress | None = None,
               allow_link: bool = True) -> LoadReport:
    """Load every file under `paths` into `sink`; an input the case keeps (kept_records.py) may be hard-linked
    when `allow_link`, else it is copied (unless the file system can share its blocks copy-on-write).

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
    if problems and all(isinstance(shape, NotAnAuditLog) or shape.empty for shape in shapes):
        raise problems[0]
    report = LoadReport()
    facts = [file_facts(path) for path in files]  # as the files are when the load starts
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as hashing:
        digests = [hashing.submit(sha256_of, path) for path in files]  # beside the loading, file after file
        rows_read = _load_files(files, shapes, case, sink, scratch, report, progress, allow_link)
        for file_report, fact, digest in zip(report.files, facts, digests):
            file_report.size, file_report.modified, file_report.sha256 = fact["size"], fact["modified"], digest.result()
            file_report.kept = sink.kept.get(file_report.path, {}).get("how")
    if progress:
        progress(len(files), len(files), rows_read, "")
    return report


def _load_files(files: list[Path], shapes: list, case: str, sink: "StateSink", scratch: Path, report: LoadReport,
                progress: Progress | None, allow_link: bool) -> int:
    """Load each file into `sink`, one FileReport each in `report` (in the files' order); returns the rows read."""
    loading = [path for path, shape in zip(files, shapes) if isinstance(shape, FileShape) and not shape.empty]
    next_loading = dict(zip(loading, loading[1:]))
    rows_read = 0
    with PlainFilesAhead(scratch) as plain_files:
        for done, (path, shape) in enumerate(zip(files, shapes)):
            if progress:
                progress(done, len(files), rows_read, str(path))
            if isinstance(shape, NotAnAuditLog):
                report.files.append(FileReport(str(path), UNREADABLE, note=str(shape)))
                continue
            file_report = FileReport(str(path), shape.format)
            report.files.append(file_report)
            if shape.empty:
                file_report.note = "empty file: no records"
                continue
            with plain_files.plain(path) as plain, ThreadPoolExecutor(WORKERS, thread_name_prefix="normalise") as pool:
                if path in next_loading:  # made beside this one
                    plain_files.start(next_loading[path])
                kept = (sink.keep(str(path), plain.path, allow_link, case, shape.record_cell, shape.header_rows - 1)
                        if shape.spans else None)
                pending: deque[Future] = deque()
                try:
                    for make_raw in shape.read(plain.path):
                        pending.append(pool.submit(_sorted_chunk, make_raw, shape, case, str(path)))
                        if len(pending) > WORKERS:
                            rows_read += _account(pending.popleft().result(), sink, file_report, report)
                except NotAnAuditLog as error:  # a whole JSON document that does not parse: nothing of it was read
                    file_report.format = UNREADABLE
                    file_report.note = "; ".join(filter(None, (str(error), plain.damage)))
                    if kept:
                        kept()
                    continue
                while pending:
                    rows_read += _account(pending.popleft().result(), sink, file_report, report)
                if kept:  # once its spans are all stored, before `plain` is gone
                    kept()
                if plain.damage:
                    file_report.note = plain.damage
                    rows_read += _account_cut_record(plain.tail, shape, sink, file_report, report)
                file_report.note = file_report.note or cut_off_note(file_report.rows)
    return rows_read


def _account_cut_record(tail: bytes, shape: FileShape, sink: StateSink, file_report: FileReport, report: LoadReport) -> int:
    """Reject the incomplete record a damaged file ends with (if any), numbered after the rows read."""
    if not tail.strip():
        return 0
    reject = pl.DataFrame({"source_row": [file_report.rows + shape.header_rows + 1],
                           "reason": [f"incomplete record: {file_report.note}"],
                           "text": [tail[:REJECT_TEXT_CHARS].decode("utf-8", errors="replace")]}, schema=REJECT_SCHEMA)
    empty = Sorted({}, reject, pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String}))
    return _account((1, empty, None), sink, file_report, report)


def _sorted_chunk(make_raw: RawChunk, shape: FileShape, case: str, source_file: str) -> tuple:
    """(rows read, the sorted chunk, the byte spans of its records or None)."""
    raw = make_raw().rechunk()  # else each of the steps' eager calls joins the reader's pieces again
    result = shape.sort(raw, case, source_file)
    spans = None
    if "record_offset" in raw.columns:
        spans = (raw.select("source_row", pl.col("record_offset").alias("offset"),
                            pl.col("record_length").alias("length"))
                 .filter(pl.col("offset").is_not_null())
                 .unique("source_row", keep="first", maintain_order=True))  # a report's row is read once per recipient
    return raw.height, result, spans


def _account(chunk: tuple, sink: StateSink, file_report: FileReport, report: LoadReport) -> int:
    """Store one sorted chunk (`_sorted_chunk`) and count its rows; returns the rows read."""
    rows, result, spans = chunk
    loaded, duplicates = sink.add(result, file_report.path, spans)
    file_report.rows += rows
    for frame, count in loaded.items():
        file_report.loaded += count
        file_report.frames[frame] = file_report.frames.get(frame, 0) + count
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
