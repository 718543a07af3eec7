"""Provides the one registry of input sources: which shape a file is, how it is read and into which frames.

Every shape, the unified audit log's (formats.py, readers.py, normalise.py), the Entra ID and Log
Analytics exports (exports.py, with sign_ins.py and directory_audits.py) and message trace (detected with
the exports, message_shapes.py; read by messages.py), comes down to the same three things, and the loader
(load.py) knows only these: the shape's name, a reader of raw chunks, and a step that sorts a raw chunk's
rows into the case's frames (`events`, `sign_ins`, `directory_audits`, `messages`), rejects and warnings.
"""

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from workbench.core.formats import CSV_SHAPES, Shape, detect_shape, head_text
from workbench.core.kept_records import WHOLE_ROW
from workbench.core.normalise import Sorted, normalise
from workbench.core.readers import RECORD_CELL, RawChunk, read_raw_chunks
from workbench.core.sources.exports import ExportShape, detect_export, normalise_export, read_export
from workbench.core.sources.messages import normalise_messages, read_messages

#: The frames a case holds, in the order they are shown.
FRAMES = ("events", "sign_ins", "directory_audits", "messages")


@dataclass(frozen=True)
class FileShape:
    """What the loader needs of a file's shape."""

    #: The name shown in the load report (e.g. `purview-csv`, `sentinel-csv`).
    format: str
    #: Rows before the first record (a CSV header), for numbering the record a damaged file ends with.
    header_rows: int
    #: Makers of the raw chunks of the file's plain UTF-8 content.
    read: Callable[[Path], Iterator[RawChunk]]
    #: A raw chunk's rows sorted into frames: (raw, case, source_file) -> Sorted.
    sort: Callable[[pl.DataFrame, str, str], Sorted]
    empty: bool = False
    #: Its reader gives each record's byte span in the plain content, so the case keeps the file (kept_records.py).
    spans: bool = False
    #: The header of the CSV column holding the record in a span's row, or WHOLE_ROW (None: the span is the record).
    record_cell: str | None = None


def _sort_audit_records(raw: pl.DataFrame, case: str, source_file: str) -> Sorted:
    result = normalise(raw, case, source_file)
    return Sorted({"events": result.events}, result.rejects, result.warnings)


def _kept_by_span(export: ExportShape) -> dict:
    """How the case keeps the records of an export (kept_records.py): a JSON Lines line or a CSV row (the whole row,
    as a JSON object of its cells) read back by its span; a JSON document's records are stored."""
    return {"spans": export.container in ("lines", "csv"),
            "record_cell": WHOLE_ROW if export.container == "csv" else None}


def detect(path: Path) -> FileShape:
    """The shape of the file at `path` from its content; NotAnAuditLog when it is none the loader reads."""
    text = head_text(path)
    export = detect_export(path, text) if text else None
    if export is not None and export.route == "messages":
        return FileShape(export.format, export.header_rows, partial(read_messages, shape=export),
                         partial(normalise_messages, shape=export), **_kept_by_span(export))
    if export is not None:
        return FileShape(export.format, export.header_rows, partial(read_export, shape=export),
                         partial(normalise_export, shape=export), **_kept_by_span(export))
    shape = detect_shape(path)
    return FileShape(shape.value, 1 if shape in CSV_SHAPES else 0, partial(read_raw_chunks, shape=shape),
                     _sort_audit_records, empty=shape is Shape.EMPTY,
                     spans=shape in (Shape.MGMT_JSONL, *CSV_SHAPES), record_cell=RECORD_CELL if shape in CSV_SHAPES else None)
