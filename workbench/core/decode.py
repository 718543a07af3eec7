"""Provides decoding of one audit record's nested fields into readable name/value pairs.

Used for the drill-down of a single event and for the readable columns of an export (a bounded
set of chosen events). `Parameters` and `ExtendedProperties` are `[{Name, Value}]` lists or plain
strings; `ModifiedProperties` is `[{Name, OldValue, NewValue}]` with JSON inside the strings, or a
list of property names; `AffectedItems`/`Item` carry mail subjects, folders and attachments.
"""

import json
import re
from typing import Any

#: The events frame's nested-field columns and the AuditData member each comes from.
NESTED_FIELDS = {
    "parameters": "Parameters", "modified_properties": "ModifiedProperties", "affected_items": "AffectedItems",
    "item": "Item", "extended_properties": "ExtendedProperties", "device_properties": "DeviceProperties",
    "target": "Target", "actor": "Actor",
}
_LONE_BACKSLASH = re.compile(r'\\(?![\\"/bfnrtu])')


def loads(text: Any) -> Any:
    """JSON text decoded, or the text itself when it is not JSON (None stays None; decoded values pass through).

    A backslash that starts no JSON escape (`"\\Inbox"`) is read as a literal backslash.
    """
    if not isinstance(text, str):
        return text
    if text == "":
        return None
    try:
        return json.loads(text)
    except ValueError:
        try:
            return json.loads(_LONE_BACKSLASH.sub(r"\\\\", text))
        except ValueError:
            return text


def nested(row: dict, record: Any, column: str) -> Any:
    """A nested field of an event: from the parsed original record when there is one, else the frame's text."""
    if isinstance(record, dict) and NESTED_FIELDS[column] in record:
        return record[NESTED_FIELDS[column]]
    return row.get(column)


def _unwrap(value: Any) -> str:
    """A value as short text; JSON inside a string decoded; one-element lists unwrapped."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{"):
            decoded = loads(stripped)
            if not isinstance(decoded, str):
                return _unwrap(decoded)
        return value
    if isinstance(value, list):
        return ", ".join(_unwrap(v) for v in value)
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def name_values(text: Any) -> list[tuple[str, str]]:
    """`[{Name, Value}]` JSON (Parameters, ExtendedProperties, DeviceProperties) as pairs."""
    data = loads(text)
    if data is None:
        return []
    if isinstance(data, dict):
        return [(str(k), _unwrap(v)) for k, v in data.items()]
    if not isinstance(data, list):
        return [("", _unwrap(data))]
    pairs = []
    for entry in data:
        if isinstance(entry, dict) and "Name" in entry:
            pairs.append((str(entry["Name"]), _unwrap(entry.get("Value"))))
        else:
            pairs.append(("", _unwrap(entry)))
    return pairs


def modified_properties(text: Any) -> list[tuple[str, str, str]]:
    """ModifiedProperties as (name, old, new); plain property names give empty old and new."""
    data = loads(text)
    if data is None:
        return []
    if not isinstance(data, list):
        return [("", "", _unwrap(data))]
    changes = []
    for entry in data:
        if isinstance(entry, dict):
            changes.append((str(entry.get("Name", "")), _unwrap(entry.get("OldValue")), _unwrap(entry.get("NewValue"))))
        else:
            changes.append((_unwrap(entry), "", ""))
    return changes


def _item_lines(item: dict) -> list[tuple[str, str]]:
    lines = []
    for key in ("Subject", "InternetMessageId", "Id"):
        if item.get(key):
            lines.append((key, _unwrap(item[key])))
    folder = item.get("ParentFolder")
    if isinstance(folder, dict) and (folder.get("Path") or folder.get("Name")):
        lines.append(("Folder", _unwrap(folder.get("Path") or folder.get("Name"))))
    if item.get("Attachments"):
        lines.append(("Attachments", _unwrap(item["Attachments"])))
    if item.get("SizeInBytes") is not None:
        lines.append(("Size", _unwrap(item["SizeInBytes"])))
    return lines


def mail_items(affected_items: Any, item: Any) -> list[list[tuple[str, str]]]:
    """The mail items of a record (AffectedItems and Item), each as (field, value) lines."""
    items = []
    for text in (affected_items, item):
        data = loads(text)
        for entry in data if isinstance(data, list) else [data]:
            if isinstance(entry, dict):
                lines = _item_lines(entry)
                if lines:
                    items.append(lines)
    return items


def summary(object_id: str | None, item: Any, affected_items: Any, parameters: Any) -> str:
    """A short description of what an event touched: a subject, an Identity/Name parameter, the object."""
    for lines in mail_items(affected_items, item):
        for key, value in lines:
            if key == "Subject":
                return value
    for name, value in name_values(parameters):
        if name in ("Identity", "Name", "User", "Trustee") and value:
            return f"{name}={value}"
    return object_id or ""


def readable(pairs: list[tuple[str, str]]) -> str:
    """Name/value pairs as one line of text: `Name=Value; Name=Value`."""
    return "; ".join(f"{name}={value}" if name else value for name, value in pairs)


def readable_changes(changes: list[tuple[str, str, str]]) -> str:
    """Modified properties as one line: `Name: old -> new; ...`."""
    return "; ".join(f"{name}: {old} -> {new}" if (old or new) else name for name, old, new in changes)
