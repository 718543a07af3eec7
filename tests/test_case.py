"""Cases: Parquet events, reopen without re-parsing, reload on changed inputs, the case database."""

import json
import sqlite3

import polars as pl
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


def test_first_activity_is_the_head_of_the_activity_read_alone(tmp_path, sample_logs):
    """The rows the events view paints first are exactly the first rows of the whole activity: newest-first
    exports, ties in time (kept in input order) and a case of several sources and inputs (case A)."""
    times = ["2023-02-21T14:03:13", "2023-02-21T14:03:12", "2023-02-21T14:03:12", "2023-02-21T14:03:11",
             "2023-02-21T14:03:12", "2023-02-21T14:03:11"]
    source = tmp_path / "newest-first.jsonl"
    source.write_text("".join(json.dumps({"Id": str(number), "CreationTime": time, "Operation": "Send",
                                          "UserId": "u@x.com", "RecordType": 2, "Workload": "Exchange"}) + "\n"
                              for number, time in enumerate(times)))
    reversed_case = Case.named("newest-first", tmp_path / "cases")
    reversed_case.open([source])
    assert reversed_case.first_activity(3)["record_id"].to_list() == ["3", "5", "1"]
    assert reversed_case.first_activity(10).equals(reversed_case.activity())

    case_a = Case.named("case-a", tmp_path / "cases")
    case_a.open([sample_logs / "case-a"])
    whole = case_a.activity(view=True)
    assert whole["source"].n_unique() > 1 and not whole["source_file"].cast(pl.String).is_sorted()
    for count in (1, 57, 200):
        assert case_a.first_activity(count, view=True).equals(whole.head(count))


def test_first_activity_of_two_cases_is_the_head_of_their_activity(tmp_path, sample_logs):
    from workbench.core.case_set import CaseSet

    cases = CaseSet([(Case.named(name, tmp_path / "cases"), [sample_logs / name]) for name in ("case-a", "case-b")])
    cases.open()
    whole = cases.activity()
    assert whole.head(120)["case"].n_unique() == 2  # their times interleave
    for count in (1, 120):
        assert cases.first_activity(count).equals(whole.head(count))


def test_in_time_order_gathers_every_column_but_those_of_one_value():
    import polars as pl

    from workbench.core.case import _in_time_order

    rows = pl.DataFrame({"t": [3, 1, 2], "same_ends": ["a", "b", "a"], "one": ["x", "x", "x"],
                         "none": pl.Series([None, None, None], dtype=pl.String), "some": ["p", None, "p"],
                         "nested": [[1], [2], [1]]}).with_columns(pl.lit("tenant").alias("literal"))
    ordered = _in_time_order(rows, "t")
    assert ordered.to_dict(as_series=False) == {
        "t": [1, 2, 3], "same_ends": ["b", "a", "a"], "one": ["x"] * 3, "none": [None] * 3, "some": [None, "p", "p"],
        "nested": [[2], [1], [1]], "literal": ["tenant"] * 3}
