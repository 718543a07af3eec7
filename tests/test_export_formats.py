"""Excel and Timesketch exports, and the readable columns computed for a whole case: read back as a client and
Timesketch would read them."""

import csv
import json
from datetime import datetime

import openpyxl
import polars as pl
import pytest

from tests.conftest import case_of_records

from workbench.cli import main
from workbench.core import decode
from workbench.core.case import Case
from workbench.core.export import export_case_events, original_records
from workbench.core.readable import _decoded, readable_columns
from workbench.core.xlsx import TooManyRows, check_rows

RECORDS = [
    {"Id": "grant", "CreationTime": "2023-02-20T15:03:44", "Operation": "Add-MailboxPermission", "Workload": "Exchange",
     "RecordType": 1, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102:53211",
     "ObjectId": "TargetUser", "Parameters": [{"Name": "Identity", "Value": "TargetUser"},
                                              {"Name": "AccessRights", "Value": "FullAccess"}]},
    {"Id": "phone", "CreationTime": "2023-02-20T15:10:00.250", "Operation": "Update user.",
     "Workload": "AzureActiveDirectory", "RecordType": 8, "UserId": "CompromisedAdmin@example.com",
     "ClientIP": "104.161.20.102", "ObjectId": "=cmd|' /C calc'!A0",
     "ModifiedProperties": [{"Name": "StrongAuthenticationPhoneAppDetail", "OldValue": "[]",
                             "NewValue": "[\r\n  \"+1 555 0100\"\r\n]"},
                            {"Name": "AssignedPlan", "OldValue": "", "NewValue": "[{\"b\": 1, \"a\": 2}]"}]},
    {"Id": "delete", "CreationTime": "2023-02-22T16:25:34", "Operation": "HardDelete", "Workload": "Exchange",
     "RecordType": 3, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102",
     "AffectedItems": [{"Subject": "Reset your Online Banking password\x1b[2J\u202e", "ParentFolder": {"Path": "\\Inbox"}}]},
    {"Id": "rule", "CreationTime": "2023-02-22T16:30:00", "Operation": "New-InboxRule", "Workload": "Exchange",
     "RecordType": 1, "UserId": "CompromisedAdmin@example.com", "ClientIP": "",
     "Parameters": [{"Name": "Name", "Value": "@SUM(1+1)"}, {"Name": "MoveToFolder", "Value": "RSS Feeds"}]},
    {"Id": "update", "CreationTime": "2023-02-22T16:31:00", "Operation": "Update", "Workload": "Exchange",
     "RecordType": 2, "UserId": "TargetUser@example.com", "ClientIP": "10.0.0.4",
     "ModifiedProperties": ["RecipientCollection", "Subject"], "Item": {"Subject": "Invoice 4471"}},
    {"Id": "plain", "CreationTime": "2023-02-22T16:32:00", "Operation": "Set-Mailbox", "Workload": "Exchange",
     "RecordType": 1, "UserId": "TargetUser@example.com", "Parameters": "-ForwardingSmtpAddress x@evil.example"},
]


@pytest.fixture
def case(tmp_path) -> Case:
    case = case_of_records(tmp_path, "formats", RECORDS)
    case.store.set_marks(["grant", "delete"], True)
    case.store.set_note("delete", "=HYPERLINK(\"http://evil.example\")")
    case.store.set_tags("delete", ["evidence", "T1070.008"])
    case.store.set_tags("rule", ["persistence"])
    return case


def aligned_records(case, events: pl.DataFrame) -> pl.Series:
    """The original record of each row of `events`, row for row."""
    records = original_records(case, events)
    return events.select("record_id").join(records, on="record_id", how="left", maintain_order="left")["audit_data"]


def export(case, tmp_path, name: str, *options: str) -> int:
    return main(["export", "--case", case.name, "--case-dir", str(case.root.parent), *options, "-o", str(tmp_path / name)])


def test_readable_columns_agree_with_the_drill_down_decode(case):
    events = case.events()
    audit = aligned_records(case, events)
    fast = readable_columns(events, audit)
    assert fast.to_dicts() == _decoded(events, audit).to_dicts()
    rows = dict(zip(events["record_id"], fast.to_dicts()))
    assert rows["update"] == {"summary": "Invoice 4471", "parameters_text": "",
                              "modified_properties_text": "RecipientCollection; Subject"}
    assert rows["plain"]["parameters_text"] == "-ForwardingSmtpAddress x@evil.example"  # plain text: decode.py's way
    assert rows["phone"]["modified_properties_text"] == (
        'StrongAuthenticationPhoneAppDetail:  -> +1 555 0100; AssignedPlan:  -> {"a": 2, "b": 1}')
    assert decode.summary(None, None, None, '[{"Name": "Identity", "Value": "TargetUser"}]') == rows["grant"]["summary"]


