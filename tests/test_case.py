"""Cases: Parquet events, reopen without re-parsing, reload on changed inputs, the case database."""

import json
import sqlite3

import pytest

from workbench.core.case import Case, case_name_for


def write_jsonl(path, ids):
    rows = [{"Id": i, "CreationTime": "2023-02-21T14:03:11", "Operation": "Send", "UserId": "u@x.com",
             "RecordType": 2, "Workload": "Exchange"} for i in ids]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_reopen_with_unchanged_inputs_reads_the_parquet(tmp_path, monkeypatch):
    source = write_jsonl(tmp_path / "a.jsonl", ["1", "2"])
    case = Case.named("c1", tmp_path / "cases")
    _, reused = case.open([source])
    assert not reused and sorted(p.name for p in case.events_dir.iterdir()) == ["part-00000.parquet"]

    def no_parsing(*args, **kwargs):
        raise AssertionError("inputs were parsed again")

    monkeypatch.setattr("workbench.core.load.load_paths", no_parsing)
    again = Case.named("c1", tmp_path / "cases")
    report, reused = again.open([source])
    assert reused and report.totals()["loaded"] == 2
    assert again.events()["record_id"].to_list() == ["1", "2"]
    _, reused = Case.named("c1", tmp_path / "cases").open([])
    assert reused


def test_changed_inputs_are_loaded_again_and_marks_survive(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ["1", "2"])
    case = Case.named("c2", tmp_path / "cases")
    case.open([source])
    case.store.set_marks(["1"], True)
    case.store.set_note("1", "attacker grant")
    write_jsonl(source, ["1", "2", "3"])
    report, reused = Case.named("c2", tmp_path / "cases").open([source])
    assert not reused and report.totals()["loaded"] == 3
    reopened = Case.named("c2", tmp_path / "cases")
    assert reopened.store.marks() == {"1"} and reopened.store.notes() == {"1": "attacker grant"}


def test_case_database_has_the_tables_later_views_need(tmp_path):
    case = Case.named("c3", tmp_path / "cases")
    case.open([write_jsonl(tmp_path / "a.jsonl", ["1"])])
    tables = {row[0] for row in sqlite3.connect(case.root / "case.sqlite").execute("SELECT name FROM sqlite_master")}
    assert {"marks", "notes", "tags", "saved_filters", "filter_history", "saved_queries", "query_history"} <= tables
    case.store.set_tags("1", ["evidence", "fullaccess", "evidence"])
    assert case.store.tags() == {"1": ["evidence", "fullaccess"]}


def test_audit_data_is_on_disk_and_read_per_event(tmp_path):
    case = Case.named("c4", tmp_path / "cases")
    case.open([write_jsonl(tmp_path / "a.jsonl", ["1", "2"])])
    assert "audit_data" not in case.events().columns
    assert json.loads(case.audit_data(["2"])["2"])["Id"] == "2"
    second = next(row for row in case.events().iter_rows(named=True) if row["record_id"] == "2")
    assert json.loads(case.record_text(second))["Id"] == "2"  # found by its input position


def test_failed_load_keeps_the_previous_events(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", ["1"])
    case = Case.named("c5", tmp_path / "cases")
    case.open([source])
    source.write_text("name,phone\n")
    with pytest.raises(ValueError):
        case.open([source])
    assert case.events()["record_id"].to_list() == ["1"]


def test_derived_names_are_stable_and_distinct(tmp_path):
    (tmp_path / "x" / "logs").mkdir(parents=True)
    (tmp_path / "y" / "logs").mkdir(parents=True)
    first = case_name_for([tmp_path / "x" / "logs"])
    assert first == case_name_for([tmp_path / "x" / "logs"])
    assert first.startswith("logs-") and first != case_name_for([tmp_path / "y" / "logs"])
    with pytest.raises(ValueError):
        Case.named("../escape", tmp_path)


def test_a_case_folder_named_like_a_glob_pattern_reads_back(tmp_path, sample_logs):
    """Polars reads `[1]*` in a path as a pattern unless told not to, and then finds nothing."""
    case = Case.named("c", tmp_path / "cases [1]*")
    report, _ = case.open([sample_logs / "case-a", sample_logs / "broken"])
    events = case.events()
    assert events.height == sum(file.frames.get("events", 0) for file in report.files) > 4000
    assert case.rejects().height == report.totals()["rejected"] > 0
    first = events.row(0, named=True)
    assert json.loads(case.record_text(first))["Id"].lower() == first["record_id"]
