"""Provides the step from raw chunks to rows of the events frame, with per-row rejects and warnings.

All work is Polars expressions over the chunk; Python runs per row only to explain a chunk that
holds broken JSON, and per distinct value for IP canonicalisation.
"""

import hashlib
import json
from dataclasses import dataclass
from functools import partial
from typing import Callable

import polars as pl

from workbench.core.apps import first_party_name, normalised_app_id
from workbench.core.alerts import with_alert_fields
from workbench.core.duckjson import decode_texts, lines_match
from workbench.core.ipaddr import normalise_client_ip_column
from workbench.core.jsontext import decode_records
from workbench.core.mail_items import decoded_access_columns
from workbench.core.schema import EVENT_SCHEMA, RECORD_TYPE_IDS, RECORD_TYPES, UTC_TIME

#: UserType names (as Log Analytics' OfficeActivity writes them) by lower-cased name.
USER_TYPE_IDS = {"regular": 0, "reserved": 1, "admin": 2, "dcadmin": 3, "system": 4, "application": 5,
                 "serviceprincipal": 6, "custompolicy": 7, "systempolicy": 8}
REJECT_SCHEMA = {"source_row": pl.Int64, "reason": pl.String, "text": pl.String}
REJECT_TEXT_CHARS = 4000


@dataclass
class Sorted:
    """Rows of one chunk sorted into the case's frames (`events`, `sign_ins`, `directory_audits`), with the rows
    rejected and warnings (loaded but worth saying) of the chunk."""

    rows: dict[str, pl.DataFrame]
    rejects: pl.DataFrame
    warnings: pl.DataFrame


@dataclass
class Normalised:
    """Rows of one chunk: loaded events, rejected rows and warnings (loaded but worth saying)."""

    events: pl.DataFrame
    rejects: pl.DataFrame
    warnings: pl.DataFrame


def _reject_frame(rows: pl.DataFrame, reason: pl.Expr | str) -> pl.DataFrame:
    reason = pl.lit(reason) if isinstance(reason, str) else reason
    return rows.select(
        pl.col("source_row"), reason.alias("reason"), pl.col("audit_data").str.slice(0, REJECT_TEXT_CHARS).alias("text")
    ).cast(REJECT_SCHEMA)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


def _json_problem(text: str) -> str | None:
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as error:
        at = "" if error.msg.endswith(" at") else " at"  # "Unterminated string starting at"
        return f"broken JSON in AuditData: {error.msg}{at} character {error.pos}"
    except ValueError as error:  # NaN, Infinity: Python reads them, JSON (and Polars) does not
        return f"broken JSON in AuditData: {error}"
    except RecursionError:
        return "AuditData nested deeper than the loader reads (about 1,000 levels)"
    return None if isinstance(value, dict) else f"AuditData is a JSON {type(value).__name__}, not an object"


def _native_problem(text: str) -> str | None:
    """Why Polars cannot read `text` as one record, for text that `json` reads."""
    try:
        decode_records(text.encode(), pl.Series([text]))
    except pl.exceptions.PolarsError as error:
        return f"AuditData not readable: {str(error).splitlines()[0]}"
    return None


def _json_lines(text: pl.Series) -> bytes:
    return text.str.join("\n").cast(pl.Binary).item()


