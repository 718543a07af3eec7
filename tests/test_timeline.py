"""The account timeline: the created admin's dormant gap, first-seen IPs and agents, hunt hits per day,
and the log coverage with its warnings."""

import io
import json
from datetime import date, datetime, timezone
from types import SimpleNamespace

import polars as pl
import pytest

import hunts
from rich.console import Console

from workbench.cli import main
from workbench.commands.timeline import render
from workbench.core.cases import plan_case_set
from workbench.core.hunting import case_hits
from workbench.core.load import events_from_records
from workbench.core.timeline import account_timeline, coverage, intensity_strip, ip_timeline, quiet_gaps, timeline_record

ADMIN = "CompromisedAdmin@example.com"


@pytest.fixture(scope="module")
def case_a(tmp_path_factory, sample_logs):
    root = tmp_path_factory.mktemp("timeline-cases")
    cases = plan_case_set([sample_logs / "case-a"], [], case_dir=root)
    cases.open()
    return SimpleNamespace(cases=cases.cases, events=cases.activity())


@pytest.fixture(scope="module")
def hits(case_a):
    return case_hits(case_a.events, {}, hunts.load_hunts(), case=case_a.cases[0])


def test_the_created_admin_waits_77_days_before_first_use(case_a, hits):
    timeline = account_timeline(case_a.events, ADMIN, hits)
    dormant = timeline.dormant
    assert dormant["created"].date() == date(2022, 12, 5)
    assert dormant["created_by"] == "admin@example.onmicrosoft.com"
    assert dormant["first_activity"].date() == date(2023, 2, 20)
    first = case_a.events.filter(pl.col("record_id") == dormant["first_activity_record_id"]).row(0, named=True)
    # the Entra sign-in (a keep-me-signed-in prompt) seconds before the audit log's UserLoggedIn 4381aa88
    assert (first["source"], first["client_ip"]) == ("signin", "104.161.20.102")
    assert first["creation_time"] <= datetime(2023, 2, 20, 14, 55, 9, tzinfo=timezone.utc)
    assert 77 <= dormant["days"] <= 80
    assert timeline.gaps.rows() == [(date(2022, 12, 5), date(2023, 2, 20), 76)]


def test_strip_covers_the_whole_export_and_hits_sit_on_the_active_days(case_a, hits):
    timeline = account_timeline(case_a.events, ADMIN, hits)
    assert (timeline.start, timeline.end) == (date(2022, 12, 1), date(2023, 2, 24))
    assert len(timeline.strip) == timeline.days.height == 86
    quiet = timeline.strip[5:81]
    assert set(quiet) == {"·"} and timeline.strip[4] != "·" and timeline.strip[81] != "·"
    hit_days = timeline.days.filter(pl.col("hits") > 0)["day"].to_list()
    assert date(2022, 12, 5) in hit_days and date(2023, 2, 20) in hit_days
    assert set(hit_days) <= set(timeline.days.filter(pl.col("events") > 0)["day"].to_list())


