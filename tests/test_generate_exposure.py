"""Tests of the generator's planted exposure: the attacker's reads, Sync, throttled burst, searches,
lures and deletes agree with the message trace exports (same message ids, received before read,
trace a few seconds after a send), the answer key matches the records written, the trace files
have their declared shapes and encodings, and the owners' own mail stays apart from the attacker's."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import load_generator

ATTACKER_IPS = {"104.161.20.102", "20.232.202.245", "185.241.149.122"}
V2 = "case-a/message_trace.csv"
ENHANCED = "case-b/message_trace_enhanced_summary.csv"


gen = load_generator()


@pytest.fixture
def samples(generated_samples) -> Path:
    return generated_samples


def audit_records(folder: Path, case: str) -> list[dict]:
    if case == "a":
        text = (folder / "case-a/purview_audit_export.csv").read_text(encoding="utf-8-sig")
        return [json.loads(row["AuditData"]) for row in csv.DictReader(io.StringIO(text, newline=""))]
    return [json.loads(line) for line in (folder / "case-b/management_api.jsonl").read_text().splitlines()]


def v2_trace(folder: Path) -> dict[str, dict]:
    """case-a's trace: message id -> {received, sender, subject, recipients {address: status}}."""
    text = (folder / V2).read_text(encoding="utf-8-sig")
    out: dict[str, dict] = {}
    for row in csv.DictReader(io.StringIO(text, newline="")):
        entry = out.setdefault(row["MessageId"], {
            "received": datetime.strptime(row["Received"], "%m/%d/%Y %I:%M:%S %p"),
            "sender": row["SenderAddress"], "subject": row["Subject"], "from_ip": row["FromIP"],
            "recipients": {}})
        entry["recipients"][row["RecipientAddress"]] = row["Status"]
    return out


def enhanced_trace(folder: Path) -> dict[str, dict]:
    """case-b's trace, in the same shape as `v2_trace`."""
    text = (folder / ENHANCED).read_bytes().decode("utf-16")
    out = {}
    for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")):
        recipients = {}
        for part in row["recipient_status"].split(";"):
            address, events = part.split("##")
            recipients[address] = "Failed" if events.endswith("Fail") else "Delivered"
        out[row["message_id"]] = {
            "received": datetime.strptime(row["origin_timestamp_utc"][:19], "%Y-%m-%dT%H:%M:%S"),
            "sender": row["sender_address"], "subject": row["message_subject"],
            "from_ip": row["original_client_ip"], "recipients": recipients}
    return out


def trace(folder: Path, case: str) -> dict[str, dict]:
    return v2_trace(folder) if case == "a" else enhanced_trace(folder)


def attacker_steps(case: str) -> list[dict]:
    return [s.record for s in gen.planted_steps(case)]


def operation_property(record: dict, name: str) -> str:
    return next(p["Value"] for p in record["OperationProperties"] if p["Name"] == name)


# ---------------------------------------------------------------------------------------------


def test_trace_files_have_their_declared_shapes_and_encodings(samples):
    raw = (samples / V2).read_bytes()
    assert raw.startswith(b'\xef\xbb\xbf"Organization","MessageId","Received","SenderAddress",'
                          b'"RecipientAddress","Subject","Status","ToIP","FromIP","Size",'
                          b'"MessageTraceId","StartDate","EndDate"\r\n')
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert all(len(row) == 13 for row in rows) and 100 <= len(rows) - 1 <= 900
    assert all(field.startswith('"') for line in raw.decode("utf-8-sig").split("\r\n")[:-1]
               for field in line.split('","')[:1])
    times = [datetime.strptime(row[2], "%m/%d/%Y %I:%M:%S %p") for row in rows[1:]]
    assert times == sorted(times, reverse=True)
    raw = (samples / ENHANCED).read_bytes()
    assert raw.startswith(b"\xff\xfe")
    text = raw.decode("utf-16-le")
    assert text.startswith('\ufeff"origin_timestamp_utc","sender_address","recipient_status",'
                           '"message_subject","total_bytes","message_id","network_message_id",'
                           '"original_client_ip","directionality","connector_id",'
                           '"delivery_priority"\r\n')
    assert "\n" not in text.replace("\r\n", "")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline="")))
    assert 50 <= len(rows) <= 600
    assert {row["directionality"] for row in rows} == {"Originating", "Incoming"}
    assert all(row["origin_timestamp_utc"].endswith("Z") for row in rows)


