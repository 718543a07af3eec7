"""Provides the original records of a case read back from its own copy of each input, by byte span.

A JSON Lines input's records are not re-encoded into the case's Parquet (that cost a fifth of a cold load's CPU
and most of the case's disk): the case keeps the file itself (`<state>/inputs/`, a reflink, hard link or copy:
`keep_input`) and the byte span of each line (`<state>/spans/`: `source_file`, `source_row`, `offset`, `length`),
and the events' `audit_data` is null where a span holds the record. `KeptRecords.fill` reads those records back,
byte for byte as in the input, for any rows at once (one gather per file, no loop over rows).

A CSV export whose rows are single lines is kept the same way, a span per row (`CsvRowSpans`); its record is the row's
`AuditData` cell (the audit log's exports), or the whole row as a JSON object of its cells (`WHOLE_ROW`: the Log
Analytics and Entra exports), which the reader makes of the lines read (with the file's header) as the loader did.
"""

import csv
import ctypes
import errno
import fcntl
import json
import mmap
import os
import shutil
import threading
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

SPAN_COLUMNS = {"record_offset": pl.Int64, "record_length": pl.Int64}
#: The `cell` of a CSV export whose record is its whole row (`row_records`).
WHOLE_ROW = "*"
#: Columns of a CSV batch that are not the file's cells.
NOT_CELLS = ("source_row", "audit_data", "reader_problem", *SPAN_COLUMNS)
KEPT_FILE = "kept.json"
FEW_ROWS = 1_000  # rows whose spans are read from their own parts rather than the whole file's
FICLONE = 0x40049409  # Linux ioctl: share the source's blocks copy-on-write (btrfs, XFS)


def keep_input(source: Path, target: Path, allow_link: bool = False) -> str:
    """Put the bytes of `source` at `target` as cheaply as the file system allows; returns how: `reflink` (copy on
    write, independent of the source), `link` (a hard link, when allowed: the same file, which survives moving or
    deleting the source but not editing it in place) or `copy`."""
    source = source.resolve()  # a hard link to a symbolic link would keep only the link
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            fcntl.ioctl(dst.fileno(), FICLONE, src.fileno())
            return "reflink"
        except OSError:
            pass
    if allow_link:
        target.unlink()
        try:
            os.link(source, target)
            return "link"
        except OSError as error:
            if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
                raise
    shutil.copyfile(source, target)
    return "copy"


def write_kept(state: Path, kept: dict[str, dict]) -> None:
    """Record which inputs the state keeps: {source_file: {"file": relative path, "case": the name in its events'
    `case` column, "how", "size", "mtime_ns", "spans": [[part file name, first row, last row], ...], and for a CSV
    export "cell": the header of the column holding the record, "skip_lines": lines before the header}}."""
    (state / KEPT_FILE).write_text(json.dumps(kept, indent=1), encoding="utf-8")


