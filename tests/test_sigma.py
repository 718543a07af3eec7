"""Sigma rules as hunts: the rules of tests/sigma_rules/ (written for these tests) read with pySigma, translated
through the field mappings, run by the engine over audit records, sign-ins and directory audits loaded by the real
loaders; the rules that cannot run listed with their reasons; `sigma_dirs` in the config and `--sigma` on the CLI."""

import json
from pathlib import Path

import polars as pl
import pytest

import hunts
from hunts import attack
from hunts.sigma import attack_pairs, load_sigma
from workbench.cli import main
from workbench.core.hunting import HuntSetupError, hunt_pack, sigma_rules
from workbench.core.load import events_from_records
from workbench.core.sources.exports import graph_records_frame

RULES = Path(__file__).parent / "sigma_rules"
RULE = "sigma_3f0c5a1e-0d61-4d7e-9a39-1b7c2f6a00{:02d}"


def audit(record_id: str, operation: str, user: str, ip: str = "203.0.113.10", **fields) -> dict:
    return {"Id": record_id, "CreationTime": "2026-03-02T09:00:00", "Operation": operation, "UserId": user,
            "Workload": "Exchange", "RecordType": 1, "ClientIP": ip, **fields}


def sign_in(record_id: str, client_app: str, ip: str = "203.0.113.20", code: int = 0, **fields) -> dict:
    return {"id": record_id, "createdDateTime": "2026-03-02T08:00:00Z", "userPrincipalName": "victim@example.com",
            "clientAppUsed": client_app, "ipAddress": ip, "status": {"errorCode": code}, **fields}


def directory_audit(record_id: str, activity: str, initiated_by: dict, service: str = "Authentication Methods") -> dict:
    return {"id": record_id, "activityDateTime": "2026-03-02T08:30:00Z", "activityDisplayName": activity,
            "category": "UserManagement", "loggedByService": service, "result": "success", "initiatedBy": initiated_by}


def forward(value: str) -> list[dict]:
    return [{"Name": "ForwardTo", "Value": value}, {"Name": "Name", "Value": "fw"}]


