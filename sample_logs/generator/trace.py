"""Provides the message trace exports of the samples, in two shapes real investigations hand over:

- ``Get-MessageTraceV2 | Export-Csv -NoTypeInformation``: one row per (message, recipient), UTF-8
  with BOM, CRLF, every field quoted, ``Received`` as en-US ``M/d/yyyy h:mm:ss tt`` (UTC), newest
  first; ``StartDate`` / ``EndDate`` are the 10-day window of the query that returned the row (the
  cmdlet returns at most 10 days per query, so a 90-day export joins several);
- the Exchange admin center's downloadable *enhanced summary report*: one row per message, the
  recipients and their statuses in ``recipient_status`` (``addr##Receive, Deliver;addr2##Receive,
  Send``), UTF-16 LE with BOM, CRLF, every field quoted, oldest first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .mailflow import DELIVERED, Message
from .tenants import EXPORT_END, EXPORT_START, Tenant
from .writers import atomic_open, csv_line, legacy_date

V2_HEADER = ["Organization", "MessageId", "Received", "SenderAddress", "RecipientAddress", "Subject",
             "Status", "ToIP", "FromIP", "Size", "MessageTraceId", "StartDate", "EndDate"]
ENHANCED_HEADER = ["origin_timestamp_utc", "sender_address", "recipient_status", "message_subject",
                   "total_bytes", "message_id", "network_message_id", "original_client_ip",
                   "directionality", "connector_id", "delivery_priority"]
QUERY_DAYS = 10


def _window(moment: datetime) -> tuple[datetime, datetime]:
    """The 10-day query window (from the export start) that holds ``moment``."""
    n = int((moment - EXPORT_START).total_seconds() // (QUERY_DAYS * 86400))
    start = EXPORT_START + timedelta(days=QUERY_DAYS * n)
    return start, min(start + timedelta(days=QUERY_DAYS), EXPORT_END + timedelta(seconds=1))


def v2_rows(t: Tenant, messages: list[Message]) -> list[list[str]]:
    """The rows of a ``Get-MessageTraceV2`` export (without header), newest first."""
    rows = []
    for m in sorted(messages, key=lambda m: (m.received, m.message_id), reverse=True):
        start, end = _window(m.received)
        for address, status in sorted(m.recipients, reverse=True):
            rows.append([t.onmicrosoft, m.message_id, legacy_date(m.received.isoformat()),
                         m.sender, address, m.subject, status, m.to_ips.get(address, ""),
                         m.from_ip, str(m.size), m.trace_id, legacy_date(start.isoformat()),
                         legacy_date(end.isoformat())])
    return rows


def _recipient_status(t: Tenant, address: str, status: str) -> str:
    if status != DELIVERED:
        return f"{address}##Receive, Fail"
    inside = address.lower().endswith("@" + t.spec.domain)
    return f"{address}##Receive, {'Deliver' if inside else 'Send'}"


def enhanced_rows(t: Tenant, messages: list[Message]) -> list[list[str]]:
    """The rows of an enhanced summary report (without header), oldest first."""
    rows = []
    for m in sorted(messages, key=lambda m: (m.received, m.message_id)):
        rows.append([m.received.strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(m.network_id[:6], 16) % 10**7:07d}Z",
                     m.sender, ";".join(_recipient_status(t, a, s) for a, s in m.recipients),
                     m.subject[:256], str(m.size), m.message_id, m.network_id, m.from_ip,
                     m.direction, "", "Normal"])
    return rows


def write_v2(t: Tenant, messages: list[Message], path) -> int:
    """Write the ``Get-MessageTraceV2`` CSV; returns its data rows."""
    rows = v2_rows(t, messages)
    with atomic_open(path) as fh:
        fh.write("\ufeff" + "".join(csv_line(r, quote_all=True) for r in [V2_HEADER, *rows]))
    return len(rows)


def write_enhanced(t: Tenant, messages: list[Message], path) -> int:
    """Write the enhanced summary report (UTF-16 LE with BOM); returns its data rows."""
    rows = enhanced_rows(t, messages)
    text = "".join(csv_line(r, quote_all=True) for r in [ENHANCED_HEADER, *rows])
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    tmp.replace(path)
    return len(rows)
