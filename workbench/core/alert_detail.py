"""Provides the drill-down of one of Microsoft's alert records: its name, severity, category, status, the ATT&CK
technique the hunt pack maps its name to, and the entities it names (users, mailboxes, IPs, URLs), found by what
their values are anywhere in the record, `Data` (JSON inside a string) included."""

import ipaddress
import re
from typing import Any

from hunts.alerts import alert_mapping
from workbench.core import decode
from workbench.core.alerts import ALERT_OPERATIONS, ALERT_RECORD_TYPES

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^(?:https?|hxxps?)://", re.IGNORECASE)
#: Keys (lower-cased) whose e-mail address values are mailboxes rather than users.
_ENTITY_LABELS = {"users": "user", "mailboxes": "mailbox", "ips": "ip", "urls": "url"}
_MAILBOX_KEYS = ("mailbox", "mbx", "trc", "recipient", "sender", "from", "to", "p1sender", "p2sender")


def _walk(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (key, text) leaf of a decoded record, JSON inside strings decoded as well."""
    if isinstance(value, str) and value[:1] in "[{":
        value = decode.loads(value)
    if isinstance(value, dict):
        return [leaf for name, item in value.items() for leaf in _walk(item, str(name))]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _walk(item, key)]
    return [] if value is None or isinstance(value, bool) else [(key, str(value).strip())]


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%")[0])
    except ValueError:
        return False
    return True


def entities(record: Any) -> dict[str, list[str]]:
    """The entities an alert record names, by kind (`users`, `mailboxes`, `ips`, `urls`), each once, in order."""
    found: dict[str, list[str]] = {"users": [], "mailboxes": [], "ips": [], "urls": []}
    if not isinstance(record, dict):
        return found
    entity_type = str(record.get("EntityType") or "").lower()
    leaves = [(key, text) for key, text in _walk({k: v for k, v in record.items() if k not in ("UserId", "UserKey")})]
    for key, text in leaves:
        lowered = key.lower()
        if _URL.match(text):
            kind = "urls"
        elif _is_ip(text) and lowered not in ("alertid", "id", "policyid"):
            kind = "ips"
        elif _EMAIL.match(text):
            mailbox = lowered in _MAILBOX_KEYS or (lowered == "alertentityid" and entity_type == "mailbox")
            kind = "mailboxes" if mailbox else "users"
        else:
            continue
        if text not in found[kind]:
            found[kind].append(text)
    return found


def alert_lines(record: Any) -> list[tuple[str, str]]:
    """An alert record as (field, value) lines for the drill-down: its name, severity, category, status, source,
    id, the ATT&CK technique the hunts map its name to, and its entities; none for other records."""
    if not isinstance(record, dict) or not (
            str(record.get("Operation", "")).lower() in ALERT_OPERATIONS or str(record.get("RecordType")) in
            {str(number) for number in ALERT_RECORD_TYPES}):
        return []
    lines = [(label, str(record[field])) for field, label in
             (("Name", "alert"), ("Severity", "severity"), ("Category", "category"), ("Status", "status"),
              ("Source", "source"), ("AlertId", "alert id"), ("EntityType", "entity type"))
             if str(record.get(field) or "").strip()]
    mapping = alert_mapping(str(record.get("Name") or ""))
    if mapping is not None:
        lines.append(("technique", f"{mapping.attack} (hunt {mapping.hunt})"))
    for kind, values in entities(record).items():
        lines += [(_ENTITY_LABELS[kind], value) for value in values]
    return lines
