"""Message trace: every shape of tests/trace_corpus detected from its content and read into the `messages` frame
(one row per message and recipient), accounted per file, deduplicated across shapes, stored in the case beside an
audit log, and read by `workbench info` and `workbench sql`."""

import csv
import gzip
import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.core.case import Case
from workbench.core.formats import NotAnAuditLog
from workbench.core.schema import MESSAGE_SCHEMA
from workbench.core.sources import detect
from workbench.core.sql import SqlSession

CORPUS = Path(__file__).parent / "trace_corpus"
M1 = "<PH0PR11MB1001E1@PH0PR11MB1001.namprd11.prod.outlook.com>"
M2 = "<20240301081502.4F2A@mail.example.com>"
M3 = "<PH0PR11MB1001E3@PH0PR11MB1001.namprd11.prod.outlook.com>"
PHISH = '=HYPERLINK("http://203.0.113.50/reset","Reset your password")'
INVOICE = "Invoice 2024-113, updated bank details"
WIRE = "Wire transfer\r\nurgent today"
TENANT = "8f2d7c1e-4b3a-4e5f-9a6b-1c2d3e4f5a6b"


def trace(n: int) -> str:
    return f"0a6b1c2d-000{n}-4e5f-8a9b-08dc39a1b00{n}"


def at(hour: int, minute: int, second: int, microsecond: int = 0) -> datetime:
    return datetime(2024, 3, 1, hour, minute, second, microsecond, tzinfo=timezone.utc)


#: name -> (format, rows, loaded, duplicates, rejected) when the file is loaded alone.
FILES = {
    "get_messagetrace_ps51.csv": ("messagetrace-csv", 6, 5, 0, 1),
    "get_messagetracev2.csv": ("messagetrace-csv", 3, 3, 0, 0),
    "eac_enhanced_summary.csv": ("eac-summary-csv", 4, 4, 0, 0),
    "eac_extended.csv": ("eac-extended-csv", 7, 3, 4, 0),
    "rws_messagetrace.json": ("messagetrace-json", 3, 3, 0, 0),
    "graph_messagetraces_page.json": ("graph-messagetraces-json", 2, 2, 0, 0),
}
COLUMNS = ("record_id", "received", "sender", "recipient_key", "subject", "status", "delivery_events", "direction",
           "from_ip", "to_ip", "size", "message_id", "message_trace_id", "network_message_id", "organization",
           "organization_id", "source_row")


def row(record_id, received, sender, recipient_key, subject, status, events, direction, from_ip, to_ip, size,
        message_id, trace_id, network_id, organization, organization_id, source_row) -> tuple:
    return (record_id, received, sender, recipient_key, subject, status, events, direction, from_ip, to_ip, size,
            message_id, trace_id, network_id, organization, organization_id, source_row)


