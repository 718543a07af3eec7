"""Provides the activity projection (DESIGN §2b): every frame of a case as rows of one shape, for the views that
span sources (events list, pivots, timeline, correlate, IOC sweep, marks, export).

The rows have the events frame's columns (without `audit_data`), `source` (`ual`, `signin`, `audit`, `message`), `app` (the
application readable for every source: its name, else its id; a directory audit's initiating app) and a
sign-in's type, client app, ASN, country and status code. A
sign-in's operation says its kind (`SignIn`, `NonInteractiveSignIn`, ...), its result is its status kind
(success, failure, interrupt) and its object the decoded status (unless a success) and the app; a directory
audit's operation is its activity, its object the targets. A message trace row (one message to one recipient) is
`message <status>` by its sender (`user_key`) from its `from_ip`, at the time it was received, its object the
recipient and subject, its workload `MessageTrace`. Hunts keep reading the `ual` rows (the events frame) only.
"""

import polars as pl

from workbench.core.apps import first_party_name, normalised_app_id
from workbench.core.schema import EVENT_SCHEMA

#: `source` of each frame's rows.
SOURCES = {"events": "ual", "sign_ins": "signin", "directory_audits": "audit", "messages": "message"}
#: The events' columns (without `audit_data`), `source`, the readable `app`, and what a sign-in says of how it came in
#: (null elsewhere).
ACTIVITY_SCHEMA = {name: dtype for name, dtype in EVENT_SCHEMA.items() if name != "audit_data"} | {
    "source": pl.String(), "sign_in_type": pl.String(), "app": pl.String(), "client_app": pl.String(),
    "asn": pl.Int64(), "country": pl.String(), "status_code": pl.Int64()}
#: The events' nested columns only the drill-down shows, and from the record once it is read: the events view leaves
#: them out of the frame it holds (`view_rows`): 14 bytes of 68 an event in the story mix.
DRILL_DOWN_ONLY = ("extended_properties", "device_properties", "operation_count", "throttled", "logon_error", "actor")
#: The activity's text columns whose values are mostly distinct (ids, a record's nested JSON): the events view holds
#: them as text, and its other text columns as categoricals (`view_rows`).
MOSTLY_DISTINCT = ("record_id", "parameters", "modified_properties", "affected_items", "item")
SIGN_IN_OPERATIONS = {"interactive": "SignIn", "non_interactive": "NonInteractiveSignIn",
                      "service_principal": "ServicePrincipalSignIn", "managed_identity": "ManagedIdentitySignIn"}
ENTRA = "AzureActiveDirectory"
MESSAGE_TRACE = "MessageTrace"


def _sign_in_rows(sign_ins: pl.LazyFrame) -> pl.LazyFrame:
    app_id = normalised_app_id(pl.col("app_id"))
    status = pl.when(pl.col("status_code") != 0).then(pl.format("{} {}", pl.col("status_code"), pl.col("status_meaning")))
    return sign_ins.select(
        "record_id", "creation_time",
        pl.col("sign_in_type").replace_strict(SIGN_IN_OPERATIONS, default="SignIn").alias("operation"),
        pl.lit(ENTRA).alias("workload"), pl.lit("SignIn").alias("record_type_name"),
        pl.coalesce("user_principal_name", "service_principal").alias("user_id"), "user_key",
        "client_ip", "client_ip_raw", pl.col("status_kind").alias("result_status"),
        pl.concat_str([status, pl.col("app_name")], separator=" · ", ignore_nulls=True).alias("object_id"),
        "user_agent", "session_id", app_id.alias("app_id"),
        pl.coalesce("app_name", first_party_name(app_id)).alias("app_name"),
        "organization_id", "case", "source_file", "source_row",
        pl.lit(SOURCES["sign_ins"]).alias("source"), "sign_in_type", "client_app", "asn", "country", "status_code",
    )


