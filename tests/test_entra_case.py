"""One case of the audit log, sign-ins and directory audits: the views and commands that span sources (activity,
timeline, SQL tables and Sentinel views, info, hunt, drill-down), on the documentation-written corpus."""

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import polars as pl
import pytest

from workbench.core.activity import audit_log_rows
from workbench.core.case import Case
from workbench.core.filter import ValueIndex, parse_filter
from workbench.core.schema import DIRECTORY_AUDIT_SCHEMA, SIGN_IN_SCHEMA
from workbench.core.sql import SqlError, SqlSession
from workbench.core.timeline import account_timeline, failure_lines
from workbench.ui.widgets.event_detail import detail_text, read_record

CORPUS = Path(__file__).parent / "entra_corpus"
MANIFEST = [entry for entry in tomllib.loads((CORPUS / "expected.toml").read_text())["file"] if not entry.get("mixed")]
LOADED = {frame: sum(entry["loaded"].get(frame, 0) for entry in MANIFEST) for frame in ("events", "sign_ins", "directory_audits")}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Case:
    case = Case(tmp_path_factory.mktemp("entra-case") / "corpus")
    case.load([CORPUS / entry["name"] for entry in MANIFEST])
    return case


def test_activity_holds_every_source_once(case):
    activity = case.activity()
    assert activity.group_by("source").len().sort("source").rows() == sorted(
        [("ual", LOADED["events"]), ("signin", LOADED["sign_ins"]), ("audit", LOADED["directory_audits"])])
    assert activity["record_id"].n_unique() == activity.height
    assert activity["creation_time"].is_sorted()
    assert audit_log_rows(activity).height == LOADED["events"]
    sign_ins = activity.filter(pl.col("source") == "signin")
    assert set(sign_ins["operation"]) <= {"SignIn", "NonInteractiveSignIn", "ServicePrincipalSignIn", "ManagedIdentitySignIn"}
    assert set(sign_ins["result_status"]) <= {"success", "failure", "interrupt"}


def test_the_filter_picks_a_source_and_follows_a_user_across_sources(case):
    activity = case.activity()
    index = ValueIndex(activity)
    signins = activity.filter(parse_filter("source:signin", index))
    assert signins.height == LOADED["sign_ins"]
    adele = activity.filter(parse_filter("user:adele.vance", ValueIndex(activity)))
    assert set(adele["source"]) == {"ual", "signin", "audit"}


def test_the_code_filter_finds_a_logon_error_in_the_audit_log_and_the_sign_ins(case):
    """`code:` matches a failed audit-log logon's ErrorNumber and a sign-in's status code alike, with or without the
    events view's index and as the view holds the rows (ErrorNumber as a categorical, the status code a number)."""
    from workbench.core.activity import view_rows
    from workbench.core.load import events_from_records

    failed = events_from_records([{
        "Id": f"f{number}", "CreationTime": f"2024-03-04T10:0{number}:00", "Operation": "UserLoginFailed",
        "RecordType": 15, "Workload": "AzureActiveDirectory", "UserId": "only.ual@example.org",
        "ClientIP": "203.0.113.7", "ErrorNumber": error} for number, error in ((1, "50126"), (2, 50140))])
    activity = pl.concat([case.activity(), failed.with_columns(pl.lit("ual").alias("source"))], how="diagonal_relaxed")

    def found(text: str, frame: pl.DataFrame) -> list[tuple]:
        plain = frame.filter(parse_filter(text)).select("source", "status_code", "error_number")
        assert frame.filter(parse_filter(text, ValueIndex(frame))).select(plain.columns).equals(plain)
        return sorted(plain.with_columns(pl.col("error_number").cast(pl.String)).rows(), key=str)

    bad_password = found("code:50126", activity)
    assert bad_password == sorted([("signin", 50126, None)] * 5 + [("ual", None, "50126")], key=str)
    assert found("code:50126", view_rows(activity.lazy()).collect()) == bad_password
    assert found("code:50140,50053", activity) == sorted(
        [("signin", 50140, None)] * 2 + [("signin", 50053, None), ("ual", None, "50140")], key=str)
    assert found("code:5012*", activity) == bad_password
    assert len(found("source:signin -code:0", activity)) == 17  # every sign-in that was no success
    assert found("code:501", activity) == []  # a code is matched whole


