"""The parts of the hunt grammar the Entra hunts rely on: named value lists (`listed`) and their data files, and
ModifiedProperties of the directory audits read with `modified` like the audit log's."""

import re

import polars as pl

from hunts.conditions import check_condition
from hunts.engine import Context, matching_events
from hunts.lists import LISTS_DIR, list_names, listed_values
from hunts.model import Hunt
from workbench.core.sources.exports import graph_records_frame

GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: The lists of sign-in status codes (AADSTS numbers); the others list application ids.
CODE_LISTS = {"signin_interrupts"}


def _hunt(condition: dict) -> Hunt:
    return Hunt(id="t", title="t", description="d", severity="low", attack=(), runbook="r", fields=(),
                references=(), condition=condition, tests=(), path=None)


def test_every_list_row_names_its_value_and_a_public_reference():
    assert set(list_names()) >= {"abused_apps", "tooling_apps", "privileged_app_permissions"}
    for name in list_names():
        rows = [line.split("\t") for line in (LISTS_DIR / f"{name}.tsv").read_text(encoding="utf-8").splitlines()[1:]]
        assert rows, name
        for row in rows:
            assert len(row) == 3 and row[1].strip() and row[2].startswith("https://"), (name, row)
            assert (row[0].isdigit() if name in CODE_LISTS else GUID.match(row[0])), (name, row[0])
        assert len({row[0] for row in rows}) == len(rows), f"{name} repeats a value"
    assert "e9a7fea1-1cc0-4cd9-a31b-9137ca5deedd" in listed_values("abused_apps")  # eM Client


def test_the_interrupt_list_is_the_status_tables_interrupts():
    """The hunts' `signin_interrupts` (audit log logons by ErrorNumber) and the sign-ins' status table say the same."""
    from workbench.core.signin_status import TABLE

    interrupts = TABLE.filter(pl.col("kind") == "interrupt")
    assert listed_values("signin_interrupts") == tuple(str(code) for code in interrupts["code"])
    assert {"50140", "50074", "50076", "50072", "90072"} <= set(listed_values("signin_interrupts"))


def test_a_listed_value_matches_as_a_whole_word_whatever_its_case():
    hunt = _hunt({"source": "sign_ins", "where": [{"field": "app_id", "listed": "abused_apps"}]})
    records = [
        {"id": "em", "createdDateTime": "2024-03-04T10:00:00Z", "userPrincipalName": "u@example.com", "appId": "E9A7FEA1-1CC0-4CD9-A31B-9137CA5DEEDD"},
        {"id": "longer", "createdDateTime": "2024-03-04T10:01:00Z", "userPrincipalName": "u@example.com", "appId": "e9a7fea1-1cc0-4cd9-a31b-9137ca5deedd7"},
        {"id": "office", "createdDateTime": "2024-03-04T10:02:00Z", "userPrincipalName": "u@example.com", "appId": "d3590ed6-52b3-4102-aeff-aad2292ab01c"},
    ]
    rows = graph_records_frame(records, "sign_ins")
    assert matching_events(hunt, Context(rows, source="sign_ins"))["record_id"].to_list() == ["em"]


def test_a_list_that_does_not_exist_is_refused_with_the_lists_there_are():
    problems = check_condition({"source": "sign_ins", "where": [{"field": "app_id", "listed": "rogue_apps"}]})
    assert problems == [("condition.where[0].listed",
                         f"no list 'rogue_apps'; expected one of {', '.join(list_names())}")]


def test_modified_properties_of_the_directory_audits_read_like_the_audit_logs():
    hunt = _hunt({"source": "directory_audits", "actors": "all",
                  "where": [{"modified": "StrongAuthenticationMethod", "fewer_than_old": True}]})
    change = {"displayName": "StrongAuthenticationMethod", "oldValue": '[{"MethodType":6},{"MethodType":7}]'}
    records = [
        {"id": "removed", "activityDateTime": "2024-03-04T10:00:00Z", "activityDisplayName": "Update user", "initiatedBy": {"app": {"displayName": "Azure MFA"}},
         "targetResources": [{"userPrincipalName": "u@example.com", "modifiedProperties": [{**change, "newValue": '[{"MethodType":7}]'}]}]},
        {"id": "kept", "activityDateTime": "2024-03-04T10:01:00Z", "activityDisplayName": "Update user", "initiatedBy": {"app": {"displayName": "Azure MFA"}},
         "targetResources": [{"userPrincipalName": "u@example.com", "modifiedProperties": [{**change, "newValue": change["oldValue"]}]}]},
    ]
    rows = graph_records_frame(records, "directory_audits")
    assert matching_events(hunt, Context(rows, source="directory_audits"))["record_id"].to_list() == ["removed"]


def test_modified_is_refused_on_the_sign_ins_which_have_no_modified_properties():
    assert check_condition({"source": "sign_ins", "where": [{"modified": "X", "present": True}]}) == [
        ("condition.where[0].modified", "only for audit log events and directory audits")]
    assert check_condition({"source": "directory_audits", "where": [{"modified": "X", "present": True}]}) == []


def test_thresholds_over_indexed_keys_count_as_over_the_text_and_an_empty_key_is_no_key():
    """Keys the frame's value index covers are grouped by their codes: the same hits, and an empty key still none."""
    hunt = _hunt({"source": "sign_ins", "actors": "all",
                  "threshold": {"by": ["user_key"], "window": "5m", "distinct": "user_agent", "min": 5}})
    agents = {"a@example.com": [f"agent-{n}" for n in range(8)], "": [f"agent-{n}" for n in range(8)],
              "b@example.com": ["agent-0", "agent-1"] * 4}
    records = [{"id": f"{user or 'empty'}-{n}", "createdDateTime": f"2024-03-04T10:0{n // 2}:{n % 2 * 30:02d}Z",
                "userPrincipalName": user, "userAgent": agent}
               for user, used in agents.items() for n, agent in enumerate(used)]
    rows = graph_records_frame(records, "sign_ins")  # an empty key as a frame from another source may hold it
    rows = rows.with_columns(pl.when(pl.col("record_id").str.starts_with("empty")).then(pl.lit(""))
                             .otherwise(pl.col("user_key")).alias("user_key"))
    context = Context(rows, source="sign_ins")
    assert context.index.covers("user_key") and context.events["user_key"].to_list().count("") == 8
    assert sorted(matching_events(hunt, context)["record_id"]) == sorted(f"a@example.com-{n}" for n in range(8))
