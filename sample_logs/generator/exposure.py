"""Provides the answer key of the samples' exposure (``.answers/planted_exposure.json``: in a hidden
folder, so that loading the samples folder skips it): per case and mailbox, what the attacker read, synced, searched, sent, deleted and which files they opened, taken
from the planted records and the message trace, with the record ids; and its README section."""

from __future__ import annotations

from datetime import datetime, timedelta

from .attacker import ATTACKER_DEVICE, ATTACKER_IPS
from .mailflow import Message
from .story import planted_steps
from .tenants import SEED, build_tenant

TRACE_FILES = {"a": "case-a/message_trace.csv", "b": "case-b/message_trace_enhanced_summary.csv"}
DELETES = ("MoveToDeletedItems", "SoftDelete", "HardDelete")


def _property(record: dict, name: str) -> str:
    return next((p["Value"] for p in record.get("OperationProperties", []) if p["Name"] == name), "")


def answer_key(key: str, messages: list[Message], seed: int = SEED) -> dict:
    """What the attacker did in each mailbox of case ``key``, message by message."""
    t = build_tenant(key, seed)
    trace = {m.message_id: m for m in messages}
    boxes: dict[str, dict] = {}
    sessions: set[str] = set()

    def box(upn: str) -> dict:
        return boxes.setdefault(upn.lower(), {"read": [], "synced": [], "searched": [], "sent": [],
                                              "deleted": [], "files": [], "throttled": []})

    for step in planted_steps(key, seed):
        r = step.record
        op, when = r["Operation"], r["CreationTime"]
        where = {"record_id": r["Id"], "time": when}
        if "AppAccessContext" in r:
            sessions.add(r["AppAccessContext"]["AADSessionId"])
        if op == "MailItemsAccessed":
            owner = box(r["MailboxOwnerUPN"])
            if _property(r, "IsThrottled") == "True":
                until = datetime.fromisoformat(when) + timedelta(hours=24)
                owner["throttled"].append({**where, "until": until.isoformat()})
            elif _property(r, "MailAccessType") == "Sync":
                owner["synced"].extend({**where, "folder": f["Path"]} for f in r["Folders"])
            for folder in r["Folders"]:
                for item in folder.get("FolderItems", []):
                    m = trace[item["InternetMessageId"]]
                    owner["read"].append({**where, "message_id": m.message_id,
                                          "subject": m.subject, "sender": m.sender,
                                          "received": m.received.isoformat(),
                                          "folder": folder["Path"]})
        elif op == "SearchQueryInitiatedExchange":
            box(r["MailboxOwnerUPN"])["searched"].append({**where, "terms": r["QueryText"]})
        elif op in ("Send", "SendAs"):
            m = trace[r["Item"]["InternetMessageId"]]
            box(r["MailboxOwnerUPN"])["sent"].append({
                **where, "operation": op, "message_id": m.message_id, "subject": m.subject,
                "trace_received": m.received.isoformat(),
                "recipients": [{"address": a, "outside_tenant": not a.lower().endswith(
                    "@" + t.spec.domain), "status": s} for a, s in m.recipients]})
        elif op in DELETES:
            for item in r["AffectedItems"]:
                box(r["MailboxOwnerUPN"])["deleted"].append({
                    **where, "operation": op, "message_id": item["InternetMessageId"],
                    "subject": item["Subject"], "folder": r["Folder"]["Path"]})
        elif op in ("FileAccessed", "FileDownloaded"):
            owner = next(p.upn for p in t.people.values()
                         if r["SiteUrl"].rstrip("/") == t.onedrive(p))
            box(owner)["files"].append({**where, "operation": op, "path": r["ObjectId"]})
    ids = sorted({e["record_id"] for b in boxes.values() for kind in b.values() for e in kind})
    return {"tenant": t.spec.domain, "organization_id": t.org_id, "trace_file": TRACE_FILES[key],
            "attacker": {"ips": list(ATTACKER_IPS), "user_agent": ATTACKER_DEVICE.user_agent,
                         "sessions": sorted(sessions)},
            "mailboxes": dict(sorted(boxes.items())), "record_ids": ids}


def render_exposure(keys: dict[str, dict]) -> list[str]:
    """The README section on the planted exposure (the answer key in words and tables)."""
    from .readme import _table

    lines = ["## Planted exposure", "",
             "What the attacker read, synced, searched, sent and deleted, mailbox by mailbox: the "
             "answer key of `workbench exposure`, also as `.answers/planted_exposure.json` (record ids, "
             "message ids, subjects and senders from the message trace, recipients with their "
             "delivery status). Everything else in the mailboxes is the owners' own (their "
             "reading, searches and mail, from their own addresses, devices and sessions), and "
             "must not be listed.", ""]
    rows = []
    for case, key in keys.items():
        for mailbox, box in key["mailboxes"].items():
            for e in box["read"]:
                rows.append([case, mailbox, e["time"], "read", e["record_id"],
                             f"{e['subject']} (from {e['sender']}, {e['folder']})"])
            for e in box["synced"]:
                rows.append([case, mailbox, e["time"], "synced", e["record_id"], e["folder"]])
            for e in box["searched"]:
                rows.append([case, mailbox, e["time"], "searched", e["record_id"], e["terms"]])
            for e in box["sent"]:
                to = ", ".join(f"{r['address']} ({'outside' if r['outside_tenant'] else 'inside'}"
                               f", {r['status']})" for r in e["recipients"])
                rows.append([case, mailbox, e["time"], "sent", e["record_id"],
                             f"{e['subject']} to {to}"])
            for e in box["deleted"]:
                rows.append([case, mailbox, e["time"], f"deleted ({e['operation']})",
                             e["record_id"], e["subject"]])
            for e in box["files"]:
                rows.append([case, mailbox, e["time"], e["operation"], e["record_id"], e["path"]])
            for e in box["throttled"]:
                rows.append([case, mailbox, e["time"], "throttled", e["record_id"],
                             f"no MailItemsAccessed recorded until {e['until']}: assume the "
                             "whole mailbox was exposed"])
    rows.sort(key=lambda row: (row[0], row[1], row[2], row[4]))
    lines += _table(["case", "mailbox", "time (UTC)", "what", "record id", "details"], rows)
    lines += ["",
              "- A Bind lists the messages opened one by one (`Folders[].FolderItems[]`, message id "
              "and size, no subject: the subject and sender come from the trace); the Sync names "
              "only the folder a client downloaded (`OperationCount` 1).",
              "- The throttled record comes after a burst of Binds. A real mailbox is throttled "
              "after more than 1,000 MailItemsAccessed records in 24 hours; the samples keep only "
              "the last of them. Exchange then records no MailItemsAccessed for that mailbox for "
              "24 hours, so the samples' background has none either (not even the owner's).",
              "- Searches are `SearchQueryInitiatedExchange` records (RecordType 101, "
              "ExchangeSearch) with the text in `QueryText` and the client in `QuerySource`.",
              "- Sent messages are `Send` / `SendAs` records (`Item.InternetMessageId`, "
              "`Item.Subject`, `\\Sent Items`); their trace rows come a few seconds later, with "
              "one row (or status) per recipient. One lure's subject starts with `=` (case-a) and "
              "one with `+` (case-b): attacker-controlled text that CSV exports must neutralise.",
              "- The owners read some of the same messages earlier (same message id, owner's "
              "session and address), search with their own words (FinanceUser searches "
              "'invoice' too) and mail the same partner companies: attribution, not the message "
              "or the word, tells the two apart.", ""]
    return lines
