"""Provides the `messages` frame: message trace in any of its shapes (message_shapes.py), one row per (message,
recipient), normalised to `MESSAGE_SCHEMA`.

- Status: a lower-case word. The cmdlets and Graph say it (`delivered`, `failed`, `pending`, `expanded`,
  `quarantined`, `filteredasspam`, `gettingstatus`, ...). The admin center's reports list events instead; the last
  one that says how delivery ended gives the status (DELIVER and SEND: delivered, FAIL and DROP: failed, DEFER:
  pending, EXPAND: expanded, QUARANTINE: quarantined), else the last event in lower case (`receive`). The original
  is in `raw`, the events in `delivery_events`.
- The summary report names every recipient of a message in one row (`address##Receive, Deliver;...`), and the
  extended report's RECEIVE event names them all in `recipient_address`: the reader makes one raw row per
  recipient named, so these reports' rows are counted per recipient (load_report.py says so).
- The extended report has a row per event. The events of one (message, recipient) fold into one row: received when
  the first event was, the final status, the events in time order. Every event row is kept in the accounting: the
  row of the final event is loaded (its text in `raw`), the others count as its duplicates. The file is read as one
  chunk, since a message's events may lie anywhere in it (the admin center keeps these reports small).
- Direction: from the reports' `directionality` (1 or Incoming: inbound; 2 or Originating: outbound, and internal
  where the recipient's events include a DELIVER, a delivery to a mailbox of the tenant). The cmdlets and Graph do
  not say, and nothing in one file tells the tenant's domains soundly (the trace holds partners' mail both ways),
  so their direction is null.
- `record_id`: the message id and the recipient, lower-cased (`<id@host>|bob@contoso.com`): every shape has both,
  so overlapping exports of one trace in several shapes deduplicate; without a message id, `trace:` and the trace
  or network message id; without either, a hash of the row.
"""

from functools import partial
from pathlib import Path
from typing import Iterator

import polars as pl

from workbench.core.normalise import REJECT_SCHEMA, REJECT_TEXT_CHARS, Sorted, per_value
from workbench.core.readers import RawChunk
from workbench.core.schema import MESSAGE_SCHEMA
from workbench.core.sources.exports import (
    ExportShape, _csv_records, _rejects, _with_ids, _with_records, _with_reject_texts, csv_rows_by_span, read_export,
)
from workbench.core.sources.fields import Spec, as_int, finished, lower, paths_of, pick, split_untimed
from workbench.core.sources.json_fields import extract, extract_cells, record_problems
from workbench.core.sources.message_shapes import SUMMARY_TIMES

_FIELDS = ("time", "sender", "recipient", "subject", "status_text", "event", "direction_text", "from_ip",
           "client_ip", "to_ip", "server_ip", "size", "message_id", "message_trace_id", "network_message_id",
           "connector_id", "organization", "organization_id")


def _spec(**paths: tuple[str, ...]) -> Spec:
    return {field: paths.get(field, ()) for field in _FIELDS}


#: Where each dialect keeps each field (the reports' recipients come from the `part` the reader split off).
SPECS: dict[str, Spec] = {
    "cmdlet": _spec(time=("Received",), sender=("SenderAddress",), recipient=("RecipientAddress",), subject=("Subject",),
                    status_text=("Status",), from_ip=("FromIP",), to_ip=("ToIP",), size=("Size",),
                    message_id=("MessageId",), message_trace_id=("MessageTraceId",), organization=("Organization",)),
    "graph-trace": _spec(time=("receivedDateTime",), sender=("senderAddress",), recipient=("recipientAddress",),
                         subject=("subject",), status_text=("status",), from_ip=("fromIP",), to_ip=("toIP",),
                         size=("size",), message_id=("messageId",), message_trace_id=("id",)),
    "eac-summary": _spec(time=SUMMARY_TIMES, sender=("sender_address",), subject=("message_subject",),
                         size=("total_bytes",), message_id=("message_id",), network_message_id=("network_message_id",),
                         from_ip=("original_client_ip",), direction_text=("directionality",),
                         connector_id=("connector_id",)),
    "eac-extended": _spec(time=("date_time_utc",), sender=("sender_address",), subject=("message_subject",),
                          event=("event_id",), size=("total_bytes",), message_id=("message_id",),
                          network_message_id=("network_message_id",), from_ip=("original_client_ip",),
                          client_ip=("client_ip",), server_ip=("server_ip",), direction_text=("directionality",),
                          connector_id=("connector_id",), organization_id=("tenant_id",)),
}
#: The reports' column naming every recipient, split into one raw row each.
_RECIPIENT_LISTS = {"eac-summary": "recipient_status", "eac-extended": "recipient_address"}
#: The status an admin center event ends delivery with (lower-cased event ids).
EVENT_STATUS = {"deliver": "delivered", "send": "delivered", "duplicatedeliver": "delivered", "fail": "failed",
                "drop": "failed", "badmail": "failed", "poisonmessage": "failed", "defer": "pending",
                "expand": "expanded", "quarantine": "quarantined"}
