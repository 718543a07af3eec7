"""Hunt conditions evaluated over real events frames built from raw records by the real normaliser."""

from pathlib import Path

import polars as pl
import pytest

import hunts
from hunts.engine import HIT_SCHEMA, Context, matching_events
from hunts.loader import parse_hunt
from hunts.predicates import decoded_columns, modified_names
from hunts.selftest import run_inline_tests
from workbench.core.load import events_from_records

HEADER = '''
title = "t"
description = "d"
severity = "medium"
attack = ["{attack}"]
runbook = "r"
fields = ["user_id"]
references = ["x"]
'''


def hunt_from(condition: str, attack: str = "Collection:T1114.003", name: str = "h") -> hunts.Hunt:
    hunt, problems = parse_hunt(Path(f"{name}.toml"), HEADER.format(attack=attack) + condition)
    assert problems == []
    return hunt


def flagged(hunt: hunts.Hunt, records: list[dict], enrichment: pl.DataFrame | None = None) -> list[str]:
    numbered = [{"Id": f"r{n}", "CreationTime": f"2023-02-20T10:{n:02d}:00", **record} for n, record in enumerate(records, 1)]
    events = events_from_records(numbered)
    return sorted(matching_events(hunt, Context(events, enrichment))["record_id"].to_list())


def test_operations_match_case_insensitively_and_keep_the_trailing_dot():
    hunt = hunt_from('[condition]\noperations = ["Add user."]')
    records = [
        {"Operation": "Add User.", "UserId": "a@example.com"},
        {"Operation": "add user.", "UserId": "a@example.com"},
        {"Operation": "Add user", "UserId": "a@example.com"},
    ]
    assert flagged(hunt, records) == ["r1", "r2"]


def test_system_actors_are_excluded_unless_the_hunt_says_all():
    records = [
        {"Operation": "Set-Mailbox", "UserId": "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)"},
        {"Operation": "Set-Mailbox", "UserId": "S-1-5-18"},
        {"Operation": "Set-Mailbox", "UserId": "ServicePrincipal_15dfb6e3-64f5-40fd-a67b-8f6a7ad1ff03"},
        {"Operation": "Set-Mailbox", "UserId": "Microsoft Exchange Online"},
        {"Operation": "Set-Mailbox", "UserId": "app@example.com", "UserType": 5},
        {"Operation": "Set-Mailbox", "UserId": "ITAdmin@example.com", "UserType": 2},
    ]
    assert flagged(hunt_from('[condition]\noperations = ["Set-Mailbox"]'), records) == ["r6"]
    assert len(flagged(hunt_from('[condition]\noperations = ["Set-Mailbox"]\nactors = "all"'), records)) == 6


def test_parameters_that_are_a_plain_string_or_hold_backslashes_and_escapes_do_not_crash():
    hunt = hunt_from('[condition]\noperations = ["New-TransportRule"]\nwhere = [{ parameter = "DeleteMessage", equals = "True" }]')
    records = [
        {"Operation": "New-TransportRule", "UserId": "a@x.com", "Parameters": "-Name x -DeleteMessage True"},
        {"Operation": "New-TransportRule", "UserId": "a@x.com", "Parameters": [{"Name": "Name", "Value": "Junk\x1b[2J \\Inbox"}, {"Name": "DeleteMessage", "Value": "True"}]},
        {"Operation": "New-TransportRule", "UserId": "a@x.com", "Parameters": [{"Name": "Nested", "Value": {"a": [1]}}, {"Name": "DeleteMessage", "Value": "True"}]},
        {"Operation": "New-TransportRule", "UserId": "a@x.com", "Parameters": [{"Name": "deletemessage", "Value": True}]},
    ]
    assert flagged(hunt, records) == ["r2", "r4"]


