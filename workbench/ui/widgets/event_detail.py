"""Provides `EventDetail`: one event decoded for reading, and `detail_text` that builds it as inert text.

Key fields; Parameters as Name -> Value; ModifiedProperties as Name: Old -> New; mail items with
subject, folder and attachments; ExtendedProperties and DeviceProperties; hunt hits; the client IP's
enrichment; then the whole
record as pretty JSON. All log text goes through `visible` into `rich.text.Text`, never markup.
"""

import json

import polars as pl
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.core import decode
from workbench.core.inert import visible

KEY_FIELDS = (
    ("time (UTC)", "creation_time"), ("user", "user_id"), ("operation", "operation"),
    ("workload", "workload"), ("record type", "record_type_name"), ("result", "result_status"),
    ("client IP", "client_ip_raw"), ("object", "object_id"), ("mailbox owner", "mailbox_owner_upn"),
    ("user agent", "user_agent"), ("session", "session_id"), ("tenant", "organization_id"),
    ("record id", "record_id"), ("source", "source_file"),
)


def _section(text: Text, title: str) -> None:
    text.append(f"\n{title}\n", style="bold underline")


def _pair(text: Text, name: str, value: str, arrow: str = ": ") -> None:
    text.append("  ")
    text.append(visible(name), style="bold")
    text.append(arrow)
    text.append(visible(value))
    text.append("\n")


def pretty_record(record: object, audit_data: str | None) -> str:
    """The original record as indented JSON (the text as stored when it is not JSON)."""
    if isinstance(record, (dict, list)):
        return json.dumps(record, indent=2, ensure_ascii=False)
    return audit_data or ""


def detail_text(row: dict, audit_data: str | None, note: str | None = None, tags: list[str] | None = None,
                hits: pl.DataFrame | None = None, marked: bool = False, ip_info: dict | None = None) -> Text:
    """The drill-down of one event as inert rich text (nested fields from the original record once it is read).

    `ip_info` is the enrichment row (DESIGN §4 `enrich` columns) of the event's client IP, when known.
    """
    record = decode.loads(audit_data)
    text = Text()
    for label, column in KEY_FIELDS:
        value = row.get(column)
        if value is None or value == "":
            continue
        if column == "creation_time":
            value = value.strftime("%Y-%m-%d %H:%M:%S")
        if column == "source_file":
            value = f"{value}:{row.get('source_row')}"
        _pair(text, label, str(value))
    if marked or note or tags:
        _section(text, "Analyst")
        if marked:
            _pair(text, "marked", "yes")
        if note:
            _pair(text, "note", note)
        if tags:
            _pair(text, "tags", ", ".join(tags))
    if hits is not None and hits.height:
        _section(text, "Hunt hits")
        for hit in hits.iter_rows(named=True):  # the few hits of one event
            _pair(text, str(hit.get("hunt_id", "")), f"{hit.get('technique_id', '')} {hit.get('title', '')}".strip())
    if ip_info is not None:
        _enrichment_section(text, ip_info)
    parameters = decode.name_values(decode.nested(row, record, "parameters"))
    if parameters:
        _section(text, "Parameters")
        for name, value in parameters:
            _pair(text, name, value, " -> ")
    changes = decode.modified_properties(decode.nested(row, record, "modified_properties"))
    if changes:
        _section(text, "ModifiedProperties")
        for name, old, new in changes:
            if old or new:
                _pair(text, name, f"{old or '(empty)'} -> {new or '(empty)'}")
            else:
                text.append("  " + visible(name) + "\n")
    for index, item in enumerate(decode.mail_items(decode.nested(row, record, "affected_items"), decode.nested(row, record, "item")), 1):
        _section(text, f"Mail item {index}")
        for name, value in item:
            _pair(text, name, value)
    for title, column, decoder in (("ExtendedProperties", "extended_properties", decode.name_values),
                                   ("DeviceProperties", "device_properties", decode.name_values),
                                   ("Target", "target", _entries), ("Actor", "actor", _entries)):
        value = decode.nested(row, record, column)
        pairs = decoder(value) if value else []
        if pairs:
            _section(text, title)
            for name, value in pairs:
                _pair(text, name, value)
    _section(text, "Record")
    text.append(visible(pretty_record(record, audit_data), keep_newlines=True) if audit_data else "(loading…)")
    return text


def _enrichment_section(text: Text, info: dict) -> None:
    """ASN, org, country, abuse score, usage type, hosting and its reasons of the client IP (the fields known)."""
    _section(text, "Client IP enrichment")
    for label, column in (("ASN", "asn"), ("org", "org"), ("country", "country"), ("abuse score", "abuse_score"),
                          ("usage type", "usage_type")):
        if info.get(column) is not None:
            _pair(text, label, str(info[column]))
    hosting = info.get("hosting")
    _pair(text, "hosting", "unknown" if hosting is None else "yes" if hosting else "no")
    for reason in info.get("reasons") or ():
        _pair(text, "reason", reason)


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
