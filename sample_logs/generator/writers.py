"""Provides the output shapes (Purview CSV, legacy CSV, Management API and Graph JSON) and the
writers, including the parallel stream writer."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TextIO

from .ids import stable_guid, to_json
from .stream import RecordStream


FORMATS = ("jsonl", "purview-csv", "legacy-csv", "mgmt-json", "graph-json")
PURVIEW_HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                  "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
LEGACY_HEADER = ["RunspaceId", "RecordType", "CreationDate", "UserIds", "Operations", "AuditData",
                 "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"]

RECORD_TYPES = {1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup", 4: "SharePoint",
                6: "SharePointFileOperation", 8: "AzureActiveDirectory",
                14: "SharePointSharingOperation", 15: "AzureActiveDirectoryStsLogon",
                36: "SharePointListOperation", 50: "ExchangeItemAggregated",
                54: "SharePointListItemOperation", 101: "ExchangeSearch"}
GRAPH_AUDIT_DATA_TYPES = {1: "exchangeAdminAuditRecord", 2: "exchangeMailboxAuditRecord",
                          3: "exchangeMailboxAuditGroupRecord", 4: "sharePointAuditRecord",
                          6: "sharePointFileOperationAuditRecord",
                          8: "azureActiveDirectoryAuditRecord",
                          14: "sharePointSharingOperationAuditRecord",
                          15: "azureActiveDirectoryStsLogonAuditRecord",
                          50: "exchangeAggregatedMailboxAuditRecord"}
GRAPH_USER_TYPES = ("regular", "reserved", "admin", "dcAdmin", "system", "application",
                    "servicePrincipal", "customPolicy", "systemPolicy")


def purview_date(ts: str) -> str:
    """Purview's ``CreationDate``: ``2023-02-21T14:03:11.0000000Z``."""
    return f"{ts}.0000000Z"


def legacy_date(ts: str) -> str:
    """Search-UnifiedAuditLog's ``CreationDate`` in en-US form: ``2/21/2023 2:03:11 PM``."""
    dt = datetime.fromisoformat(ts)
    hour = dt.hour % 12 or 12
    return (f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d}:{dt.second:02d} "
            f"{'PM' if dt.hour >= 12 else 'AM'}")


def record_type_name(record: dict) -> str:
    """The RecordType name a CSV export shows (the number when unknown)."""
    return RECORD_TYPES.get(record["RecordType"], str(record["RecordType"]))


def purview_row(record: dict) -> list[str]:
    """One row of a Purview audit search CSV export."""
    return [record["Id"], purview_date(record["CreationTime"]), record_type_name(record),
            record["Operation"], record["UserId"], to_json(record), "", ""]


def graph_record(record: dict) -> dict:
    """``record`` wrapped as a Microsoft Graph ``auditLogRecord``."""
    data_type = GRAPH_AUDIT_DATA_TYPES.get(record["RecordType"], "defaultAuditData")
    client_ip = record.get("ClientIP") or record.get("ActorIpAddress") or ""
    return {
        "id": record["Id"], "createdDateTime": record["CreationTime"] + "Z",
        "auditLogRecordType": record_type_name(record)[0].lower() + record_type_name(record)[1:],
        "operation": record["Operation"], "organizationId": record["OrganizationId"],
        "userType": GRAPH_USER_TYPES[record["UserType"]], "userId": record["UserId"],
        "service": record["Workload"], "objectId": record.get("ObjectId", ""),
        "userPrincipalName": record["UserId"], "clientIp": client_ip, "administrativeUnits": [],
        "auditData": {"@odata.type": f"#microsoft.graph.security.{data_type}", **record},
    }


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_line(fields: Iterable[object], quote_all: bool = False) -> str:
    """One RFC 4180 line (CRLF), quoting fields that need it (or all of them)."""
    out = []
    for value in fields:
        text = str(value)
        if quote_all or _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\r\n"


def _jsonl_row(record: dict, index: int, total: int) -> str:
    return to_json(record) + "\n"


def _json_row(record: dict, index: int, total: int) -> str:
    return to_json(record)