AUDIT = [
    audit("e-fwd", "New-InboxRule", "victim@example.com", Parameters=forward("x@evil.example")),
    audit("e-fwd-it", "New-InboxRule", "helpdesk@it.example.com", Parameters=forward("x@evil.example")),  # not filter
    audit("e-move", "Set-InboxRule", "victim@example.com", Parameters=[{"Name": "MoveToFolder", "Value": "Archive"}]),
    audit("e-fwd-name", "New-InboxRule", "victim@example.com", Parameters=forward("Bob Smith")),  # contains|all: no @
    audit("e-admin", "Set-Mailbox", "ADM-jane@example.com"),  # re, case-sensitive
    audit("e-admin-lower", "Set-Mailbox", "adm-joe@example.com"),
    audit("e-partner", "Set-Mailbox", "carol@example.com", ip="198.51.100.77"),  # cidr v4
    audit("e-partner6", "Set-Mailbox", "carol@example.com", ip="2001:db8:77::5"),  # cidr v6
    audit("e-outside6", "Set-Mailbox", "carol@example.com", ip="2001:db8:78::5"),
    audit("e-sync", "Set-Mailbox", "sync_svc@example.com", ip="198.51.100.8"),  # not filter_sync
    audit("e-perm", "Add-MailboxPermission", "admin@example.com",
          Parameters=[{"Name": "Identity", "Value": "ceo"}, {"Name": "AccessRights", "Value": "FullAccess"}]),
    audit("e-perm-read", "Add-MailboxPermission", "admin@example.com",
          Parameters=[{"Name": "AccessRights", "Value": "ReadPermission"}]),
    audit("e-kit", "MailItemsAccessed", "victim@example.com", ClientInfoString="Client=OWA; EvilGinx/3.0"),
    audit("e-kit2", "Set-Mailbox", "victim@example.com", Parameters=[{"Name": "Notes", "Value": "the Tycoon 2FA kit"}]),
    audit("e-mfa", "UserLoginFailed", "victim@example.com", Workload="AzureActiveDirectory", RecordType=15,
          ErrorNumber=500121, LogonError="UserStrongAuthClientAuthNRequiredInterrupt"),  # a number in the record
    audit("e-mfa-sas", "UserLoginFailed", "victim@example.com", Workload="AzureActiveDirectory", RecordType=15,
          ErrorNumber="500121", LogonError="AuthenticationFailedSasError"),  # not filter_sas
    audit("e-password", "UserLoginFailed", "victim@example.com", Workload="AzureActiveDirectory", RecordType=15,
          ErrorNumber="50126", LogonError="InvalidUserNameOrPassword"),
]
SIGN_INS = [
    sign_in("s-imap", "IMAP4"),  # a wildcard in a value list
    sign_in("s-eas-office", "Exchange ActiveSync", ip="10.20.3.4"),  # not (filter_office or ...)
    sign_in("s-imap-failed", "IMAP4", code=50126),  # ResultType 0
    sign_in("s-ropc", "Browser", authenticationProtocol="ropc", userAgent="python-requests/2.31"),
    sign_in("s-ropc-no-agent", "Browser", authenticationProtocol="ropc"),  # exists
    sign_in("s-ropc-scanner", "Browser", authenticationProtocol="ropc", userAgent="Scanner internal v2"),
    sign_in("s-ropc-scanner-out", "Browser", authenticationProtocol="ropc", userAgent="Scanner external v2"),
    sign_in("s-exit", "Browser", code=50126,
            networkLocationDetails=[{"networkType": "namedNetwork", "networkNames": ["Exit-Node-List"]}]),
]
DIRECTORY = [
    directory_audit("d-admin", "Admin registered security info", {"user": {"userPrincipalName": "helpdesk@example.com"}}),
    directory_audit("d-shout", "ADMIN REGISTERED SECURITY INFO", {"user": {"userPrincipalName": "helpdesk@example.com"}}),
    directory_audit("d-self", "User registered security info", {"user": {"userPrincipalName": "victim@example.com"}}),
    directory_audit("d-app", "Admin registered security info", {"app": {"displayName": "Provisioning"}}),
    directory_audit("d-other", "Admin registered security info", {"user": {"userPrincipalName": "a@example.com"}},
                    service="Core Directory"),
]
EXPECTED = {
    (RULE.format(1), "e-fwd"),
    (RULE.format(2), "e-admin"), (RULE.format(2), "e-partner"), (RULE.format(2), "e-partner6"),
    (RULE.format(3), "e-perm"),
    (RULE.format(4), "e-kit"), (RULE.format(4), "e-kit2"),
    (RULE.format(5), "s-imap"), (RULE.format(5), "s-ropc"), (RULE.format(5), "s-ropc-scanner-out"),
    (RULE.format(6), "d-admin"), (RULE.format(6), "d-shout"),
    (RULE.format(13), "s-exit"),  # a keyword in a part of the record no column holds
    (RULE.format(15), "e-mfa"),  # ErrorNumber and LogonError: event columns
}


@pytest.fixture(scope="module")
def pack():
    return load_sigma([RULES])


@pytest.fixture(scope="module")
def hits(pack) -> pl.DataFrame:
    sign_ins = graph_records_frame(SIGN_INS, "sign_ins")  # with the original records, as a case keeps them
    sign_ins = sign_ins.with_columns(raw=pl.Series([json.dumps(record) for record in SIGN_INS]))
    others = {"sign_ins": sign_ins,
              "directory_audits": graph_records_frame(DIRECTORY, "directory_audits")}
    return hunts.hunt_hits(events_from_records(AUDIT), list(pack.hunts), others=others)


def test_every_construct_hits_exactly_the_records_it_describes(hits):
    assert set(hits.select("hunt_id", "record_id").iter_rows()) == EXPECTED


