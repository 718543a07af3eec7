"""The SQL console: the article's queries run as printed over the sample logs, read-only, cancellable.

The nine queries below are copied verbatim from the Sophos X-Ops article "Investigator, API
Yourself" (typographic quotes, lost closing quote and stray space included).
"""

import json
from datetime import UTC, date, datetime
from pathlib import Path
import subprocess
import sys
import threading
import time

import duckdb
import polars as pl
import pytest

from workbench.cli import main
from workbench.core.case import Case
from workbench.core.load import events_from_records
from workbench.core.column_docs import FRAME_MEANINGS
from workbench.core.schema import EVENT_SCHEMA, FRAME_SCHEMAS
from workbench.core.sql import SqlCancelled, SqlError, SqlSession, example_queries, query_parameters
from workbench.core.sql_repair import repair

LOGINS = """SELECT creation_time, user_id, operation, client_ip
FROM xdr_identity_o365
WHERE lower(user_id) IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com)
AND operation IN ('UserLoggedIn', 'UserLoginFailed')"""

ADD_USER = """SELECT creation_time, user_id, operation, object_id, modified_properties
FROM xdr_identity_o365
WHERE operation LIKE 'Add user.'"""

UPDATE_USER = """SELECT creation_time, user_id, operation, client_ip, target, modified_properties
FROM xdr_identity_o365
WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com’, ‘CompromisedAdmin@example.com’) 
AND operation LIKE ‘Update user.’"""

PERMISSIONS = """SELECT creation_time, user_id, operation, object_id,
JSON_EXTRACT(parameters, ‘$[2].Value’) AS Access,
JSON_EXTRACT(parameters, ‘$[2].Name’) AS Name,
JSON_EXTRACT(parameters, ‘$[1].Value’) AS Source, parameters
FROM xdr_identity_o365
WHERE lower(user_id) 
IN (‘CompromisedAdmin@example.com’, ‘CompromisedAdmin@example.com’)
AND operation LIKE ‘%Permission%’"""

SHAREPOINT = """SELECT creation_time, user_id, operation, client_ip, object_id, modified_properties
FROM xdr_identity_o365 WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com’, ‘CompromisedAdmin@example.com’)
AND operation IN (‘SiteLocksChanged’, ‘SiteCollectionCreated’,’ SiteCollectionAdminAdded’)"""

MAIL_ITEMS = """SELECT creation_time, user_id, operation, client_ip, mailbox_owner_upn, modified_properties, JSON_EXTRACT(item, '$.Subject') AS Subject, item
FROM xdr_identity_o365
WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com’)
AND operation IN ('SendAs', 'Create', 'Update')"""

TRANSPORT = """SELECT creation_time, user_id, operation, client_ip, object_id, parameters
FROM xdr_identity_o365
WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com’)
AND operation LIKE '%Transport%'"""

SPOOF = """SELECT creation_time, user_id, operation, client_ip, object_id, parameters
FROM xdr_identity_o365
WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com’)
AND operation LIKE '%Spoof%'"""

DELETIONS = """SELECT creation_time, user_id, operation, client_ip, mailbox_owner_upn,

JSON_EXTRACT(affected_items, '$[0].Subject') AS Subject, affected_items
FROM xdr_identity_o365
WHERE lower(user_id)
IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com’)
AND operation IN ('MoveToDeletedItems', 'HardDelete', 'SoftDelete')"""

#: Transport rule names the article lists (Figure 5).
ARTICLE_RULE_NAMES = {
    "Block Spoofing", "Block Phishing", "Copy of WarnAuditHigh-RiskPhishingPatterns",
    "WarnAuditHigh-RiskPhishingPatterns",
    "[REDACTED // BANKING]", "Display name spoofing", "Bypass SPAM Filter", "[REDACTED] Compromise",
    "redirect [REDACTED] email to DC",
}


@pytest.fixture(scope="module")
def case_a(sample_logs, tmp_path_factory) -> Case:
    case = Case.named("case-a", case_dir=tmp_path_factory.mktemp("sql-cases"))
    case.open([sample_logs / "case-a"])
    return case


@pytest.fixture(scope="module")
def case_b(sample_logs, tmp_path_factory) -> Case:
    case = Case.named("case-b", case_dir=tmp_path_factory.mktemp("sql-cases"))
    case.open([sample_logs / "case-b"])
    return case


@pytest.fixture(scope="module")
def session(case_a) -> SqlSession:
    return SqlSession(case_a)