_DIRECTIONS = {"1": "inbound", "incoming": "inbound", "inbound": "inbound",
               "2": "outbound", "originating": "outbound", "outbound": "outbound"}
_ODATA_DATE = r"^\s*/Date\((-?\d+)(?:[+-]\d{4})?\)/\s*$"


def read_messages(path: Path, shape: ExportShape) -> Iterator[RawChunk]:
    """Makers of the raw chunks of the plain file at `path`: JSON as the Entra exports are read, CSV with the
    reports' recipients split one per raw row (the extended report in one chunk)."""
    if shape.container != "csv":
        yield from read_export(path, shape)
        return
    chunks = csv_rows_by_span(path, shape, partial(_csv_rows, dialect=shape.dialect))
    if shape.dialect == "eac-extended":
        yield partial(_joined, list(chunks))
    else:
        yield from chunks


def _joined(makers: list[RawChunk]) -> pl.DataFrame:
    return pl.concat([make() for make in makers], how="diagonal_relaxed")


def _csv_rows(batch: pl.DataFrame, dialect: str) -> pl.DataFrame:
    """A CSV batch as raw rows (exports' `_csv_records`), a report's row once per recipient it names (`part`)."""
    rows = _csv_records(batch)
    column = _RECIPIENT_LISTS.get(dialect)
    if column is None:
        return rows
    parts = (pl.col("cells").struct.field(column).str.split(";")
             .list.eval(pl.element().str.strip_chars().filter(pl.element().str.strip_chars() != "")))
    return rows.with_columns(parts.alias("part")).explode("part")


def _recipients(dialect: str) -> list[pl.Expr]:
    """The recipient (and, in the summary, its events) of a report's raw row from its `part`."""
    if dialect == "eac-extended":
        return [pl.col("part").alias("recipient")]
    pair = pl.col("part").str.splitn("##", 2)
    return [pair.struct.field("field_0").str.strip_chars().alias("recipient"),
            pair.struct.field("field_1").str.strip_chars().alias("delivery_events")]


def _odata_time(column: str) -> pl.Expr:
    """OData v2's `/Date(1676906711000)/` (milliseconds since 1970, UTC) as ISO text; other text as it is."""
    milliseconds = pl.col(column).str.extract(_ODATA_DATE, 1).cast(pl.Int64, strict=False)
    iso = pl.from_epoch(milliseconds, time_unit="ms").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    return pl.when(milliseconds.is_not_null()).then(iso).otherwise(pl.col(column))


#: The last event of a list (`Receive, Deliver`) that says how delivery ended (greedy `.*`: the last one).
_LAST_STATUS_EVENT = rf"(?is)^.*(?:^|,)\s*({'|'.join(sorted(EVENT_STATUS, key=len, reverse=True))})\s*(?:,|$)"


def _status_of_events(events: pl.Series) -> pl.Series:
    """The status each list of events (`Receive, Deliver`) ends with (see the module docstring)."""
    said = events.str.extract(_LAST_STATUS_EVENT, 1).str.to_lowercase().replace_strict(EVENT_STATUS, default=None)
    return said.fill_null(events.str.to_lowercase().str.split(",").list.last().str.strip_chars())


def _fold_events(frame: pl.DataFrame) -> pl.DataFrame:
    """The extended report's event rows, each with the values of its (message, recipient): the final event's row
    first (it is loaded), then the other events' rows (duplicates of it)."""
    group = pl.concat_str([pl.coalesce(lower("network_message_id"), lower("message_id")).fill_null(""),
                           lower("recipient").fill_null("")], separator="|")
    event = pl.col("event").str.strip_chars().str.to_lowercase()
    frame = frame.with_row_index("_i").with_columns(group.alias("_group"), event.alias("_event"),
                                                    event.replace_strict(EVENT_STATUS, default=None).alias("_said"))
    frame = frame.sort("_group", "creation_time", "_i")  # each group's rows in time order
    first_value = [pl.col(name).drop_nulls().first().alias(name)
                   for name in ("sender", "subject", "size", "message_id", "network_message_id", "connector_id",
                                "direction_text", "organization_id")]
    received_from = pl.col("client_ip").filter(pl.col("_event") == "receive").drop_nulls().first()
    folded = frame.group_by("_group", maintain_order=True).agg(
        pl.col("_i").sort_by(pl.col("_said").is_not_null(), "creation_time", "_i").last().alias("_final"),
        pl.col("creation_time").min(),
        pl.col("event").str.strip_chars().str.join(", ").alias("delivery_events"),
        pl.coalesce(pl.col("from_ip").drop_nulls().first(), received_from).alias("from_ip"),
        *first_value,
    )
    final = frame.select(pl.col("_i").alias("_final"), pl.coalesce("_said", "_event").alias("status"),
                         pl.when(pl.col("_event") == "send").then(pl.col("server_ip")).alias("to_ip"))
    folded = folded.join(final, on="_final", how="left")
    kept = frame.drop(*(name for name in folded.columns if name != "_group"), strict=False)
    rows = kept.join(folded, on="_group", how="left").with_columns((pl.col("_i") == pl.col("_final")).alias("_loaded"))
    return rows.sort(pl.col("_loaded").not_(), "_i").drop("_i", "_group", "_event", "_said", "_final", "_loaded")