ORG = "example.onmicrosoft.com"
M1_BILLING = M1.lower() + "|billing@example.net"
M1_MEGAN = M1.lower() + "|megan.bowen@example.org"
M2_ADELE = M2.lower() + "|adele.vance@example.org"
M3_CEO = M3.lower() + "|ceo@example.net"
#: name -> the rows of the messages frame, in input order, as the documentation of each shape says they read.
EXPECTED = {
    "get_messagetrace_ps51.csv": [
        row(M2_ADELE, at(8, 15, 4), "it-support@example.com", "adele.vance@example.org", PHISH, "delivered", None, None,
            "203.0.113.7", None, 48213, M2, trace(2), None, ORG, None, 3),
        row(M1_BILLING, at(10, 15, 0), "Adele.Vance@example.org", "billing@example.net", INVOICE, "delivered", None,
            None, "192.0.2.10", "198.51.100.25", 70211, M1, trace(1), None, ORG, None, 4),
        row(M1_MEGAN, at(10, 15, 0), "Adele.Vance@example.org", "megan.bowen@example.org", INVOICE, "delivered", None,
            None, "192.0.2.10", None, 70211, M1, trace(1), None, ORG, None, 5),
        row(M3_CEO, at(10, 20, 31), "adele.vance@example.org", "ceo@example.net", WIRE, "failed", None, None,
            "192.0.2.10", None, 15512, M3, trace(3), None, ORG, None, 6),
        row("<a1b2c3@newsletter.example.com>|adele.vance@example.org", at(23, 2, 9), "news@newsletter.example.com",
            "adele.vance@example.org", "March offers", "quarantined", None, None, "198.51.100.77", None, 90112,
            "<a1b2c3@newsletter.example.com>", trace(4), None, ORG, None, 8),
    ],
    "get_messagetracev2.csv": [
        row(M2_ADELE, at(8, 15, 4), "it-support@example.com", "adele.vance@example.org", PHISH, "delivered", None, None,
            "203.0.113.7", None, 48213, M2, trace(2), None, None, None, 2),
        row(M1_BILLING, at(10, 15, 0), "Adele.Vance@example.org", "billing@example.net", INVOICE, "delivered", None,
            None, "192.0.2.10", "198.51.100.25", 70211, M1, trace(1), None, None, None, 3),
        row("<ph0pr11mb1001e5@ph0pr11mb1001.namprd11.prod.outlook.com>|payables@example.net", at(12, 40, 12),
            "adele.vance@example.org", "payables@example.net", "RE: Invoice 2024-113", "gettingstatus", None, None,
            "192.0.2.10", None, 20480, "<PH0PR11MB1001E5@PH0PR11MB1001.namprd11.prod.outlook.com>", trace(5), None,
            None, None, 4),
    ],
    "eac_enhanced_summary.csv": [
        row(M1_BILLING, at(10, 15, 0, 123000), "Adele.Vance@example.org", "billing@example.net", INVOICE, "delivered",
            "Receive, Send", "outbound", "192.0.2.10", None, 70211, M1, None, trace(1), None, None, 2),
        row(M1_MEGAN, at(10, 15, 0, 123000), "Adele.Vance@example.org", "megan.bowen@example.org", INVOICE,
            "delivered", "Receive, Deliver", "internal", "192.0.2.10", None, 70211, M1, None, trace(1), None, None, 2),
        row(M2_ADELE, at(8, 15, 4, 567000), "it-support@example.com", "adele.vance@example.org", PHISH, "delivered",
            "Receive, Deliver", "inbound", "203.0.113.7", None, 48213, M2, None, trace(2), None, None, 3),
        row("<ph0pr11mb1001e6@ph0pr11mb1001.namprd11.prod.outlook.com>|accounts@example.net", at(13, 5, 55),
            "adele.vance@example.org", "accounts@example.net", "Payment confirmation", "failed", "Receive, Defer, Fail",
            "outbound", "192.0.2.10", None, 30001, "<PH0PR11MB1001E6@PH0PR11MB1001.namprd11.prod.outlook.com>", None,
            trace(6), None, None, 4),
    ],
    "eac_extended.csv": [  # the row of each (message, recipient)'s final event
        row(M1_BILLING, at(10, 15, 0, 123000), "Adele.Vance@example.org", "billing@example.net", INVOICE, "delivered",
            "RECEIVE, SEND", "outbound", "192.0.2.10", "198.51.100.25", 70211, M1, None, trace(1), None, TENANT, 3),
        row(M1_MEGAN, at(10, 15, 0, 123000), "Adele.Vance@example.org", "megan.bowen@example.org", INVOICE,
            "delivered", "RECEIVE, DELIVER", "internal", "192.0.2.10", None, 70211, M1, None, trace(1), None, TENANT, 4),
        row(M3_CEO, at(10, 20, 31), "adele.vance@example.org", "ceo@example.net", WIRE, "failed", "RECEIVE, DEFER, FAIL",
            "outbound", "192.0.2.10", None, 15512, M3, None, trace(3), None, TENANT, 7),
    ],
    "rws_messagetrace.json": [
        row(M2_ADELE, at(8, 15, 4), "it-support@example.com", "adele.vance@example.org", PHISH, "delivered", None, None,
            "203.0.113.7", None, 48213, M2, trace(2), None, ORG, None, 1),
        row("<caf=x7qp@mail.example.net>|adele.vance@example.org", at(10, 46, 40), "billing@example.net",
            "adele.vance@example.org", "Re: Invoice 2024-113", "delivered", None, None, "198.51.100.25", None, 11342,
            "<CAF=x7Qp@mail.example.net>", trace(7), None, ORG, None, 2),
        row(f"trace:{trace(8)}|adele.vance@example.org", at(11, 46, 40), "postmaster@example.net",
            "adele.vance@example.org", "Undeliverable", "expanded", None, None, "198.51.100.25", None, 2048, None,
            trace(8), None, ORG, None, 3),
    ],
    "graph_messagetraces_page.json": [
        row(M3_CEO, at(10, 20, 31), "adele.vance@example.org", "ceo@example.net", WIRE, "failed", None, None,
            "192.0.2.10", None, 15512, M3, trace(3), None, None, None, 1),
        row("<ph0pr11mb2002e7@ph0pr11mb2002.namprd11.prod.outlook.com>|adele.vance@example.org", at(14, 0, 0),
            "megan.bowen@example.org", "adele.vance@example.org", "Lunch?", "delivered", None, None, "2001:db8::10",
            None, 4096, "<PH0PR11MB2002E7@PH0PR11MB2002.namprd11.prod.outlook.com>", trace(9), None, None, None, 2),
    ],
}