def rows(result, *columns) -> list[tuple]:
    return result.frame.select(columns).rows()


# --- the article's queries, as printed, against case-a -------------------------------------------

@pytest.mark.parametrize("query", [LOGINS, ADD_USER, UPDATE_USER, PERMISSIONS, SHAREPOINT, MAIL_ITEMS, TRANSPORT,
                                   SPOOF, DELETIONS], ids=["logins", "add-user", "update-user", "permissions",
                                                           "sharepoint", "mail-items", "transport", "spoof", "deletions"])
def test_each_of_the_articles_nine_queries_returns_rows_on_the_samples(session, query):
    result = session.run(query)
    assert result.frame.height > 0
    assert "creation_time" in result.frame.columns and "operation" in result.frame.columns


def test_external_logins_query_recovers_the_lost_closing_quote(session):
    result = session.run(LOGINS)
    assert [(str(t), u, op, ip) for t, u, op, ip in result.frame.rows()] == [
        ("2023-02-20 14:55:09+00:00", "CompromisedAdmin@example.com", "UserLoggedIn", "104.161.20.102"),
        ("2023-02-21 13:12:40+00:00", "CompromisedAdmin@example.com", "UserLoggedIn", "20.232.202.245"),
        ("2023-02-22 16:02:11+00:00", "CompromisedAdmin@example.com", "UserLoginFailed", "185.241.149.122"),
        ("2023-02-22 16:02:49+00:00", "CompromisedAdmin@example.com", "UserLoginFailed", "185.241.149.122"),
        ("2023-02-22 16:03:30+00:00", "CompromisedAdmin@example.com", "UserLoggedIn", "185.241.149.122"),
    ]
    assert "line 3, column 58: added the closing quote missing after 'CompromisedAdmin@example.com'" in result.notes
    assert "('CompromisedAdmin@example.com', 'CompromisedAdmin@example.com')" in result.query_used


def test_add_user_query_matches_add_user_in_any_case(session):
    result = session.run(ADD_USER)
    assert rows(result, "user_id", "operation", "object_id") == [
        ("admin@example.onmicrosoft.com", "Add user.", "CompromisedAdmin@example.com"),
        ("ITAdmin@example.com", "Add User.", "SalesUser4@example.com"),
        ("CompromisedAdmin@example.com", "Add user.", "NewHelpdesk@example.com"),
    ]


def test_update_user_query_finds_the_phone_registered_by_compromised_admin(session):
    result = session.run(UPDATE_USER)
    assert result.frame.columns == [
        "creation_time", "user_id", "operation", "client_ip", "target", "modified_properties"]
    assert rows(result, "user_id", "operation") == [("CompromisedAdmin@example.com", "Update user.")]
    assert "NewHelpdesk@example.com" in result.frame["target"][0]
    changed = {entry["Name"]: entry["NewValue"] for entry in json.loads(result.frame["modified_properties"][0])}
    assert "+1 202 555 0186" in changed["MobilePhone"]
    assert "StrongAuthenticationUserDetails" in changed


def test_permission_query_extracts_access_and_name_as_json_text(session):
    result = session.run(PERMISSIONS)
    assert rows(result, "user_id", "operation", "object_id", "Access", "Name", "Source") == [
        ("CompromisedAdmin@example.com", "Add-MailboxPermission", "TargetUser", '"FullAccess"', '"AccessRights"',
         '"CompromisedAdmin@example.com"'),
        ("CompromisedAdmin@example.com", "Add-RecipientPermission", "TargetUser", '"SendAs"', '"AccessRights"',
         '"CompromisedAdmin@example.com"'),
    ]


def test_sharepoint_query_recovers_the_stray_space(session):
    result = session.run(SHAREPOINT)
    assert rows(result, "user_id", "operation") == [
        ("compromisedadmin@example.com", "SiteCollectionAdminAdded"),
        ("compromisedadmin@example.com", "SiteLocksChanged"),
        ("compromisedadmin@example.com", "SiteCollectionCreated"),
    ]
    assert any("removed the stray space in ' SiteCollectionAdminAdded'" in note and note.startswith("line 4, column 63")
               for note in result.notes)
    assert [json.loads(text) for text in result.frame["modified_properties"][:2]] == [  # the article's Figure 3
        [{"OldValue": "", "NewValue": "CompromisedAdmin@example.com", "Name": "SiteAdmin"}],
        [{"OldValue": "True", "NewValue": "False", "Name": "SiteAccess"}],
    ]
    assert result.frame["object_id"][1] == "https://example-my.sharepoint.com/personal/targetuser_example_com"