def _directory_audit_rows(audits: pl.LazyFrame) -> pl.LazyFrame:
    return audits.select(
        "record_id", "creation_time", pl.col("activity").alias("operation"), pl.lit(ENTRA).alias("workload"),
        pl.lit("DirectoryAudit").alias("record_type_name"),
        pl.coalesce("initiator_user", "initiator_app").alias("user_id"), "user_key", "client_ip", "client_ip_raw",
        pl.col("result").alias("result_status"), pl.col("target_names").alias("object_id"),
        pl.col("targets").alias("target"), "modified_properties", "organization_id", "case", "source_file",
        "source_row", pl.lit(SOURCES["directory_audits"]).alias("source"), pl.col("initiator_app").alias("app"),
    )


def _message_rows(messages: pl.LazyFrame) -> pl.LazyFrame:
    return messages.select(
        "record_id", pl.col("received").alias("creation_time"),
        pl.concat_str([pl.lit("message"), pl.col("status")], separator=" ", ignore_nulls=True).alias("operation"),
        pl.lit(MESSAGE_TRACE).alias("workload"), pl.lit(MESSAGE_TRACE).alias("record_type_name"),
        pl.col("sender").alias("user_id"), pl.col("sender_key").alias("user_key"),
        pl.col("from_ip").alias("client_ip"), pl.col("from_ip").alias("client_ip_raw"),
        pl.col("status").alias("result_status"),
        pl.concat_str([pl.col("recipient"), pl.col("subject")], separator=" · ", ignore_nulls=True).alias("object_id"),
        "organization_id", "case", "source_file", "source_row", pl.lit(SOURCES["messages"]).alias("source"),
    )


def activity(events: pl.LazyFrame, sign_ins: pl.LazyFrame | None, directory_audits: pl.LazyFrame | None,
             messages: pl.LazyFrame | None = None, ordered: bool = True) -> pl.LazyFrame:
    """The rows of every frame in the activity shape, in time order (ties in input order, events first); unless
    not `ordered`: then by frame, each in its input order (for a caller that orders them itself). A frame given as
    None (a case without one) is left out: the columns only other frames fill stay literal nulls, which take no
    memory."""
    parts = [events.drop("audit_data", strict=False).with_columns(pl.lit(SOURCES["events"]).alias("source"))]
    parts += [rows(frame) for rows, frame in ((_sign_in_rows, sign_ins), (_directory_audit_rows, directory_audits),
                                              (_message_rows, messages)) if frame is not None]
    parts = [part.with_columns(pl.lit(None, dtype).alias(name) for name, dtype in ACTIVITY_SCHEMA.items()
                               if name not in part.collect_schema()).select(list(ACTIVITY_SCHEMA)) for part in parts]
    rows = (pl.concat(parts, how="vertical_relaxed") if len(parts) > 1 else parts[0]).with_columns(
        pl.coalesce("app", "app_name", "app_id").alias("app"))
    rows = rows.cast(ACTIVITY_SCHEMA)
    return rows.sort("creation_time", maintain_order=True) if ordered else rows


def frame_of(row: dict) -> str:
    """The frame an activity row comes from."""
    return {source: frame for frame, source in SOURCES.items()}.get(row.get("source") or "ual", "events")


def audit_log_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The unified audit log's rows of an activity frame (what hunts read); an events frame as it is."""
    return frame.filter(pl.col("source") == SOURCES["events"]) if "source" in frame.columns else frame


def view_rows(rows: pl.LazyFrame) -> pl.LazyFrame:
    """The activity `rows` as the events view holds them: without `DRILL_DOWN_ONLY`, and the text columns whose values
    repeat (users, operations, targets, addresses, files) as categoricals, 4 bytes a row and each value once rather
    than a 16-byte view a row and its text (10M directory events: 6.8 -> 4.2 GB, bench/README.md)."""
    kept = rows.drop(DRILL_DOWN_ONLY)
    repeated = [name for name, dtype in kept.collect_schema().items()
                if dtype == pl.String and name not in MOSTLY_DISTINCT]
    return kept.with_columns(pl.col(repeated).cast(pl.Categorical))
