"""Exposure: mail items decoded from audit records written as Microsoft documents them, attribution by marked IPs and
sessions, joins with a message trace, and `workbench exposure` on the command line."""

import csv
import json
from datetime import datetime, timezone

import polars as pl
import pytest

from tests.conftest import case_of_records
from workbench.cli import main
from workbench.core.attribution import ATTACKER, NOT_ATTACKER, Attribution, attribute, marked, propose
from workbench.core.mail_item_frame import case_mail_items
from workbench.core.exposure import MESSAGE_COLUMNS, exposure

TENANT = "4a3b2c1d-0000-4000-8000-000000000001"
OWNER_IP, ATTACKER_IP = "198.51.100.10", "203.0.113.66"
OWNER_SESSION, ATTACKER_SESSION = "11111111-aaaa-4000-8000-000000000001", "22222222-bbbb-4000-8000-000000000002"
FIREFOX = "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:110.0) Gecko/20100101 Firefox/110.0;"
EDGE = "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Edg/120.0;"


def _mailbox_record(number: int, when: str, operation: str, record_type: int, ip: str | None, session: str | None,
                    agent: str = EDGE, actor: str = "jane@contoso.com", **fields) -> dict:
    record = {
        "CreationTime": when, "Id": f"00000000-0000-4000-8000-{number:012d}", "Operation": operation,
        "OrganizationId": TENANT, "RecordType": record_type, "ResultStatus": "Succeeded", "UserKey": "10032001A2B3C4D5",
        "UserType": 0, "Version": 1, "Workload": "Exchange", "UserId": actor,
        "AppId": "00000002-0000-0ff1-ce00-000000000000", "ClientAppId": "", "ClientInfoString": agent,
        "ExternalAccess": False, "InternalLogonType": 0, "LogonType": 0, "MailboxOwnerUPN": "jane@contoso.com",
        "OrganizationName": "contoso.onmicrosoft.com", "OriginatingServer": "BN8PR12MB1234 (15.20.6111.020)",
    }
    if ip is not None:
        record |= {"ClientIP": ip, "ClientIPAddress": ip}
    if session is not None:
        record["AppAccessContext"] = {"AADSessionId": session, "UniqueTokenId": f"tok{number}"}
    return record | fields


def _accessed(number: int, when: str, ip: str | None, session: str | None, access: str, folders: list[dict],
              throttled: bool = False, agent: str = EDGE) -> dict:
    return _mailbox_record(number, when, "MailItemsAccessed", 50, ip, session, agent,
                           OperationProperties=[{"Name": "MailAccessType", "Value": access},
                                                {"Name": "IsThrottled", "Value": str(throttled)}],
                           Folders=folders, OperationCount=sum(len(f.get("FolderItems", [])) for f in folders) or 1)


def _items(*ids: str) -> list[dict]:
    return [{"InternetMessageId": f"<{value}@contoso.com>", "SizeInBytes": 20_000 + n} for n, value in enumerate(ids)]


def _item(value: str, subject: str, folder: str) -> dict:
    return {"Id": f"RgAAAAD{value}", "InternetMessageId": f"<{value}@contoso.com>", "ParentFolder": {
        "Id": f"LgAAAA{value}", "Path": folder}, "SizeInBytes": 31_337, "Subject": subject}