def _loaded_alone(tmp_path: Path, name: str) -> Case:
    case = Case(tmp_path / name.replace(".", "-"))
    case.load([CORPUS / name])
    return case


@pytest.mark.parametrize("name", sorted(FILES))
def test_each_shape_is_detected_from_its_content(name):
    shape = detect(CORPUS / name)
    assert shape.format == FILES[name][0]


def test_a_file_mixing_a_message_trace_and_a_sign_in_is_one_clear_message_naming_it(tmp_path):
    mixed = CORPUS / "mixed_shapes.jsonl"
    with pytest.raises(NotAnAuditLog) as error:
        Case(tmp_path / "mixed").load([mixed])
    message = str(error.value)
    assert str(mixed) in message and "mixes shapes" in message
    assert "line 1 is a Microsoft Graph message trace" in message and "line 2 is a Microsoft Graph sign-in" in message


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_shape_reads_the_rows_its_documentation_describes(tmp_path, name):
    case = _loaded_alone(tmp_path, name)
    frame = case.scan(frame="messages").collect()
    assert frame.schema == pl.Schema({name: dtype for name, dtype in MESSAGE_SCHEMA.items() if name != "raw"})
    assert frame.select(COLUMNS).rows() == EXPECTED[name]
    assert set(frame["source_file"]) == {str(CORPUS / name)}
    assert (frame["sender_key"] == frame["sender"].str.to_lowercase()).all()


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_row_of_each_file_is_accounted(tmp_path, name):
    file = Case(tmp_path / "case").load([CORPUS / name]).files[0]
    _format, rows, loaded, duplicates, rejected = FILES[name]
    assert (file.format, file.rows, file.loaded, file.duplicates, file.rejected) == FILES[name]
    assert file.loaded + file.duplicates + file.conflicting + file.rejected == file.rows
    assert file.frames == {"messages": loaded}


def test_the_reports_say_what_their_rows_count(tmp_path):
    report = Case(tmp_path / "case").load([CORPUS / "eac_enhanced_summary.csv", CORPUS / "eac_extended.csv"])
    units = {Path(file.path).name: file.row_unit() for file in report.files}
    assert "per recipient" in units["eac_enhanced_summary.csv"]
    assert "per event and recipient" in units["eac_extended.csv"] and "duplicates" in units["eac_extended.csv"]


def test_the_original_row_is_kept_with_every_column_even_unknown_ones(tmp_path):
    case = _loaded_alone(tmp_path, "get_messagetrace_ps51.csv")
    raw = case.scan(with_audit_data=True, frame="messages").select("raw").collect()["raw"]
    first = json.loads(raw[0])
    assert first["RunspaceId"] == "6f0c2b1a-7d3e-4c5b-9a8f-1e2d3c4b5a69" and first["Index"] == "0"
    assert first["Status"] == "Delivered" and first["Subject"] == PHISH
    extended = _loaded_alone(tmp_path, "eac_extended.csv")
    final = extended.scan(with_audit_data=True, frame="messages").filter(pl.col("record_id") == M3_CEO).collect()
    assert json.loads(final["raw"][0])["event_id"] == "FAIL"


def test_an_unreadable_date_is_rejected_with_file_row_and_reason(tmp_path):
    case = _loaded_alone(tmp_path, "get_messagetrace_ps51.csv")
    rejects = case.rejects()
    assert rejects.select("file", "row", "reason").rows() == [
        (str(CORPUS / "get_messagetrace_ps51.csv"), 7, "unreadable message trace time 31/02/2024 25:61:00 PM")]
    assert json.loads(rejects["text"][0])["RecipientAddress"] == "megan.bowen@example.org"


