"""Provides `EventDetail`: one event decoded for reading, and `detail_text` that builds it as inert text.

Key fields; Parameters as Name -> Value; ModifiedProperties as Name: Old -> New; mail items with
subject, folder and attachments; ExtendedProperties and DeviceProperties; hunt hits; the client IP's
enrichment; then the whole
record as pretty JSON. All log text goes through `visible` into `rich.text.Text`, never markup.

The record is read and shrunk off the UI thread (`read_record`): every value shown is cut to a display
limit with the size of the rest stated, nesting is capped, so a 50 MB field costs what a small one does.
"""

import json
from dataclasses import dataclass
from typing import Any, Callable

import polars as pl
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from enrich.geo import geo_asn_text, place_text
from workbench.core import bounded, decode
from workbench.core.alert_detail import alert_lines
from workbench.core.inert import visible
from workbench.core.signin_status import status_words
from workbench.ui.widgets.detail_lines import pair, section, value
from workbench.ui.widgets.source_detail import source_sections

#: Application id columns of the key fields and the column of their first-party names (apps.py).
APP_NAMES = {"app_id": "app_name", "client_app_id": "client_app_name"}
#: A record longer than this (characters) has its long strings cut in the text before it is decoded.
CUT_BEFORE_DECODING = 256_000
#: A nested field of the events frame longer than this is not decoded while the record is being read.
ROW_FIELD_LIMIT = 64_000
#: Characters of one decoded value shown: its strings are cut already (one per list item, joined), so this only
#: bounds a line made of many of them.
DECODED_LIMIT = 4 * bounded.VALUE_LIMIT

KEY_FIELDS = (
    ("time (UTC)", "creation_time"), ("user", "user_id"), ("operation", "operation"),
    ("workload", "workload"), ("record type", "record_type_name"), ("result", "result_status"),
    ("client IP", "client_ip_raw"), ("object", "object_id"), ("mailbox owner", "mailbox_owner_upn"),
    ("user agent", "user_agent"), ("session", "session_id"), ("app", "app_id"), ("client app", "client_app_id"),
    ("tenant", "organization_id"),
    ("record id", "record_id"), ("log", "source"), ("source", "source_file"),
)


@dataclass(frozen=True)
class ReadRecord:
    """An event's original record as read from the case: the whole text, and a decoded form small enough to show."""

    record_id: str
    text: str | None  # as stored; None when the case holds no record for the event
    shown: Any  # decoded with nesting capped, long strings and lists cut (the cut text itself when not JSON)
    size: int  # bytes of `text`
    cut: bool  # whether `shown` leaves anything out
    #: A sign-in's or directory audit's row in its own frame (decoded fields), None for an audit log record.
    fields: dict | None = None


def read_record(record_id: str, text: str | None, fields: dict | None = None) -> ReadRecord:
    """The record `text` of event `record_id` decoded and shrunk for the drill-down (with a sign-in's or directory
    audit's decoded `fields`).

    Run it off the UI thread: a record may be 100 MB.
    """
    if text is None:
        return ReadRecord(record_id, None, None, 0, False)
    small, cut = bounded.cut_json_strings(text) if len(text) > CUT_BEFORE_DECODING else (text, False)
    shrunk = bounded.shrink(decode.loads(small))
    return ReadRecord(record_id, text, shrunk.data, bounded.text_size(text), cut or shrunk.cut, fields)


def pretty_record(record: ReadRecord) -> str:
    """The record as indented JSON (its text when it is not JSON), as shrunk for display."""
    if isinstance(record.shown, (dict, list)):
        return json.dumps(record.shown, indent=2, ensure_ascii=False)
    return str(record.shown or "")


def _row_field(row: dict, column: str) -> Any:
    """A nested field from the events frame, while the record is read: a huge one cut (not decoded, not measured)."""
    value = row.get(column)
    if isinstance(value, str) and len(value) > ROW_FIELD_LIMIT:
        return value[: bounded.VALUE_LIMIT] + " …"
    return value


def _logon_status(row: dict, decoded: Any) -> str | None:
    """An Entra ID logon record's ErrorNumber in words (the sign-in status table's kind and meaning: an interrupt is
    not a failure), with its LogonError; from the row's columns, else from the record once it is read."""
    record = decoded if isinstance(decoded, dict) else {}
    number = str(row.get("error_number") or record.get("ErrorNumber") or "").strip()
    if not number.isdigit():
        return None
    error = row.get("logon_error") or record.get("LogonError")
    return status_words(int(number)) + (f" ({error})" if error else "")