def records() -> list[dict]:
    """The owner's own reading, and the attacker's reading, sync, throttled burst, search, send, delete and download."""
    owner = (OWNER_IP, OWNER_SESSION)
    attacker = (ATTACKER_IP, ATTACKER_SESSION)
    return [
        _mailbox_record(1, "2023-02-20T08:00:00", "UserLoggedIn", 15, *owner, Workload="AzureActiveDirectory"),
        _accessed(2, "2023-02-20T08:05:00", *owner, "Bind", [{"Path": "\\Inbox", "FolderItems": _items("own-1")}]),
        _accessed(3, "2023-02-20T09:00:00", *attacker, "Bind", [
            {"Path": "\\Inbox", "FolderItems": _items("inv-1", "mfa-1")},
            {"Path": "\\Inbox\\Finance", "FolderItems": _items("wire-1")}], agent=FIREFOX),
        _accessed(4, "2023-02-20T09:01:00", *attacker, "Sync", [{"Path": "\\Inbox"}], agent=FIREFOX),
        _accessed(5, "2023-02-20T09:02:00", *attacker, "Bind", [{"Path": "\\Inbox", "FolderItems": _items("inv-1")}],
                  throttled=True, agent=FIREFOX),
        _mailbox_record(6, "2023-02-20T09:03:00", "SearchQueryInitiatedExchange", 132, *attacker, FIREFOX,
                        QueryText="wire transfer", QuerySource="Owa"),
        _mailbox_record(7, "2023-02-20T09:10:00", "SendAs", 2, *attacker, FIREFOX,
                        Item=_item("sent-1", "=HYPERLINK(\"http://x.test\")", "\\Sent Items"),
                        SendAsUserSmtp="jane@contoso.com"),
        _mailbox_record(8, "2023-02-20T09:12:00", "HardDelete", 3, *attacker, FIREFOX,
                        AffectedItems=[_item("mfa-1", "Your verification code", "\\Inbox")],
                        Folder={"Id": "LgAAAAInbox", "Path": "\\Inbox"}),
        # the attacker's IP in the owner's session: uncertain; a record with neither session nor IP: uncertain
        _accessed(9, "2023-02-20T09:20:00", ATTACKER_IP, OWNER_SESSION, "Bind",
                  [{"Path": "\\Inbox", "FolderItems": _items("own-2")}]),
        _accessed(10, "2023-02-20T09:25:00", None, None, "Bind", [{"Path": "\\Inbox", "FolderItems": _items("own-3")}]),
        {"CreationTime": "2023-02-20T09:30:00", "Id": "00000000-0000-4000-8000-000000000011",
         "Operation": "FileDownloaded", "OrganizationId": TENANT, "RecordType": 6, "UserType": 0, "Version": 1,
         "Workload": "OneDrive", "UserId": "jane@contoso.com", "ClientIP": ATTACKER_IP, "UserAgent": FIREFOX,
         "ObjectId": "https://contoso-my.sharepoint.com/personal/jane_contoso_com/Documents/bank.xlsx",
         "SourceFileName": "bank.xlsx", "AppAccessContext": {"AADSessionId": ATTACKER_SESSION}},
        _accessed(12, "2023-02-22T10:00:00", *owner, "Bind", [{"Path": "\\Inbox", "FolderItems": _items("own-4")}]),
    ]


def trace() -> pl.DataFrame:
    """The message trace of these messages, as the `messages` frame holds it."""
    def row(when, sender, recipient, subject, status, value):
        return {"received": datetime.fromisoformat(when).replace(tzinfo=timezone.utc), "sender": sender,
                "recipient": recipient, "subject": subject, "status": status, "message_id": f"<{value}@contoso.com>"}
    return pl.DataFrame([
        row("2023-02-19T10:00:00", "billing@supplier.test", "jane@contoso.com", "Invoice 4471 overdue", "delivered", "inv-1"),
        row("2023-02-20T08:59:00", "no-reply@bank.test", "Jane@Contoso.com", "Your verification code", "delivered", "mfa-1"),
        row("2023-02-20T09:10:05", "jane@contoso.com", "ap@partner.example", "=HYPERLINK(\"http://x.test\")",
            "delivered", "sent-1"),
        row("2023-02-20T09:10:05", "jane@contoso.com", "cfo@acme.example", "=HYPERLINK(\"http://x.test\")", "failed",
            "sent-1"),
        row("2023-02-20T09:10:05", "jane@contoso.com", "bob@contoso.com", "=HYPERLINK(\"http://x.test\")",
            "delivered", "sent-1"),
    ], schema=MESSAGE_COLUMNS)


@pytest.fixture
def case(tmp_path):
    return case_of_records(tmp_path, "exposure", records())


def test_mail_items_decode_bind_sync_throttled_search_send_delete_and_files(case):
    items = case_mail_items(case).sort("record_id", "message_id")
    reads = items.filter(pl.col("record_id").str.ends_with("000000000003"))
    assert reads.select("activity", "access_type", "folder", "message_id", "size").rows() == [
        ("read", "Bind", "\\Inbox", "<inv-1@contoso.com>", 20000),
        ("read", "Bind", "\\Inbox", "<mfa-1@contoso.com>", 20001),
        ("read", "Bind", "\\Inbox\\Finance", "<wire-1@contoso.com>", 20000)]
    one = {row["record_id"][-2:]: row for row in items.unique("record_id").to_dicts()}
    assert (one["04"]["activity"], one["04"]["folder"], one["04"]["message_id"]) == ("sync", "\\Inbox", None)
    assert one["05"]["throttled"] and not one["03"]["throttled"]
    assert one["06"]["search_terms"] == "wire transfer" and one["06"]["activity"] == "search"
    assert (one["07"]["activity"], one["07"]["subject"], one["07"]["folder"]) == ("send", '=HYPERLINK("http://x.test")',
                                                                                 "\\Sent Items")
    assert (one["08"]["activity"], one["08"]["message_id"], one["08"]["folder"]) == ("delete", "<mfa-1@contoso.com>",
                                                                                    "\\Inbox")
    assert one["11"]["file"].endswith("/personal/jane_contoso_com/Documents/bank.xlsx")
    assert set(items["mailbox"].drop_nulls()) == {"jane@contoso.com"}
    assert one["03"]["session_id"] == ATTACKER_SESSION and one["03"]["client_ip"] == ATTACKER_IP


