"""Application ids of the audit log (`AppId`, `ApplicationId`, `ClientAppId`) as columns with first-party names:
the table, loading from every decoder, the activity's readable app for every source, the `app:` filter and SQL."""

import json
from pathlib import Path

import polars as pl
import pytest

from workbench.cli import main
from workbench.core.apps import TABLE
from workbench.core.case import Case
from workbench.core.filter import parse_filter
from workbench.core.load import events_from_records
from workbench.core.sql import SqlSession
from workbench.ui.widgets.event_detail import detail_text

OUTLOOK_MOBILE = "27922004-5251-4030-b22d-91ecd9a37ea4"
AZURE_PORTAL = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"
OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
UNKNOWN = "0badc0de-1111-2222-3333-444455556666"
APP_COLUMNS = ["app_id", "app_name", "client_app_id", "client_app_name"]


def record(number: int, **fields) -> dict:
    return {"Id": f"r{number}", "CreationTime": f"2024-03-01T10:00:0{number}", "Operation": "MailItemsAccessed",
            "Workload": "Exchange", "RecordType": 50, "UserId": "User@Example.com", "OrganizationId": "org-1"} | fields


#: Records as the workloads write them: ids in upper or mixed case, in braces, blank, unknown, or absent.
RECORDS = [
    record(1, AppId=OUTLOOK_MOBILE.upper(), ClientAppId=""),
    record(2, Operation="UserLoggedIn", Workload="AzureActiveDirectory", RecordType=15,
           ApplicationId="{C44B4083-3bb0-49c1-B47D-974e53cbdf3c}"),
    record(3, Operation="FileAccessed", Workload="SharePoint", RecordType=6, AppId=UNKNOWN.upper(),
           ClientAppId=" D3590ED6-52B3-4102-AEFF-AAD2292AB01C "),
    record(4, Operation="FileDownloaded", Workload="SharePoint", RecordType=6, AppId="", ApplicationId=OFFICE),
    record(5, Operation="Send"),
]
#: (app_id, app_name, client_app_id, client_app_name) of each record, in order.
EXPECTED = [
    (OUTLOOK_MOBILE, "Outlook Mobile", None, None),
    (AZURE_PORTAL, "Azure Portal", None, None),
    (UNKNOWN, None, OFFICE, "Microsoft Office"),
    (OFFICE, "Microsoft Office", None, None),
    (None, None, None, None),
]


def load(tmp_path: Path, path: Path) -> Case:
    case = Case.named("apps", tmp_path / "cases")
    case.open([path])
    return case


def app_rows(case: Case) -> list[tuple]:
    return case.events().sort("record_id").select(APP_COLUMNS).rows()