def _message_id(column: str) -> pl.Expr:
    """The InternetMessageId in angle brackets, as the audit log writes it."""
    text = pl.col(column).str.strip_chars()
    inside = text.str.strip_prefix("<").str.strip_suffix(">")
    return pl.when(text.str.len_bytes() > 0).then(pl.concat_str([pl.lit("<"), inside, pl.lit(">")]))


def _direction(frame: pl.DataFrame) -> pl.Expr:
    said = per_value(frame["direction_text"],
                     lambda text: text.str.strip_chars().str.to_lowercase().replace_strict(_DIRECTIONS, default=None))
    delivered_here = per_value(frame["delivery_events"], lambda events: events.str.contains(
        r"(?i)(?:^|[\s,])deliver(?:$|[\s,])").fill_null(False))
    return pl.when(pl.lit(said == "outbound") & pl.lit(delivered_here)).then(pl.lit("internal")).otherwise(pl.lit(said))


def _record_id() -> pl.Expr:
    recipient = pl.col("recipient_key").fill_null("")
    trace = pl.coalesce("message_trace_id", "network_message_id")
    return (pl.when(pl.col("message_id").is_not_null())
            .then(pl.concat_str([pl.col("message_id").str.to_lowercase(), recipient], separator="|"))
            .when(trace.is_not_null()).then(pl.concat_str([pl.lit("trace:"), trace, pl.lit("|"), recipient])))


def _finish(frame: pl.DataFrame, dialect: str, raw: pl.DataFrame) -> pl.DataFrame:
    """The rows in `MESSAGE_SCHEMA`: status words, addresses and keys, ids, direction, record ids (a row without ids
    by a hash of its record, made from the `raw` rows where the case keeps it by span)."""
    if dialect == "eac-extended":
        frame = _fold_events(frame)
    elif dialect == "eac-summary":
        frame = frame.with_columns(per_value(frame["delivery_events"], _status_of_events).alias("status"))
    else:
        status = per_value(frame["status_text"], lambda text: text.str.strip_chars().str.to_lowercase())
        frame = frame.with_columns(status.alias("status"), pl.lit(None, pl.String).alias("delivery_events"))
    frame = frame.with_columns(
        pl.col("creation_time").alias("received"),
        pl.col("sender").str.strip_chars(), pl.col("recipient").str.strip_chars(),
        pl.col("sender").str.strip_chars().str.to_lowercase().alias("sender_key"),
        pl.col("recipient").str.strip_chars().str.to_lowercase().alias("recipient_key"),
        _message_id("message_id").alias("message_id"),
        lower("message_trace_id").str.strip_chars().alias("message_trace_id"),
        lower("network_message_id").str.strip_chars().alias("network_message_id"),
        lower("organization_id").str.strip_chars().alias("organization_id"),
        as_int("size").alias("size"),
        _direction(frame).alias("direction"),
    )
    frame = _with_ids(frame.with_columns(_record_id().alias("record_id"), pl.col("record").alias("raw")), raw)
    return finished(frame, MESSAGE_SCHEMA, ips={"from_ip": "from_ip", "to_ip": "to_ip"})


def normalise_messages(raw: pl.DataFrame, case: str, source_file: str, shape: ExportShape) -> Sorted:
    """The message trace rows of one raw chunk; rows that are not records or have no readable time are rejected
    with the reason."""
    rejects = [_rejects(raw.filter(pl.col("reader_problem").is_not_null()), pl.col("reader_problem"))]
    rows = raw.filter(pl.col("reader_problem").is_null()).drop("reader_problem")
    spec = SPECS[shape.dialect]
    if "cells" in rows.columns:  # a CSV's rows are split into their fields already
        values = extract_cells(rows["cells"].struct.unnest(), paths_of(spec))
        rows = rows.drop("cells")
    else:
        values = extract(rows["record"], paths_of(spec))
    bad = ~values["is_record"]
    if bad.any():  # Python only for these rows, to say why
        unread = _with_records(rows.filter(bad))
        rejects.append(_rejects(unread, pl.lit(pl.Series(record_problems(unread["record"]), dtype=pl.String))))
        rows, values = rows.filter(~bad), values.filter(~bad)
    context = rows.with_columns(pl.lit(case).alias("case"), pl.lit(source_file).alias("source_file"))
    frame = pl.concat([context, pick(values, spec)], how="horizontal")
    if "part" in frame.columns:
        frame = frame.drop("recipient").with_columns(_recipients(shape.dialect))
    frame, untimed = split_untimed(frame.with_columns(_odata_time("time")), "message trace")
    rejects.append(untimed.with_columns(pl.col("text").str.slice(0, REJECT_TEXT_CHARS)).cast(REJECT_SCHEMA))
    no_warnings = pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String})
    rows = _finish(frame, shape.dialect, raw)
    return Sorted({"messages": rows}, _with_reject_texts(pl.concat(rejects), raw), no_warnings)