def test_attribution_rule_attacker_owner_and_uncertain(case):
    activity = case.activity()
    result = attribute(activity, Attribution(ips=frozenset({ATTACKER_IP})), activity)
    verdicts = dict(zip(result["record_id"].str.slice(-2), zip(result["attribution"], result["attribution_reason"])))
    assert verdicts["03"] == (ATTACKER, "attacker IP")
    assert verdicts["02"] == ("owner", "")
    assert verdicts["09"] == ("uncertain", "attacker IP in a session also used from other IPs")
    assert verdicts["10"] == ("uncertain", "neither session id nor IP")
    by_session = attribute(activity, Attribution(sessions=frozenset({OWNER_SESSION})), activity)
    assert set(by_session.filter(pl.col("session_id") == OWNER_SESSION)["attribution"]) == {ATTACKER}
    by_agent = attribute(activity, Attribution(user_agents=frozenset({FIREFOX})), activity)
    assert by_agent.filter(pl.col("record_id").str.ends_with("06"))["attribution"].to_list() == [ATTACKER]


def test_proposal_from_high_severity_hits_less_what_the_analyst_dismissed(case):
    activity = case.activity()
    hits = pl.DataFrame({"record_id": ["00000000-0000-4000-8000-000000000007", "00000000-0000-4000-8000-000000000002"],
                         "severity": ["high", "low"], "hunt_id": ["h1", "h2"], "user_id": ["amy@contoso.com"] * 2})
    proposed = propose(activity, hits, None)
    assert (proposed.ips, proposed.sessions, proposed.proposed) == ({ATTACKER_IP}, {ATTACKER_SESSION}, True)
    enrichment = pl.DataFrame({"ip": [OWNER_IP], "hosting": [True]})
    dismissed = [("ip", OWNER_IP, NOT_ATTACKER)]
    assert propose(activity, hits, enrichment, dismissed).ips == {ATTACKER_IP}
    assert propose(activity, hits, enrichment).ips == {ATTACKER_IP, OWNER_IP}
    case.store.set_attribution("session", [ATTACKER_SESSION], ATTACKER)
    assert marked(case.store.attribution()) == Attribution(sessions=frozenset({ATTACKER_SESSION}))


def test_a_high_severity_hunt_flagging_many_accounts_proposes_nothing_and_is_named(case):
    """A hunt that fires for more than max(3, 10 %) of the accounts flags something of the tenant, not one actor (an
    Exchange-heavy case: 93,000 `Action=ViaProxy` hits of 1,096 IPs made every mailbox the attacker's)."""
    activity = case.activity()
    rows = activity.filter(pl.col("client_ip").is_not_null()).select("record_id", "user_id", "client_ip")
    many = [f"user{n}@contoso.com" for n in range(8)]
    hits = pl.DataFrame({"record_id": ["00000000-0000-4000-8000-000000000007", *rows["record_id"][:8]],
                         "severity": ["high"] * 9, "hunt_id": ["actor", *["everyone"] * 8],
                         "user_id": ["amy@contoso.com", *many]})
    proposed = propose(activity, hits, None)
    accounts = activity["user_key"].drop_nulls().n_unique()
    assert accounts < 30  # so that 8 accounts are more than max(3, 10 %) of them
    assert (proposed.ips, proposed.sessions) == ({ATTACKER_IP}, {ATTACKER_SESSION})
    assert proposed.passed_over == (f"everyone (8 of {accounts} accounts)",)
    assert "not from hunts flagging many accounts: everyone (8 of" in proposed.describe()