class KeptRecords:
    """The records a state reads from its kept inputs."""

    def __init__(self, state: Path):
        path = state / KEPT_FILE
        self.state = state
        self.files: dict[str, dict] = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        self._spans: dict[str, pl.DataFrame] = {}
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self.files)

    @property
    def cases(self) -> set[str]:
        """The case names the events read from these inputs carry (the case's folder name when it was loaded)."""
        return {kept.get("case") for kept in self.files.values()}

    def changed(self) -> list[str]:
        """Kept inputs that are gone or differ in size or modification time from when they were kept (a hard link
        whose source was edited in place)."""
        problems = []
        for source, kept in self.files.items():
            path = self.state / kept["file"]
            if not path.exists():
                problems.append(f"{source}: the case's copy of it is gone; its records cannot be shown")
            elif (path.stat().st_size, path.stat().st_mtime_ns) != (kept["size"], kept["mtime_ns"]):
                held = "holds it as a hard link" if kept.get("how") == "link" else "'s copy of it changed"
                problems.append(f"{source}: changed in place since it was loaded, and the case {held}: records "
                                "shown from it may differ from those loaded; load the case again")
        return problems

    def _spans_of(self, source: str, rows: pl.Series) -> pl.DataFrame:
        """The spans (`source_row`, `offset`, `length`) of a kept input's lines, by row. For a few rows (an event
        opened) only the span parts that hold them are read (the load noted each part's rows); for more, all of the
        file's, kept for later reads (24 bytes a line; read once by threads reading records side by side)."""
        with self._lock:
            return self._spans[source] if source in self._spans else self._spans_read(source, rows)

    def _spans_read(self, source: str, rows: pl.Series) -> pl.DataFrame:
        listed = self.files[source].get("spans")
        folder = self.state / "spans"
        if listed is not None and rows.len() <= FEW_ROWS:
            parts = [folder / name for name, first, last in listed if rows.is_between(first, last).any()]
        else:
            parts = [folder / name for name, *_rows in listed] if listed is not None else sorted(folder.glob("part-*"))
        spans = (pl.scan_parquet(parts, glob=False).filter(pl.col("source_file") == source)
                 .select("source_row", "offset", "length").collect().sort("source_row")) if parts else (
            pl.DataFrame(schema={"source_row": pl.Int64, "offset": pl.Int64, "length": pl.Int64}))
        if listed is None or rows.len() > FEW_ROWS:
            self._spans[source] = spans
        return spans

    def texts(self, source: str, rows: pl.Series) -> pl.Series:
        """The record texts of the given rows (line numbers) of one kept input; null for a row without a span."""
        spans = self._spans_of(source, rows)
        at = spans["source_row"].search_sorted(rows).clip(0, max(spans.height - 1, 0))
        found = (spans["source_row"].gather(at) == rows) if spans.height else pl.repeat(False, rows.len(), eager=True)
        texts = pl.Series("audit_data", [None] * rows.len(), dtype=pl.String)
        if not found.any():
            return texts
        kept = self.state / self.files[source]["file"]
        if not kept.exists():  # said by `changed`
            return texts
        wanted = spans[at.filter(found)]
        read = _read_spans(kept, wanted["offset"], wanted["length"])
        if "cell" in self.files[source]:
            read = csv_cells(read, kept, self.files[source]["cell"], self.files[source].get("skip_lines", 0))
        return _placed(texts, found.arg_true(), read)

    def fill(self, rows: pl.DataFrame, column: str = "audit_data") -> pl.Series:
        """`column` of `rows` (with `source_file`, `source_row`), its nulls read from the kept inputs."""
        texts = rows[column]
        missing = texts.is_null() & rows["source_file"].is_in(list(self.files)) if self.files else None
        if missing is None or not missing.any():
            return texts
        wanted = rows.select("source_file", "source_row").with_row_index("at").filter(missing)
        for (source,), group in wanted.group_by("source_file"):
            texts = _placed(texts, group["at"], self.texts(source, group["source_row"]))
        return texts

    def fill_expression(self, column: str = "audit_data") -> pl.Expr:
        """`column` filled from the kept inputs, as an expression of a lazy scan (reads only the rows it is given)."""
        return (pl.struct("source_file", "source_row", column)
                .map_batches(lambda packed: self.fill(packed.struct.unnest(), column), return_dtype=pl.String,
                             is_elementwise=True)
                .alias(column))


def kept_by_case(cases: Iterable) -> dict[str, KeptRecords]:
    """The kept records of each case (objects with `kept_records`) by the name the events' `case` column gives it
    (the name at its load, which a case renamed since still carries)."""
    return {name: case.kept_records for case in cases for name in case.kept_records.cases}


def fill_by_case(kept: dict[str, KeptRecords], rows: pl.DataFrame, column: str = "audit_data") -> pl.Series:
    """`column` of `rows` (with `case`, `source_file`, `source_row`), its nulls read from the kept inputs of the case
    each row names (`kept_by_case`)."""
    texts = rows[column]
    for (name,), group in rows.with_row_index("_at").group_by("case"):
        if name in kept:
            texts = _placed(texts, group["_at"], kept[name].fill(group, column))
    return texts


