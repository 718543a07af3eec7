"""`workbench hunt` and `workbench matrix` end to end on the sample logs (in-process, tmp case folders)."""

import csv
import io
import json
import subprocess
import sys

from workbench.cli import main

DESIGN_KEYS = {"hunt_id", "title", "severity", "source", "tactic_id", "tactic", "technique_id", "technique", "techniques",
               "record_id", "creation_time", "user_id", "operation", "client_ip", "case", "why"}


def test_hunt_json_has_the_design_keys_one_row_per_hit(tmp_path, sample_logs, capsys):
    assert main(["hunt", str(sample_logs / "case-b"), "--case-dir", str(tmp_path), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(DESIGN_KEYS <= set(row) for row in rows)
    rule = [r for r in rows if r["record_id"] == "314004b5-9539-4277-94c7-a7b6faea77cf"]
    assert len(rule) == len({r["hunt_id"] for r in rule})  # one hit per (hunt, event), every technique listed on it
    assert {pair["technique_id"] for r in rule for pair in r["techniques"]} == {"T1114.003", "T1070.008", "T1564.008"}
    assert all(r["why"] and r["source"] == "events" for r in rule)
    assert rule[0]["creation_time"] == "2023-02-18T11:28:40Z"


def test_hunt_csv_and_table_render_attacker_text_inertly(tmp_path, sample_logs, capsys):
    assert main(["hunt", str(sample_logs / "case-b"), "--case-dir", str(tmp_path), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert {"hunt_id", "technique_id", "record_id"} <= set(rows[0])
    assert main(["hunt", str(sample_logs / "case-b"), "--case-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b[2J" not in out and "hunt hits" in out


def test_bad_user_hunt_folder_is_a_usage_error_naming_the_file(tmp_path, sample_logs, capsys):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.toml").write_text('title = "x"\nseverity = "loud"\n', encoding="utf-8")
    status = main(["hunt", str(sample_logs / "case-a"), "--case-dir", str(tmp_path), "--hunts", str(rules)])
    err = capsys.readouterr().err
    assert status == 2
    assert f"{rules / 'broken.toml'}:2: severity" in err


def test_config_hunts_dirs_adds_user_hunts(tmp_path, sample_logs, capsys):
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "every_spoof_item.toml").write_text('''
title = "Any spoof item"
description = "d"
severity = "low"
attack = ["Defense Evasion:T1562"]
runbook = "r"
[condition]
operations = ["New-TenantAllowBlockListSpoofItems"]
''', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'hunts_dirs = ["{rules}"]\n', encoding="utf-8")
    assert main(["hunt", str(sample_logs / "case-a"), "--case-dir", str(tmp_path), "--config", str(config), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sum(1 for row in rows if row["hunt_id"] == "every_spoof_item") == 4


def test_matrix_prints_the_grid_and_writes_a_navigator_layer(tmp_path, sample_logs, capsys):
    layer = tmp_path / "out" / "layer.json"
    assert main(["matrix", str(sample_logs / "case-a"), "--case-dir", str(tmp_path), "--navigator", str(layer)]) == 0
    out = capsys.readouterr().out
    assert "Initial Access" in out and "Defense Evasion" in out
    data = json.loads(layer.read_text(encoding="utf-8"))
    assert any(t["techniqueID"] == "T1078.004" and t["score"] > 0 for t in data["techniques"])
    assert [p.name for p in layer.parent.iterdir()] == ["layer.json"]


def test_hunts_and_the_headless_commands_never_import_textual():
    code = "import sys, hunts, workbench.commands.hunt, workbench.commands.matrix; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_sign_in_hunts_read_the_cases_sign_ins(tmp_path, sample_logs, capsys):
    """A Graph sign-ins export beside the audit log: a password spray from one address over six accounts."""
    folder = tmp_path / "export"
    folder.mkdir()
    spray = [{"id": f"spray-{n}", "createdDateTime": f"2023-02-20T10:{n:02d}:00Z", "userPrincipalName": f"user{n}@example.com",
              "ipAddress": "185.241.149.122", "isInteractive": True, "status": {"errorCode": 50126}} for n in range(6)]
    spray.append({"id": "legacy-1", "createdDateTime": "2023-02-20T11:00:00Z", "userPrincipalName": "user1@example.com",
                  "ipAddress": "185.241.149.122", "clientAppUsed": "IMAP4", "status": {"errorCode": 0}})
    (folder / "signins.jsonl").write_text("".join(json.dumps(record) + "\n" for record in spray))
    (folder / "audit.csv").write_bytes((sample_logs / "case-a" / "purview_audit_export.csv").read_bytes())
    assert main(["hunt", str(folder), "--case-dir", str(tmp_path / "cases"), "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    sprayed = [row for row in rows if row["hunt_id"] == "credential_signin_password_spray"]
    assert sorted(row["record_id"] for row in sprayed) == [f"spray-{n}" for n in range(6)]
    assert {(row["operation"], row["client_ip"], row["technique_id"]) for row in sprayed} == {
        ("SignIn", "185.241.149.122", "T1110.003")}
    legacy = {row["record_id"] for row in rows if row["hunt_id"] == "initial_signin_legacy_protocol"}
    assert legacy == {"legacy-1"}
    assert any(row["hunt_id"] == "defense_exo_spoof_allow_item" for row in rows)  # the audit log is hunted too
