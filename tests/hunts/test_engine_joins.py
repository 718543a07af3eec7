"""Hunts that join sources: sets drawn from another source, sequences over sign-ins, directory audits and the audit
log, and what their hits say they were joined with; real frames from raw records through the real loaders."""

from pathlib import Path

import polars as pl

import hunts
from hunts.loader import parse_hunt
from hunts.selftest import run_inline_tests
from workbench.core.load import events_from_records
from workbench.core.sources.exports import graph_records_frame

HEADER = '''
title = "t"
description = "d"
severity = "high"
attack = ["Initial Access:T1078.004"]
runbook = "r"
'''
USER = "victim@example.com"


def hunt_from(condition: str, name: str = "h") -> hunts.Hunt:
    hunt, problems = parse_hunt(Path(f"{name}.toml"), HEADER + condition)
    assert problems == []
    return hunt


def sign_in(record_id: str, time: str, **fields) -> dict:
    return {"id": record_id, "createdDateTime": f"2023-02-20T{time}:00Z", "userPrincipalName": USER,
            "ipAddress": "203.0.113.9", "status": {"errorCode": 0}, **fields}


def audit(record_id: str, time: str, operation: str, **fields) -> dict:
    return {"Id": record_id, "CreationTime": f"2023-02-20T{time}:00", "Operation": operation, "UserId": USER,
            "Workload": "Exchange", **fields}


SESSION_HUNT = '''[condition]
operations = ["New-InboxRule", "Set-InboxRule"]
where = [{ in_set = { source = "sign_ins", key = "session_id", from = "session_id", where = [{ field = "risk_level_aggregated", equals = ["high", "medium"] }] } }]
'''


def test_an_audit_log_action_in_the_session_of_a_risky_sign_in_says_which_sign_in():
    sign_ins = graph_records_frame([
        sign_in("s-risky", "10:00", sessionId="SESSION-1", riskLevelAggregated="high"),
        sign_in("s-calm", "10:01", sessionId="session-2", riskLevelAggregated="none"),
    ], "sign_ins")
    events = events_from_records([
        audit("in-risky", "10:05", "New-InboxRule", AppAccessContext={"AADSessionId": "session-1"}),
        audit("in-calm", "10:06", "New-InboxRule", AppAccessContext={"AADSessionId": "session-2"}),
        audit("no-session", "10:07", "New-InboxRule"),
    ])
    hits = hunts.hunt_hits(events, [hunt_from(SESSION_HUNT)], others={"sign_ins": sign_ins})
    assert hits.select("record_id", "source").rows() == [("in-risky", "events")]
    assert hits["why"][0] == ("session_id=session-1 among the session_id of sign_ins: "
                              "first SignIn s-risky at 2023-02-20 10:00:00")
    assert hunts.hunt_hits(events, [hunt_from(SESSION_HUNT)]).height == 0  # no sign-ins loaded: nothing to join


def test_a_hunt_reads_the_sources_and_columns_its_joins_name():
    hunt = hunt_from(SESSION_HUNT)
    assert hunts.sources_read(hunt) == {"events", "sign_ins"}
    assert {"session_id", "risk_level_aggregated"} <= set(hunts.columns_read([hunt], "sign_ins"))
    assert "status_code" not in hunts.columns_read([hunt], "sign_ins")
    assert "session_id" in hunts.columns_read([hunt], "events")


def test_a_set_names_columns_of_its_own_source():
    _, problems = parse_hunt(Path("h.toml"), HEADER + '''[condition]
where = [{ in_set = { source = "sign_ins", key = "session_id", from = "operation", operations = ["x"] } }]
''')
    assert ("condition.where[0].in_set.from", "unknown column 'operation'; expected one of the sign ins columns") in problems
    assert ("condition.where[0].in_set.operations", "only for audit log events; match other sources with where") in problems
    _, problems = parse_hunt(Path("h.toml"), HEADER + '''[condition]
where = [{ in_set = { source = "mail", key = "session_id", from = "session_id" } }]
''')
    assert problems[0][0] == "condition.where[0].in_set.source"


CREDENTIAL_THEN_USED = '''[condition]
source = "directory_audits"
flag = "all"
sequence = [
  { where = [{ field = "activity", equals = "Add service principal credentials" }], key = "target_names" },
  { source = "sign_ins", where = [{ field = "sign_in_type", equals = "service_principal" }], key = "service_principal", actors = "all", within = "1d" },
]
'''