def test_parameter_texts_with_stray_backslashes_or_raw_control_characters_are_repaired_before_decoding():
    """As a CSV export's cells can hold them: `"\\Inbox"` (a backslash JSON cannot escape) and a raw ESC."""
    hunt = hunt_from('[condition]\noperations = ["New-TransportRule"]\nwhere = [{ parameter = "Name", contains = ["inbox"] }]')
    records = [{"Operation": "New-TransportRule", "UserId": "a@x.com", "Parameters": [{"Name": "Name", "Value": "x"}]}] * 4
    events = events_from_records([{"Id": f"r{n}", "CreationTime": f"2023-02-20T10:0{n}:00", **record}
                                  for n, record in enumerate(records, 1)])
    texts = ['[{"Name":"Name","Value":"Junk \\Inbox"}]', '[{"Name":"Name","Value":"Junk\x1b[2J Inbox"}]',
             '[{"Name":"Name","Value":"\\Inbox\x07"}]', '[{"Name":"Name","Value":"Outbox"}]']
    events = events.with_columns(pl.Series("parameters", texts))
    assert sorted(matching_events(hunt, Context(events))["record_id"].to_list()) == ["r1", "r2", "r3"]


@pytest.mark.parametrize(("test", "value", "expected"), [
    ('equals = ["fullaccess", "ReadPermission"]', "FullAccess", True),
    ('contains = ["Access"]', "FullAccess", True),
    ('words = ["phish"]', "hacked;phish;x", True),
    ('words = ["phish"]', "phishing", False),
    ("regex = '^Full'", "fullaccess", True),
    ("present = true", "", False),
    ("present = false", "", True),
    ('same_as = "user_id"', "A@EXAMPLE.com", True),
    ('differs_from = "user_id"', "b@example.com", True),
    ('equals = "FullAccess"\nnot = true', "FullAccess", False),
])
def test_parameter_value_tests(test, value, expected):
    hunt = hunt_from(f'[condition]\noperations = ["X"]\n[[condition.where]]\nparameter = "AccessRights"\n{test}')
    records = [{"Operation": "X", "UserId": "a@example.com", "Parameters": [{"Name": "AccessRights", "Value": value}]}]
    assert flagged(hunt, records) == (["r1"] if expected else [])


@pytest.mark.parametrize("batch", [2, 25_000])
def test_rows_without_json_to_decode_are_tested_apart_and_each_verdict_stays_with_its_row(monkeypatch, batch):
    monkeypatch.setattr("hunts.engine.RECORD_BATCH", batch)
    hunt = hunt_from('[condition]\noperations = ["Update user."]\nactors = "all"\n'
                     'any = [{ modified = "AccountEnabled", equals = "false" }, { field = "object_id", equals = "b@x.com" }]')
    disabled = [{"Name": "AccountEnabled", "NewValue": "[\r\n  false\r\n]", "OldValue": "[\r\n  true\r\n]"}]
    enabled = [{"Name": "AccountEnabled", "NewValue": "[\r\n  true\r\n]", "OldValue": "[]"}]
    records = [{"Operation": "Update user.", "UserId": "admin@x.com", "ObjectId": target, **extra} for target, extra in [
        ("a@x.com", {"ModifiedProperties": disabled}), ("a@x.com", {}), ("b@x.com", {}),
        ("a@x.com", {"ModifiedProperties": enabled}), ("b@x.com", {"ModifiedProperties": enabled}), ("a@x.com", {}),
        ("c@x.com", {"ModifiedProperties": disabled}),
    ]]
    assert flagged(hunt, records) == ["r1", "r3", "r5", "r7"]


def test_modified_properties_old_and_new_values_are_decoded_from_json_in_strings():
    hunt = hunt_from('''[condition]
operations = ["Update user."]
where = [
  { modified = "AccountEnabled", equals = "false" },
  { modified = "AccountEnabled", value = "old", equals = "true" },
]''')
    records = [
        {"Operation": "Update user.", "UserId": "a@x.com", "ModifiedProperties": [{"Name": "AccountEnabled", "NewValue": "[\r\n  false\r\n]", "OldValue": "[\r\n  true\r\n]"}]},
        {"Operation": "Update user.", "UserId": "a@x.com", "ModifiedProperties": [{"Name": "AccountEnabled", "NewValue": "[\r\n  true\r\n]", "OldValue": "[]"}]},
        {"Operation": "Update user.", "UserId": "a@x.com", "ModifiedProperties": ["AccountEnabled", "Other"]},
    ]
    assert flagged(hunt, records) == ["r1"]