def test_overlapping_exports_in_several_shapes_deduplicate_and_fold(tmp_path):
    report = Case(tmp_path / "case").load([CORPUS / name for name in sorted(FILES)])
    case = Case(tmp_path / "case")
    messages = case.frame("messages")
    assert messages.height == messages["record_id"].n_unique() == 10
    totals = report.totals()
    assert totals["rows"] == sum(rows for _f, rows, *_ in FILES.values())
    assert totals["loaded"] + totals["duplicates"] + totals["conflicting"] + totals["rejected"] == totals["rows"]
    # the V2 export wrote the phishing mail's id without its brackets: it is the same row as the other shapes'
    phish = messages.filter(pl.col("record_id") == M2_ADELE)
    assert phish.height == 1 and phish["message_id"][0] == M2
    # values only one shape has are folded into the row loaded first (here the summary report's)
    billing = messages.filter(pl.col("record_id") == M1_BILLING).row(0, named=True)
    assert Path(billing["source_file"]).name == "eac_enhanced_summary.csv"
    assert (billing["network_message_id"], billing["to_ip"], billing["organization_id"], billing["direction"]) == (
        trace(1), "198.51.100.25", TENANT, "outbound")
    assert billing["message_trace_id"] == trace(1) and billing["organization"] == ORG
    assert totals["folded"] > 0


def test_gzipped_and_utf8_copies_and_a_folder_read_the_same_rows(tmp_path):
    text = (CORPUS / "eac_enhanced_summary.csv").read_text(encoding="utf-16")
    (tmp_path / "inputs").mkdir()
    (tmp_path / "inputs" / "a_summary_utf8.csv").write_text(text, encoding="utf-8")
    (tmp_path / "inputs" / "b_ps51.csv.gz").write_bytes(gzip.compress((CORPUS / "get_messagetrace_ps51.csv").read_bytes()))
    report = Case(tmp_path / "case").load([tmp_path / "inputs"])  # a folder's files load in name order
    files = {Path(file.path).name: file for file in report.files}
    assert (files["a_summary_utf8.csv"].format, files["a_summary_utf8.csv"].loaded) == ("eac-summary-csv", 4)
    gzipped = files["b_ps51.csv.gz"]
    assert (gzipped.format, gzipped.loaded, gzipped.duplicates, gzipped.rejected) == (
        "messagetrace-csv", 2, 3, 1)  # three of its five readable rows repeat the summary's


def _audit_send(path: Path) -> None:
    """One unified audit log record: Adele's Send of the invoice mail, naming its InternetMessageId."""
    record = {"Id": "5d7c1f0e-0000-4000-8000-00000000a001", "CreationTime": "2024-03-01T10:14:59",
              "Operation": "Send", "RecordType": 2, "Workload": "Exchange", "UserId": "adele.vance@example.org",
              "ClientIPAddress": "192.0.2.10", "OrganizationId": TENANT,
              "Item": {"Id": "RgAAAAB", "InternetMessageId": M1, "Subject": INVOICE, "SizeInBytes": 70211}}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")


def test_a_case_of_an_audit_log_and_a_trace_reopens_from_parquet_and_joins_on_the_message_id(tmp_path):
    _audit_send(tmp_path / "ual.jsonl")
    inputs = [tmp_path / "ual.jsonl", CORPUS / "get_messagetrace_ps51.csv"]
    report, reused = Case.named("trace", tmp_path / "cases").open(inputs)
    assert not reused and {file.format for file in report.files} == {"mgmt-jsonl", "messagetrace-csv"}
    again = Case.named("trace", tmp_path / "cases")
    report, reused = again.open(inputs)
    assert reused and report.totals()["loaded"] == 6
    assert again.frame("messages").select(COLUMNS).rows() == sorted(
        EXPECTED["get_messagetrace_ps51.csv"], key=lambda expected: expected[1])
    activity = again.activity()
    sent = activity.filter(pl.col("source") == "message")
    assert sent.height == 5 and sent["creation_time"].is_sorted()
    billing = sent.filter(pl.col("record_id") == M1_BILLING).row(0, named=True)
    assert (billing["operation"], billing["user_key"], billing["client_ip"], billing["workload"]) == (
        "message delivered", "adele.vance@example.org", "192.0.2.10", "MessageTrace")
    assert billing["object_id"] == f"billing@example.net · {INVOICE}"
    found = again.record_row(billing)
    assert found is not None and json.loads(found["raw"])["RecipientAddress"] == "billing@example.net"
    session = SqlSession(again)
    joined = session.run("SELECT m.recipient_key, m.status FROM events e JOIN messages m "
                         "ON json_extract_string(e.item, '$.InternetMessageId') = m.message_id "
                         "ORDER BY m.recipient_key").frame
    assert joined.rows() == [("billing@example.net", "delivered"), ("megan.bowen@example.org", "delivered")]
    assert [name for name, _type in session.columns()["messages"]] == list(MESSAGE_SCHEMA)


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env={"WORKBENCH_CASE_DIR": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home),
                               "COLUMNS": "200"})