def test_exposure_lists_the_attackers_activity_joined_with_the_trace(case):
    found = exposure(case_mail_items(case), case.activity(), trace(), Attribution(ips=frozenset({ATTACKER_IP})))
    rows = found.rows
    reads = rows.filter((pl.col("kind") == "read") & (pl.col("attribution") == ATTACKER))
    assert reads.select("message_id", "subject", "sender", "folder", "times").sort("message_id").rows() == [
        ("<inv-1@contoso.com>", "Invoice 4471 overdue", "billing@supplier.test", "\\Inbox", 2),
        ("<mfa-1@contoso.com>", "Your verification code", "no-reply@bank.test", "\\Inbox", 1),
        ("<wire-1@contoso.com>", None, None, "\\Inbox\\Finance", 1)]
    sent = rows.filter(pl.col("kind") == "sent").sort("recipient")
    assert sent.select("recipient", "outside", "status").rows() == [
        ("ap@partner.example", True, "delivered"), ("bob@contoso.com", False, "delivered"),
        ("cfo@acme.example", True, "failed")]
    assert rows.filter(pl.col("kind") == "sync")["folder"].to_list() == ["\\Inbox"]
    assert rows.filter(pl.col("kind") == "search")["search_terms"].to_list() == ["wire transfer"]
    assert rows.filter(pl.col("kind") == "deleted").select("message_id", "subject").rows() == [
        ("<mfa-1@contoso.com>", "Your verification code")]
    assert rows.filter(pl.col("kind") == "file")["mailbox"].to_list() == ["jane@contoso.com"]
    throttled = rows.filter(pl.col("kind") == "throttled")
    assert throttled.select("time", "until").rows() == [(datetime(2023, 2, 20, 9, 2, tzinfo=timezone.utc),
                                                        datetime(2023, 2, 21, 9, 2, tzinfo=timezone.utc))]
    assert any("throttled from 2023-02-20 09:02" in note and "whole mailbox" in note for note in found.notes)
    # the owner's own reading is not listed; what is neither the attacker's nor the owner's is, flagged uncertain
    listed = set(rows["message_id"].drop_nulls())
    assert not listed & {"<own-1@contoso.com>", "<own-4@contoso.com>"}
    assert set(rows.filter(pl.col("attribution") == "uncertain")["message_id"]) == {"<own-2@contoso.com>",
                                                                                  "<own-3@contoso.com>"}
    assert (found.start, found.end) == (datetime(2023, 2, 20, 9, 0, tzinfo=timezone.utc),
                                        datetime(2023, 2, 20, 9, 30, tzinfo=timezone.utc))
    summary = {row["mailbox"]: row for row in found.summary().to_dicts()}
    assert (summary["jane@contoso.com"]["read"], summary["jane@contoso.com"]["outside"]) == (3, 2)


def test_window_and_users_narrow_the_exposure(case):
    items, activity = case_mail_items(case), case.activity()
    attacker = Attribution(ips=frozenset({ATTACKER_IP}))
    late = exposure(items, activity, trace(), attacker, start=datetime(2023, 2, 20, 9, 5, tzinfo=timezone.utc))
    late_reads = late.rows.filter(pl.col("kind") == "read")
    assert set(late_reads["attribution"]) == {"uncertain"} and "sent" in set(late.rows["kind"])
    assert exposure(items, activity, trace(), attacker, users=["someone@contoso.com"]).rows.is_empty()
    without_trace = exposure(items, activity, trace().clear(), attacker)
    assert without_trace.rows.filter(pl.col("kind") == "sent")["status"].to_list() == ["not in message trace"]
    assert any("no message trace" in note for note in without_trace.notes)


def _exposure(tmp_path, *arguments: str) -> int:
    return main(["exposure", "--case", "exposure", "--case-dir", str(tmp_path / "cases"), *arguments])


def test_exposure_command_json_csv_and_usage(case, tmp_path, capsys):
    assert _exposure(tmp_path) == 2
    assert "nothing is attributed to the attacker" in capsys.readouterr().err
    assert _exposure(tmp_path, "--attacker-ip", ATTACKER_IP, "--format", "json") == 0
    document = json.loads(capsys.readouterr().out)
    assert document["attribution"]["ips"] == [ATTACKER_IP] and "rule" in document["attribution"]
    assert {row["kind"] for row in document["rows"]} >= {"read", "sync", "search", "sent", "deleted", "file", "throttled"}
    output = tmp_path / "exposure.csv"
    assert _exposure(tmp_path, "--attacker-session", ATTACKER_SESSION, "-o", str(output)) == 0
    with output.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["subject"] for row in rows if row["kind"] == "sent"] == ["'=HYPERLINK(\"http://x.test\")"]
    assert _exposure(tmp_path, "--attacker-ip", ATTACKER_IP, "--from", "yesterday") == 2
    assert "--from 'yesterday'" in capsys.readouterr().err
    case.store.set_attribution("ip", [ATTACKER_IP], ATTACKER)
    assert _exposure(tmp_path, "--format", "table") == 0
    out = capsys.readouterr().out
    assert "marked as the attacker's: 1 ip" in out and "messages read" in out and "rows shown" not in out
    assert _exposure(tmp_path, "--format", "table", "--rows", "1") == 0
    capped = " ".join(capsys.readouterr().out.split())
    reads = len(document["rows"]) and sum(row["kind"] == "read" for row in document["rows"])
    assert reads > 1 and f"the first 1 of {reads} rows shown" in capped