def test_only_texts_naming_a_tested_property_are_decoded_and_the_hits_are_the_same():
    """The engine decodes ModifiedProperties only where the text names a property the hunt tests (ignoring ASCII
    case, or written with JSON escapes): the same hits as decoding every row."""
    hunt = hunt_from('''[condition]
operations = ["Update user."]
where = [{ modified = ["MobilePhone", "StrongAuthenticationMethod"], regex = "[0-9]" }]''')
    phone = '[{"Name": "%s", "NewValue": "[\\"+1 555 0100\\"]", "OldValue": "[\\"+1 555 0199\\"]"}]'
    texts = {
        "r1": phone % "MobilePhone",
        "r2": phone % "mobilephone",  # names are compared ignoring case
        "r3": phone % "\\u004dobilePhone",  # a name written with a JSON escape
        "r4": phone % "JobTitle",  # names no tested property: never decoded, never a hit
        "r5": '[{"Name": "StrongAuthenticationMethod", "NewValue": "[{\\"MethodType\\": 6}]", "OldValue": "[]"}]',
    }
    records = [{"Operation": "Update user.", "UserId": "admin@x.com", "ObjectId": "u@x.com"} for _ in texts]
    numbered = [{"Id": f"r{n}", "CreationTime": f"2023-02-20T10:{n:02d}:00", **record} for n, record in enumerate(records, 1)]
    events = events_from_records(numbered).with_columns(
        pl.col("record_id").replace_strict(texts, return_dtype=pl.String).alias("modified_properties"))
    found = sorted(matching_events(hunt, Context(events))["record_id"].to_list())
    assert found == ["r1", "r2", "r3", "r5"]
    everything = decoded_columns({"_modified"})[0]
    named = decoded_columns({"_modified"}, modified_names(hunt.condition["where"]))[0]
    decoded = events.select(everything.alias("all"), named.alias("named"))
    assert decoded["named"].null_count() == 1 and decoded["all"].null_count() == 0  # r4 alone is left undecoded
    assert decoded.filter(pl.col("named").is_not_null()).select(pl.col("all").eq(pl.col("named")).all()).item()


def test_item_and_affected_items_subjects():
    hunt = hunt_from('[condition]\nwhere = [{ subject = true, regex = "quarantine" }]')
    records = [
        {"Operation": "Send", "UserId": "a@x.com", "Item": {"Subject": "Messages in quarantine", "ParentFolder": {"Path": "\\Sent Items"}}},
        {"Operation": "SoftDelete", "UserId": "a@x.com", "AffectedItems": [{"Subject": "Lunch"}, {"Subject": "Quarantine notice"}]},
        {"Operation": "SoftDelete", "UserId": "a@x.com", "AffectedItems": [{"Subject": "Lunch"}]},
    ]
    assert flagged(hunt, records) == ["r1", "r2"]


def test_threshold_counts_per_key_in_sliding_windows():
    hunt = hunt_from('[condition]\noperations = ["UserLoginFailed"]\nthreshold = { by = ["user_key"], window = "30m", min = 3 }')
    times = {"x0": "10:00", "x1": "10:01", "x2": "10:02",  # A: three in two minutes
             "y0": "10:00", "y1": "11:00", "y2": "12:00",  # b: three, an hour apart each
             "z0": "09:10", "z1": "09:29", "z2": "09:40", "z3": "09:59", "z4": "10:45",  # c: 09:10-09:40 across 09:30
             "w0": "13:59", "w1": "14:00", "w2": "14:00"}  # d: ties count, across the hour
    users = {"x": "A@x.com", "y": "b@x.com", "z": "c@x.com", "w": "d@x.com"}
    records = [{"Id": record_id, "Operation": "UserLoginFailed", "UserId": users[record_id[0]],
                "CreationTime": f"2023-02-20T{time}:00"} for record_id, time in times.items()]
    flagged_ids = sorted(matching_events(hunt, Context(events_from_records(records)))["record_id"])
    # z3 is in the window 09:29-09:59 (z1, z2, z3); z4 is 46 minutes after z3: alone
    assert flagged_ids == ["w0", "w1", "w2", "x0", "x1", "x2", "z0", "z1", "z2", "z3"]