def test_mail_items_query_returns_the_masquerading_rows(session):
    result = session.run(MAIL_ITEMS)
    assert rows(result, "user_id", "operation", "mailbox_owner_upn") == [
        ("CompromisedAdmin@example.com", "Create", "TargetUser@example.com"),
        ("CompromisedAdmin@example.com", "Update", "TargetUser@example.com"),
        ("CompromisedAdmin@example.com", "SendAs", "TargetUser@example.com"),
        ("CompromisedAdmin@example.com", "SendAs", "TargetUser@example.com"),  # the two lures to partners
        ("CompromisedAdmin@example.com", "SendAs", "TargetUser@example.com"),
    ]


def test_mail_items_query_extracts_the_subject(session):
    result = session.run(MAIL_ITEMS)
    assert result.frame["Subject"][2] == '"Accepted: [BANK NAME REDACTED] Passcode"'


def test_transport_rule_query_returns_the_articles_rule_names(session):
    result = session.run(TRANSPORT)
    assert result.frame.height == 7
    assert set(result.frame["operation"]) == {"New-TransportRule", "Enable-TransportRule", "Set-TransportRule"}
    assert set(result.frame["object_id"]) <= ARTICLE_RULE_NAMES
    assert set(result.frame["user_id"]) == {"CompromisedAdmin@example.com"}


def test_spoof_query_returns_the_allow_list_entries(session):
    result = session.run(SPOOF)
    assert result.frame["operation"].to_list() == ["New-TenantAllowBlockListSpoofItems"] * 4
    infrastructure = " ".join(result.frame["parameters"])
    for sender in ("botasso.cl", "iad3a.emailsrvr.com", "continental-database.com", "104.161.20.102"):
        assert sender in infrastructure


def test_deletion_query_returns_the_deletions(session):
    result = session.run(DELETIONS)
    assert rows(result, "user_id", "operation", "mailbox_owner_upn") == [
        ("CompromisedAdmin@example.com", "MoveToDeletedItems", "TargetUser@example.com"),
        ("CompromisedAdmin@example.com", "HardDelete", "TargetUser@example.com"),
        ("CompromisedAdmin@example.com", "SoftDelete", "TargetUser@example.com"),
    ]


def test_deletion_query_extracts_the_subjects(session):
    result = session.run(DELETIONS)
    assert result.frame["Subject"].to_list() == [
        '"Microsoft 365 security: You have messages in quarantine"', '"Reset your Online Banking password"',
        '"Your account has been locked"',
    ]


# --- case-insensitive by default, exact on request -------------------------------------------------

def test_exact_mode_compares_text_exactly(case_a):
    exact = SqlSession(case_a, exact=True)
    assert rows(exact.run(ADD_USER), "operation") == [("Add user.",), ("Add user.",)]
    assert exact.run(LOGINS).frame.height == 0  # lower(user_id) never equals 'CompromisedAdmin@...'
    lowered = "SELECT count(*) AS n FROM events WHERE lower(user_id) IN ('compromisedadmin@example.com')"
    assert exact.run(lowered).frame["n"][0] == SqlSession(case_a).run(lowered).frame["n"][0] > 0
    events = case_a.events()
    compromised = pl.col("user_key") == "compromisedadmin@example.com"
    add_user = pl.col("operation").str.to_lowercase() == "add user."
    for query, default_n, exact_n in [
        ("SELECT count(*) AS n FROM events WHERE user_id = 'COMPROMISEDADMIN@example.com'",
         events.filter(compromised).height, 0),
        ("SELECT count(*) AS n FROM events WHERE user_id <> 'compromisedadmin@example.com' AND user_key = "
         "'compromisedadmin@example.com'", 0,
         events.filter(compromised & (pl.col("user_id") != pl.col("user_key"))).height),
        ("SELECT count(*) AS n FROM events WHERE operation NOT LIKE 'add user.' AND operation ILIKE 'add user.'",
         0, events.filter(add_user).height),
        ("SELECT count(*) AS n FROM events WHERE operation NOT IN ('add user.') AND lower(operation) = 'add user.'",
         0, events.filter(add_user).height),
    ]:
        assert default_n != exact_n
        assert SqlSession(case_a).run(query).frame["n"][0] == default_n, query
        assert exact.run(query).frame["n"][0] == exact_n, query


# --- print repair ---------------------------------------------------------------------------------