def test_exposure_command_says_on_stderr_when_it_indexes_the_mail_items_first(case, tmp_path, capsys, monkeypatch):
    from workbench.core import mail_item_frame

    monkeypatch.setattr(mail_item_frame, "DECODE_AT_MOST", 2)
    assert _exposure(tmp_path, "--attacker-ip", ATTACKER_IP, "--format", "json") == 0
    first = capsys.readouterr()
    assert "workbench: indexing the mail items of case exposure" in first.err
    assert json.loads(first.out)["rows"]  # the document alone on stdout
    assert _exposure(tmp_path, "--attacker-ip", ATTACKER_IP, "--format", "json") == 0
    assert "indexing" not in capsys.readouterr().err


def test_report_has_an_exposure_section_by_the_marked_attribution(case, tmp_path):
    from workbench.core.report import case_report
    from workbench.core.report_format import write_report

    case.store.set_attribution("ip", [ATTACKER_IP], ATTACKER)
    report = case_report(case, {})
    assert report.exposure is not None and not report.exposure.attribution.proposed
    text = write_report(report, tmp_path / "report.md").read_text()
    section = text[text.index("## Exposure"):text.index("## Queries used")]
    assert "marked as the attacker's: 1 ip" in section and "Rule: attacker:" in section
    assert "### Messages read" in section and "\\<inv-1@contoso.com\\>" in section
    assert "wire transfer" in section and "throttled from 2023-02-20 09:02" in section
    html = write_report(report, tmp_path / "report.html").read_text()
    assert "<h3>Messages sent</h3>" in html and "=HYPERLINK(&quot;http://x.test&quot;)" in html


def test_drill_down_lines_of_a_throttled_bind_and_of_a_search():
    from workbench.core.decode import mail_access

    throttled, search = records()[4], records()[5]
    assert mail_access(throttled) == [
        ("access", "Bind: messages opened one by one"),
        ("throttled", "yes: no items are recorded for 24 hours; assume the whole mailbox was read"),
        ("folder", "\\Inbox (1 items)"), ("  item", "<inv-1@contoso.com> (20000 bytes)")]
    assert mail_access(search) == [("search", "wire transfer")]
    assert mail_access("not a record") == []


def test_the_json_document_written_a_few_rows_at_a_time_is_the_document_made_at_once(case, tmp_path, monkeypatch):
    """`exposure --format json` writes its rows `ROWS_PER_PIECE` at a time (1M rows at once took gigabytes): in pieces
    of two rows the bytes are those of the whole document dumped at once, hostile text escaped alike."""
    import dataclasses

    import workbench.commands.exposure as exposure_command
    from workbench.core.case_exposure import case_exposure
    from workbench.core.inert import dumps

    def whole(found) -> str:  # as the document was made before: all of it at once, through a JSON round trip
        return dumps(json.loads(json.dumps(found.as_dict(), default=exposure_command._iso)), indent=1) + "\n"

    monkeypatch.setattr(exposure_command, "ROWS_PER_PIECE", 2)
    found = case_exposure(case, Attribution(ips=frozenset({ATTACKER_IP})), case.activity())
    assert found.rows.height > 5
    output = tmp_path / "exposure.json"
    assert _exposure(tmp_path, "--attacker-ip", ATTACKER_IP, "-o", str(output)) == 0
    assert output.read_text(encoding="utf-8") == whole(found)

    hostile = dataclasses.replace(found, rows=found.rows.with_columns(
        pl.lit("\x1b]0;owned\x07 \u202e=cmd|' /C calc'!A0\n").alias("subject")))
    written = tmp_path / "hostile.json"
    with written.open("w", encoding="utf-8", newline="") as handle:
        exposure_command._write_document(hostile, handle)
    text = written.read_text(encoding="utf-8")
    assert text == whole(hostile) and "\x1b" not in text and "\\u001b" in text and "\\u202e" in text
    assert json.loads(text)["rows"][0]["subject"].startswith("\x1b]0;owned")
    empty = dataclasses.replace(found, rows=found.rows.clear())
    with written.open("w", encoding="utf-8", newline="") as handle:
        exposure_command._write_document(empty, handle)
    assert written.read_text(encoding="utf-8") == whole(empty) and json.loads(whole(empty))["rows"] == []
