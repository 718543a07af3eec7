"""The filter-bar syntax: each term kind selects the right events; bad terms are all reported."""

from datetime import datetime, timezone

import polars as pl
import pytest

from workbench.core.filter import FilterError, ValueIndex, parse_filter, parse_time, quote, tokenize
from workbench.core.load import events_from_records

RECORDS = [
    {"Id": "a", "CreationTime": "2023-02-20T15:03:44", "Operation": "Add-MailboxPermission", "Workload": "Exchange",
     "RecordType": 1, "UserId": "CompromisedAdmin@example.com", "ClientIP": "104.161.20.102:53211",
     "ObjectId": "TargetUser", "Parameters": [{"Name": "AccessRights", "Value": "FullAccess"}]},
    {"Id": "b", "CreationTime": "2023-02-19T09:00:00", "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory",
     "RecordType": 15, "UserId": "ITAdmin@example.com", "ClientIP": "50.237.205.113"},
    {"Id": "c", "CreationTime": "2023-02-22T16:25:34", "Operation": "HardDelete", "Workload": "Exchange",
     "RecordType": 3, "UserId": "compromisedadmin@example.com", "ClientIP": "104.161.20.102",
     "AffectedItems": [{"Subject": "Your Passcode [bold] — Réunion", "ParentFolder": {"Path": "\\Inbox"}}]},
    {"Id": "d", "CreationTime": "2023-02-21T10:00:00", "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory",
     "RecordType": 15, "UserId": "CompromisedAdmin@example.com", "ClientIP": ""},
]
EVENTS = events_from_records(RECORDS)
TRIPLED = pl.concat([EVENTS] * 3)  # every value repeats, so a ValueIndex matches on the distinct values


def ids(text: str) -> list[str]:
    expression = parse_filter(text)
    frame = EVENTS if expression is None else EVENTS.filter(expression)
    indexed = parse_filter(text, ValueIndex(TRIPLED))
    assert (TRIPLED if indexed is None else TRIPLED.filter(indexed)).equals(pl.concat([frame] * 3))
    return sorted(frame["record_id"])


@pytest.mark.parametrize("text, expected", [
    ("", ["a", "b", "c", "d"]),
    ("op:add-mailboxpermission", ["a"]),
    ("op:HardDelete,Add-MailboxPermission", ["a", "c"]),
    ("op:User*", ["b", "d"]),
    ("user:admin", ["a", "b", "c", "d"]),
    ("user:compromised -op:UserLoggedIn", ["a", "c"]),
    ("ip:104.161.20.102", ["a", "c"]),
    ("ip:104.161.*", ["a", "c"]),
    ("-ip:104.161.20.102", ["b", "d"]),  # a missing IP is not the IP, so it stays
    ("after:2023-02-20", ["a", "c", "d"]),
    ("after:2023-02-20 before:2023-02-21T10:00", ["a"]),
    ('"passcode"', ["c"]),
    ("fullaccess", ["a"]),
    ('-"passcode" workload:exchange', ["a"]),
    ('"[bold]"', ["c"]),
    ("PASSCODE", ["c"]),  # a plain ASCII word: any case
    ('"RÉUNION"', ["c"]),  # beyond ASCII: any case too
    ("pass*bold", ["c"]),  # a wildcard
    ("op:Add-MailboxPermission user:admin ip:104.161.20.102 after:2023-02-20 -op:UserLoggedIn", ["a"]),
    ("type:ExchangeItemGroup", ["c"]),
    ("id:b", ["b"]),
])
def test_terms_select_the_expected_events(text, expected):
    assert ids(text) == expected


def test_every_bad_term_is_reported_at_once():
    with pytest.raises(FilterError) as raised:
        parse_filter('colour:red after:someday user: - "open quote')
    problems = raised.value.problems
    assert 'unterminated quote in \'"open quote\'' in problems and "'-' needs a term after it" in problems
    assert "user: needs a value" in problems
    assert any(p.startswith("unknown field 'colour' in colour:red (fields: ") for p in problems)
    assert "after: 'someday' is not a time (use 2023-02-20 or 2023-02-20T08:00)" in problems


def test_quoted_values_and_escapes():
    terms, problems = tokenize(r'user:"a b" -"say \"hi\""')
    assert problems == []
    assert [(t.field, t.value, t.negated) for t in terms] == [("user", "a b", False), (None, 'say "hi"', True)]
    assert quote("plain") == "plain" and quote('a "b"') == r'"a \"b\""'


def test_times_are_utc():
    assert parse_time("2023-02-20") == datetime(2023, 2, 20, tzinfo=timezone.utc)
    assert parse_time("2023-02-20 08:00:05Z") == datetime(2023, 2, 20, 8, 0, 5, tzinfo=timezone.utc)
    assert parse_time("2023-02-20T10:00+02:00") == datetime(2023, 2, 20, 8, 0, tzinfo=timezone.utc)


def test_the_expression_is_one_vectorised_polars_expression():
    expression = parse_filter('op:HardDelete "passcode"')
    assert isinstance(expression, pl.Expr)
    assert EVENTS.lazy().filter(expression).collect()["record_id"].to_list() == ["c"]


def test_case_matches_the_start_of_a_case_name():
    both = pl.concat([events_from_records(RECORDS[:2], case="case-a-1019979a"),
                      events_from_records(RECORDS[2:], case="case-b-70056ecf")])
    assert sorted(both.filter(parse_filter("case:case-b"))["record_id"]) == ["c", "d"]
    assert sorted(both.filter(parse_filter("case:CASE-A-1019979A"))["record_id"]) == ["a", "b"]
    assert both.filter(parse_filter("case:70056ecf")).is_empty()  # the start, not anywhere in the name
    assert sorted(both.filter(parse_filter("-case:case-a"))["record_id"]) == ["c", "d"]