def test_distinct_threshold_in_a_sliding_window_counts_values_not_events():
    hunt = hunt_from('[condition]\noperations = ["UserLoggedIn"]\n'
                     'threshold = { by = ["user_key"], window = "10m", distinct = "client_ip", min = 2 }')
    rows = [("a", "09:58", "1.1.1.1"), ("b", "10:05", "2.2.2.2"), ("c", "10:30", "3.3.3.3"), ("d", "10:31", "3.3.3.3"),
            ("e", "10:50", "4.4.4.4"), ("f", "11:00", "5.5.5.5")]
    records = [{"Id": record_id, "Operation": "UserLoggedIn", "UserId": "u@x.com", "ClientIP": ip,
                "CreationTime": f"2023-02-20T{time}:00"} for record_id, time, ip in rows]
    flagged_ids = sorted(matching_events(hunt, Context(events_from_records(records)))["record_id"])
    assert flagged_ids == ["a", "b", "e", "f"]  # c and d: one address; e and f exactly ten minutes apart count


def test_a_sliding_window_counts_each_key_in_its_own_rows_whatever_order_the_keys_sort_in():
    """Keys mostly distinct (compared as text, not as codes), of which half sort after the other half's prefix: the
    window counts of Polars' rolling group-by come back grouped in an order of their own, so they are kept with
    their rows (10M events: 1,208 of 2,038 two-address sign-ins found before)."""
    hunt = hunt_from('[condition]\noperations = ["UserLoggedIn"]\n'
                     'threshold = { by = ["user_key"], window = "10m", distinct = "client_ip", min = 2 }')
    records = []
    for n in range(60):  # an admin: two addresses 30 s apart; a user: three sign-ins, two addresses, 20 minutes apart
        for kind, times in (("admin.", ["10:00:00", "10:00:30"]), ("", ["10:00:00", "10:20:00", "10:40:00"])):
            records += [{"Id": f"{kind or 'user.'}{n}-{k}", "Operation": "UserLoggedIn", "UserId": f"{kind}user{n:05d}@example.org",
                         "ClientIP": f"203.0.113.{k % 2 + 1}", "CreationTime": f"2023-02-20T{time}"}
                        for k, time in enumerate(times)]
    records += [{"Id": f"once-{n}", "Operation": "UserLoggedIn", "UserId": f"once{n:05d}@example.org",
                 "ClientIP": "198.51.100.1", "CreationTime": "2023-02-20T10:00:00"} for n in range(200)]
    context = Context(events_from_records(records))
    assert not context.index.covers("user_key")  # the keys are compared as text
    assert sorted(matching_events(hunt, context)["record_id"]) == sorted(r["Id"] for r in records if r["Id"].startswith("admin."))