def directory_audit(record_id: str, time: str, activity: str, target: str) -> dict:
    return {"id": record_id, "activityDateTime": f"2023-02-20T{time}:00Z", "activityDisplayName": activity,
            "initiatedBy": {"user": {"userPrincipalName": "admin@example.com", "ipAddress": "198.51.100.7"}},
            "targetResources": [{"id": "00000000-0000-0000-0000-00000000000a", "displayName": target, "type": "ServicePrincipal"}]}


def sp_sign_in(record_id: str, time: str, name: str) -> dict:
    return {"id": record_id, "createdDateTime": f"2023-02-20T{time}:00Z", "servicePrincipalName": name,
            "servicePrincipalId": "sp-id", "appId": "app-id", "ipAddress": "203.0.113.50", "status": {"errorCode": 0},
            "signInEventTypes": ["servicePrincipal"]}


def test_a_sequence_across_sources_flags_each_step_in_its_own_source_and_says_what_it_joined():
    audits = graph_records_frame([directory_audit("d-cred", "10:00", "Add service principal credentials", "Payroll Sync"),
                                  directory_audit("d-other", "10:00", "Add service principal credentials", "Backup App")],
                                 "directory_audits")
    sign_ins = graph_records_frame([sp_sign_in("s-used", "11:00", "Payroll Sync"), sp_sign_in("s-before", "09:00", "Backup App"),
                                    sp_sign_in("s-unrelated", "11:00", "Mail Archiver")], "sign_ins")
    assert set(sign_ins["sign_in_type"]) == {"service_principal"}
    hunt = hunt_from(CREDENTIAL_THEN_USED)
    assert hunts.sources_read(hunt) == {"directory_audits", "sign_ins"}
    hits = hunts.hunt_hits(events_from_records([]), [hunt], others={"directory_audits": audits, "sign_ins": sign_ins})
    assert hits.select("record_id", "source").rows() == [("d-cred", "directory_audits"), ("s-used", "sign_ins")]
    assert hits["why"].to_list() == [
        "step 1 of 2 on target_names=payroll sync, joined with 2. sign_ins ServicePrincipalSignIn s-used at 2023-02-20 11:00:00",
        "step 2 of 2 on service_principal=payroll sync, joined with 1. directory_audits Add service principal credentials "
        "d-cred at 2023-02-20 10:00:00",
    ]


def test_a_sequence_of_sign_ins_then_audit_log_actions_joins_on_each_sources_key_column():
    hunt = hunt_from('''[condition]
source = "sign_ins"
sequence = [
  { where = [{ field = "risk_level_aggregated", equals = "high" }], key = "user_key" },
  { source = "events", operations = ["New-InboxRule"], key = "user_key", within = "1h" },
]
''')
    sign_ins = graph_records_frame([sign_in("s1", "10:00", riskLevelAggregated="high")], "sign_ins")
    events = events_from_records([audit("rule-soon", "10:30", "New-InboxRule"), audit("rule-late", "12:00", "New-InboxRule"),
                                  audit("rule-other", "10:30", "New-InboxRule", UserId="someone@example.com")])
    hits = hunts.hunt_hits(events, [hunt], others={"sign_ins": sign_ins})
    assert hits.select("record_id", "source", "user_id").rows() == [("rule-soon", "events", USER)]


def test_inline_tests_give_the_records_of_the_other_sources_a_hunt_joins():
    hunt = hunt_from(SESSION_HUNT + '''
[[tests]]
name = "rule in a risky session"
expect = ["a"]
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com", AppAccessContext = { AADSessionId = "s-1" } }]
sign_ins = [{ userPrincipalName = "x@example.com", sessionId = "s-1", riskLevelAggregated = "high" }]

[[tests]]
name = "the session's sign-in was not risky"
expect = []
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com", AppAccessContext = { AADSessionId = "s-1" } }]
sign_ins = [{ userPrincipalName = "x@example.com", sessionId = "s-1", riskLevelAggregated = "low" }]
''')
    assert run_inline_tests(hunt) == []
    wrong = hunt_from(SESSION_HUNT + '''
[[tests]]
name = "expects the sign-in itself"
expect = ["s1"]
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com", AppAccessContext = { AADSessionId = "s-1" } }]
sign_ins = [{ userPrincipalName = "x@example.com", sessionId = "s-1", riskLevelAggregated = "high" }]
''')
    assert run_inline_tests(wrong) == ["h: expects the sign-in itself: expected hits ['s1'], got ['a']"]
    _, problems = parse_hunt(Path("h.toml"), HEADER + SESSION_HUNT + '''
[[tests]]
expect = ["nope"]
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com" }]
events = [{ Id = "b", Operation = "New-InboxRule", UserId = "x@example.com" }]
''')
    assert ("tests[0].events", "expected a list of raw records of another source than events") in problems
    assert ("tests[0].expect", "no record with Id nope") in problems