def detail_text(row: dict, record: ReadRecord | None, note: str | None = None, tags: list[str] | None = None,
                hits: pl.DataFrame | None = None, marked: bool = False, ip_info: dict | None = None,
                tenant_domain: str | None = None) -> Text:
    """The drill-down of one event as inert rich text (nested fields from the original record once it is read).

    `ip_info` is the enrichment row (DESIGN §4 `enrich` columns) of the event's client IP, when known;
    `tenant_domain` the domain its tenant is named by.
    """
    decoded = record.shown if record is not None else None
    fields = {column: _row_field(row, column) for column in decode.NESTED_FIELDS}

    def field(column: str) -> Any:
        return decode.nested(fields, decoded, column)

    text = Text()
    if record is not None and record.cut:
        text.append(f"Record of {bounded.human_size(record.size)}: long values are cut (… more). In the full-screen "
                    "view (Enter): r pages through the whole record, w writes it to a file.\n", style="bold italic")
    for label, column in KEY_FIELDS:
        shown = row.get(column)
        if shown is None or shown == "" or (column == "source" and shown == "ual"):
            continue
        if column == "creation_time":
            shown = shown.strftime("%Y-%m-%d %H:%M:%S")
        if column == "source_file":
            shown = f"{shown}:{row.get('source_row')}"
        if column == "organization_id" and tenant_domain:
            shown = f"{tenant_domain} ({shown})"
        if column in APP_NAMES:
            if row.get("source", "ual") != "ual":  # a sign-in's section names its app
                continue
            shown = _app(row.get(APP_NAMES[column]), shown)
        pair(text, label, str(shown))
        if column == "result_status" and (status := _logon_status(row, decoded)):
            pair(text, "logon status", status)
    if marked or note or tags:
        section(text, "Analyst")
        if marked:
            pair(text, "marked", "yes")
        if note:
            pair(text, "note", note)
        if tags:
            pair(text, "tags", ", ".join(tags))
    if hits is not None and hits.height:
        section(text, "Hunt hits")
        for hit in hits.iter_rows(named=True):  # the few hits of one event
            techniques = ", ".join(one["technique_id"] for one in hit.get("techniques") or []) or hit.get("technique_id", "")
            pair(text, str(hit.get("hunt_id", "")), f"{techniques} {hit.get('title', '')}".strip())
            if hit.get("why"):
                pair(text, "  why", hit["why"])
    if ip_info is not None:
        _enrichment_section(text, ip_info)
    if row.get("source", "ual") != "ual":
        if record is not None and record.fields is not None:
            source_sections(text, row["source"], record.fields)
    else:
        _audit_log_sections(text, field, decoded)
    section(text, "Record")
    if record is None:
        text.append("(loading…)")
    else:
        text.append(visible(pretty_record(record), keep_newlines=True) if record.text else "(not in the case)")
    return text


def _app(name: str | None, app_id: str) -> str:
    """An application as `name (id)`, or the id of one the first-party table does not name."""
    return f"{name} ({app_id})" if name else f"{app_id} (not in the first-party table)"


def _audit_log_sections(text: Text, field: Callable[[str], Any], record: Any) -> None:
    """Parameters, ModifiedProperties, mailbox access, mail items and the other nested fields of an audit log record
    (`record`: the original record, once read)."""
    alert = alert_lines(record)
    if alert:  # its Parameters are the alert's fields the loader wrote there: shown here instead
        section(text, "Microsoft alert")
        for name, shown in alert:
            pair(text, name, shown, limit=DECODED_LIMIT)
    parameters = decode.name_values(field("parameters")) if not alert else []
    if parameters:
        section(text, "Parameters")
        for name, shown in parameters:
            pair(text, name, shown, " -> ", DECODED_LIMIT)
    changes = decode.modified_properties(field("modified_properties"))
    if changes:
        section(text, "ModifiedProperties")
        for name, old, new in changes:
            if old or new:
                pair(text, name, f"{old or '(empty)'} -> {new or '(empty)'}", limit=DECODED_LIMIT)
            else:
                text.append("  ")
                value(text, name, DECODED_LIMIT)
                text.append("\n")
    access = decode.mail_access(record)
    if access:
        section(text, "Mailbox access")
        for name, shown in access:
            pair(text, name, shown, limit=DECODED_LIMIT)
    for index, item in enumerate(decode.mail_items(field("affected_items"), field("item")), 1):
        section(text, f"Mail item {index}")
        for name, shown in item:
            pair(text, name, shown, limit=DECODED_LIMIT)
    for title, column, decoder in (("ExtendedProperties", "extended_properties", decode.name_values),
                                   ("DeviceProperties", "device_properties", decode.name_values),
                                   ("Target", "target", _entries), ("Actor", "actor", _entries)):
        nested = field(column)
        pairs = decoder(nested) if nested else []
        if pairs:
            section(text, title)
            for name, shown in pairs:
                pair(text, name, shown, limit=DECODED_LIMIT)


def _enrichment_section(text: Text, info: dict) -> None:
    """ASN, org, country, abuse score, usage type, hosting and its reasons of the client IP, and where the offline
    geolocation database places it (the fields known; RDAP's ASN and the database's apart)."""
    section(text, "Client IP enrichment")
    for label, column in (("ASN (RDAP)", "asn"), ("org", "org"), ("country", "country"), ("abuse score", "abuse_score"),
                          ("usage type", "usage_type")):
        if info.get(column) is not None:
            pair(text, label, str(info[column]))
    for label, shown in (("location (geo db)", place_text(info)), ("ASN (geo db)", geo_asn_text(info))):
        if shown is not None:
            pair(text, label, shown)
    hosting = info.get("hosting")
    pair(text, "hosting", "unknown" if hosting is None else "yes" if hosting else "no")
    for reason in info.get("reasons") or ():
        pair(text, "reason", reason)


def _entries(text: object) -> list[tuple[str, str]]:
    """Target/Actor lists `[{ID, Type}]` as (type, id) pairs."""
    data = decode.loads(text)
    if isinstance(data, list):
        return [(str(e.get("Type", "")), str(e.get("ID", ""))) if isinstance(e, dict) else ("", str(e)) for e in data]
    return [("", str(data))]


class EventDetail(VerticalScroll, can_focus=True):
    """A scrollable pane showing one event's drill-down."""

    DEFAULT_CSS = """
    EventDetail { padding: 0 1; scrollbar-size-vertical: 1; }
    EventDetail > Static { width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = Text("No event selected.")

    def compose(self):
        yield Static(self.text, id="detail-body")

    def show_text(self, text: Text) -> None:
        """Replace the content (already made inert)."""
        self.text = text
        self.query_one("#detail-body", Static).update(text)