@pytest.mark.parametrize("case", ["a", "b"])
def test_every_message_read_sent_or_deleted_is_in_the_trace_in_time_order(samples, case):
    messages = trace(samples, case)
    records = audit_records(samples, case)
    checked = 0
    for r in records:
        moment = datetime.fromisoformat(r["CreationTime"])
        owner = (r.get("MailboxOwnerUPN") or "").split("@")[0]
        investigated = owner in ("TargetUser", "FinanceUser") or r["Id"] in {
            s["Id"] for s in attacker_steps(case)}
        if not investigated:
            continue
        if r["Operation"] == "MailItemsAccessed":
            for folder in r["Folders"]:
                for item in folder.get("FolderItems", []):
                    m = messages[item["InternetMessageId"]]
                    assert m["received"] < moment, item
                    assert r["MailboxOwnerUPN"] in m["recipients"]
                    checked += 1
        elif r["Operation"] in ("Send", "SendAs"):
            m = messages[r["Item"]["InternetMessageId"]]
            assert timedelta(0) < m["received"] - moment <= timedelta(seconds=10)
            assert m["sender"] == r["MailboxOwnerUPN"] and m["subject"] == r["Item"]["Subject"]
            checked += 1
        elif r["Operation"] in ("MoveToDeletedItems", "SoftDelete", "HardDelete"):
            for item in r["AffectedItems"]:
                if r["Id"] in {s["Id"] for s in attacker_steps(case)}:
                    m = messages[item["InternetMessageId"]]
                    assert m["received"] < moment and m["subject"] == item["Subject"]
    assert checked >= 40


@pytest.mark.parametrize("case", ["a", "b"])
def test_the_attacker_reads_finance_and_mfa_mail_in_two_folders_syncs_once_and_is_throttled(case):
    steps = attacker_steps(case)
    reads = [r for r in steps if r["Operation"] == "MailItemsAccessed"]
    assert all(r["ClientIPAddress"] in ATTACKER_IPS for r in reads)
    assert all("Firefox/110.0" in r["ClientInfoString"] for r in reads)
    binds = [r for r in reads if operation_property(r, "MailAccessType") == "Bind"]
    syncs = [r for r in reads if operation_property(r, "MailAccessType") == "Sync"]
    assert len(syncs) == 1 and syncs[0]["Folders"][0]["Path"] == "\\Inbox"
    assert "FolderItems" not in syncs[0]["Folders"][0] and syncs[0]["OperationCount"] == 1
    folders = {f["Path"] for r in binds for f in r["Folders"] if f.get("FolderItems")}
    assert {"\\Inbox", "\\Inbox\\Finance"} <= folders
    for r in binds:
        items = [i for f in r["Folders"] for i in f.get("FolderItems", [])]
        assert r["OperationCount"] == max(1, len(items))
        assert all(set(i) == {"InternetMessageId", "SizeInBytes"} for i in items)
    throttled = [r for r in reads if operation_property(r, "IsThrottled") == "True"]
    assert len(throttled) == 1
    window_end = datetime.fromisoformat(throttled[0]["CreationTime"]) + timedelta(hours=24)
    mailbox = throttled[0]["MailboxOwnerUPN"]
    later = [r for r in gen.generate_case(case) if r["Operation"] == "MailItemsAccessed"
             and r["MailboxOwnerUPN"] == mailbox
             and throttled[0]["CreationTime"] < r["CreationTime"] <= window_end.isoformat()]
    assert later == [], "Exchange records nothing of a throttled mailbox for 24 hours"


@pytest.mark.parametrize("case", ["a", "b"])
def test_the_attacker_searches_for_money_words_and_sends_lures_to_partners(samples, case):
    steps = attacker_steps(case)
    searches = [r for r in steps if r["Operation"] == "SearchQueryInitiatedExchange"]
    terms = " ".join(r["QueryText"] for r in searches)
    assert {"invoice", "bank", "wire"} <= set(terms.replace(",", " ").split()) | {
        w for w in ("invoice", "bank", "wire") if w in terms}
    assert all(r["QuerySource"] == "Owa" and r["RecordType"] == 101 for r in searches)
    messages = trace(samples, case)
    domain = "@example.com" if case == "a" else "@example.net"
    lures = [r for r in steps if r["Operation"] in ("Send", "SendAs")
             and sum(not a.endswith(domain) for a in messages[r["Item"]["InternetMessageId"]]
                     ["recipients"]) >= 2]
    assert len(lures) >= 2
    statuses, outside, inside = set(), 0, 0
    for r in lures:
        assert r["Item"]["ParentFolder"]["Path"] == "\\Sent Items"
        m = messages[r["Item"]["InternetMessageId"]]
        assert m["from_ip"] in ATTACKER_IPS
        for address, status in m["recipients"].items():
            statuses.add(status)
            if address.endswith(domain):
                inside += 1
            else:
                outside += 1
                assert address.rsplit(".", 1)[1] in ("example", "test")
    assert statuses == {"Delivered", "Failed"} and inside >= 1 and outside >= 4
    assert any(r["Item"]["Subject"][0] in "=+" for r in lures)