ROLE_UAL = '''[condition]
operations = ["Add member to role."]
'''
ROLE_DIRECTORY = '''[condition]
source = "directory_audits"
where = [{ field = "activity", equals = "Add member to role" }]
'''


def role_records(ual_time: str = "10:16:02", target: str = "CompromisedAdmin@example.net"):
    events = events_from_records([{
        "Id": "ual-role", "CreationTime": f"2023-02-20T{ual_time}", "Operation": "Add member to role.",
        "Workload": "AzureActiveDirectory", "RecordType": 8, "UserId": "admin@example.com", "ObjectId": target,
        "ModifiedProperties": [{"Name": "Role.DisplayName", "NewValue": "Global Administrator", "OldValue": ""}]}])
    audits = graph_records_frame([{
        "id": "Directory_07af63f8_HRD2L_81777659", "activityDateTime": "2023-02-20T10:16:02.72Z",
        "activityDisplayName": "Add member to role", "correlationId": "07af63f8",
        "initiatedBy": {"user": {"userPrincipalName": "admin@example.com", "ipAddress": "185.241.149.122"}},
        "targetResources": [{"id": "894a", "type": "User", "userPrincipalName": "CompromisedAdmin@example.net"},
                            {"id": "4935", "type": "Role", "displayName": "Global Administrator"}]}], "directory_audits")
    return events, audits


def role_hunt(condition: str, name: str, severity: str = "high", attack: str = "Persistence:T1098.003") -> hunts.Hunt:
    hunt, problems = parse_hunt(Path(f"{name}.toml"), HEADER.replace('"high"', f'"{severity}"').replace(
        "Initial Access:T1078.004", attack) + condition)
    assert problems == []
    return hunt


def test_a_directory_change_in_the_audit_log_and_the_directory_audits_is_one_finding():
    events, audits = role_records()
    pack = [role_hunt(ROLE_UAL, "role_added_audit_log"), role_hunt(ROLE_DIRECTORY, "role_added_directory")]
    hits = hunts.hunt_hits(events, pack, others={"directory_audits": audits})
    assert hits.select("hunt_id", "record_id", "source").rows() == [
        ("role_added_directory", "directory_07af63f8_hrd2l_81777659", "directory_audits")]
    assert hits["why"][0] == "activity=Add member to role; same change as events ual-role (role_added_audit_log)"
    assert hunts.hunt_hits(events, pack).height == 1  # the audit log alone: its own hit
    # the more severe hunt's hit is the one kept
    pack = [role_hunt(ROLE_UAL, "role_added_audit_log", "critical"), role_hunt(ROLE_DIRECTORY, "role_added_directory")]
    kept = hunts.hunt_hits(events, pack, others={"directory_audits": audits})
    assert kept.select("record_id", "why").rows() == [
        ("ual-role", "operation=Add member to role.; same change as directory_audits directory_07af63f8_hrd2l_81777659 "
                     "(role_added_directory)")]


def test_records_of_different_changes_or_hunts_of_different_techniques_stay_two_findings():
    pack = [role_hunt(ROLE_UAL, "role_added_audit_log"), role_hunt(ROLE_DIRECTORY, "role_added_directory")]
    for ual_time, target in (("10:19:00", "CompromisedAdmin@example.net"), ("10:16:02", "someone.else@example.net")):
        events, audits = role_records(ual_time, target)
        assert hunts.hunt_hits(events, pack, others={"directory_audits": audits}).height == 2
    events, audits = role_records("10:17:30")  # within the tolerance
    assert hunts.hunt_hits(events, pack, others={"directory_audits": audits}).height == 1
    other_technique = [role_hunt(ROLE_UAL, "role_added_audit_log"),
                       role_hunt(ROLE_DIRECTORY, "account_manipulated", attack="Persistence:T1098.001")]
    assert hunts.hunt_hits(events, other_technique, others={"directory_audits": audits}).height == 2


def test_a_sequence_whose_steps_read_a_source_the_case_lacks_flags_nothing():
    sign_ins = graph_records_frame([sp_sign_in("s-used", "11:00", "Payroll Sync")], "sign_ins")
    hunt = hunt_from(CREDENTIAL_THEN_USED)
    assert hunts.hunt_hits(events_from_records([audit("a", "10:00", "New-InboxRule")]), [hunt],
                           others={"sign_ins": sign_ins}).height == 0