def _graph_row(record: dict, index: int, total: int) -> str:
    return to_json(graph_record(record))


def _purview_row(record: dict, index: int, total: int) -> str:
    return csv_line(purview_row(record))


_RUNSPACE = stable_guid("runspace")


def _legacy_row(r: dict, index: int, total: int) -> str:
    return csv_line([_RUNSPACE, record_type_name(r), legacy_date(r["CreationTime"]), r["UserId"],
                     r["Operation"], to_json(r), index, total, r["Id"], "True", "Unchanged"],
                    quote_all=True)


@dataclass(frozen=True)
class Shape:
    """How a format frames records: ``head``, rows joined by ``sep``, ``tail``.

    ``row(record, index, total)`` gets the 1-based position and the record count.
    """

    head: str
    row: Callable[[dict, int, int], str]
    sep: str = ""
    tail: str = ""


_GRAPH_CONTEXT = ("https://graph.microsoft.com/beta/$metadata#security/auditLog/"
                  f"queries('{stable_guid('graph-query')}')/records")
SHAPES = {
    "jsonl": Shape("", _jsonl_row),
    "purview-csv": Shape("\ufeff" + csv_line(PURVIEW_HEADER), _purview_row),
    "legacy-csv": Shape(csv_line(LEGACY_HEADER, quote_all=True), _legacy_row),
    "mgmt-json": Shape("[\n", _json_row, ",\n", "\n]\n"),
    "graph-json": Shape(f'{{"@odata.context":{to_json(_GRAPH_CONTEXT)},"value":[\n', _graph_row,
                        ",\n", "\n]}\n"),
}


def _shape(fmt: str) -> Shape:
    if fmt not in SHAPES:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return SHAPES[fmt]


@contextlib.contextmanager
def atomic_open(path: str | Path) -> Iterator[TextIO]:
    """A UTF-8 text file (no newline translation) that replaces ``path`` only when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_chunks(path: str | Path, shape: Shape, chunks: Iterable[str]) -> None:
    """Write ``head``, the non-empty ``chunks`` joined by ``sep`` and ``tail``, atomically."""
    with atomic_open(path) as fh:
        fh.write(shape.head)
        sep = ""
        for chunk in chunks:
            if chunk:
                fh.write(sep)
                fh.write(chunk)
                sep = shape.sep
        fh.write(shape.tail)


def write(records: Iterable[dict], fmt: str, path: str | Path) -> None:
    """Write ``records`` to ``path`` in shape ``fmt`` (one of ``FORMATS``), atomically.

    ``legacy-csv`` needs ``len(records)`` (its ResultCount column): pass a list or a RecordStream.
    """
    shape = _shape(fmt)
    total = len(records) if fmt == "legacy-csv" else 0  # type: ignore[arg-type]
    _write_chunks(path, shape, (shape.row(r, i, total) for i, r in enumerate(records, start=1)))


_WORKER: tuple[RecordStream, Shape] | None = None


def _init_worker(stream: RecordStream, shape: Shape) -> None:
    global _WORKER
    _WORKER = (stream, shape)


def _day_chunk(task: tuple[date, int]) -> str:
    """One day of the worker's stream serialised, its rows numbered from ``task[1]``."""
    assert _WORKER is not None
    stream, shape = _WORKER
    day, first = task
    return shape.sep.join(shape.row(r, i, stream.total)
                          for i, r in enumerate(stream.day_records(day), start=first))


def write_stream(stream: RecordStream, fmt: str, path: str | Path, jobs: int = 1) -> None:
    """Write ``stream`` like ``write``, serialising days in ``jobs`` processes (same bytes)."""
    shape = _shape(fmt)
    tasks, first = [], 1
    for day in stream.days():
        tasks.append((day, first))
        first += stream.day_size(day)
    if jobs <= 1:
        _init_worker(stream, shape)
        _write_chunks(path, shape, map(_day_chunk, tasks))
        return
    with multiprocessing.get_context("fork").Pool(jobs, _init_worker, (stream, shape)) as pool:
        _write_chunks(path, shape, pool.imap(_day_chunk, tasks))