def test_a_session_joins_the_audit_log_and_the_sign_in_that_opened_it(tmp_path):
    session = "5b1f4f4e-9a7c-4bde-8a43-1f0a8e0c2d11"
    sign_in = {"id": "0a1b2c3d-0000-4000-8000-000000000001", "createdDateTime": "2024-03-01T10:00:00Z",
               "userPrincipalName": "victim@example.org", "appDisplayName": "OfficeHome", "ipAddress": "192.0.2.10",
               "status": {"errorCode": 0}, "sessionId": session, "isInteractive": False}
    audit = {"Id": "0a1b2c3d-0000-4000-8000-000000000002", "CreationTime": "2024-03-01T10:05:00",
             "Operation": "MailItemsAccessed", "RecordType": 50, "Workload": "Exchange", "UserId": "victim@example.org",
             "ClientIPAddress": "192.0.2.10", "AppAccessContext": {"AADSessionId": session}}
    (tmp_path / "signins.jsonl").write_text(json.dumps(sign_in) + "\n")
    (tmp_path / "ual.jsonl").write_text(json.dumps(audit) + "\n")
    case = Case(tmp_path / "case")
    case.load([tmp_path / "signins.jsonl", tmp_path / "ual.jsonl"])
    activity = case.activity()
    same_session = activity.filter(parse_filter(f"session:{session}", ValueIndex(activity)))
    assert same_session.select("source", "operation").rows() == [("signin", "NonInteractiveSignIn"), ("ual", "MailItemsAccessed")]


def test_timeline_lanes_first_seens_and_failures_before_a_success(case):
    timeline = account_timeline(case.activity(), "adele.vance@example.org")
    assert {"audit log", "sign-ins", "directory audits"} <= set(timeline.lanes)
    assert all(len(counts) == timeline.days.height for counts in timeline.lanes.values())
    assert {"ips", "user_agents", "asns", "countries", "apps"} <= set(timeline.first_seen)
    runs = timeline.failures_before_success
    assert runs.height >= 1
    first = runs.row(0, named=True)
    assert first["failures"] >= 1 and "50126" in first["codes"] and first["last_failure"] < first["success"]
    line = failure_lines(timeline)[0]
    assert "adele.vance@example.org" in line and "then interactive success" in line


def test_interrupts_are_not_counted_as_failures(case):
    sign_ins = case.frame("sign_ins")
    interrupts = sign_ins.filter(pl.col("status_code").is_in([50074, 50076, 50140, 50072, 90072]))
    assert interrupts.height and set(interrupts["status_kind"]) == {"interrupt"}
    runs = account_timeline(case.activity(), "adele.vance@example.org").failures_before_success
    codes = {code for listed in runs["codes"] for code in listed}
    assert codes and not codes & {"50074", "50076", "50140", "50072", "90072"}
    failures = sign_ins.filter((pl.col("user_key") == "adele.vance@example.org") & (pl.col("status_kind") == "failure"))
    assert 0 < sum(runs["failures"]) <= failures.height


def test_without_sign_in_logs_the_audit_logs_logons_give_the_failures_before_a_success(case):
    """An account the sign-in logs do not cover: its UserLoginFailed (by ErrorNumber: a KMSI or MFA prompt is an
    interrupt, not a failure) and UserLoggedIn records make the runs; an account they cover keeps theirs alone."""
    from workbench.core.activity import view_rows
    from workbench.core.load import events_from_records

    def logon(number: int, operation: str, error: str | None = None, user: str = "only.ual@example.org") -> dict:
        return {"Id": f"l{number}", "CreationTime": f"2024-03-04T10:{number:02d}:00", "Operation": operation,
                "RecordType": 15, "Workload": "AzureActiveDirectory", "UserId": user, "ClientIP": "203.0.113.7",
                **({"ErrorNumber": error} if error else {})}

    ual = events_from_records([
        logon(1, "UserLoginFailed", "50140"), logon(2, "UserLoginFailed", "50126"), logon(3, "UserLoginFailed", "50074"),
        logon(4, "UserLoginFailed", "50126"), logon(5, "UserLoggedIn"), logon(6, "UserLoginFailed", "50140"),
        logon(7, "UserLoggedIn"), logon(8, "UserLoginFailed", "50126", user="adele.vance@example.org"),
    ]).with_columns(pl.lit("ual").alias("source"))
    activity = pl.concat([case.activity(), ual], how="diagonal_relaxed")
    runs = account_timeline(activity, "only.ual@example.org").failures_before_success
    assert runs.select("failures", "codes", "success_type").rows() == [(2, ["50126"], "audit_log")]
    assert "2 failed (50126) from 203.0.113.7" in failure_lines(account_timeline(activity, "only.ual@example.org"))[0]
    covered = account_timeline(activity, "adele.vance@example.org").failures_before_success
    assert covered.equals(account_timeline(case.activity(), "adele.vance@example.org").failures_before_success)
    view = view_rows(activity.lazy()).collect()  # as the events view holds the rows: the same runs
    assert account_timeline(view, "only.ual@example.org").failures_before_success.equals(runs)


