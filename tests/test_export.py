"""The one export writer: formats by suffix, formula-safe CSV, atomic writes, annotated events, `workbench export`."""

import json
import os

import polars as pl
import pytest

from tests.conftest import case_of_records

from workbench.cli import main
from workbench.core.case import Case
from workbench.core.export import (annotated_events, event_format_for_path, format_for_path, inert_text,
                                   neutralise_formulas, original_records, write_frame)

RECORDS = [
    {"Id": "grant", "CreationTime": "2023-02-20T15:03:44", "Operation": "Add-MailboxPermission", "Workload": "Exchange",
     "RecordType": 1, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102:53211",
     "ObjectId": "TargetUser", "Parameters": [{"Name": "Identity", "Value": "TargetUser"},
                                              {"Name": "AccessRights", "Value": "FullAccess"}]},
    {"Id": "phone", "CreationTime": "2023-02-20T15:10:00", "Operation": "Update user.", "Workload": "AzureActiveDirectory",
     "RecordType": 8, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102",
     "ObjectId": "=cmd|' /C calc'!A0",
     "ModifiedProperties": [{"Name": "StrongAuthenticationPhoneAppDetail", "OldValue": "[]",
                             "NewValue": "[\r\n  \"+1 555 0100\"\r\n]"}]},
    {"Id": "delete", "CreationTime": "2023-02-22T16:25:34", "Operation": "HardDelete", "Workload": "Exchange",
     "RecordType": 3, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102",
     "AffectedItems": [{"Subject": "Reset your Online Banking password\x1b[2J", "ParentFolder": {"Path": "\\Inbox"}}]},
]


@pytest.fixture
def case(tmp_path) -> Case:
    case = case_of_records(tmp_path, "exports", RECORDS)
    case.store.set_marks(["grant", "delete"], True)
    case.store.set_note("delete", "banking mail destroyed")
    case.store.set_tags("delete", ["evidence", "T1070.008"])
    return case


def test_format_follows_the_suffix(tmp_path):
    assert [format_for_path(tmp_path / name) for name in ("a.csv", "a.JSON", "a.jsonl", "a.ndjson")] == [
        "csv", "json", "jsonl", "jsonl"]
    with pytest.raises(ValueError, match="export to .csv, .json or .jsonl"):
        format_for_path(tmp_path / "a.xlsx")  # a table (SQL results) has no notes sheet to write
    names = ("a.csv", "a.xlsx", "a.XLSX", "a.timesketch.csv", "a.Timesketch.JSONL", "a.ndjson")
    assert [event_format_for_path(tmp_path / name) for name in names] == [
        "csv", "xlsx", "xlsx", "timesketch-csv", "timesketch-jsonl", "jsonl"]
    with pytest.raises(ValueError, match=r"\.xlsx, \.timesketch\.csv or \.timesketch\.jsonl"):
        event_format_for_path(tmp_path / "a.xls")


