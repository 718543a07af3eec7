"""Provides detection of an audit export's shape from its content, and its content as plain UTF-8 (`.gz` and
UTF-16 exports, as Excel re-saves them, included)."""

import codecs
import io
import json
import os
import tempfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import BinaryIO, Iterator

HEAD_BYTES = 256 * 1024
EXPECTED_SHAPES = (
    "a Purview audit search CSV (RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...), "
    "a Search-UnifiedAuditLog CSV (CreationDate,UserIds,Operations,AuditData), "
    "Management Activity API JSON (array or JSON Lines of AuditData objects), "
    "a Microsoft Graph audit log query, sign-ins or directory audits ({\"value\": [...]} or one record per line), "
    "Azure Monitor diagnostic records of Entra ID logs, a Log Analytics / Sentinel query result "
    "(SigninLogs, AADNonInteractiveUserSignInLogs, AuditLogs, OfficeActivity; CSV or JSON) "
    "the Entra admin center's sign-ins download, "
    "or a message trace (Get-MessageTrace / Get-MessageTraceV2 CSV, the Exchange admin center's summary or extended "
    "report, Reporting Web Service or Microsoft Graph message trace JSON)"
)


class Shape(StrEnum):
    """The input shapes of DESIGN.md §2."""

    PURVIEW_CSV = "purview-csv"
    LEGACY_CSV = "legacy-csv"
    MGMT_JSON = "mgmt-json"
    MGMT_JSONL = "mgmt-jsonl"
    GRAPH_JSON = "graph-json"
    GRAPH_JSONL = "graph-jsonl"
    EMPTY = "empty"


#: The shapes read as CSV with a header row.
CSV_SHAPES = (Shape.PURVIEW_CSV, Shape.LEGACY_CSV)


class NotAnAuditLog(ValueError):
    """A file whose content is none of the shapes the loader reads."""

    def __init__(self, path: Path, detail: str):
        super().__init__(f"{path}: not a Microsoft 365 audit log ({detail}); expected {EXPECTED_SHAPES}")
        self.path = path


AUDIT_KEYS = {"CreationTime", "Operation", "RecordType", "Workload", "UserId", "Id"}
GRAPH_KEYS = {"auditData", "createdDateTime", "auditLogRecordType"}


def _shape_of_object(obj: object) -> Shape | None:
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("value"), list):
        return Shape.GRAPH_JSON
    if "auditData" in obj and GRAPH_KEYS & obj.keys():
        return Shape.GRAPH_JSONL
    if len(AUDIT_KEYS & obj.keys()) >= 2:
        return Shape.MGMT_JSONL
    return None


def _csv_shape(header_line: str) -> Shape | None:
    names = {name.strip().strip('"').lower() for name in header_line.split(",")}
    if "auditdata" not in names:
        return None
    if {"recordid", "creationdate", "operation"} <= names:
        return Shape.PURVIEW_CSV
    if {"creationdate", "userids", "operations"} <= names:
        return Shape.LEGACY_CSV
    return None