def test_info_reports_a_trace_file(tmp_path):
    info = _cli("info", str(CORPUS / "eac_enhanced_summary.csv"), "--format", "json", home=tmp_path)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["sources"] == {"message": 4}
    [file] = summary["files"]
    assert (file["format"], file["rows"], file["loaded"], file["duplicates"], file["rejected"]) == (
        "eac-summary-csv", 4, 4, 0, 0)
    assert summary["first_event"].startswith("2024-03-01T08:15:04") and summary["workloads"] == {"MessageTrace": 4}
    table = _cli("info", str(CORPUS / "eac_extended.csv"), home=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "eac-extended-csv" in table.stdout and "message trace rows" in table.stdout
    assert "counted per event and recipient" in " ".join(table.stdout.split())


def test_sql_over_the_messages_table(tmp_path):
    result = _cli("sql", str(CORPUS / "get_messagetrace_ps51.csv"),
                  "SELECT recipient_key, status, direction, subject FROM messages WHERE status <> 'delivered' "
                  "ORDER BY received", "--format", "json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        {"recipient_key": "ceo@example.net", "status": "failed", "direction": None, "subject": WIRE},
        {"recipient_key": "adele.vance@example.org", "status": "quarantined", "direction": None,
         "subject": "March offers"}]


def test_a_utf16_report_longer_than_a_transcoding_block_keeps_a_character_split_across_blocks(tmp_path):
    from workbench.core.formats import TRANSCODE_BYTES

    header = ("origin_timestamp_utc,sender_address,recipient_status,message_subject,total_bytes,message_id,"
              "network_message_id,original_client_ip,directionality,connector_id,delivery_priority\r\n")

    def row(n: int, subject: str) -> str:
        return (f"2024-03-01T10:15:00.0000000Z,a@example.org,\"b{n}@example.net##Receive, Deliver\",\"{subject}\",100,"
                f"<m{n}@example.org>,{trace(1)},192.0.2.10,2,,Normal\r\n")

    text, subjects = "\ufeff" + header, []
    while len(text) * 2 < TRANSCODE_BYTES - 1_000:
        subjects.append(f"Überweisung {len(subjects)}")
        text += row(len(subjects) - 1, subjects[-1])
    # the next subject's banknote (a surrogate pair in UTF-16) starts 2 bytes before the first block ends
    before = row(len(subjects), "\x00").split("\x00")[0]
    padding = (TRANSCODE_BYTES - 2 - (len(text) + len(before)) * 2) // 2
    subjects.append("p" * padding + "💶 split")
    text += row(len(subjects) - 1, subjects[-1])
    assert text.encode("utf-16-le")[TRANSCODE_BYTES - 2:TRANSCODE_BYTES + 2] == "💶".encode("utf-16-le")
    subjects += [f"Überweisung {n} 💶" for n in range(len(subjects), len(subjects) + 5)]
    text += "".join(row(n, subjects[n]) for n in range(len(subjects) - 5, len(subjects)))
    path = tmp_path / "summary.csv"
    path.write_bytes(text.encode("utf-16-le"))
    report = Case(tmp_path / "case").load([path])
    assert (report.files[0].format, report.files[0].loaded, report.files[0].rejected) == (
        "eac-summary-csv", len(subjects), 0)
    assert Case(tmp_path / "case").frame("messages").sort("source_row")["subject"].to_list() == subjects


@pytest.mark.parametrize("name", ["get_messagetracev2.csv", "get_messagetrace_ps51.csv", "eac_enhanced_summary.csv",
                                  "eac_extended.csv"])
def test_a_csv_trace_keeps_each_row_by_span_and_reads_it_back_after_the_input_is_gone(tmp_path, name):
    """The rows are not encoded again into the Parquet: the case keeps the file and reads each single-line row back as
    the JSON object of its cells (a summary report's row once for each of its recipients); a row over several lines,
    and the rows after it, are stored."""
    source = tmp_path / name
    source.write_bytes((CORPUS / name).read_bytes())
    case = Case.named("kept", tmp_path / "cases", {"keep_inputs": "copy"})
    case.load([source])
    rows = case.scan(with_audit_data=True, frame="messages").select("source_row", "raw").collect()
    stored = case.scan(with_audit_data=True, frame="messages", from_kept_inputs=False).collect()["raw"]
    assert 0 < stored.null_count() <= rows.height
    source.unlink()
    read_back = case.scan(with_audit_data=True, frame="messages").select("source_row", "raw").collect()
    assert read_back.equals(rows) and read_back["raw"].null_count() == 0
    text = (CORPUS / name).read_bytes().decode(_encoding(CORPUS / name))
    skip = 1 if text.startswith("#TYPE") else 0  # the header is row 1 after the `#TYPE` line, when there is one
    header, *records = list(csv.reader(text.splitlines(keepends=True)[skip:]))
    cells = {number: dict(zip([name.strip() for name in header], record))
             for number, record in enumerate(records, 2 + skip)}
    for source_row, raw in read_back.iter_rows():
        assert {key: value for key, value in json.loads(raw).items() if value} == {
            key: value for key, value in cells[source_row].items() if value}


def _encoding(path: Path) -> str:
    head = path.read_bytes()[:2]
    return "utf-16" if head in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"


def test_a_json_lines_trace_keeps_its_lines_byte_for_byte(tmp_path):
    """Before: a Graph message trace in JSON Lines lost its records (stored as null, the input not kept)."""
    lines = [json.dumps({"id": f"7d1c-{n}", "receivedDateTime": f"2024-03-01T10:0{n}:00Z", "senderAddress": "a@contoso.com",
                         "recipientAddress": f"r{n}@fabrikam.com", "subject": "Überweisung", "status": "Delivered",
                         "messageId": f"<m{n}@contoso.com>", "size": 100 + n}, ensure_ascii=False) for n in range(3)]
    source = tmp_path / "traces.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    case = Case.named("lines", tmp_path / "cases", {"keep_inputs": "copy"})
    assert case.load([source]).files[0].format == "graph-messagetraces-jsonl"
    source.unlink()
    raw = case.scan(with_audit_data=True, frame="messages").sort("source_row").collect()["raw"].to_list()
    assert raw == lines


def test_a_summary_rows_status_is_the_last_event_that_says_how_delivery_ended():
    from workbench.core.sources.messages import _status_of_events

    events = ["Receive, Deliver", "Receive, Defer, Fail", "Receive, Send, Resolve", "RECEIVE ,  expand ,", "Receive",
              "DuplicateDeliver, Receive", "Receive, SEND_EXTERNAL", "", None, "Deliver, Redirect, Quarantine"]
    statuses = _status_of_events(pl.Series(events, dtype=pl.String)).to_list()
    assert statuses == ["delivered", "failed", "delivered", "expanded", "receive", "delivered", "send_external", "",
                        None, "quarantined"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["Receive, Deliver", "receive,send", " Receive, Defer, Fail ",
                                                      "Expand", "", "Deliver, Redirect, Quarantine"]), st.text()),
                max_size=40))
def test_a_value_worked_out_once_per_distinct_value_is_what_every_row_would_get(events):
    """`per_value` (a status or direction found once per distinct list of events) gives each row, null or not, what
    the work gives it row by row."""
    from workbench.core.normalise import per_value
    from workbench.core.sources.messages import _status_of_events

    values = pl.Series("events", events, dtype=pl.String)
    for work_out in (_status_of_events, lambda texts: texts.str.len_chars().fill_null(-1)):
        assert per_value(values, work_out).to_list() == work_out(values).to_list()


def test_a_message_id_is_written_in_angle_brackets_once():
    from workbench.core.sources.messages import _message_id

    ids = {"<a@b>": "<a@b>", "a@b": "<a@b>", " <a@b> ": "<a@b>", "<a@b": "<a@b>", "a@b>": "<a@b>", "<<a>>": "<<a>>",
           "<": "<>", "": None, "  ": None, None: None}
    frame = pl.DataFrame({"id": list(ids)}, schema={"id": pl.String})
    assert frame.select(_message_id("id")).to_series().to_list() == list(ids.values())