def test_clean_sql_is_left_alone():
    query = "SELECT 'it''s' AS a, \"user_id\" -- don't\nFROM events WHERE x IN ('a', ' b c ')"
    repaired = repair(query)
    assert repaired.text == query and repaired.notes == []


def test_typographic_quotes_that_belong_to_a_value_stay_in_it():
    repaired = repair("SELECT “user_id” FROM events WHERE object_id = ‘Don’t’ OR item LIKE '%“Invoice”%'")
    assert repaired.text == "SELECT \"user_id\" FROM events WHERE object_id = 'Don’t' OR item LIKE '%“Invoice”%'"
    assert repaired.notes == ["read 4 typographic quotes (‘ ’ “ ”) as ASCII quotes"]


def test_an_unclosed_quote_with_no_single_reading_is_pointed_at():
    with pytest.raises(SqlError) as raised:
        repair("SELECT *\nFROM events\nWHERE operation IN ('a, 'b')")
    error = raised.value
    assert (error.line, error.column) == (3, 27)
    assert "never closed" in error.message
    assert error.render().splitlines()[-2:] == ["  WHERE operation IN ('a, 'b')", "  " + " " * 26 + "^"]


def test_an_engine_message_cut_inside_a_character_is_an_sql_error(session):
    with pytest.raises(SqlError, match="cannot be shown"):
        session.run("SELECT json(repeat('a', 33) || repeat(chr(65536), 60))")


# --- errors with positions, never a traceback ------------------------------------------------------

@pytest.mark.parametrize("query, line, column, text", [
    ("SELECT creation_time\nFROM events\nWHERE", 3, 1, "incomplete WHERE"),
    ("SELECT creation_time,\n  user_idd\nFROM events", 2, 3, 'column "user_idd" not found'),
    ("SELECT lower(record_type) FROM events", 1, 8, "lower(BIGINT)"),
    ("SELECT * FROM events WHERE operation IN ('a' 'b'", 1, 46, "Expecting )"),
    ("SELEC * FROM events", 1, 1, "starts with SELECT, WITH or FROM"),
    ('SELECT "user_id FROM events', 1, 8, "quoted name is never closed"),
    ("SELECT * FROM nosuch", 1, 15, "no such table: nosuch"),
])
def test_malformed_sql_gives_a_positioned_error(session, query, line, column, text):
    with pytest.raises(SqlError) as raised:
        session.run(query)
    assert (raised.value.line, raised.value.column) == (line, column)
    assert text in raised.value.message
    assert raised.value.render().endswith("^")


