"""Accounting: loaded + duplicates + rejected = rows read, on broken inputs; rejects name file, row and reason."""

import json

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.core.case import Case

GOOD = {"Id": "g1", "CreationTime": "2023-02-21T14:03:11", "Operation": "UserLoggedIn", "RecordType": 15,
        "UserId": "u@x.com", "Workload": "AzureActiveDirectory"}


def good(n: int) -> str:
    return json.dumps({**GOOD, "Id": f"g{n}"})


def open_case(tmp_path, *paths):
    case = Case.named("acct", tmp_path / "cases")
    case.open(list(paths))
    return case


def test_sample_broken_file_rejects_each_bad_row_with_its_reason(tmp_path, sample_logs):
    case = open_case(tmp_path, sample_logs / "broken")
    report = case.load_report().files[0]
    assert report.rows == report.loaded + report.duplicates + report.rejected
    rejects = case.rejects()
    assert rejects["file"].str.ends_with("broken_rows.csv").all()
    reasons = dict(zip(rejects["row"].to_list(), rejects["reason"].to_list()))
    assert reasons[3].startswith("broken JSON in AuditData")
    assert reasons[5] == "missing CreationTime"
    assert reasons[6] == "empty AuditData"
    assert reasons[9] == ("unterminated quote: a quoted field of this row never closes: it runs to the end of the "
                          "file (cut off?)")  # the truncated last line
    assert 4 not in reasons  # unknown RecordType: loaded, with a warning
    assert case.load_report().warnings[0]["row"] == 4
    assert "unknown RecordType 99999" in case.load_report().warnings[0]["reason"]
    assert case.events().filter(pl.col("record_type") == 99999).height == 1


def test_jsonl_with_every_kind_of_bad_line(tmp_path):
    lines = [
        good(1), "", good(2), "{broken", "[1, 2]", json.dumps({**GOOD, "Id": "x", "CreationTime": None}),
        json.dumps({k: v for k, v in GOOD.items() if k != "CreationTime"} | {"Id": "y"}),
        json.dumps({**GOOD, "Id": "z", "CreationTime": "yesterday"}),
        json.dumps({**GOOD, "Id": "w", "RecordType": "abc"}),
        good(1), good(3)[:40],
    ]
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines))  # no final newline: the last line is truncated
    case = open_case(tmp_path, path)
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.duplicates) == (11, 2, 1)
    assert report.rejected == 8
    reasons = dict(zip(case.rejects()["row"].to_list(), case.rejects()["reason"].to_list()))
    assert reasons[2] == "empty AuditData"
    assert reasons[4].startswith("broken JSON")
    assert reasons[5] == "AuditData is a JSON list, not an object"
    assert reasons[6] == reasons[7] == "missing CreationTime"
    assert reasons[8] == "unreadable CreationTime yesterday"
    assert reasons[9] == "RecordType abc is not a record type number"
    assert reasons[11].startswith("broken JSON")


def test_json_that_python_reads_but_json_forbids_is_rejected_per_row(tmp_path):
    """NaN and Infinity (which `json` accepts) and a number out of range (which Polars refuses)."""
    record = json.dumps({**GOOD, "Id": "{id}", "Score": 0})
    lines = [good(1), record.replace('"Score": 0', '"Score": NaN').replace("{id}", "n"),
             record.replace('"Score": 0', '"Score": -Infinity').replace("{id}", "i"),
             record.replace('"Score": 0', '"Score": 1e400').replace("{id}", "e"), good(2)]
    path = tmp_path / "constants.jsonl"
    path.write_text("\n".join(lines) + "\n")
    case = open_case(tmp_path, path)
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.rejected) == (5, 2, 3)
    reasons = dict(zip(case.rejects()["row"].to_list(), case.rejects()["reason"].to_list()))
    assert reasons[2] == "broken JSON in AuditData: NaN is not a JSON value"
    assert reasons[3] == "broken JSON in AuditData: -Infinity is not a JSON value"
    assert reasons[4].startswith("AuditData not readable: ") and "InvalidNumber" in reasons[4]
    assert sorted(case.events()["record_id"].to_list()) == ["g1", "g2"]


def test_empty_file_is_reported_not_a_crash(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    other = tmp_path / "one.jsonl"
    other.write_text(good(1) + "\n")
    case = open_case(tmp_path, path, other)
    files = {f.path: f for f in case.load_report().files}
    assert files[str(path)].format == "empty" and files[str(path)].note == "empty file: no records"
    assert case.events().height == 1


def test_a_line_of_non_ascii_text_is_rejected_not_a_crash(tmp_path):
    """DuckDB's parse error quotes the line cut inside a UTF-8 character (found by the fuzz test below)."""
    path = tmp_path / "text.jsonl"
    path.write_text(good(0) + "\n" + "00000000" + "\x80" * 9 + "\U00010000" * 6 + "0\n", encoding="utf-8")
    case = open_case(tmp_path, path)
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.rejected) == (2, 1, 1)
    assert case.rejects()["reason"][0].startswith("broken JSON")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(
    st.integers(0, 30).map(good),
    st.text(max_size=40).filter(lambda s: "\n" not in s and "\r" not in s),
    st.integers(0, 30).map(lambda n: good(n)[: n + 5]),
), min_size=1, max_size=40))
def test_every_row_is_loaded_duplicate_or_rejected(tmp_path_factory, lines):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    path = tmp_path / "fuzz.jsonl"
    lines = [good(0), *lines]  # a first record that says what the file is
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    case = open_case(tmp_path, path)
    totals = case.load_report().totals()
    assert totals["rows"] == len(lines)
    assert totals["loaded"] + totals["duplicates"] + totals["conflicting"] + totals["rejected"] == totals["rows"]
    assert case.rejects().height == totals["rejected"]
    assert case.events().height == totals["loaded"]


def test_an_export_of_exactly_a_collectors_limit_gets_a_cut_off_note(tmp_path, capsys):
    from workbench.cli import main

    limit, under = tmp_path / "limit.jsonl", tmp_path / "under.jsonl"
    limit.write_text("".join(good(n) + "\n" for n in range(50_000)))
    under.write_text("".join(good(n) + "\n" for n in range(49_999)))
    assert main(["info", str(limit), str(under), "--case", "cut", "--case-dir", str(tmp_path / "cases")]) == 0
    out = "".join(capsys.readouterr().out.split())  # lines are wrapped and long paths folded at the width
    assert "limit.jsonl:exactly50,000rows,Search-UnifiedAuditLog'slimitwith-SessionCommandReturnLargeSet" in out
    assert "maybecutoff" in out and "under.jsonl:exactly" not in out