def _decode(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Decode AuditData text into the declared text fields; rows that are not JSON objects are rejected."""
    if "Id" in raw.columns:  # the reader already decoded this clean chunk
        return raw, pl.DataFrame(schema=REJECT_SCHEMA)
    rejects = []
    known = raw["reader_problem"].is_not_null()
    if known.any():  # rows the reader could not read as one record, with its reason
        rejects.append(_reject_frame(raw.filter(known), pl.col("reader_problem")))
        raw = raw.filter(~known)
    blank = ~raw["audit_data"].str.contains(r"\S").fill_null(False)
    rejects.append(_reject_frame(raw.filter(blank), "empty AuditData"))
    rows = raw.filter(~blank) if blank.any() else raw
    text = rows["audit_data"]
    if text.str.contains("\n", literal=True).any():
        text = text.str.replace_all(r"[\r\n]", " ")
    fields = decode_texts(text)
    if fields is not None and lines_match(text, fields):
        return rows.hstack(fields), pl.concat(rejects)
    # A chunk Polars cannot read is explained row by row: first by `json`, then (for JSON that `json`
    # reads and Polars does not) by Polars itself.
    for problem_of in (_json_problem, _native_problem):
        try:
            return rows.hstack(decode_records(_json_lines(text), text)), pl.concat(rejects)
        except pl.exceptions.PolarsError:
            problems = pl.Series("reason", [problem_of(value) for value in text.to_list()], dtype=pl.String)
            bad = rows.with_columns(problems)
            rejects.append(_reject_frame(bad.filter(pl.col("reason").is_not_null()), pl.col("reason")))
            rows = bad.filter(pl.col("reason").is_null()).drop("reason")
            text = text.filter(problems.is_null())
    return rows.hstack(decode_records(_json_lines(text), text)), pl.concat(rejects)


def _parse_times(frame: pl.DataFrame, column: str) -> pl.Series:
    """Timestamps of `column` in any observed form; the common ISO forms are tried alone first."""
    text = frame[column]
    for common in ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%.f"):  # the first is parsed much faster
        times = text.str.to_datetime(common, strict=False, time_unit="us")
        if times.null_count() == text.null_count():
            return times.dt.replace_time_zone("UTC")
    return frame.select(parse_time(column)).to_series()


def _creation_times(frame: pl.DataFrame) -> pl.Series:
    """`CreationTime`, else the envelope's time (parsed only where needed)."""
    times = _parse_times(frame, "CreationTime")
    return (times.fill_null(_parse_times(frame, "env_time")) if times.null_count() else times).alias("creation_time")


def parse_time(column: str) -> pl.Expr:
    text = pl.col(column).str.strip_chars(' "\t')
    return pl.coalesce(
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", strict=False, time_unit="us", time_zone="UTC"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us").dt.convert_time_zone("UTC"),
        text.str.to_datetime("%m/%d/%Y %I:%M:%S %p", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        text.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        # Log Analytics' portal export (`TimeGenerated [UTC]`)
        text.str.to_datetime("%m/%d/%Y, %I:%M:%S%.f %p", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
    ).cast(UTC_TIME)


_WS = r"[ \t\r\n]*"
_PLAIN = r'[^"\\\x00-\x1f]*'  # the text of a JSON string without escapes, which is its value


def _entry(name: str, value: str) -> str:
    return rf'\{{{_WS}"Name"{_WS}:{_WS}"{name}"{_WS},{_WS}"Value"{_WS}:{_WS}"{value}"{_WS}\}}'


_PLAIN_LIST = rf"^{_WS}\[{_WS}(?:{_entry(_PLAIN, _PLAIN)}(?:{_WS},{_WS}{_entry(_PLAIN, _PLAIN)})*)?{_WS}\]{_WS}$"


def _name_value(texts: pl.Series, name: str) -> pl.Series:
    """The Value of the `{Name, Value}` entry called `name` in JSON lists held as text.

    A list of plain `{"Name": "..", "Value": ".."}` entries (no escapes) is read with a regex, exactly;
    any other text with `json_path_match`.
    """
    values = texts.str.extract(_entry(name, f"({_PLAIN})"), 1)
    other = ~texts.str.contains(_PLAIN_LIST).fill_null(True)
    if other.any():
        values = values.scatter(other.arg_true(), texts.filter(other).str.json_path_match(f"$[?(@.Name=='{name}')].Value"))
    return values


def per_value(values: pl.Series, work_out: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """What the elementwise `work_out` gives each of `values`, worked out once per distinct value: for a column of few
    values (a status, a list of delivery events, a sign-in's `ExtendedProperties`), where a regex on every row costs
    several times as much."""
    distinct = values.unique()
    return values.replace_strict(distinct, work_out(distinct), default=None)


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.contains(r"\S")).then(expr)


def client_ips(raw: pl.Series) -> pl.Series:
    """Canonical client IPs: the common shapes natively, the rest in Python.

    Native: IPv4 (with or without a port), IPv6 already in canonical form (eight lowercase groups
    without leading zeros and none zero, so nothing to compress), either in brackets with or without
    a port, and IPv4 behind the `::ffff:` mapped prefix.
    """
    octet = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
    group = r"[1-9a-f][0-9a-f]{0,3}"
    address = rf"^(?:{octet}(?:\.{octet}){{3}}|(?:{group}:){{7}}{group})$"
    ported = raw.str.contains(rf"^{octet}(?:\.{octet}){{3}}:\d+$").fill_null(False)
    native = raw.str.contains(address).fill_null(False)
    ips = pl.select(pl.when(native).then(raw)).to_series()
    if ported.any():
        ips = ips.scatter(ported.arg_true(), raw.filter(ported).str.replace(r":\d+$", ""))
    wrapped = ~native & ~ported & (raw.str.starts_with("[") | raw.str.starts_with("::")).fill_null(False)
    if wrapped.any():  # the address inside brackets (`[addr]:port`) or behind `::ffff:`, where it is native
        inner = raw.filter(wrapped).str.replace(r"^\[([^\[\]]*)\](?::\d+)?$", "$1")
        inner = inner.str.replace(r"^(?i:::ffff:)(\d+\.\d+\.\d+\.\d+)$", "$1")
        inner = pl.select(pl.when(inner.str.contains(address)).then(inner)).to_series()
        ips = ips.scatter(wrapped.arg_true(), inner)
    other = raw.is_not_null() & ips.is_null()
    if other.any():
        ips = ips.scatter(other.arg_true(), normalise_client_ip_column(raw.filter(other)))
    return ips.alias("client_ip")


def _record_ids(frame: pl.DataFrame) -> pl.Series:
    """`Id`, else the envelope's id, else a stable SHA-256 of the record text."""
    ids = frame.select(pl.coalesce(_blank_to_null(pl.col("Id")), _blank_to_null(pl.col("env_id")))).to_series()
    if ids.null_count():
        hashed = [
            None if value is not None else "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]
            for value, text in zip(ids.to_list(), frame["audit_data"].to_list())
        ]
        ids = ids.fill_null(pl.Series(hashed, dtype=pl.String))
    return ids.str.to_lowercase().alias("record_id")


def normalise(raw: pl.DataFrame, case: str, source_file: str) -> Normalised:
    """Turn one raw chunk into events-frame rows, rejects and warnings."""
    decoded, rejects = _decode(raw)
    record_type_text = pl.coalesce(_blank_to_null(pl.col("RecordType")), _blank_to_null(pl.col("env_record_type")))
    frame = decoded.with_columns(
        _record_ids(decoded),
        _creation_times(decoded),
        pl.coalesce(_blank_to_null(pl.col("Operation")), _blank_to_null(pl.col("env_operation"))).alias("operation"),
        pl.coalesce(
            record_type_text.cast(pl.Int64, strict=False),
            record_type_text.str.to_lowercase().replace_strict(RECORD_TYPE_IDS, default=None, return_dtype=pl.Int64),
        ).alias("record_type"),
        record_type_text.alias("record_type_text"),
    )
    bad_type = pl.col("record_type").is_null() & pl.col("record_type_text").is_not_null()
    bad = frame.select(pl.col("creation_time").is_null() | pl.col("operation").is_null() | bad_type).to_series()
    if bad.any():  # the reasons are worded (and the chunk filtered, a copy) only when needed
        time_text = pl.coalesce(_blank_to_null(pl.col("CreationTime")), _blank_to_null(pl.col("env_time")))
        problem = (
            pl.when(pl.col("creation_time").is_null() & time_text.is_null())
            .then(pl.lit("missing CreationTime"))
            .when(pl.col("creation_time").is_null())
            .then(pl.format("unreadable CreationTime {}", time_text))
            .when(pl.col("operation").is_null())
            .then(pl.lit("missing Operation"))
            .otherwise(pl.format("RecordType {} is not a record type number", pl.col("record_type_text")))
        )
        rejects = pl.concat([rejects, _reject_frame(frame.filter(bad), problem)])
        frame = frame.filter(~bad)

    frame = frame.with_columns(  # looked up once here: blank checks read a value twice
        per_value(frame["ExtendedProperties"], partial(_name_value, name="UserAgent")).alias("extended_user_agent"),
        _name_value(frame["DeviceProperties"], "SessionId").alias("device_session_id"),
    )
    client_ip_raw = pl.coalesce(
        *(_blank_to_null(pl.col(name)) for name in ("ClientIP", "ClientIPAddress", "ActorIpAddress", "env_client_ip"))
    )
    frame = with_alert_fields(frame.with_columns(
        pl.coalesce(_blank_to_null(pl.col("UserId")), _blank_to_null(pl.col("env_user"))).alias("user_id"),
        client_ip_raw.alias("client_ip_raw"),
    ))
    events = frame.with_columns(
        pl.coalesce(_blank_to_null(pl.col("Workload")), pl.col("env_workload")).alias("workload"),
        pl.col("record_type").replace_strict(RECORD_TYPES, default=None, return_dtype=pl.String).alias("record_type_name"),
        pl.col("user_id").str.to_lowercase().alias("user_key"),
        pl.coalesce(pl.col("UserType").cast(pl.Int64, strict=False),
                    pl.col("UserType").str.to_lowercase().replace_strict(USER_TYPE_IDS, default=None, return_dtype=pl.Int64),
                    ).alias("user_type"),
        client_ips(frame["client_ip_raw"]),
        pl.col("ResultStatus").alias("result_status"),
        pl.coalesce(_blank_to_null(pl.col("ObjectId")), pl.col("env_object_id")).alias("object_id"),
        pl.col("MailboxOwnerUPN").alias("mailbox_owner_upn"),
        pl.col("Target").alias("target"),
        pl.col("Parameters").alias("parameters"),
        pl.col("ModifiedProperties").alias("modified_properties"),
        pl.col("AffectedItems").alias("affected_items"),
        pl.col("Item").alias("item"),
        pl.col("ExtendedProperties").alias("extended_properties"),
        pl.col("DeviceProperties").alias("device_properties"),
        pl.col("Actor").alias("actor"),
        _blank_to_null(pl.col("LogonError")).alias("logon_error"),
        _blank_to_null(pl.col("ErrorNumber")).alias("error_number"),
        pl.coalesce(
            *(_blank_to_null(pl.col(name)) for name in ("extended_user_agent", "ClientInfoString", "UserAgent"))
        ).alias("user_agent"),
        pl.coalesce(
            _blank_to_null(pl.col("AppAccessContext").struct.field("AADSessionId")),
            _blank_to_null(pl.col("device_session_id")),
            _blank_to_null(pl.col("SessionId")),
        ).alias("session_id"),
        normalised_app_id(pl.coalesce(pl.when(pl.col("AppId").str.len_bytes() > 0).then(pl.col("AppId")),
                                      pl.col("ApplicationId"))).alias("app_id"),
        normalised_app_id(pl.col("ClientAppId")).alias("client_app_id"),
        pl.col("OrganizationId").str.to_lowercase().alias("organization_id"),
        pl.lit(case, pl.String).alias("case"),
        pl.lit(source_file, pl.String).alias("source_file"),
    )
    events = events.with_columns(first_party_name(pl.col("app_id")).alias("app_name"),
                                 first_party_name(pl.col("client_app_id")).alias("client_app_name"))
    if "throttled" not in events.columns:  # decoded with the fields (duckjson.py) unless DuckDB could not read them
        events = events.hstack(decoded_access_columns(events["audit_data"]))
    events = events.select(*EVENT_SCHEMA).cast(EVENT_SCHEMA)
    warnings = events.filter(pl.col("record_type").is_not_null() & pl.col("record_type_name").is_null()).select(
        "source_row", pl.format("unknown RecordType {}: loaded, type name unknown", pl.col("record_type")).alias("reason")
    )
    return Normalised(events, rejects, warnings)