def test_sql_tables_and_sentinel_views(case):
    session = SqlSession(case)
    assert [name for name, _type in session.columns()["sign_ins"]] == list(SIGN_IN_SCHEMA)
    assert [name for name, _type in session.columns()["directory_audits"]] == list(DIRECTORY_AUDIT_SCHEMA)
    count = lambda query: session.run(query).frame.item()  # noqa: E731
    frame = case.frame("sign_ins")
    assert count("SELECT count(*) FROM SigninLogs") == frame.filter(pl.col("sign_in_type") == "interactive").height
    assert count("SELECT count(*) FROM AADNonInteractiveUserSignInLogs") == frame.filter(
        pl.col("sign_in_type") == "non_interactive").height
    assert count("SELECT count(*) FROM AuditLogs") == LOADED["directory_audits"]
    assert count("SELECT count(*) FROM OfficeActivity") == LOADED["events"]
    # KQL-style column names, dynamic columns as JSON, text compared case-insensitively
    rows = session.run("SELECT UserPrincipalName, json_extract_string(LocationDetails, '$.city') AS city "
                       "FROM SigninLogs WHERE UserPrincipalName = 'ADELE.VANCE@EXAMPLE.ORG' AND ResultType = '50126'").frame
    assert rows.height >= 1 and "Amsterdam" in set(rows["city"])
    who = session.run("SELECT json_extract_string(InitiatedBy, '$.user.userPrincipalName') AS who FROM AuditLogs "
                      "WHERE OperationName = 'update user'").frame
    assert set(who["who"]) == {"adele.vance@example.org"}
    with pytest.raises(SqlError):
        session.run("DELETE FROM sign_ins")


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
                          env={"WORKBENCH_CASE_DIR": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)})


def test_info_counts_each_source_and_hunt_runs_on_a_case_of_sign_ins_only(tmp_path):
    info = _cli("info", str(CORPUS), "--format", "json", home=tmp_path)
    assert info.returncode == 0, info.stderr
    summary = json.loads(info.stdout)
    assert summary["sources"] == {"signin": LOADED["sign_ins"], "audit": LOADED["directory_audits"], "ual": LOADED["events"]}
    assert sum(sum(statuses.values()) for statuses in summary["sign_ins"].values()) == LOADED["sign_ins"]
    unreadable = [file for file in summary["files"] if file["format"] == "unreadable"]
    assert [Path(file["path"]).name for file in unreadable] == ["mixed_shapes.jsonl"]
    hunted = _cli("hunt", str(CORPUS / "sentinel_noninteractive.json"), "--format", "json", home=tmp_path)
    assert hunted.returncode == 0, hunted.stderr
    assert json.loads(hunted.stdout) == []


def _drill_down(case: Case, frame: str, record_id: str) -> str:
    row = case.activity().filter(pl.col("record_id") == record_id).row(0, named=True)
    found = case.record_row(row)
    text = found.pop("raw")
    return detail_text(row, read_record(record_id, text, found)).plain


def test_drill_down_of_a_sign_in_and_of_a_directory_audit(case):
    sign_in = case.frame("sign_ins").filter(pl.col("ca_policies").str.contains("displayName")
                                            & pl.col("auth_details").str.contains("authenticationMethod")).row(0, named=True)
    shown = _drill_down(case, "sign_ins", sign_in["record_id"])
    policy = json.loads(sign_in["ca_policies"])[0]["displayName"]
    for part in ("Sign-in", "Authentication", "Conditional Access", policy, "Device", "Location", "Risk", "Record",
                 f"{sign_in['status_code']} {sign_in['status_kind']}"):
        assert part in shown
    audit = case.frame("directory_audits").filter(pl.col("activity") == "Update user").row(0, named=True)
    shown = _drill_down(case, "directory_audits", audit["record_id"])
    change = json.loads(audit["modified_properties"])[0]
    assert "Modified properties" in shown and f"{change['old'] or '(empty)'} -> {change['new'] or '(empty)'}" in shown


def test_marked_sign_ins_and_directory_audits_reach_the_export_and_the_report(case, tmp_path):
    from workbench.core.export import export_case_events
    from workbench.core.report import case_report

    sign_in = case.frame("sign_ins").filter(pl.col("status_kind") == "failure")["record_id"][0]
    audit = case.frame("directory_audits").filter(pl.col("activity") == "Add user")["record_id"][0]  # no hunt flags it
    case.store.set_marks([sign_in, audit], True)
    try:
        assert export_case_events(case, tmp_path / "marked.json", case.activity(), marked_only=True) == 2
        rows = {row["record_id"]: row for row in json.loads((tmp_path / "marked.json").read_text())}
        assert set(rows) == {sign_in, audit}
        raw = case.scan(with_audit_data=True, frame="sign_ins").filter(pl.col("record_id") == sign_in).collect()["raw"][0]
        assert json.loads(rows[sign_in]["audit_data"]) == json.loads(raw)
        assert rows[sign_in]["source"] == "signin" and rows[audit]["source"] == "audit"
        report = case_report(case, {})
        assert report.marked == 2 and {event.record_id for event in report.other} == {sign_in, audit}
    finally:
        case.store.set_marks([sign_in, audit], False)
