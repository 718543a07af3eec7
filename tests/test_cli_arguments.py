"""Text arguments that start with `-` are values, not options: a negated filter, a query opening with a
comment, an account whose name starts with a dash."""

import json

import polars as pl

from workbench.cli import main as workbench

USER = "-dash@example.net"
RECORDS = [
    {"Id": "a1", "CreationTime": "2023-02-22T20:12:28", "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory",
     "RecordType": 15, "UserId": USER, "ClientIP": "104.161.20.102"},
    {"Id": "a2", "CreationTime": "2023-02-22T20:13:00", "Operation": "FileAccessed", "Workload": "SharePoint",
     "RecordType": 6, "UserId": USER, "ClientIP": "104.161.20.102"},
]


def test_text_arguments_starting_with_a_minus(tmp_path, capsys):
    log = tmp_path / "audit.jsonl"
    log.write_text("".join(json.dumps(record) + "\n" for record in RECORDS), encoding="utf-8")
    case = ["--case", "dash", "--case-dir", str(tmp_path / "cases")]

    assert workbench(["timeline", str(log), *case, "--user", USER, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["subject"] == USER

    assert workbench(["sql", str(log), *case, "-- the accounts\nSELECT DISTINCT user_id FROM events",
                      "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"user_id": USER}]

    out = tmp_path / "not-logins.csv"
    assert workbench(["export", *case, "--filter", "-op:UserLoggedIn", "-o", str(out)]) == 0
    assert pl.read_csv(out)["record_id"].to_list() == ["a2"]