def _placed(texts: pl.Series, at: pl.Series, values: pl.Series) -> pl.Series:
    """`texts` with `values` put at the rows `at` (ascending, distinct): the values themselves when they are for every
    row, as they mostly are (scattering a batch of records into a column of nulls copied every text again)."""
    return values.alias(texts.name) if at.len() == texts.len() else texts.scatter(at, values)


#: Spans taken at a time; read from the mapped file, their pages are then unmapped from the process: the kernel maps
#: the cached pages around each page read (up to 64 KB), so scattered records would otherwise count as 64 KB of
#: resident memory each (a 10M-line file read at 100,000 scattered rows: gigabytes of the page cache in the RSS). The
#: hunts read on three threads at once: 2,048 spans at a time held 1.2 GB of mapped pages at 10M exchange events (peak
#: 5.7-5.9 GB), 512 hold a quarter of that (4.2 GB), as fast.
SPANS_AT_ONCE = 512
#: Spans lying close together (the bytes from the first to the end of the last at most `DENSE_SPREAD` times theirs,
#: and at most `DENSE_BYTES`) whose pages the page cache does not hold are read with one `pread` of those bytes rather
#: than faulted in page by page from the mapping: the failed sign-ins' records of a 10M-line file (a fifth of its
#: bytes), 300k of them read from the disk, took 4.8 s where faulting their pages in took 24 s. From the page cache
#: the mapping is quicker (all 2.2M: 5.4 s against 9.4 s), the `pread` copying every byte between the spans too.
DENSE_SPREAD = 16
DENSE_BYTES = 64 << 20
_LIBC = ctypes.CDLL(None, use_errno=True)


def _read_spans(path: Path, offsets: pl.Series, lengths: pl.Series) -> pl.Series:
    """The UTF-8 texts at the given byte spans of a file, in the order given.

    `SPANS_AT_ONCE` spans (sorted, each once) at a time, the bytes holding them are read into one buffer (spans close
    together) or mapped (scattered spans); an Arrow binary array over those bytes whose values alternate between the
    spans and the bytes between them is made without copying, and its span values are taken. The loop runs on Arrow
    alone: a Polars call per chunk waits for Polars' threads, which hunts beside it keep busy.
    """
    in_order = offsets.len() < 2 or bool(offsets.diff().min() > 0)  # as rows read in input order are: no reordering
    spans = pl.DataFrame({"offset": offsets, "length": lengths})
    spans = spans if in_order else spans.unique("offset").sort("offset")
    bounds = spans.select(pl.concat_list("offset", pl.col("offset") + pl.col("length")).explode()).to_series().to_arrow()
    sizes, even = spans["length"].to_arrow(), pa.array(range(0, 2 * SPANS_AT_ONCE, 2), pa.int64())
    taken = []
    buffer = bytearray()
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        if spans.height and pc.max(bounds).as_py() > len(mapped):
            raise ValueError(f"{path}: shorter than the records the case noted in it; load the case again")
        mapped.madvise(mmap.MADV_RANDOM)  # no read-ahead either
        whole = pa.py_buffer(mapped)
        for at in range(0, spans.height, SPANS_AT_ONCE):
            count = min(SPANS_AT_ONCE, spans.height - at)
            chunk = bounds.slice(2 * at, 2 * count)
            first, end = chunk[0].as_py(), chunk[-1].as_py()
            start = first // mmap.PAGESIZE * mmap.PAGESIZE
            if (end - first <= min(DENSE_SPREAD * pc.sum(sizes.slice(at, count)).as_py(), DENSE_BYTES)
                    and not in_page_cache(whole.address + start, end - start)):
                if len(buffer) < end - first:
                    buffer = bytearray(end - first)
                read = memoryview(buffer)[:end - first]
                os.preadv(handle.fileno(), [read], first)
                taken.append(_spans_taken(pc.subtract(chunk, first), pa.py_buffer(read), even.slice(0, count)))
                del read
            else:
                taken.append(_spans_taken(chunk, whole, even.slice(0, count)))
                mapped.madvise(mmap.MADV_DONTNEED, start, end - start)
        del whole
    texts = (pl.from_arrow(pa.chunked_array(taken, pa.large_binary())).cast(pl.String) if taken
             else pl.Series([], dtype=pl.String)).alias("audit_data")
    return texts if in_order else texts.gather(spans["offset"].search_sorted(offsets))