def _encoding(head: bytes) -> str:
    """The text encoding of a file from its first bytes: utf-8 (with or without BOM) or utf-16, else the reason."""
    if head[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        return "utf-32"
    if head[:2] == b"\xff\xfe" or (len(head) > 3 and head[1] == 0 and head[3] == 0 and head[0] and head[2]):
        return "utf-16-le" if head[:2] != b"\xff\xfe" else "utf-16"
    if head[:2] == b"\xfe\xff" or (len(head) > 3 and head[0] == 0 and head[2] == 0 and head[1] and head[3]):
        return "utf-16-be" if head[:2] != b"\xfe\xff" else "utf-16"
    return "utf-8"


def _gunzip(path: Path, out: BinaryIO, limit: int | None = None) -> str | None:
    """Decompress the gzip file at `path` into `out` (up to about `limit` bytes) as far as its stream can be
    read; returns why it stopped early, or None. Members written one after another are read in turn."""
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    written = 0
    with open(path, "rb") as source:
        while block := source.read(1 << 20):
            while block:
                if decompressor.eof:
                    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
                try:
                    data = decompressor.decompress(block)
                except zlib.error as error:
                    return f"gzip stream damaged after {written:,} bytes ({error})"
                written += out.write(data)
                if limit is not None and written >= limit:
                    return None
                block = decompressor.unused_data
    return None if decompressor.eof else f"gzip stream ends early after {written:,} bytes (file cut off)"


def read_head(path: Path) -> bytes:
    """The first bytes of the file's content, decompressed when it is gzipped (as far as it can be)."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head[:2] != b"\x1f\x8b":
        return head
    out = io.BytesIO()
    damage = _gunzip(path, out, HEAD_BYTES)
    if damage and not out.tell():
        raise NotAnAuditLog(path, damage)
    return out.getvalue()[:HEAD_BYTES]


def head_text(path: Path) -> str:
    """The start of the file's text (decompressed, decoded, without a BOM or leading spaces)."""
    head = read_head(path)
    encoding = _encoding(head)
    if encoding == "utf-32":
        raise NotAnAuditLog(path, "UTF-32 text, which the loader does not read: save the export as UTF-8 or UTF-16")
    return head.decode(encoding, errors="replace").lstrip("\ufeff").lstrip()


def _loads(line: str) -> object:
    """The JSON value of `line`, or None when it is not JSON or nests deeper than Python reads."""
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def detect_shape(path: Path) -> Shape:
    """Detect the shape of the file at `path` (plain or gzipped, UTF-8 or UTF-16) from its first bytes.

    When the first line does not tell, every line of the first 256 KB is tried, so damaged lines at the start
    of a file do not hide its shape.
    """
    text = head_text(path)
    if not text:
        return Shape.EMPTY
    if text[0] == "[":
        return Shape.MGMT_JSON
    lines = [line for line in text.splitlines() if line.strip()]
    first = _shape_of_object(_loads(lines[0]))
    if first is not None:
        return first
    if text[0] == "{":
        if '"value"' in text and '"auditData"' in text:
            return Shape.GRAPH_JSON  # a page, pretty-printed
        if len(lines) > 1 and lines[0].strip() == "{":
            return Shape.MGMT_JSON  # one pretty-printed AuditData object
        for line in lines[1:]:  # JSON Lines whose first lines are damaged
            shape = _shape_of_object(_loads(line)) if line.lstrip().startswith("{") else None
            if shape is not None:
                return shape
        if any(f'"{key}"' in line for line in lines for key in AUDIT_KEYS):
            return Shape.MGMT_JSONL  # JSON Lines whose lines in view are all damaged
        raise NotAnAuditLog(path, "JSON without AuditData fields")
    shape = _csv_shape(lines[0])
    if shape is None:
        raise NotAnAuditLog(path, f"first line is {lines[0][:80]!r}")
    return shape


@dataclass
class PlainFile:
    """A file's content as plain UTF-8 on disk, and what could not be read of it."""

    path: Path
    #: Why the content ends early (a damaged or cut-off gzip stream), else None.
    damage: str | None = None
    #: The bytes after the last whole line, when the content ends early: an incomplete record.
    tail: bytes = b""


@contextmanager
def plain_file(path: Path, scratch: Path) -> Iterator[PlainFile]:
    """Yield the file's content as plain UTF-8: `.gz` decompressed (a damaged stream as far as it goes) and
    UTF-16 transcoded, into `scratch`; a plain UTF-8 file is used where it is."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    gzipped = head[:2] == b"\x1f\x8b"
    encoding = _encoding(read_head(path)[:4]) if gzipped else _encoding(head)
    if not gzipped and encoding == "utf-8":
        yield PlainFile(path)
        return
    scratch.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    try:
        damage, current = None, path
        if gzipped:
            with tempfile.NamedTemporaryFile(dir=scratch, suffix=".unz", delete=False) as out:
                made.append(Path(out.name))
                damage = _gunzip(path, out)
                damage = damage and f"{damage}: the records before the damage were read"
            current = made[-1]
        if encoding.startswith("utf-16"):
            with tempfile.NamedTemporaryFile(dir=scratch, suffix=".utf8", delete=False) as out:
                made.append(Path(out.name))
                _transcode(current, encoding, out)
            current = made[-1]
        tail = _cut_tail(current) if damage else b""
        with open(current, "rb") as handle:  # flushed to disk now, as the case keeps it: not all at the state's swap
            os.fsync(handle.fileno())
        yield PlainFile(current, damage, tail)
    finally:
        for file in made:
            file.unlink(missing_ok=True)


class PlainFilesAhead:
    """The plain content (`plain_file`) of files loaded one after another, the next one made on a thread of its own
    while the one before it loads: transcoding a UTF-16 export holds one core (0.5 s for a 500 MB report), which
    would otherwise wait idle beside it, as decompressing a `.gz` would."""

    def __init__(self, scratch: Path):
        self._scratch = scratch
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="plain-file")
        self._made: dict[Path, Future] = {}

    def start(self, path: Path) -> None:
        """Start making the plain content of `path` on the thread."""
        self._made[path] = self._thread.submit(self._enter, path)

    @contextmanager
    def plain(self, path: Path) -> Iterator[PlainFile]:
        """The plain content of `path` (made now if it was not started), until the context ends."""
        made = self._made.pop(path, None)
        context, plain = made.result() if made else self._enter(path)
        with ExitStack() as stack:
            stack.push(context)
            yield plain

    def __enter__(self) -> "PlainFilesAhead":
        return self

    def __exit__(self, *exc_info) -> None:
        """Remove what was made and not used, and stop the thread."""
        for made in self._made.values():
            made.result()[0].__exit__(None, None, None)
        self._thread.shutdown()

    def _enter(self, path: Path) -> tuple[AbstractContextManager, PlainFile]:
        context = plain_file(path, self._scratch)
        return context, context.__enter__()


TRANSCODE_BYTES = 4 << 20  # measured on a 495 MB UTF-16 report: a quarter less CPU than a text wrapper's 1M characters


def _transcode(path: Path, encoding: str, out: BinaryIO) -> None:
    """Write the text of the file at `path` (in `encoding`, a UTF-16 one) to `out` as UTF-8, without a BOM; bytes
    that are not text (an odd last byte, a lone surrogate) become U+FFFD."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    with open(path, "rb") as source:
        while block := source.read(TRANSCODE_BYTES):
            text = decoder.decode(block)
            out.write((text.lstrip("\ufeff") if out.tell() == 0 else text).encode("utf-8"))
        out.write(decoder.decode(b"", final=True).encode("utf-8"))


def _cut_tail(path: Path) -> bytes:
    """Remove and return what follows the last newline of the file: the record a damaged stream cut short."""
    with open(path, "r+b") as handle:
        size = handle.seek(0, io.SEEK_END)
        handle.seek(max(0, size - (1 << 20)))
        block = handle.read()
        cut = block.rfind(b"\n") + 1
        if cut == 0 and size > len(block):  # the last line is longer than the block: keep it whole
            return b""
        tail = block[cut:]
        handle.truncate(size - len(tail))
    return tail


#: In a folder, files with these suffixes are documentation or code, never audit exports.
NOT_LOGS = {".md", ".py", ".pyc", ".txt", ".html", ".pdf", ".toml", ".yaml", ".yml", ".ini", ".cfg"}


def _is_log_candidate(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    hidden = any(part.startswith(".") or part == "__pycache__" for part in parts)
    return path.is_file() and not hidden and path.suffix.lower() not in NOT_LOGS


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files named by `paths`, folders walked recursively in sorted order (hidden, cache and doc files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(p for p in sorted(path.rglob("*")) if _is_log_candidate(p, path))
        else:
            files.append(path)
    return files