def test_the_table_holds_lower_case_guids_once_each_with_a_name_and_a_reference():
    assert 40 <= TABLE.height <= 80
    assert TABLE["app_id"].is_unique().all()
    assert TABLE["app_id"].str.contains(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").all()
    assert TABLE["name"].str.strip_chars().str.len_chars().min() > 0
    assert TABLE["reference"].str.starts_with("https://").all()
    names = dict(TABLE.select("app_id", "name").iter_rows())
    assert names["00000002-0000-0ff1-ce00-000000000000"] == "Office 365 Exchange Online"
    assert names["00000003-0000-0000-c000-000000000000"] == "Microsoft Graph"
    assert names["fb78d390-0c51-40cd-8e17-fdbfab77341b"] == "Microsoft Exchange REST API Based Powershell"


def test_json_lines_give_lower_case_ids_and_first_party_names(tmp_path):
    path = tmp_path / "ual.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    assert app_rows(load(tmp_path, path)) == EXPECTED


def test_a_purview_csv_gives_the_same_columns(tmp_path):
    path = tmp_path / "purview.csv"
    header = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData"
    rows = [",".join(['""'] * 5 + ['"' + json.dumps(r).replace('"', '""') + '"']) for r in RECORDS]
    path.write_text("\r\n".join([header, *rows]) + "\r\n", encoding="utf-8-sig")
    assert app_rows(load(tmp_path, path)) == EXPECTED


def test_the_line_by_line_decoder_gives_the_same_columns(tmp_path):
    path = tmp_path / "ual.jsonl"  # a broken line stops DuckDB: the rest is decoded by Polars
    lines = [json.dumps(r) for r in RECORDS]
    path.write_text("\n".join([lines[0], '{"Id": "broken", ', *lines[1:]]) + "\n", encoding="utf-8")
    case = load(tmp_path, path)
    assert app_rows(case) == EXPECTED
    assert case.rejects().height == 1


def test_the_drill_down_names_the_app_or_says_the_table_does_not_and_shows_log_text_inert():
    hostile = {"Id": "r9", "AppId": "\x1b[2J[red]x[/red]"}
    rows = events_from_records([*RECORDS, record(9, **hostile)]).sort("record_id").drop("audit_data").to_dicts()
    shown = [detail_text(row, None).plain for row in rows]
    assert f"app: Outlook Mobile ({OUTLOOK_MOBILE})\n" in shown[0]
    assert f"app: Azure Portal ({AZURE_PORTAL})\n" in shown[1]
    assert f"app: {UNKNOWN} (not in the first-party table)\n" in shown[2]
    assert f"client app: Microsoft Office ({OFFICE})\n" in shown[2]
    assert "app: " not in shown[4]
    assert "app: \\x1b[2j[red]x[/red] (not in the first-party table)" in shown[5]


@pytest.fixture(scope="module")
def case_a(tmp_path_factory, sample_logs) -> Case:
    case = Case.named("case-a", tmp_path_factory.mktemp("cases"))
    case.open([sample_logs / "case-a"])
    return case


def test_every_source_of_the_activity_shows_a_readable_app(case_a):
    rows = case_a.activity()
    sign_ins = rows.filter(pl.col("source") == "signin")
    assert sign_ins.height and sign_ins["app"].null_count() == 0
    assert (sign_ins["app"] == sign_ins["app_name"]).all()
    logons = rows.filter((pl.col("source") == "ual") & (pl.col("operation") == "UserLoggedIn"))
    assert logons.height and set(logons["app"]) <= set(TABLE["name"])
    # the audit log and the sign-ins name one app alike
    assert set(logons["app"]) & set(sign_ins["app"]) >= {"OfficeHome"}


def test_the_app_filter_matches_the_id_or_the_name_in_every_source(case_a):
    rows = case_a.activity()
    by_name = rows.filter(parse_filter('app:"outlook MOBILE"'))
    assert {"ual", "signin"} <= set(by_name["source"])
    assert set(by_name["app_name"]) == {"Outlook Mobile"}
    by_id = rows.filter(parse_filter("app:27922004-5251"))
    assert by_id["record_id"].sort().to_list() == by_name["record_id"].sort().to_list()
    powershell = rows.filter(parse_filter("app:powershell source:ual"))
    assert powershell.height and set(powershell["app_id"]) == {"fb78d390-0c51-40cd-8e17-fdbfab77341b"}
    assert rows.filter(parse_filter("-app:*")).filter(pl.col("app_id").is_not_null()).height == 0


def test_sql_selects_the_app_columns(case_a):
    frame = SqlSession(case_a).run(
        "SELECT app_name, app_id, count(*) AS n FROM events WHERE app_id IS NOT NULL GROUP BY ALL ORDER BY n DESC"
    ).frame
    assert frame.columns == ["app_name", "app_id", "n"]
    assert "Microsoft Exchange REST API Based Powershell" in frame["app_name"].to_list()
    assert frame["app_id"].str.contains(r"^[0-9a-f-]{36}$").all()


def test_the_sql_command_reads_client_apps_too(tmp_path, capsys):
    path = tmp_path / "ual.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    status = main(["sql", str(path), "--case-dir", str(tmp_path / "cases"), "--format", "json",
                   "SELECT record_id, client_app_id, client_app_name FROM events WHERE client_app_name LIKE '%office%'"])
    assert status == 0
    assert json.loads(capsys.readouterr().out) == [
        {"record_id": "r3", "client_app_id": OFFICE, "client_app_name": "Microsoft Office"}]