def test_readable_columns_of_the_sample_logs_agree_with_the_drill_down(tmp_path, sample_logs):
    case = Case.named("samples", tmp_path / "cases")
    case.open([sample_logs / "case-a", sample_logs / "case-b"])
    events = case.activity()
    audit = aligned_records(case, events)
    fast = readable_columns(events, audit).with_columns(events["source"])
    ual = fast["source"] == "ual"  # decode.py reads only the audit log's `{Name, OldValue, NewValue}` changes
    assert fast.filter(ual).drop("source").to_dicts() == _decoded(events.filter(ual), audit.filter(ual)).to_dicts()
    audits = fast.filter(pl.col("source") == "audit")["modified_properties_text"]
    assert audits.str.contains(" -> ").any() and not audits.str.starts_with(";").any()


def test_xlsx_has_an_events_sheet_and_a_notes_sheet_with_header_filters_and_inert_cells(case, tmp_path):
    assert export(case, tmp_path, "client.xlsx") == 0
    book = openpyxl.load_workbook(tmp_path / "client.xlsx")
    assert book.sheetnames == ["events", "notes"]
    events, notes = book["events"], book["notes"]
    header = [cell.value for cell in events[1]]
    assert header[:5] == ["record_id", "creation_time (UTC)", "user_id", "operation", "client_ip"]
    assert "audit_data" not in header and {"summary", "parameters_text", "marked", "note", "tags"} <= set(header)
    assert events.freeze_panes == "A2" and events.auto_filter.ref == f"A1:{events.cell(1, len(header)).column_letter}7"
    assert events.column_dimensions["C"].width > 20  # user ids are wide, widths follow the values
    rows = {row[0]: dict(zip(header, row)) for row in events.iter_rows(min_row=2, values_only=True)}
    assert rows["phone"]["creation_time (UTC)"] == datetime(2023, 2, 20, 15, 10, 0, 250000)  # a real Excel time
    assert events["B2"].number_format == "yyyy-mm-dd hh:mm:ss.000"
    assert rows["phone"]["object_id"] == "'=cmd|' /C calc'!A0"  # text, and prefixed as in the CSV
    assert events["B2"].data_type == "d" and all(cell.data_type != "f" for row in events.iter_rows() for cell in row)
    assert rows["rule"]["summary"] == "Name=@SUM(1+1)"
    assert rows["delete"]["summary"] == "Reset your Online Banking password\\x1b[2J\\u202e"  # shown, not sent
    assert rows["grant"]["marked"] is True and rows["phone"]["marked"] is False
    note_header = [cell.value for cell in notes[1]]
    assert note_header == ["record_id", "creation_time (UTC)", "user_id", "operation", "marked", "tags", "note"]
    assert notes.freeze_panes == "A2" and notes.auto_filter.ref == "A1:G4"
    annotated = {row[0]: dict(zip(note_header, row)) for row in notes.iter_rows(min_row=2, values_only=True)}
    assert set(annotated) == {"grant", "delete", "rule"}
    assert annotated["delete"]["note"] == "'=HYPERLINK(\"http://evil.example\")"
    assert annotated["delete"]["tags"] == "T1070.008, evidence" and annotated["rule"]["marked"] is False


def test_xlsx_of_the_marked_events_and_a_filter(case, tmp_path):
    assert export(case, tmp_path, "marked.xlsx", "--marked") == 0
    book = openpyxl.load_workbook(tmp_path / "marked.xlsx", read_only=True)
    assert [row[0] for row in book["events"].iter_rows(min_row=2, values_only=True)] == ["grant", "delete"]
    assert export(case, tmp_path, "rules.xlsx", "--filter", "op:New-InboxRule") == 0
    book = openpyxl.load_workbook(tmp_path / "rules.xlsx", read_only=True)
    assert [row[0] for row in book["events"].iter_rows(min_row=2, values_only=True)] == ["rule"]
    assert [row[0] for row in book["notes"].iter_rows(min_row=2, values_only=True)] == ["rule"]


def test_an_xlsx_cell_holds_a_huge_value_cut_with_its_size_stated(case, tmp_path):
    case.store.set_note("grant", "x" * 40_000)
    assert export(case, tmp_path, "big.xlsx") == 0
    notes = openpyxl.load_workbook(tmp_path / "big.xlsx", read_only=True)["notes"]
    note = {row[0]: row[6] for row in notes.iter_rows(min_row=2, values_only=True)}["grant"]
    assert len(note) <= 32_767 and note.startswith("xxx") and note.endswith(" more characters")


def test_xlsx_refuses_more_rows_than_a_sheet_holds(case, tmp_path, capsys):
    check_rows(1_048_575)
    with pytest.raises(TooManyRows, match="1,048,576 events do not fit in an Excel sheet"):
        check_rows(1_048_576)
    events = pl.concat([case.activity()] * 174_763)  # 1,048,578 rows
    with pytest.raises(TooManyRows, match="export fewer"):
        export_case_events(case, tmp_path / "huge.xlsx", events)
    assert not (tmp_path / "huge.xlsx").exists()