def test_the_cli_prints_the_error_with_a_caret_and_exits_2(case_a, capsys):
    status = main(["sql", "--case", case_a.name, "--case-dir", str(case_a.root.parent),
                   "SELECT nope\nFROM events"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.splitlines() == [
        'workbench: line 1, column 8: Binder Error: Referenced column "nope" not found in FROM clause!',
        *err.splitlines()[1:-2], "  SELECT nope", "         ^"]
    assert "Traceback" not in err


# --- read-only: nothing writes, reads files or reaches the network --------------------------------

@pytest.mark.parametrize("query, refusal", [
    ("COPY events TO '{out}'", "COPY is refused"),
    ("COPY (SELECT * FROM events) TO '{out}' (FORMAT csv)", "COPY is refused"),
    ("EXPORT DATABASE '{dir}'", "EXPORT is refused"),
    ("ATTACH '{out}' AS other", "ATTACH is refused"),
    ("INSTALL httpfs", "INSTALL is refused"),
    ("LOAD httpfs", "LOAD is refused"),
    ("PRAGMA enable_external_access", "PRAGMA is refused"),
    ("SET enable_external_access = true", "SET is refused"),
    ("RESET lock_configuration", "RESET is refused"),
    ("CREATE TABLE copied AS SELECT * FROM events", "CREATE is refused"),
    ("SELECT * INTO copied FROM events", "INTO is refused"),
    ("SELECT 1; COPY events TO '{out}'", "COPY is refused"),
    ("SELECT 1; SELECT 2", "one statement at a time"),
    ("SELECT * FROM read_csv('/etc/passwd')", "read_csv(...) is refused"),
    ("SELECT * FROM read_parquet('{parquet}')", "read_parquet(...) is refused"),
    ("SELECT * FROM events, LATERAL read_text('/etc/hostname')", "read_text(...) is refused"),
    ("SELECT * FROM glob('/*')", "glob(...) is refused"),
    ("SELECT * FROM query('SELECT 1')", "query(...) is refused"),
    ("SELECT * FROM '/etc/passwd'", "reading files or URLs is refused"),
    ("SELECT * FROM 'https://example.com/events.parquet'", "reading files or URLs is refused"),
    ("SELECT * FROM events WHERE record_id IN (SELECT * FROM read_json('https://example.com/x'))", "read_json"),
    ("SELECT * FROM duckdb_settings()", "duckdb_settings(...) is refused"),
    ("SELECT view_definition FROM information_schema.views", "no such table"),  # view definitions hold paths
    ("SELECT * FROM other.information_schema.columns", "no such table"),
])
def test_writes_files_urls_and_settings_are_refused(session, case_a, tmp_path, query, refusal):
    parquet = next(case_a.events_dir.glob("part-*.parquet"))
    out = tmp_path / "out.csv"
    with pytest.raises(SqlError) as raised:
        session.run(query.format(out=out, dir=tmp_path / "db", parquet=parquet))
    assert refusal in raised.value.message
    assert raised.value.line is not None
    assert list(tmp_path.iterdir()) == []


def test_the_schema_can_be_learnt_in_sql(session):
    tables = session.run("SHOW TABLES").frame
    assert set(tables["name"]) == set(session.tables) and tables.filter(pl.col("name") == "events")["columns"].item() == len(EVENT_SCHEMA)
    described = session.run("describe EVENTS;").frame
    assert described["column_name"].to_list() == list(EVENT_SCHEMA)
    assert dict(session.run("DESCRIBE sign_ins").frame.iter_rows())["creation_time"].startswith("TIMESTAMP")
    summary = session.run("SUMMARIZE events").frame
    assert summary["column_name"].to_list() == list(EVENT_SCHEMA) and summary["count"].n_unique() == 1
    columns = session.run("SELECT column_name FROM information_schema.columns WHERE table_name = 'SigninLogs'").frame
    assert {"TimeGenerated", "UserPrincipalName", "IPAddress", "ResultType"} <= set(columns["column_name"])
    with pytest.raises(SqlError) as raised:
        session.run("DESCRIBE nope")
    assert "no such table: nope" in raised.value.message and raised.value.column == 10


def test_the_engine_itself_is_locked_behind_the_check(session, tmp_path):
    """The second wall: even SQL that got past the check could not touch files or settings."""
    engine = session._con
    with pytest.raises(duckdb.PermissionException):
        engine.execute("SELECT * FROM read_csv('/etc/passwd')")
    with pytest.raises(duckdb.PermissionException):
        engine.execute(f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'")
    with pytest.raises(duckdb.InvalidInputException, match="locked"):
        engine.execute("SET enable_external_access = true")
    assert engine.execute("SELECT count(*) FROM xdr_identity_o365").fetchall() == [(4083,)]
    assert list(tmp_path.iterdir()) == []


# --- cancellation -----------------------------------------------------------------------------------

def test_a_slow_query_is_cancelled_from_another_thread(case_a):
    session = SqlSession(case_a)
    outcome = {}

    def work():
        try:
            session.run("SELECT count(*) FROM events a, events b, events c WHERE a.user_id || b.user_id = c.user_id")
        except SqlCancelled as error:
            outcome["error"] = error

    worker = threading.Thread(target=work)
    started = time.monotonic()
    worker.start()
    while worker.is_alive() and time.monotonic() - started < 20:
        time.sleep(0.2)
        session.cancel()
    worker.join(1)
    assert not worker.is_alive() and "cancelled" in str(outcome["error"])
    assert session.run("SELECT count(*) AS n FROM events").frame["n"][0] == 4083


# --- tables, JSON, history, examples ----------------------------------------------------------------

def _record(record_id, operation, parameters):
    return {"Id": record_id, "CreationTime": "2023-02-20T15:03:44", "Operation": operation, "RecordType": 1,
            "Workload": "Exchange", "UserId": "a@example.com", "Parameters": parameters}


def test_frames_hunt_hits_and_enrichment_are_tables_and_bad_json_gives_null():
    events = events_from_records([
        _record("1", "Add-MailboxPermission", [{"Name": "AccessRights", "Value": "FullAccess"}]),
        _record("2", "Set-Mailbox", "not json at all"),
    ])
    hunts = pl.DataFrame({"hunt_id": ["h1"], "record_id": ["1"]})
    enrichment = pl.DataFrame({"ip": ["104.161.20.102"], "hosting": [True]})
    session = SqlSession(events, hunts=hunts, enrichment=enrichment)
    result = session.run("SELECT e.record_id, h.hunt_id, JSON_EXTRACT(parameters, '$[0].Value') AS access "
                         "FROM events e LEFT JOIN hunt_hits h USING (record_id) ORDER BY e.record_id")
    assert result.frame.rows() == [("1", "h1", '"FullAccess"'), ("2", None, None)]
    assert session.run("SELECT count(*) AS n FROM ip_enrichment WHERE hosting").frame["n"][0] == 1
    assert set(session.columns()) == {"xdr_identity_o365", "events", "conflicting_duplicates", "hunt_hits", "ip_enrichment",
                                      "sign_ins", "directory_audits", "messages", "mail_items", "SigninLogs",
                                      "AADNonInteractiveUserSignInLogs",
                                      "AADServicePrincipalSignInLogs", "AADManagedIdentitySignInLogs", "AuditLogs",
                                      "OfficeActivity"}
    with pytest.raises(SqlError, match="no such table"):
        SqlSession(events).run("SELECT * FROM hunt_hits")


def test_audit_data_is_read_from_the_parquet_on_disk(session):
    result = session.run("SELECT json_extract_string(audit_data, '$.Operation') AS op FROM events "
                         "WHERE record_id = '1043ada7-a61b-46ec-8ae6-57b02ae09460'")
    assert result.frame["op"].to_list() == ["Add-MailboxPermission"]


def test_every_query_run_goes_into_the_case_history(case_a):
    query = "SELECT count(*) FROM events -- history check"
    SqlSession(case_a).run(query)
    with pytest.raises(SqlError):
        SqlSession(case_a).run("COPY events TO 'x' -- refused but remembered")
    assert case_a.store.query_history()[:2] == ["COPY events TO 'x' -- refused but remembered", query]


#: Each sample tenant's attacker-created admin, the account the article's queries ask about.
ATTACKER_ADMIN = {"case-a": "CompromisedAdmin@example.com", "case-b": "compromisedadmin@example.net"}
ARTICLE_AS_PRINTED = {"logins": LOGINS, "add-user": ADD_USER, "update-user": UPDATE_USER,
                      "mailbox-permissions": PERMISSIONS, "sharepoint-roles": SHAREPOINT, "mail-items": MAIL_ITEMS,
                      "transport-rules": TRANSPORT, "spoof-allow-list": SPOOF, "mail-deletion": DELETIONS}


def test_the_articles_nine_queries_are_examples_as_printed(session):
    examples = example_queries()
    for name, printed in ARTICLE_AS_PRINTED.items():
        comment, sql = examples[f"article-{name}"].split("\n", 1)
        assert comment.startswith("-- ") and "as printed" in comment and sql == printed + "\n", name
        assert session.run(sql).frame.height > 0, name


def test_parameterised_examples_run_for_either_sample_tenant(case_a, case_b):
    parameterised = {name: sql for name, sql in example_queries().items() if not name.startswith("article-")}
    assert set(parameterised) == set(ARTICLE_AS_PRINTED) | {"ip-activity", "account-activity"}
    assert {name for name, sql in parameterised.items() if "since" in query_parameters(sql)} == {
        "add-user", "ip-activity", "account-activity"}
    for case in (case_a, case_b):
        values = {"user": ATTACKER_ADMIN[case.name], "ip": "104.161.20.102", "since": "2023-02-01"}
        default, exact = SqlSession(case), SqlSession(case, exact=True)
        for name, sql in parameterised.items():
            assert "example." not in sql and "@" not in sql, name  # no sample account is hard-coded
            params = {key: values[key] for key in query_parameters(sql)}
            assert params, name
            result = default.run(sql, params)
            assert result.notes == [], name
            # case-b's attacker changed no user (no phone-number change there): the one empty example
            assert result.frame.height > 0 or (case is case_b and name == "update-user"), (case.name, name)
            assert exact.run(sql, params).frame.height == result.frame.height, (case.name, name)


def test_update_user_example_finds_the_phone_number_change(case_a):
    result = SqlSession(case_a).run(example_queries()["update-user"], {"user": "CompromisedAdmin@example.com"})
    assert rows(result, "user_id", "operation") == [("CompromisedAdmin@example.com", "Update user.")]
    assert all("Phone" in text for text in result.frame["modified_properties"])


# --- parameters ---------------------------------------------------------------------------------------

def test_parameters_are_colon_names_outside_text_casts_slices_and_structs():
    query = ("SELECT :user AS u, ':text', '1'::INT, [1, 2, 3][1:2], [1, 2, 3][:2], {'k':1}, $ip "
             "FROM events WHERE creation_time >= :since -- :comment")
    assert query_parameters(query) == ["user", "ip", "since"]
    assert query_parameters("SELECT ‘:quoted’ FROM events WHERE x = :y") == ["y"]  # typographic quotes read first
    assert query_parameters("SELECT FROM WHERE (") == []


def test_parameters_are_bound_as_values(session):
    result = session.run("SELECT :user AS u, ':user' AS t, :since AS s, :since::DATE AS d, :ip AS i",
                         {"user": "x", "since": "2023-02-20", "ip": "104.161.20.102"})
    assert result.frame.rows() == [("x", ":user", datetime(2023, 2, 20, tzinfo=UTC), date(2023, 2, 20),
                                    "104.161.20.102")]
    since = session.run("SELECT :since AS s", {"since": "2023-02-20T15:03:44+02:00"}).frame["s"][0]
    assert since == datetime(2023, 2, 20, 13, 3, 44, tzinfo=UTC)


@pytest.mark.parametrize("value", ["x' OR '1'='1", "x'); SELECT * FROM events; --",
                                   "' UNION SELECT audit_data, 1, 2, 3 FROM events --", "$since", ":since", "\x1b[2J"])
def test_injection_attempts_stay_values(session, value):
    logins = example_queries()["logins"]
    assert session.run(logins, {"user": value}).frame.height == 0
    assert session.run("SELECT :v AS v", {"v": value}).frame["v"].to_list() == [value]


def test_a_missing_unnamed_or_malformed_parameter_is_named(session):
    with pytest.raises(SqlError, match="no value given for :user, :since"):
        session.run("SELECT * FROM events WHERE user_key = :user AND creation_time >= :since")
    with pytest.raises(SqlError, match="parameters need names"):
        session.run("SELECT * FROM events WHERE user_key = ?", {"user": "x"})
    with pytest.raises(SqlError, match=r":since 'last week' is not a date or time: give 2023-02-20"):
        session.run("SELECT * FROM events WHERE creation_time >= :since", {"since": "last week"})


# --- the schema, explained --------------------------------------------------------------------------

def test_every_column_of_every_frame_has_a_meaning():
    for frame, schema in FRAME_SCHEMAS.items():
        undocumented = [column for column in schema if not FRAME_MEANINGS[frame].get(column)]
        assert undocumented == [], f"document these {frame} columns in workbench/core/column_docs.py"


def test_the_session_describes_each_tables_columns(case_a):
    schema = SqlSession(case_a).schema()
    assert set(schema) >= {"xdr_identity_o365", "events", "sign_ins", "directory_audits", "SigninLogs", "AuditLogs",
                           "OfficeActivity", "conflicting_duplicates"}
    events = {name: (kind, meaning) for name, kind, meaning in schema["events"]}
    assert list(events) == list(EVENT_SCHEMA)
    assert events["creation_time"] == ("TIMESTAMP WITH TIME ZONE", "when it happened (AuditData.CreationTime), UTC")
    signins = {name: meaning for name, _kind, meaning in schema["SigninLogs"]}
    assert signins["IPAddress"] == "client_ip: the client's address, normalised"
    assert signins["LocationDetails"] == "computed from city, state, country, latitude, longitude"
    assert {name: meaning for name, _kind, meaning in schema["AuditLogs"]}["Type"] == "always 'AuditLogs'"
    assert all(meaning for table in ("events", "sign_ins", "directory_audits", "OfficeActivity", "AuditLogs")
               for _name, _kind, meaning in schema[table])


# --- the command line -------------------------------------------------------------------------------

def test_cli_runs_an_article_query_as_json_with_notes_on_stderr(sample_logs, tmp_path, capsys):
    status = main(["sql", "--case-dir", str(tmp_path), "--format", "json", str(sample_logs / "case-a"), SHAREPOINT])
    captured = capsys.readouterr()
    assert status == 0
    assert [row["operation"] for row in json.loads(captured.out)] == [
        "SiteCollectionAdminAdded", "SiteLocksChanged", "SiteCollectionCreated"]
    assert "note: line 4, column 63: removed the stray space" in captured.err


def test_cli_saves_lists_runs_and_exports_queries(case_a, tmp_path, capsys):
    case_args = ["--case", case_a.name, "--case-dir", str(case_a.root.parent)]
    assert main(["sql", *case_args, "SELECT '=cmd' AS f, count(*) AS n FROM events WHERE operation = ‘sendas’",
                 "--save", "sendas"]) == 0
    assert case_a.store.saved_queries()["sendas"].endswith("WHERE operation = 'sendas'")
    capsys.readouterr()
    assert main(["sql", *case_args, "--list", "--format", "json"]) == 0
    listed = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert listed["sendas"]["kind"] == "saved" and listed["article-logins"]["kind"] == "example"
    assert listed["ip-activity"]["params"] == ":ip :since" and listed["article-logins"]["params"] == ""
    assert main(["sql", *case_args, "--list"]) == 0  # the table shows each query's SQL, not only its description
    assert "FROM" in capsys.readouterr().out
    out = tmp_path / "result.csv"
    assert main(["sql", *case_args, "--run", "sendas", "--exact", "-o", str(out)]) == 0
    assert out.read_text().splitlines() == ["f,n", "'=cmd,0"]
    assert main(["sql", *case_args, "--run", "sendas", "--format", "csv"]) == 0
    sendas = case_a.events().filter(pl.col("operation").str.to_lowercase() == "sendas").height
    assert sendas > 0 and capsys.readouterr().out.splitlines() == ["f,n", f"'=cmd,{sendas}"]
    assert main(["sql", *case_args, "--run", "no-such-query"]) == 2


def test_cli_binds_params_and_names_a_missing_or_bad_one(case_a, capsys):
    case_args = ["--case", case_a.name, "--case-dir", str(case_a.root.parent), "--format", "json"]
    capsys.readouterr()
    assert main(["sql", *case_args, "--run", "ip-activity", "--param", "ip=104.161.20.102",
                 "--param", "since=2023-02-20T15:04:00Z"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(row["source"], row["action"]) for row in rows][:2] == [("audit log", "Add-RecipientPermission"),
                                                                     ("sign-in", "One Outlook Web success")]
    assert min(row["creation_time"] for row in rows) >= "2023-02-20T15:04:00"
    assert main(["sql", *case_args, "--run", "logins", "--param", "user=x' OR 1=1 --"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    for params, message in (
            ([], "the query needs a value for :user: give --param user=VALUE"),
            (["--param", "user"], "--param 'user': give NAME=VALUE"),
            (["--param", "user=a", "--param", "ip=1.2.3.4"], "the query has no :ip (it takes :user)")):
        assert main(["sql", *case_args, "--run", "logins", *params]) == 2
        assert message in capsys.readouterr().err
    assert main(["sql", *case_args, "--run", "add-user", "--param", "since=20 Feb"]) == 2
    assert "--param since: :since '20 Feb' is not a date or time: give 2023-02-20" in capsys.readouterr().err


def test_cli_table_shows_log_text_inert(case_b, capsys):
    query = "SELECT object_id FROM events WHERE object_id LIKE '%' || chr(27) || '%' LIMIT 1"
    assert main(["sql", "--case", case_b.name, "--case-dir", str(case_b.root.parent), query]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_the_sql_modules_do_not_import_textual():
    code = "import sys, workbench.core.sql, workbench.commands.sql; print('textual' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_cli_joins_hunt_hits_and_cached_enrichment(tmp_path, monkeypatch, capsys):
    from workbench.cli import main

    monkeypatch.setenv("WORKBENCH_CASE_DIR", str(tmp_path / "cases"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    fixture = Path(__file__).parent / "enrich" / "fixtures" / "reference-case-enrichment.json"
    assert main(["enrich", "--import", str(fixture)]) == 0
    case_a = str(Path(__file__).parent.parent / "sample_logs" / "case-a")
    query = ("SELECT DISTINCT e.client_ip FROM events e JOIN ip_enrichment i ON e.client_ip = i.ip "
             "JOIN hunt_hits h ON h.record_id = e.record_id WHERE i.hosting ORDER BY 1")
    capsys.readouterr()
    assert main(["sql", case_a, query, "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["client_ip"] for row in rows] == ["104.161.20.102", "185.241.149.122", "20.232.202.245"]


def test_every_hunt_hit_column_has_a_meaning():
    from hunts import HIT_SCHEMA
    from workbench.core.column_docs import HUNT_HIT_MEANINGS

    assert set(HIT_SCHEMA) == set(HUNT_HIT_MEANINGS)