def test_a_sigma_hit_carries_the_rule_id_title_level_and_techniques(pack, hits):
    row = hits.filter(pl.col("record_id") == "e-fwd").row(0, named=True)
    assert row["hunt_id"] == RULE.format(1)
    assert row["title"] == "Sigma: Inbox rule forwards mail to an outside address"
    assert row["severity"] == "high" and row["source"] == "events"
    assert (row["tactic"], row["technique_id"]) == ("Collection", "T1114.003")
    assert "operation=New-InboxRule" in row["why"] and "parameters=" in row["why"]
    sign_in_hit = hits.filter(pl.col("record_id") == "s-ropc").row(0, named=True)
    assert sign_in_hit["source"] == "sign_ins" and sign_in_hit["severity"] == "high"
    assert {pair["tactic"] for pair in sign_in_hit["techniques"]} == {"Initial Access", "Defense Evasion"}
    keyword_hit = hits.filter(pl.col("record_id") == "e-kit").row(0, named=True)
    assert keyword_hit["severity"] == "informational" and keyword_hit["tactic_id"] == attack.UNMAPPED
    assert keyword_hit["why"] == "record text: contains evilginx"


def test_rules_the_engine_cannot_express_are_listed_with_file_id_and_reason(pack):
    reasons = {Path(problem.path).name: (problem.rule_id[-2:], problem.reason) for problem in pack.not_run}
    assert set(reasons) == {"cannot_count_aggregation.yml", "cannot_unknown_field.yml", "cannot_base64offset.yml",
                            "cannot_activity_logs.yml", "cannot_alert_name.yml", "cannot_deprecated.yml"}
    assert reasons["cannot_count_aggregation.yml"] == ("07", "aggregation (`| count()` ...) is not supported: "
                                                       "hunts from Sigma rules run per-record conditions")
    assert reasons["cannot_unknown_field.yml"][1].startswith("unknown field Directionality for the events")
    assert reasons["cannot_base64offset.yml"][1] == "modifier base64offset is not supported"
    assert reasons["cannot_activity_logs.yml"][1].startswith("log source azure / activitylogs is not read")
    assert reasons["cannot_alert_name.yml"][1].startswith("field eventName: the name of a Defender")
    assert reasons["cannot_deprecated.yml"][1] == "status deprecated: retired by its authors"
    assert pack.other_sources == {"windows": 1}
    assert len(pack.hunts) == 8


def test_yaml_that_does_not_parse_is_listed_and_other_files_are_counted(tmp_path):
    (tmp_path / "broken.yml").write_text("title: [x\nlogsource:\n    product: m365\ndetection: {\n", encoding="utf-8")
    (tmp_path / "workflow.yml").write_text("on: push\njobs: {}\n", encoding="utf-8")
    (tmp_path / ".github").mkdir()
    (tmp_path / ".github" / "hidden.yml").write_text("detection: {}\n", encoding="utf-8")
    pack = load_sigma([tmp_path])
    assert [(Path(p.path).name, p.reason.split(":")[0]) for p in pack.not_run] == [("broken.yml", "not readable")]
    assert pack.other_sources == {"(not a Sigma rule)": 1}


def test_attack_tags_become_pairs_of_the_office_suite_matrix():
    assert [(p.tactic, p.technique_id) for p in attack_pairs(["credential-access", "t1556.006"])] == [
        ("Credential Access", "T1556.006")]
    # a technique without a tactic tag goes under every tactic that lists it
    assert {p.tactic for p in attack_pairs(["t1098"])} == {"Persistence", "Privilege Escalation"}
    assert [(p.tactic, p.technique_id, p.matrix_id) for p in attack_pairs(["exfiltration", "t1020"])] == [
        ("Exfiltration", "T1020", attack.UNMAPPED)]  # not in the Office Suite matrix: the tactic's unmapped cell
    assert [(p.tactic_id, p.matrix_id) for p in attack_pairs(["initial_access"])] == [("TA0001", attack.UNMAPPED)]
    assert [(p.tactic_id, p.matrix_id) for p in attack_pairs([])] == [(attack.UNMAPPED, attack.UNMAPPED)]


