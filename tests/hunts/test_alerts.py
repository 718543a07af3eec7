"""Microsoft's alerts in the audit log: loaded with their fields as parameters and their entity as the object,
decoded for the drill-down, laid on the timeline, and mapped to ATT&CK by a table the alert hunts follow."""

import json
import tomllib
from pathlib import Path

import hunts
from hunts.alerts import ALERT_TECHNIQUES, TABLE, alert_mapping
from workbench.core.alert_detail import alert_lines, entities
from workbench.core.activity import activity
from workbench.core.load import events_from_records
from workbench.core.readable import readable_columns
from workbench.core.schema import empty_frame
from workbench.core.timeline import account_timeline
from workbench.ui.widgets.event_detail import detail_text, read_record

TRIGGERED = {"Id": "t", "CreationTime": "2023-02-20T10:05:00", "Operation": "AlertTriggered", "RecordType": 40,
             "UserId": "SecurityComplianceAlerts", "Name": "Creation of forwarding/redirect rule", "Severity": "Low",
             "Category": "ThreatManagement", "Status": "Active", "AlertId": "a1b2",
             "Source": "Office 365 Security & Compliance",
             "Data": json.dumps({"f3u": "victim@example.com", "cip": "203.0.113.5", "trc": "shared@example.com",
                                 "url": "https://evil.example/login", "alertname": "[bold red]x[/]"})}
ENTITY = {"Id": "e", "CreationTime": "2023-02-20T10:05:01", "Operation": "AlertEntityGenerated", "RecordType": 40,
          "UserId": "SecurityComplianceAlerts", "Name": "Creation of forwarding/redirect rule", "AlertId": "a1b2",
          "EntityType": "User", "AlertEntityId": "Victim@example.com"}
RULE = {"Id": "r", "CreationTime": "2023-02-20T10:00:00", "Operation": "New-InboxRule", "UserId": "victim@example.com",
        "Name": "not an alert field here", "Parameters": [{"Name": "ForwardTo", "Value": "x@evil.example"}]}


def test_alert_records_carry_their_fields_as_parameters_and_their_entity_as_the_object():
    events = events_from_records([TRIGGERED, ENTITY, RULE])
    rows = {row["record_id"]: row for row in events.iter_rows(named=True)}
    assert json.loads(rows["t"]["parameters"]) == [
        {"Name": "AlertName", "Value": "Creation of forwarding/redirect rule"}, {"Name": "AlertSeverity", "Value": "Low"},
        {"Name": "AlertCategory", "Value": "ThreatManagement"}, {"Name": "AlertStatus", "Value": "Active"},
        {"Name": "AlertSource", "Value": "Office 365 Security & Compliance"}, {"Name": "AlertId", "Value": "a1b2"}]
    assert rows["t"]["object_id"] == "Creation of forwarding/redirect rule"
    assert rows["e"]["object_id"] == "Victim@example.com"
    assert json.loads(rows["r"]["parameters"]) == [{"Name": "ForwardTo", "Value": "x@evil.example"}]
    assert rows["r"]["object_id"] is None


def test_the_drill_down_decodes_an_alert_its_technique_and_its_entities_by_kind():
    lines = alert_lines(TRIGGERED)
    assert lines[:7] == [("alert", "Creation of forwarding/redirect rule"), ("severity", "Low"),
                         ("category", "ThreatManagement"), ("status", "Active"),
                         ("source", "Office 365 Security & Compliance"), ("alert id", "a1b2"),
                         ("technique", "Collection:T1114.003 (hunt collection_alert_forwarding_rule)")]
    assert lines[7:] == [("user", "victim@example.com"), ("mailbox", "shared@example.com"), ("ip", "203.0.113.5"),
                         ("url", "https://evil.example/login")]
    assert entities({**ENTITY, "EntityType": "Mailbox"})["mailboxes"] == ["Victim@example.com"]
    assert alert_lines(RULE) == [] and alert_lines(None) == []


def test_an_accounts_timeline_shows_the_alerts_about_it_in_their_own_lane():
    events = events_from_records([TRIGGERED, ENTITY, RULE]).lazy()
    rows = activity(events, empty_frame("sign_ins").lazy(), empty_frame("directory_audits").lazy()).collect()
    timeline = account_timeline(rows, "victim@example.com")
    assert timeline.lanes == {"audit log": [1], "Microsoft alerts": [1]}


def test_every_alert_hunt_keys_on_exactly_the_names_the_table_maps_to_it_and_its_techniques():
    pack = {hunt.id: hunt for hunt in hunts.load_hunts()}
    rows = tomllib.loads(TABLE.read_text(encoding="utf-8"))["alert"]
    assert len(ALERT_TECHNIQUES) == len(rows)  # no name twice
    alert_hunts = {hunt_id for hunt_id in pack if "_alert_" in hunt_id}
    assert alert_hunts == {row["hunt"] for row in rows}
    for hunt_id in alert_hunts:
        hunt = pack[hunt_id]
        mapped = [row for row in rows if row["hunt"] == hunt_id]
        names = next(p["equals"] for p in hunt.condition["where"] if p.get("parameter") == "AlertName")
        assert sorted(names) == sorted(row["name"] for row in mapped), hunt_id
        assert {f"{pair.tactic}:{pair.technique_id}" for pair in hunt.attack} == {row["attack"] for row in mapped}, hunt_id
    assert alert_mapping("  suspicious EMAIL forwarding activity ").hunt == "collection_alert_forwarding_rule"


def test_one_alert_is_one_hit_with_its_technique_and_name():
    events = events_from_records([TRIGGERED, ENTITY, {**ENTITY, "Id": "u", "Operation": "AlertUpdated"}])
    hits = hunts.hunt_hits(events, [hunt for hunt in hunts.load_hunts() if "_alert_" in hunt.id])
    assert hits.select("hunt_id", "record_id", "technique_id", "why").rows() == [
        ("collection_alert_forwarding_rule", "t", "T1114.003", "AlertName=Creation of forwarding/redirect rule")]


def test_the_drill_down_shows_the_alert_instead_of_the_parameters_the_loader_wrote_and_keeps_markup_literal():
    hostile = {**TRIGGERED, "Name": "[bold red]Creation of forwarding/redirect rule[/]", "Severity": "\x1b[2JHigh"}
    events = events_from_records([hostile])
    row = events.row(0, named=True)
    text = detail_text(row, read_record(row["record_id"], row["audit_data"])).plain
    alert = text[text.index("Microsoft alert"):text.index("Record")]
    assert "[bold red]Creation of forwarding/redirect rule[/]" in alert and "\x1b" not in text
    assert "victim@example.com" in alert and "203.0.113.5" in alert and "AlertSeverity" not in text


def test_an_exports_readable_columns_say_the_alert_and_its_entity():
    events = events_from_records([TRIGGERED, ENTITY])
    rows = readable_columns(events, events["audit_data"]).rows()
    assert rows[0][:2] == ("Creation of forwarding/redirect rule",
                           "AlertName=Creation of forwarding/redirect rule; AlertSeverity=Low; AlertCategory=ThreatManagement; "
                           "AlertStatus=Active; AlertSource=Office 365 Security & Compliance; AlertId=a1b2")
    assert rows[1][0] == "Victim@example.com" and "AlertEntityType=User" in rows[1][1]
