"""Provides decoding of one audit record's nested fields into readable name/value pairs.

Used for the drill-down of a single event and for the readable columns of an export (a bounded
set of chosen events). `Parameters` and `ExtendedProperties` are `[{Name, Value}]` lists or plain
strings; `ModifiedProperties` is `[{Name, OldValue, NewValue}]` with JSON inside the strings, or a
list of property names; `AffectedItems`/`Item` carry mail subjects, folders and attachments.

Nesting is decoded `DEPTH_LIMIT` levels deep; a deeper part becomes the text `… nested 936 levels
deeper (9.4 KB)`, so no hostile depth makes a reader recurse past Python's limit.
"""

import json
import re
from typing import Any

from workbench.core.bounded import human_size, text_size

#: The events frame's nested-field columns and the AuditData member each comes from.
NESTED_FIELDS = {
    "parameters": "Parameters", "modified_properties": "ModifiedProperties", "affected_items": "AffectedItems",
    "item": "Item", "extended_properties": "ExtendedProperties", "device_properties": "DeviceProperties",
    "target": "Target", "actor": "Actor",
}
_LONE_BACKSLASH = re.compile(r'\\(?![\\"/bfnrtu])')
#: Levels of arrays and objects decoded; a part nested deeper is replaced by a notice of its depth and size.
DEPTH_LIMIT = 64
#: A JSON string (skipped whole) or a bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


def loads(text: Any) -> Any:
    """JSON text decoded, or the text itself when it is not JSON (None stays None; decoded values pass through).

    A backslash that starts no JSON escape (`"\\Inbox"`) is read as a literal backslash. Arrays and
    objects nested deeper than `DEPTH_LIMIT` levels are replaced by a notice (`deeper`).
    """
    if not isinstance(text, str):
        return text
    if text == "":
        return None
    try:
        return _parse(text)
    except (ValueError, RecursionError):
        try:
            return _parse(_LONE_BACKSLASH.sub(r"\\\\", text))
        except (ValueError, RecursionError):
            return text


def deeper(levels: int, size: int) -> str:
    """The notice standing for a part nested too deep: `… nested 936 levels deeper (9.4 KB)`."""
    return f"… nested {levels:,} level{'' if levels == 1 else 's'} deeper ({human_size(size)})"


def _parse(text: str) -> Any:
    """`json.loads` with nesting past `DEPTH_LIMIT` replaced by a notice; past Python's own limit, cut in the text."""
    if text.count("[") + text.count("{") <= DEPTH_LIMIT:
        return json.loads(text)
    try:
        return _capped(json.loads(text), 0)
    except RecursionError:
        return json.loads(_flattened(text))


def nesting_depth(text: str) -> int:
    """How many levels of arrays and objects JSON `text` nests at its deepest (brackets inside strings ignored)."""
    depth = deepest = 0
    for match in _TOKEN.finditer(text):
        bracket = text[match.start()]
        if bracket in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif bracket in "]}":
            depth -= 1
    return deepest


def _capped(value: Any, depth: int) -> Any:
    """Decoded `value` with every array or object at level `DEPTH_LIMIT` replaced by its notice."""
    if not isinstance(value, (list, dict)):
        return value
    if depth == DEPTH_LIMIT:
        return deeper(*_extent(value))
    if isinstance(value, list):
        return [_capped(item, depth + 1) for item in value]
    return {key: _capped(item, depth + 1) for key, item in value.items()}


def _extent(value: Any) -> tuple[int, int]:
    """Levels of nesting in `value` and the size in bytes of its compact JSON text, found without recursion."""
    levels, size, stack = 0, 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            levels = max(levels, level)
            size += 2 + max(0, 2 * len(item) - 1) + sum(_json_size(key) for key in item)
            stack.extend((member, level + 1) for member in item.values())
        elif isinstance(item, list):
            levels = max(levels, level)
            size += 2 + max(0, len(item) - 1)
            stack.extend((member, level + 1) for member in item)
        else:
            size += _json_size(item)
    return levels, size


def _json_size(scalar: Any) -> int:
    return text_size(json.dumps(scalar, ensure_ascii=False))


def _flattened(text: str) -> str:
    """JSON text with every array or object at level `DEPTH_LIMIT` replaced by its notice (as a JSON string)."""
    parts, depth, start, deepest, done = [], 0, 0, 0, 0
    for match in _TOKEN.finditer(text):
        bracket = text[match.start()]
        if bracket in "[{":
            depth += 1
            if depth == DEPTH_LIMIT + 1:
                start, deepest = match.start(), depth
            deepest = max(deepest, depth)
        elif bracket in "]}":
            if depth == DEPTH_LIMIT + 1:
                size = text_size(text[start:match.end()])
                parts += [text[done:start], json.dumps(deeper(deepest - DEPTH_LIMIT, size))]
                done = match.end()
            depth -= 1
    return "".join(parts) + text[done:]


def nested(row: dict, record: Any, column: str) -> Any:
    """A nested field of an event: from the parsed original record when there is one, else the frame's text."""
    if isinstance(record, dict) and NESTED_FIELDS[column] in record:
        return record[NESTED_FIELDS[column]]
    return row.get(column)


def _unwrap(value: Any, depth: int = 0) -> str:
    """A value as short text; JSON inside a string decoded (within `DEPTH_LIMIT` levels); lists joined."""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("[", "{") and depth < DEPTH_LIMIT:
            decoded = loads(stripped)
            if not isinstance(decoded, str):
                return _unwrap(decoded, depth + 1)
        return value
    if isinstance(value, list):
        return ", ".join(_unwrap(v, depth + 1) for v in value)
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


_ACCESS_TYPES = {"bind": "Bind: messages opened one by one", "sync": "Sync: whole folders downloaded by a client"}


def mail_access(record: Any) -> list[tuple[str, str]]:
    """What a `MailItemsAccessed` or search record says of the mailbox access, as (field, value) lines: the access
    type, whether auditing was throttled, each folder with its items, the search text."""
    if not isinstance(record, dict):
        return []
    lines = []
    properties = dict(name_values(record.get("OperationProperties")))
    if properties.get("MailAccessType"):
        access = properties["MailAccessType"]
        lines.append(("access", _ACCESS_TYPES.get(access.lower(), access)))
    if properties.get("IsThrottled", "").lower() == "true":
        lines.append(("throttled", "yes: no items are recorded for 24 hours; assume the whole mailbox was read"))
    folders = record.get("Folders")
    for folder in folders if isinstance(folders, list) else []:
        if not isinstance(folder, dict):
            continue
        items = folder.get("FolderItems") if isinstance(folder.get("FolderItems"), list) else []
        lines.append(("folder", f"{_unwrap(folder.get('Path') or folder.get('Id') or '')} ({len(items)} items)"))
        lines += [("  item", f"{_unwrap(item.get('InternetMessageId') or item.get('Id') or '')}"
                             + (f" ({_unwrap(item['SizeInBytes'])} bytes)" if item.get("SizeInBytes") is not None else ""))
                  for item in items if isinstance(item, dict)]
    for key in ("QueryText", "SearchQuery"):
        if record.get(key):
            lines.append(("search", _unwrap(record[key])))
    return lines


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