def test_the_answer_key_matches_the_records_and_the_trace(samples):
    key = json.loads((samples / ".answers/planted_exposure.json").read_text(encoding="utf-8"))
    for case in ("a", "b"):
        entry = key["cases"][f"case-{case}"]
        records = {r["Id"]: r for r in audit_records(samples, case)}
        if case == "b":
            graph = json.loads((samples / "case-b/graph_audit_query.json").read_text())
            records |= {item["id"]: item["auditData"] for item in graph["value"]}
        messages = trace(samples, case)
        planted = {s["Id"] for s in attacker_steps(case)}
        assert set(entry["record_ids"]) <= planted and set(entry["record_ids"]) <= set(records)
        exposure_ops = {"MailItemsAccessed", "SearchQueryInitiatedExchange", "Send", "SendAs",
                        "MoveToDeletedItems", "SoftDelete", "HardDelete", "FileAccessed",
                        "FileDownloaded"}
        assert set(entry["record_ids"]) == {rid for rid in planted
                                            if records[rid]["Operation"] in exposure_ops}
        boxes = entry["mailboxes"]
        assert ("targetuser@example.com" in boxes) if case == "a" else (
            {"targetuser@example.net", "financeuser@example.net"} <= set(boxes))
        for mailbox, box in boxes.items():
            for read in box["read"]:
                r = records[read["record_id"]]
                ids = [i["InternetMessageId"] for f in r["Folders"] for i in f.get("FolderItems", [])]
                assert read["message_id"] in ids
                m = messages[read["message_id"]]
                assert (m["subject"], m["sender"]) == (read["subject"], read["sender"])
            for sent in box["sent"]:
                m = messages[sent["message_id"]]
                assert {x["address"]: x["status"] for x in sent["recipients"]} == m["recipients"]
                assert records[sent["record_id"]]["Item"]["InternetMessageId"] == sent["message_id"]
            for search in box["searched"]:
                assert records[search["record_id"]]["QueryText"] == search["terms"]
            for deleted in box["deleted"]:
                assert records[deleted["record_id"]]["AffectedItems"][0]["InternetMessageId"] == \
                    deleted["message_id"]
        throttled = [t for box in boxes.values() for t in box["throttled"]]
        assert len(throttled) == 1 and records[throttled[0]["record_id"]]["OperationProperties"][1] \
            == {"Name": "IsThrottled", "Value": "True"}
        synced = [s for box in boxes.values() for s in box["synced"]]
        assert [s["folder"] for s in synced] == ["\\Inbox"]
        files = [f for box in boxes.values() for f in box["files"]]
        assert {f["operation"] for f in files} == {"FileAccessed", "FileDownloaded"}


def test_readme_lists_the_planted_exposure_and_the_trace_files(samples):
    readme = (samples / "README.md").read_text(encoding="utf-8")
    key = json.loads((samples / ".answers/planted_exposure.json").read_text(encoding="utf-8"))
    section = readme.split("## Planted exposure", 1)[1].split("\n## ", 1)[0]
    for entry in key["cases"].values():
        for rid in entry["record_ids"]:
            assert rid in section
    files = readme.split("## Files", 1)[1].split("\n## ", 1)[0]
    for name in (V2, ENHANCED, ".answers/planted_exposure.json"):
        assert f"| {name} |" in files


@pytest.mark.parametrize("case", ["a", "b"])
def test_the_owners_own_mail_is_theirs(samples, case):
    planted = {s["Id"] for s in attacker_steps(case)}
    records = [r for r in audit_records(samples, case) if r["Id"] not in planted]
    searches = [r for r in records if r["Operation"] == "SearchQueryInitiatedExchange"]
    assert len(searches) >= 8
    for r in records:
        if r["Operation"] in ("SearchQueryInitiatedExchange", "MailItemsAccessed", "Send"):
            assert r["ClientIPAddress"] not in ATTACKER_IPS and "Firefox" not in r["ClientInfoString"]
            assert r["LogonType"] in (0, 2)
    owners = {r["MailboxOwnerUPN"].split("@")[0] for r in searches}
    assert {"TargetUser", "FinanceUser"} <= owners
    messages = trace(samples, case)
    attacker_read = {i["InternetMessageId"] for s in attacker_steps(case)
                     if s["Operation"] == "MailItemsAccessed"
                     for f in s["Folders"] for i in f.get("FolderItems", [])}
    owner_read = {i["InternetMessageId"] for r in records if r["Operation"] == "MailItemsAccessed"
                  for f in r["Folders"] for i in f.get("FolderItems", [])}
    assert attacker_read & owner_read, "the owner read some of the same messages earlier"
    sent = [messages[r["Item"]["InternetMessageId"]] for r in records if r["Operation"] == "Send"
            and r["Item"]["InternetMessageId"] in messages]
    assert any(not a.endswith(("@example.com", "@example.net")) for m in sent for a in m["recipients"])