def test_first_seen_flags_a_key_new_after_the_baseline_only_within_its_window():
    hunt = hunt_from('[condition]\noperations = ["UserLoggedIn"]\nfirst_seen = { by = ["user_key", "client_ip"], baseline = "7d", within = "1d" }')
    records = [
        {"Id": "old", "CreationTime": "2023-01-01T10:00:00", "Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "1.1.1.1"},
        {"Id": "old-again", "CreationTime": "2023-02-20T10:00:00", "Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "1.1.1.1"},
        {"Id": "new", "CreationTime": "2023-02-20T11:00:00", "Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "2.2.2.2:443"},
        {"Id": "new-same-day", "CreationTime": "2023-02-20T12:00:00", "Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "2.2.2.2"},
        {"Id": "new-week-later", "CreationTime": "2023-02-27T12:00:00", "Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "2.2.2.2"},
    ]
    assert sorted(matching_events(hunt, Context(events_from_records(records)))["record_id"]) == ["new", "new-same-day"]


def test_enrichment_predicate_is_silent_without_data_and_alive_with_it():
    hunt = hunt_from('[condition]\noperations = ["UserLoggedIn"]\nwhere = [{ enrichment = "hosting" }]')
    records = [{"Operation": "UserLoggedIn", "UserId": "a@x.com", "ClientIP": "20.232.202.245"}, {"Operation": "UserLoggedIn", "UserId": "b@x.com", "ClientIP": "50.1.1.1"}]
    assert flagged(hunt, records) == []
    enrichment = pl.DataFrame({"ip": ["20.232.202.245", "50.1.1.1"], "hosting": [True, None], "reasons": [["hosting ASN"], []]})
    assert flagged(hunt, records, enrichment) == ["r1"]


def test_one_hit_per_hunt_and_event_lists_every_technique_and_says_why():
    hunt = hunt_from('[condition]\noperations = ["New-TransportRule"]\nwhere = [{ parameter = "DeleteMessage", equals = "True" }]',
                     attack='Defense Evasion:T1562.001", "Collection:T1114.003')
    events = events_from_records([{"Id": "a", "CreationTime": "2023-02-20T10:00:00", "Operation": "New-TransportRule",
                                   "UserId": "x@example.com", "ClientIP": "1.2.3.4:5",
                                   "Parameters": [{"Name": "DeleteMessage", "Value": "True"}]}])
    hits = hunts.hunt_hits(events, [hunt])
    assert hits.schema == pl.Schema(HIT_SCHEMA) and hits.height == 1
    hit = hits.row(0, named=True)
    assert (hit["technique_id"], hit["tactic_id"], hit["source"], hit["why"]) == ("T1562.001", "TA0005", "events", "DeleteMessage=True")
    assert [(pair["tactic_id"], pair["technique_id"]) for pair in hit["techniques"]] == [("TA0005", "T1562.001"), ("TA0009", "T1114.003")]
    assert hunts.hit_pairs(hits).select("technique_id", "matrix_technique_id", "tactic_id", "client_ip").sort("technique_id").rows() == [
        ("T1114.003", "T1114.003", "TA0009", "1.2.3.4"), ("T1562.001", "T1562", "TA0005", "1.2.3.4"),
    ]
    assert hunts.hunt_hits(events, []).schema == pl.Schema(HIT_SCHEMA)


def test_why_says_the_threshold_and_the_changed_property():
    spray = hunt_from('[condition]\noperations = ["UserLoginFailed"]\nthreshold = { by = ["client_ip"], window = "1h", distinct = "user_key", min = 2 }')
    records = [{"Id": f"f{n}", "CreationTime": f"2023-02-20T10:0{n}:00", "Operation": "UserLoginFailed",
                "UserId": f"u{n}@x.com", "ClientIP": "9.9.9.9"} for n in range(2)]
    assert set(hunts.hunt_hits(events_from_records(records), [spray])["why"]) == {"2+ distinct user_key within 1h for client_ip=9.9.9.9"}
    phone = hunt_from('[condition]\noperations = ["Update user."]\nwhere = [{ modified = "MobilePhone", present = true }]')
    update = {"Id": "u", "CreationTime": "2023-02-20T10:00:00", "Operation": "Update user.", "UserId": "a@x.com",
              "ModifiedProperties": [{"Name": "MobilePhone", "OldValue": "[\"+1 617\"]", "NewValue": "[\"+1 202\"]"}]}
    assert hunts.hunt_hits(events_from_records([update]), [phone])["why"].to_list() == ["MobilePhone: +1 617 -> +1 202"]


def test_the_inline_test_runner_reports_a_wrong_expectation():
    hunt = hunt_from('''[condition]
operations = ["New-InboxRule"]

[[tests]]
name = "claims a hit that cannot happen"
expect = ["a"]
records = [{ Id = "a", Operation = "Set-Mailbox", UserId = "x@example.com" }]
''')
    assert run_inline_tests(hunt) == ["h: claims a hit that cannot happen: expected hits ['a'], got []"]


def test_a_sign_in_hunt_reads_only_the_columns_it_names_and_the_hits_own():
    header = HEADER.format(attack="Credential Access:T1110.003").replace('"user_id"', '"user_principal_name"')
    spray, problems = parse_hunt(Path("spray.toml"), header + (
        '[condition]\nsource = "sign_ins"\nwhere = [{ field = "status_code", equals = "50126" }]\n'
        'any = [{ in_set = { key = "client_ip", from = "client_ip", operations = ["New-InboxRule"] } }]\n'
        'threshold = { by = ["client_ip"], window = "1h", distinct = "user_key", min = 5 }'))
    assert problems == []
    events_hunt = hunt_from('[condition]\noperations = ["New-InboxRule"]\nwhere = [{ field = "mailbox_owner_upn", present = true }]')
    read = hunts.columns_read([spray, events_hunt], "sign_ins")
    assert {"status_code", "client_ip", "user_key"} <= set(read)  # named by the condition
    assert {"record_id", "creation_time", "user_principal_name", "service_principal", "sign_in_type", "case"} <= set(read)
    assert "mailbox_owner_upn" not in read and "ca_policies" not in read and "auth_details" not in read
