"""Provides detection of an audit export's shape from its content, and opening of `.gz` files."""

import gzip
import json
import shutil
import tempfile
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Iterator

HEAD_BYTES = 256 * 1024
EXPECTED_SHAPES = (
    "a Purview audit search CSV (RecordId,CreationDate,RecordType,Operation,UserId,AuditData,...), "
    "a Search-UnifiedAuditLog CSV (CreationDate,UserIds,Operations,AuditData), "
    "Management Activity API JSON (array or JSON Lines of AuditData objects) "
    "or a Microsoft Graph audit log query ({\"value\": [...]} or one record per line)"
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


def read_head(path: Path) -> bytes:
    """The first bytes of the file's content, decompressed when it is gzipped."""
    with open(path, "rb") as handle:
        head = handle.read(HEAD_BYTES)
    if head[:2] != b"\x1f\x8b":
        return head
    try:
        with gzip.open(path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError) as error:
        raise NotAnAuditLog(path, f"damaged gzip: {error}") from error


def detect_shape(path: Path) -> Shape:
    """Detect the shape of the file at `path` (plain or gzipped) from its first bytes."""
    head = read_head(path)
    text = head.decode("utf-8-sig", errors="replace").lstrip()
    if not text:
        return Shape.EMPTY
    if text[0] == "[":
        return Shape.MGMT_JSON
    lines = [line for line in text.splitlines() if line.strip()]
    for line in lines[:20]:
        try:
            shape = _shape_of_object(json.loads(line))
        except ValueError:
            continue
        if shape is not None:
            return shape
    if text[0] == "{":
        if '"value"' in text and '"auditData"' in text:
            return Shape.GRAPH_JSON
        if len(lines) > 1 and lines[0].strip() == "{":
            return Shape.MGMT_JSON  # one pretty-printed AuditData object
        if any(f'"{key}"' in lines[0] for key in AUDIT_KEYS):
            return Shape.MGMT_JSONL  # JSON Lines whose first lines are all damaged
        raise NotAnAuditLog(path, "JSON without AuditData fields")
    shape = _csv_shape(text.splitlines()[0])
    if shape is None:
        raise NotAnAuditLog(path, f"first line is {text.splitlines()[0][:80]!r}")
    return shape


@contextmanager
def plain_file(path: Path, scratch: Path) -> Iterator[Path]:
    """Yield a path to the file's plain content, decompressing `.gz` into `scratch` when needed."""
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
    if not gzipped:
        yield path
        return
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=scratch, suffix=".unz", delete=False) as out:
        try:
            with gzip.open(path, "rb") as source:
                shutil.copyfileobj(source, out, 1 << 20)
        except (OSError, EOFError) as error:
            out.close()
            Path(out.name).unlink(missing_ok=True)
            raise NotAnAuditLog(path, f"damaged gzip: {error}") from error
    try:
        yield Path(out.name)
    finally:
        Path(out.name).unlink(missing_ok=True)


#: In a folder, files with these suffixes are documentation or code, never audit exports.
NOT_LOGS = {".md", ".py", ".pyc", ".txt", ".html", ".pdf"}


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