def in_page_cache(address: int, length: int) -> bool:
    """Whether the page cache holds nine in ten of the pages of `length` bytes of a file's mapping from the
    page-aligned `address` (`mincore`; false where the system does not say, as for a file of another owner)."""
    pages = -(-length // mmap.PAGESIZE)
    held = (ctypes.c_ubyte * pages)()
    if _LIBC.mincore(ctypes.c_void_p(address), ctypes.c_size_t(length), held) != 0:
        return False
    return bytes(held).count(1) >= 0.9 * pages


def _spans_taken(bounds: pa.Array, data: pa.Buffer, even: pa.Array) -> pa.Array:
    """The bytes of the spans whose starts and ends `bounds` gives in turn (positions in `data`), copied out of it
    (`even`: the positions 0, 2, 4... of the spans among the values)."""
    values = pa.LargeBinaryArray.from_buffers(pa.large_binary(), len(bounds) - 1, [None, bounds.buffers()[1], data],
                                              offset=bounds.offset)
    return values.take(even)


def _header(path: Path, skip_lines: int) -> str:
    """The header line of a CSV file (after a BOM and `skip_lines` lines), without its line end."""
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        return handle.readline().rstrip("\r\n")


def row_record(columns: Iterable[str]) -> pl.Expr:
    """A CSV row as its record: a JSON object of its cells (`columns` but `NOT_CELLS`) under their headers, in order."""
    return pl.struct([name for name in columns if name not in NOT_CELLS]).struct.json_encode()


def row_records(rows: pl.DataFrame) -> pl.Series:
    """The record of each row of a CSV batch (`row_record`)."""
    return rows.select(row_record(rows.columns).alias("audit_data")).to_series()


def csv_cells(lines: pl.Series, path: Path, cell: str, skip_lines: int = 0) -> pl.Series:
    """The `cell` column (or `WHOLE_ROW`: `row_records`) of CSV rows given as their lines (each row one line) of the
    file at `path`, parsed with the file's header as the loader parses the file."""
    if lines.len() == 0:
        return lines.alias("audit_data")
    header = _header(path, skip_lines)
    names = [name.strip() for name in next(csv.reader([header]), [])]
    data = "\n".join([header, *lines.to_list(), ""]).encode()
    read = partial(pl.read_csv, data, infer_schema=False, truncate_ragged_lines=True, encoding="utf8-lossy")
    if cell == WHOLE_ROW:
        return row_records(read().rename(str.strip))
    return read(columns=[names.index(cell)]).to_series().alias("audit_data")


class CsvRowSpans:
    """The byte span of each row of a CSV file whose rows are single lines, given to its batches of rows as they are
    read: the file's lines are read beside the CSV reader (`lines`, blocks of `source_row` and line text, numbered
    as the rows are), each batch takes its rows' spans (LineSpans). A batch whose first or last row's record (made
    by `record_of` from the batch's rows) is not the record parsed back from its span (`csv_cells` of `cell`) gets
    none, and no later batch does."""

    def __init__(self, path: Path, lines: Iterable[pl.DataFrame], record_of: Callable[[pl.DataFrame], pl.Series],
                 cell: str, skip_lines: int):
        self._path, self._record_of, self._cell, self._skip_lines = path, record_of, cell, skip_lines
        self._lines = iter(lines)
        self._line_spans = LineSpans(path)
        self._pending = pl.DataFrame(schema={"source_row": pl.Int64, **SPAN_COLUMNS})
        self.working = True

    def add(self, batch: pl.DataFrame) -> pl.DataFrame:
        """The batch (with `source_row` and `column`) with `record_offset` and `record_length` where they are known."""
        last = batch["source_row"].max() if batch.height else None
        while self.working and last is not None and (self._pending.is_empty() or self._pending["source_row"].max() < last):
            block = next(self._lines, None)
            if block is None:
                break
            spanned = self._line_spans.add(block)
            if not self._line_spans.working:
                self.working = False
                break
            self._pending = pl.concat([self._pending, spanned.select("source_row", *SPAN_COLUMNS)])
        if not self.working or last is None or self._pending.is_empty():
            return batch
        # The pending lines from the batch's first row on are its rows, one for one (both numbered alike from the file's
        # first line); were they not, no span is given.
        spans = self._pending.slice(batch["source_row"][0] - self._pending["source_row"][0], batch.height)
        if not spans["source_row"].equals(batch["source_row"]):
            self.working = False
            return batch
        with_spans = batch.hstack(spans.select(*SPAN_COLUMNS))
        self._pending = self._pending.filter(pl.col("source_row") > last)
        known = with_spans["record_offset"].is_not_null().arg_true()
        ends = with_spans[pl.concat([known.head(1), known.tail(1)])]
        read = csv_cells(_read_spans(self._path, ends["record_offset"], ends["record_length"]), self._path,
                         self._cell, self._skip_lines)
        if not read.equals(self._record_of(ends), check_names=False, check_dtypes=False):
            self.working = False
            return batch
        return with_spans

    def close(self) -> None:
        """Let go of the file."""
        self._line_spans.close()


class LineSpans:
    """Finds the byte span of each line of a JSON Lines file as its blocks of lines are read, from the lines' lengths.

    Each block is checked against the file (its first and last line must be at their spans); from the first block
    that fails (a line that was not valid UTF-8, mixed line ends) no more spans are given, and those records stay in
    the Parquet. Lines holding U+FFFD get no span either (it may stand for bytes that were not UTF-8).
    """

    def __init__(self, path: Path):
        self._handle = open(path, "rb")
        size = os.fstat(self._handle.fileno()).st_size
        self._mapped = mmap.mmap(self._handle.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        head = self._mapped[:1 << 20] if self._mapped else b""
        self._next = 3 if head[:3] == b"\xef\xbb\xbf" else 0
        first_end = head.find(b"\n")
        self._line_end = 2 if first_end > 0 and head[first_end - 1:first_end] == b"\r" else 1
        self.working = self._mapped is not None

    def add(self, lines: pl.DataFrame, odd: pl.Series | None = None) -> pl.DataFrame:
        """The block (`source_row`, `audit_data`) with `record_offset` and `record_length` where they are known; `odd`,
        the lines that may hold U+FFFD when the caller found them already (a superset: `duckjson.ODD_LINE`)."""
        text = lines["audit_data"]
        length = text.str.len_bytes().fill_null(0).cast(pl.Int64)
        step = length + self._line_end
        offset = step.cum_sum() - step + self._next
        self._next += step.sum()
        self.working = self.working and self._at_spans(text, offset, length)
        if not self.working:
            return lines
        if odd is None:
            plain = text.is_not_null() & ~text.str.contains("\ufffd", literal=True).fill_null(True)
        else:  # only the odd lines (none of them null) are looked at again
            odd = odd.fill_null(False).arg_true()
            plain = text.is_not_null().scatter(odd, ~text.gather(odd).str.contains("\ufffd", literal=True))
        return lines.with_columns(pl.when(plain).then(offset).alias("record_offset"),
                                  pl.when(plain).then(length).alias("record_length"))

    def _at_spans(self, text: pl.Series, offset: pl.Series, length: pl.Series) -> bool:
        """Whether the block's first and last lines with text are at their spans in the file."""
        present = text.is_not_null().arg_true()
        for at in (present[:1].to_list() + present[-1:].to_list()):
            start, end = offset[at], offset[at] + length[at]
            if self._mapped[start:end] != text[at].encode("utf-8"):
                return False
        return True

    def close(self) -> None:
        """Let go of the file."""
        if self._mapped is not None:
            self._mapped.close()
        self._handle.close()