def test_first_seen_ips_and_agents_in_order(case_a, hits):
    timeline = account_timeline(case_a.events, ADMIN.upper(), hits)
    assert timeline.first_seen["ips"]["value"].to_list() == ["104.161.20.102", "20.232.202.245", "185.241.149.122"]
    assert timeline.first_seen["user_agents"]["value"].to_list() == [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/110.0"]


def test_an_ip_timeline_lists_the_accounts_first_seen_on_it(case_a):
    timeline = ip_timeline(case_a.events, "185.241.149.122")
    # TargetUser: the sender of the lures sent as her from that address (message trace)
    assert timeline.first_seen["accounts"]["value"].to_list() == ["admin@example.onmicrosoft.com", "compromisedadmin@example.com",
                                                                 "targetuser@example.com"]
    assert timeline.dormant is None


def test_activity_on_the_first_day_of_the_export_is_flagged(case_a):
    first_user = case_a.events.filter(pl.col("user_key").str.contains("@"))["user_key"][0]
    warnings = account_timeline(case_a.events, first_user).warnings
    assert any("first day of the export" in warning for warning in warnings)
    assert not any("first day of the export" in w for w in account_timeline(case_a.events, ADMIN).warnings)


def day_record(rid: str, when: str, workload: str) -> dict:
    return {"Id": rid, "CreationTime": when, "Operation": "FileAccessed", "Workload": workload, "RecordType": 6,
            "UserId": "someone@example.com"}


def test_coverage_shows_where_a_workload_starts_ends_and_goes_quiet():
    records = [day_record(f"ex{d}", f"2023-01-{d:02d}T10:00:00", "Exchange") for d in range(1, 21)]
    records += [day_record(f"sp{d}", f"2023-01-{d:02d}T10:00:00", "SharePoint") for d in (5, 6, 11, 12)]
    events = events_from_records(records)
    table = coverage(events).sort("source")
    assert table["first"].to_list() == [date(2023, 1, 1), date(2023, 1, 5)]
    assert table["missing_days"].to_list()[1] == [date(2023, 1, d) for d in (7, 8, 9, 10)]
    warnings = account_timeline(events, "someone@example.com").warnings
    assert "SharePoint: logs start 2023-01-05, 4 days after the export" in warnings
    assert "SharePoint: logs end 2023-01-12, 8 days before the export" in warnings
    assert "SharePoint: 4 days in a row without events" in warnings
    assert not any(w.startswith("Exchange") for w in warnings)


def test_strip_and_gap_helpers():
    assert intensity_strip([0, 1, 10, 100]) == "·▂▅█"
    assert intensity_strip([0, 0]) == "··"
    days = pl.DataFrame({"day": pl.date_range(date(2023, 1, 1), date(2023, 1, 31), "1d", eager=True)}).with_columns(
        pl.when(pl.col("day").dt.day().is_in([1, 2, 20, 31])).then(1).otherwise(0).alias("events"))
    assert quiet_gaps(days, 10).rows() == [(date(2023, 1, 2), date(2023, 1, 20), 17), (date(2023, 1, 20), date(2023, 1, 31), 10)]
    assert quiet_gaps(days, 11).rows() == [(date(2023, 1, 2), date(2023, 1, 20), 17)]


def test_cli_json_and_table(tmp_path, sample_logs, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # the table fits the terminal; pytest-xdist's workers say 80
    args = ["timeline", str(sample_logs / "case-a"), "--case-dir", str(tmp_path), "--user", ADMIN]
    assert main([*args, "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["dormant"]["days"] == 77 and record["dormant"]["created"] == "2022-12-05T15:42:18Z"
    assert len(record["days"]) == len(record["strip"]) == 86
    assert {c["source"] for c in record["coverage"]} == {"AzureActiveDirectory", "Exchange", "OneDrive", "SharePoint",
                                                         "Entra sign-ins", "Entra audits", "MessageTrace"}
    assert {"sign-ins", "directory audits"} <= set(record["lanes"])
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "dormant: created 2022-12-05 15:42 by admin@example.onmicrosoft.com; first own activity 2023-02-20 14:54, 77 days later" in out
    assert "104.161.20.102" in out and "log coverage per workload" in out
    assert main(["timeline", "--case-dir", str(tmp_path), "--case", timeline_case(tmp_path), "--user", "nobody@x"]) == 2


def timeline_case(root) -> str:
    return next(path.name for path in root.iterdir() if path.name.startswith("case-a-"))


def test_log_text_is_printed_inert():
    agent = "Evil/1.0 [bold red]x[/] \x1b[2J"
    events = events_from_records([
        {**day_record("a", "2023-01-01T10:00:00", "Exchange"), "UserId": "victim@example.com"},
        {**day_record("b", "2023-01-03T10:00:00", "Exchange"), "UserId": "victim@example.com", "ClientIP": "192.0.2.7",
         "ClientInfoString": agent},
    ])
    console = Console(file=io.StringIO(), width=200, color_system=None)
    render(account_timeline(events, "victim@example.com"), console)
    out = console.file.getvalue()
    assert "Evil/1.0 [bold red]x[/] \\x1b[2J" in out and "\x1b" not in out


def test_record_is_json_ready(case_a, hits):
    json.dumps(timeline_record(account_timeline(case_a.events, ADMIN, hits)))


def test_a_timeline_over_the_cases_scan_reads_only_its_rows_and_is_the_same(case_a, hits):
    """`workbench timeline` gives the case's scan (only the subject's rows are read, and per day what the coverage
    counts): the same timeline as over every event in memory, for an account and for an IP."""
    scan = case_a.cases[0].activity_scan()
    for build, subject in ((account_timeline, ADMIN), (ip_timeline, "185.241.149.122")):
        whole, scanned = build(case_a.events, subject, hits), build(scan, subject, hits)
        assert whole.days["events"].sum() > 0
        assert scanned.days.equals(whole.days) and scanned.coverage.equals(whole.coverage)
        assert scanned.first_seen.keys() == whole.first_seen.keys()
        assert all(scanned.first_seen[kind].equals(whole.first_seen[kind]) for kind in whole.first_seen)
        assert (scanned.dormant, scanned.warnings, scanned.lanes) == (whole.dormant, whole.warnings, whole.lanes)
        assert scanned.failures_before_success.equals(whole.failures_before_success)