def test_the_matrix_shows_sigma_hits_without_a_technique_in_unmapped_cells(pack, hits):
    columns = {column.tactic.name: column for column in hunts.matrix_cells(hits, list(pack.hunts))}
    assert columns["Unmapped"].cells[0].hits == 2  # the keyword rule has no ATT&CK tags
    persistence = {cell.technique_id: cell for cell in columns["Persistence"].cells}
    assert persistence[attack.UNMAPPED].hits == 3 and persistence[attack.UNMAPPED].hunt_ids == (RULE.format(2),)
    assert attack.UNMAPPED not in {cell.technique_id for cell in columns["Collection"].cells}
    assert columns["Collection"].cells[0].technique_id != attack.UNMAPPED
    layer = json.loads(hunts.navigator_layer(list(columns.values()), "t"))
    assert all(entry["techniqueID"].startswith("T") for entry in layer["techniques"])


def test_config_sigma_dirs_adds_the_rules_to_the_pack(tmp_path):
    config = {"sigma_dirs": [str(RULES)]}
    ids = {hunt.id for hunt in hunt_pack(config)}
    assert RULE.format(1) in ids and len(ids - {hunt.id for hunt in hunt_pack({})}) == 8
    assert sigma_rules(config).not_run and sigma_rules({}) is None
    with pytest.raises(HuntSetupError, match="sigma_dirs must be a list"):
        hunt_pack({"sigma_dirs": str(RULES)})
    with pytest.raises(HuntSetupError, match="no such folder"):
        hunt_pack({}, sigma_dirs=[tmp_path / "absent"])


def test_sigma_rules_are_read_again_when_a_file_changes(tmp_path):
    rule = (RULES / "m365_mailbox_permission_full_access.yml").read_text(encoding="utf-8")
    (tmp_path / "rule.yml").write_text(rule, encoding="utf-8")
    assert sigma_rules({}, [tmp_path]).hunts[0].severity == "low"
    (tmp_path / "rule.yml").write_text(rule.replace("level: low", "level: critical") + "\n", encoding="utf-8")
    assert sigma_rules({}, [tmp_path]).hunts[0].severity == "critical"


@pytest.fixture()
def inputs(tmp_path) -> Path:
    folder = tmp_path / "logs"
    folder.mkdir()
    for name, records in (("ual.jsonl", AUDIT), ("signins.jsonl", SIGN_INS), ("audits.jsonl", DIRECTORY)):
        (folder / name).write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    return folder


def test_cli_hunt_with_sigma_json_hits_and_the_rules_not_run_on_stderr(tmp_path, inputs, capsys):
    status = main(["hunt", str(inputs), "--case-dir", str(tmp_path / "cases"), "--sigma", str(RULES), "--format", "json"])
    out, err = capsys.readouterr()
    assert status == 0
    rows = [row for row in json.loads(out) if row["hunt_id"].startswith("sigma_")]
    assert {(row["hunt_id"], row["record_id"]) for row in rows} == EXPECTED
    assert all(row["title"].startswith("Sigma: ") for row in rows)
    report = json.loads(err.strip().splitlines()[-1])
    assert report["sigma_run"] == 8 and report["sigma_other_sources"] == {"windows": 1}
    assert {Path(row["file"]).name for row in report["sigma_not_run"]} >= {"cannot_base64offset.yml"}
    assert all({"file", "rule_id", "title", "reason"} <= set(row) for row in report["sigma_not_run"])


