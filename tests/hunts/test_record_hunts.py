"""Hunts that read audit record members no events column holds (OperationProperties' rule actions, QueryText):
hunting a case gives them the original records of their operations; without the records they stay quiet. The
throttled-reads hunt and the sign-in failure hunts read columns the loader fills from the record instead
(`throttled`, `operation_count`; `logon_error`, `error_number`)."""

import json

import polars as pl

import hunts
from workbench.core.case import Case
from workbench.core import hunting
from workbench.core.hunting import case_hits

RECORD_HUNTS = {"collection_exo_client_inbox_rule_forwarding", "defense_exo_client_inbox_rule_hides_mail",
                "collection_exo_mail_search_sensitive_terms"}
THROTTLED = "collection_exo_mail_items_throttled"


def _records() -> list[dict]:
    base = {"RecordType": 2, "Workload": "Exchange", "ResultStatus": "Succeeded", "ClientIP": "185.241.149.122",
            "UserId": "TargetUser@example.com", "MailboxOwnerUPN": "TargetUser@example.com",
            "OrganizationId": "4b2462a4-bbee-495a-a0e1-f23ae524cc9c"}
    return [
        base | {"Id": "fwd", "CreationTime": "2024-03-01T10:00:00", "Operation": "UpdateInboxRules",
                "OperationProperties": [{"Name": "RuleName", "Value": "x"}, {"Name": "RuleActions",
                                        "Value": '[{"ActionType":"ForwardToRecipientsAction","Recipients":["d@evil.example"]}]'}]},
        base | {"Id": "hide", "CreationTime": "2024-03-01T10:01:00", "Operation": "UpdateInboxRules",
                "OperationProperties": [{"Name": "RuleActions", "Value": '[{"ActionType":"MarkAsReadAction"}]'}]},
        base | {"Id": "file", "CreationTime": "2024-03-01T10:02:00", "Operation": "UpdateInboxRules",
                "OperationProperties": [{"Name": "RuleActions", "Value": '[{"ActionType":"MoveToFolderAction"}]'}]},
        base | {"Id": "throttled", "CreationTime": "2024-03-01T10:03:00", "Operation": "MailItemsAccessed", "OperationCount": 1,
                "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "True"}]},
        base | {"Id": "read", "CreationTime": "2024-03-01T10:04:00", "Operation": "MailItemsAccessed", "OperationCount": 3,
                "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}]},
        base | {"Id": "bulk", "CreationTime": "2024-03-01T10:04:30", "Operation": "MailItemsAccessed", "OperationCount": "250",
                "OperationProperties": [{"Name": "MailAccessType", "Value": "Sync"}]},
        base | {"Id": "wire", "CreationTime": "2024-03-01T10:05:00", "Operation": "SearchQueryInitiatedExchange",
                "QueryText": "wire transfer"},
        base | {"Id": "lunch", "CreationTime": "2024-03-01T10:06:00", "Operation": "SearchQueryInitiatedExchange",
                "QueryText": "team lunch"},
    ]


def _case(tmp_path) -> Case:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(_records()), encoding="utf-8")
    case = Case.named("records", tmp_path)
    case.open([export])
    return case


def _pack() -> list[hunts.Hunt]:
    pack = [hunt for hunt in hunts.load_hunts() if hunt.id in RECORD_HUNTS]
    assert len(pack) == len(RECORD_HUNTS)
    return pack


def test_hunting_a_case_reads_the_original_records_of_the_hunts_that_need_them(tmp_path):
    case = _case(tmp_path)
    hits = case_hits(case.activity(), {}, _pack(), case=case)
    assert set(hits.select("hunt_id", "record_id").iter_rows()) == {
        ("collection_exo_client_inbox_rule_forwarding", "fwd"),
        ("defense_exo_client_inbox_rule_hides_mail", "hide"),
        ("collection_exo_mail_search_sensitive_terms", "wire"),
    }


def test_without_the_records_those_hunts_stay_quiet(tmp_path):
    case = _case(tmp_path)
    assert "audit_data" not in case.events().columns
    assert hunts.hunt_hits(case.events(), _pack()).height == 0


def test_the_throttled_reads_hunt_reads_the_columns_the_loader_fills(tmp_path):
    case = _case(tmp_path)
    events = case.events()
    assert "audit_data" not in events.columns
    filled = events.filter(pl.col("operation") == "MailItemsAccessed").sort("record_id")
    assert filled.select("record_id", "operation_count", "throttled").rows() == [
        ("bulk", 250, None), ("read", 3, False), ("throttled", 1, True)]
    assert events.filter(pl.col("operation") != "MailItemsAccessed")["operation_count"].is_null().all()
    throttled = [hunt for hunt in hunts.load_hunts() if hunt.id == THROTTLED]
    assert sorted(hunts.hunt_hits(events, throttled)["record_id"]) == ["bulk", "throttled"]


SIGN_IN_HUNTS = {"credential_aad_account_lockouts_many_accounts", "credential_aad_mfa_fatigue",
                 "credential_aad_sso_token_errors"}


def _failed_logons() -> list[dict]:
    base = {"RecordType": 15, "Workload": "AzureActiveDirectory", "Operation": "UserLoginFailed",
            "ResultStatus": "Failed", "ClientIP": "185.241.149.122", "OrganizationId": "4b2462a4-bbee-495a-a0e1-f23ae524cc9c"}
    locked = [base | {"Id": f"lock-{user}", "CreationTime": f"2024-03-04T02:{minute}:00", "UserId": f"{user}@example.com",
                      "LogonError": "IdsLocked", "ErrorNumber": "50053"} for user, minute in (("a", 10), ("b", 20), ("c", 30))]
    prompts = [base | {"Id": f"mfa-{n}", "CreationTime": f"2024-03-04T23:0{n}:00", "UserId": "m@example.com",
                       "LogonError": "UserStrongAuthClientAuthNRequiredInterrupt", "ErrorNumber": "500121"} for n in (1, 4)]
    return [*locked, *prompts,
            base | {"Id": "mfa-8", "CreationTime": "2024-03-04T23:08:00", "UserId": "m@example.com",
                    "ErrorNumber": 500121},  # a number, as some exports write it
            base | {"Id": "jwt", "CreationTime": "2024-03-05T09:00:00", "UserId": "s@example.com",
                    "LogonError": "InvalidJwtToken", "ErrorNumber": "50027"},
            base | {"Id": "sso", "CreationTime": "2024-03-05T09:30:00", "UserId": "s@example.com",
                    "LogonError": "SsoArtifactInvalidOrExpired", "ErrorNumber": "50119"},
            base | {"Id": "password", "CreationTime": "2024-03-05T10:00:00", "UserId": "p@example.com",
                    "LogonError": "InvalidUserNameOrPassword", "ErrorNumber": "50126"}]


def test_the_sign_in_failure_hunts_read_the_columns_the_loader_fills(tmp_path, monkeypatch):
    """Lockouts, MFA fatigue and SSO token errors read `logon_error` and `error_number` (LogonError and ErrorNumber,
    text or number in the record), never the records (at 10M sign-in events, reading the records of every failed
    logon was most of the pack's time)."""
    export = tmp_path / "logons.json"
    export.write_text(json.dumps(_failed_logons()), encoding="utf-8")
    case = Case.named("logons", tmp_path)
    case.open([export])
    events = case.events().sort("record_id")
    assert events.filter(pl.col("record_id").is_in(["mfa-8", "sso"])).select("logon_error", "error_number").rows() == [
        (None, "500121"), ("SsoArtifactInvalidOrExpired", "50119")]

    read: list[int] = []
    reader = hunting.record_reader
    monkeypatch.setattr(hunting, "record_reader", lambda one_case: (lambda rows, records=reader(one_case): (
        read.extend(rows["source_row"].to_list()) or records(rows))))
    pack = [hunt for hunt in hunts.load_hunts() if hunt.id in SIGN_IN_HUNTS]
    hits = case_hits(case.activity(), {}, pack, case=case)
    assert set(hits.select("hunt_id", "record_id").iter_rows()) == {
        ("credential_aad_account_lockouts_many_accounts", f"lock-{user}") for user in "abc"} | {
        ("credential_aad_mfa_fatigue", f"mfa-{n}") for n in (1, 4, 8)} | {
        ("credential_aad_sso_token_errors", "jwt"), ("credential_aad_sso_token_errors", "sso")}
    assert read == []


INBOX_RULE_HUNTS = {"collection_exo_client_inbox_rule_forwarding", "defense_exo_client_inbox_rule_hides_mail",
                    "collection_exo_client_inbox_rule_moves_mail"}


def test_hunts_testing_the_same_records_read_each_record_once(tmp_path, monkeypatch):
    """Three inbox-rule hunts test the text of every UpdateInboxRules record: the first to read a record decides the
    tests of all three on it (`record_tests`); each record is read once for the tests, and once more for each hit
    (to say why it matched). The hits are those of each hunt run alone."""
    case = _case(tmp_path)
    pack = [hunt for hunt in hunts.load_hunts() if hunt.id in INBOX_RULE_HUNTS]
    alone = {pair for hunt in pack for pair in case_hits(case.activity(), {}, [hunt], case=case)
             .select("hunt_id", "record_id").iter_rows()}
    assert alone == {("collection_exo_client_inbox_rule_forwarding", "fwd"),
                     ("defense_exo_client_inbox_rule_hides_mail", "hide"),
                     ("collection_exo_client_inbox_rule_moves_mail", "file")}

    read: list[int] = []  # the input's rows whose records were read, once per read
    reader = hunting.record_reader

    def counting(one_case):
        records = reader(one_case)
        return lambda rows: read.extend(rows["source_row"].to_list()) or records(rows)

    monkeypatch.setattr(hunting, "record_reader", counting)
    together = case_hits(case.activity(), {}, pack, case=case)
    assert set(together.select("hunt_id", "record_id").iter_rows()) == alone
    rules = [row for row in _records() if row["Operation"] == "UpdateInboxRules"]
    assert len(set(read)) == len(rules)
    assert len(read) == len(rules) + together.height