@pytest.mark.parametrize("ending", ["timesketch.csv", "timesketch.jsonl"])
def test_timesketch_files_carry_message_datetime_and_timestamp_desc_first(case, tmp_path, ending):
    assert export(case, tmp_path, f"timeline.{ending}") == 0
    path = tmp_path / f"timeline.{ending}"
    if ending.endswith("csv"):
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    else:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert list(rows[0])[:4] == ["message", "datetime", "timestamp", "timestamp_desc"]
    by_id = {row["record_id"]: row for row in rows}
    assert len(rows) == len(RECORDS)
    for row in rows:
        moment = datetime.fromisoformat(row["datetime"])
        assert moment.utcoffset().total_seconds() == 0 and row["datetime"].endswith("+00:00")
        assert int(row["timestamp"]) == round(moment.timestamp() * 1_000_000)
        assert row["timestamp_desc"] == "Event Recorded"
    assert by_id["phone"]["datetime"] == "2023-02-20T15:10:00.250000+00:00"
    assert by_id["grant"]["message"] == (
        "CompromisedAdmin@example.com Add-MailboxPermission Identity=TargetUser from 104.161.20.102")
    assert by_id["rule"]["message"] == "CompromisedAdmin@example.com New-InboxRule Name=@SUM(1+1)"  # no IP: no "from"
    assert by_id["delete"]["message"].endswith("password\\x1b[2J\\u202e from 104.161.20.102")  # inert
    assert by_id["delete"]["note"].lstrip("'") == "=HYPERLINK(\"http://evil.example\")"
    assert json.loads(by_id["grant"]["audit_data"])["Id"] == "grant"
    if ending.endswith("csv"):
        assert by_id["phone"]["object_id"] == "'=cmd|' /C calc'!A0"
    else:
        assert "\u202e" not in path.read_text(encoding="utf-8")  # escaped, so `cat` shows nothing hidden


def test_sign_ins_and_directory_audits_say_what_their_time_means(tmp_path, sample_logs):
    case = Case.named("entra", tmp_path / "cases")
    case.open([sample_logs / "case-a"])
    events = case.activity().filter(pl.col("source") != "ual").group_by("source").head(2)
    out = tmp_path / "entra.timesketch.jsonl"
    export_case_events(case, out, events)
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert {(row["source"], row["timestamp_desc"]) for row in rows} == {("signin", "Sign-in"),
                                                                         ("audit", "Directory audit"),
                                                                         ("message", "Message received")}
    assert all(row["message"] and row["datetime"].endswith("+00:00") for row in rows)


def test_usage_errors_name_the_endings(case, tmp_path, capsys):
    assert export(case, tmp_path, "x.xls") == 2
    assert "x.xls: export to .csv, .json, .jsonl, .xlsx, .timesketch.csv or .timesketch.jsonl" in capsys.readouterr().err


@pytest.mark.parametrize("ending", ["csv", "json", "jsonl", "timesketch.csv", "timesketch.jsonl"])
def test_an_export_written_a_few_rows_at_a_time_is_the_export_written_at_once(case, tmp_path, monkeypatch, ending):
    """Big exports are made and written in batches (the records are bulky): byte for byte the same file, whatever
    the batch, an empty export included."""
    events = case.activity()
    whole, batched, empty = (tmp_path / f"{name}.{ending}" for name in ("whole", "batched", "empty"))
    export_case_events(case, whole, events)
    monkeypatch.setattr("workbench.core.export.EXPORT_BATCH", 4)  # six rows: a batch of four, then of two
    assert export_case_events(case, batched, events) == len(RECORDS)
    assert batched.read_bytes() == whole.read_bytes()
    assert export_case_events(case, empty, events.clear()) == 0
    if ending == "json":
        assert json.loads(whole.read_text(encoding="utf-8"))[0]["record_id"] == "grant"
        assert json.loads(empty.read_text(encoding="utf-8")) == []
    elif ending.endswith("csv"):
        assert empty.read_text(encoding="utf-8").count("\n") == 1  # the header alone
    else:
        assert empty.read_bytes() == b""
    monkeypatch.setattr("workbench.core.export.EXPORT_BATCH", 1)
    assert export_case_events(case, batched, events) == len(RECORDS) and batched.read_bytes() == whole.read_bytes()


def test_a_purview_csv_case_s_export_is_the_same_written_a_few_rows_at_a_time(tmp_path, monkeypatch):
    """A CSV export's records are in the case's Parquet: read in one scan for every batch, the same file."""
    from tests.test_hunt_records import purview_csv

    case = Case.named("csv", tmp_path / "cases")
    case.load([purview_csv(tmp_path, RECORDS)])
    whole, batched = tmp_path / "whole.jsonl", tmp_path / "batched.jsonl"
    export_case_events(case, whole, case.activity())
    monkeypatch.setattr("workbench.core.export.EXPORT_BATCH", 4)
    export_case_events(case, batched, case.activity())
    assert batched.read_bytes() == whole.read_bytes()
    assert [json.loads(json.loads(line)["audit_data"])["Id"] for line in whole.read_text().splitlines()] == [
        record["Id"] for record in sorted(RECORDS, key=lambda record: record["CreationTime"])]