def test_cli_hunt_table_shows_sigma_hits_and_lists_the_rules_not_run(tmp_path, inputs, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    config = tmp_path / "config.toml"
    config.write_text(f"sigma_dirs = [{json.dumps(str(RULES))}]\n", encoding="utf-8")
    assert main(["hunt", str(inputs), "--case-dir", str(tmp_path / "cases"), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "Sigma: Inbox rule forwards" in out and "sigma_3f0c5a1e" in out
    assert "6 Sigma rules not run" in out and "modifier base64offset is not supported" in out
    assert "Sigma: 8 rules run, 6 not run; files of other log sources not read: windows 1" in out


def test_the_report_sections_hold_sigma_hits_without_a_technique_last(hits):
    from workbench.core.report import ReportEvent, _sections  # the sections of marked events, as the report draws them
    events = {rid: ReportEvent(rid, None, "", "", "", "", "", "", []) for rid in hits["record_id"]}
    sections = {section.name: [technique.id for technique in section.techniques] for section in _sections(hits, events)}
    assert list(sections)[-1] == "Unmapped" and sections["Unmapped"] == [attack.UNMAPPED]
    assert sections["Persistence"] == ["T1098.002", attack.UNMAPPED]


NATIVE = '''
title = "t"
description = "d"
severity = "low"
attack = ["Persistence:T1098"]
runbook = "r"
[condition]
actors = "all"
where = [{ any = [
  { field = "user_id", starts_with = ["adm-"] },
  { all = [{ field = "client_ip", cidr = ["192.0.2.0/24"] }, { field = "user_id", ends_with = ["@example.com"], not = true }] },
  { record = true, contains = ["backdoor"] },
] }]
[[tests]]
name = "each branch of the group"
expect = ["admin", "outsider", "word"]
records = [
  { Id = "admin", Operation = "Set-Mailbox", UserId = "ADM-x@example.com", ClientIP = "203.0.113.1" },
  { Id = "outsider", Operation = "Set-Mailbox", UserId = "x@partner.example", ClientIP = "192.0.2.9" },
  { Id = "insider", Operation = "Set-Mailbox", UserId = "x@example.com", ClientIP = "192.0.2.9" },
  { Id = "word", Operation = "Set-Mailbox", UserId = "y@example.com", ClientIP = "203.0.113.2", Parameters = [{ Name = "Notes", Value = "a Backdoor" }] },
  { Id = "plain", Operation = "Set-Mailbox", UserId = "y@example.com", ClientIP = "203.0.113.2" },
]
'''


def test_native_hunts_can_use_the_grammar_sigma_needs():
    from hunts.loader import parse_hunt
    from hunts.selftest import run_inline_tests
    hunt, problems = parse_hunt(Path("grouped.toml"), NATIVE)
    assert problems == [] and run_inline_tests(hunt) == []


@pytest.mark.parametrize(("predicate", "message"), [
    ({"field": "client_ip", "cidr": ["10.0.0.0/33"]}, "'10.0.0.0/33' is not an IP network"),
    ({"field": "user_id", "regex": "(?<=a)b"}, "not supported by the engine (no look-around"),
    ({"any": []}, "expected a non-empty list of predicates"),
    ({"all": [{"field": "nope", "equals": "x"}]}, "unknown column 'nope'"),
    ({"any": [{"field": "user_id", "equals": "x"}], "field": "user_id"}, "unknown key beside a group"),
    ({"record": True}, "needs one of"),
    ({"field": "user_id", "starts_with": "adm"}, "expected a non-empty list of strings"),
])
def test_the_checker_names_what_is_wrong_in_the_new_grammar(predicate, message):
    from hunts.conditions import check_condition
    problems = check_condition({"where": [predicate]})
    assert any(message in text for _path, text in problems), problems


def test_every_field_mapping_names_a_column_of_its_frame():
    import tomllib

    from hunts.conditions import SOURCES, SUBJECTS
    from hunts.sigma_condition import FIELDS_FILE
    data = tomllib.loads(FIELDS_FILE.read_text(encoding="utf-8"))
    wrong = [(frame, name, column) for frame, table in data["frames"].items()
             for name, column in table["fields"].items() if column not in SOURCES[frame]]
    wrong += [(entry["product"], name, column) for entry in data["logsource"]
              for name, column in entry.get("fields", {}).items() if column not in SOURCES[entry["frame"]]]
    assert wrong == []
    assert {kind for table in data["frames"].values() for kind in table.get("named", {}).values()} <= set(SUBJECTS)
    assert all(entry["frame"] in SOURCES and entry["services"] for entry in data["logsource"])