def test_formula_leading_cells_are_neutralised_in_csv(tmp_path):
    cells = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "a=b"]
    frame = pl.DataFrame({"cell": cells})
    assert neutralise_formulas(frame)["cell"].to_list() == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "plain", "a=b"]
    write_frame(frame, tmp_path / "cells.csv")
    assert pl.read_csv(tmp_path / "cells.csv")["cell"][0] == "'=1+1"
    write_frame(frame, tmp_path / "cells.json")  # JSON is data, not a spreadsheet: kept exact
    assert json.loads((tmp_path / "cells.json").read_text())[0]["cell"] == "=1+1"


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("previous export\n")
    with pytest.raises(ValueError):
        write_frame(pl.DataFrame({"a": [1]}), target, fmt="xml")
    assert target.read_text() == "previous export\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_annotated_events_carry_decoded_text_annotations_and_extra_columns(case):
    events = case.events()
    hits = pl.DataFrame({"record_id": ["delete"], "hunt_ids": ["defense-evasion-hard-delete"]})
    enrichment = pl.DataFrame({"client_ip": ["104.161.20.102"], "asn": [46664]})
    table = annotated_events(events, case.store.marks(), case.store.notes(), case.store.tags(),
                             original_records(case, events), by_record=hits, by_ip=enrichment)
    rows = {row["record_id"]: row for row in table.iter_rows(named=True)}
    assert rows["grant"]["parameters_text"] == "Identity=TargetUser; AccessRights=FullAccess"
    assert rows["phone"]["modified_properties_text"] == "StrongAuthenticationPhoneAppDetail:  -> +1 555 0100"
    assert rows["delete"]["summary"] == "Reset your Online Banking password\x1b[2J"
    assert rows["delete"]["note"] == "banking mail destroyed" and rows["delete"]["tags"] == "T1070.008, evidence"
    assert [rows[i]["marked"] for i in ("grant", "phone", "delete")] == [True, False, True]
    assert rows["delete"]["hunt_ids"] == "defense-evasion-hard-delete" and rows["grant"]["hunt_ids"] is None
    assert rows["phone"]["asn"] == 46664
    assert json.loads(rows["grant"]["audit_data"])["Id"] == "grant"
    assert table.columns[:4] == ["record_id", "creation_time", "user_id", "operation"]
    assert table.columns[-1] == "audit_data"
    assert inert_text(table).filter(pl.col("record_id") == "delete")["summary"].item().endswith("\\x1b[2J")


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
def test_workbench_export_writes_the_marked_events(case, tmp_path, suffix, capsys):
    out = tmp_path / f"marked.{suffix}"
    status = main(["export", "--case", "exports", "--case-dir", str(tmp_path / "cases"), "--marked", "-o", str(out)])
    assert status == 0 and "wrote 2 events" in capsys.readouterr().err
    if suffix == "csv":
        rows = pl.read_csv(out).to_dicts()
    elif suffix == "json":
        rows = json.loads(out.read_text())
    else:
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [row["record_id"] for row in rows] == ["grant", "delete"]
    assert rows[1]["note"] == "banking mail destroyed"
    assert rows[1]["summary"] == "Reset your Online Banking password\\x1b[2J"  # control characters shown, not sent


def test_workbench_export_filters_and_neutralises(case, tmp_path):
    out = tmp_path / "all.csv"
    assert main(["export", "--case", "exports", "--case-dir", str(tmp_path / "cases"), "--filter", "op:Update*",
                 "-o", str(out)]) == 0
    assert pl.read_csv(out)["object_id"].to_list() == ["'=cmd|' /C calc'!A0"]


def test_workbench_export_usage_errors(case, tmp_path, capsys):
    cases = str(tmp_path / "cases")
    assert main(["export", "--case", "nosuch", "--case-dir", cases, "-o", str(tmp_path / "x.csv")]) == 2
    assert main(["export", "--case", "exports", "--case-dir", cases, "-o", str(tmp_path / "x.xls")]) == 2
    assert main(["export", "--case", "exports", "--case-dir", cases, "--filter", "bogus:1", "-o",
                 str(tmp_path / "x.csv")]) == 2
    errors = capsys.readouterr().err
    assert "no case named 'nosuch'" in errors and "x.xls: export to .csv" in errors and "unknown field 'bogus'" in errors
    assert not (tmp_path / "x.csv").exists()


def test_a_filter_that_starts_with_a_minus_is_a_filter_not_an_option(case, tmp_path):
    out = tmp_path / "not-updates.csv"
    assert main(["export", "--case", "exports", "--case-dir", str(tmp_path / "cases"), "--filter", "-op:Update*",
                 "-o", str(out)]) == 0
    exported = pl.read_csv(out)["record_id"].to_list()
    assert exported and "phone" not in exported  # the Update user. event is the one left out


def test_a_scan_exported_a_window_of_time_at_a_time_is_the_scan_sorted_at_once(tmp_path, sample_logs, monkeypatch):
    """`workbench export` gives the case's scan: read 400 rows of time at a time, written 150 at a time, the file is
    the one the whole scan sorted at once gives, every row once, in time order."""
    import workbench.core.export as export

    case = Case.named("windows", tmp_path / "cases")
    case.load([sample_logs / "case-a"])
    whole, windows = tmp_path / "whole.jsonl", tmp_path / "windows.jsonl"
    assert export.export_case_events(case, whole, case.activity_scan()) == case.activity().height
    monkeypatch.setattr(export, "WINDOW_ROWS", 400)
    monkeypatch.setattr(export, "EXPORT_BATCH", 150)
    assert export.export_case_events(case, windows, case.activity_scan()) == case.activity().height > 10 * 400
    assert windows.read_bytes() == whole.read_bytes()
    ids = [json.loads(line)["record_id"] for line in whole.read_text().splitlines()]
    assert ids == case.activity()["record_id"].to_list()
