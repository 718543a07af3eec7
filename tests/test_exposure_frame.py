"""The mail items stored at load (mail_item_frame.py): the same rows as decoding the records on demand, the SQL
table `mail_items`, the items of a record loaded twice stored once, and a case loaded before the items were stored
(no `mail_items/` folder) still giving the same exposure and table."""

import shutil

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import case_of_records
from tests.test_exposure import ATTACKER_IP, records
from workbench.core.attribution import Attribution
from workbench.core.case import Case
from workbench.core.case_exposure import case_exposure
from workbench.core.mail_item_frame import FOLDER, case_mail_items, stored_parts
from workbench.core.mail_items import exposure_rows, mail_items
from workbench.core.sql import SqlSession


def _decoded_on_demand(case: Case) -> pl.DataFrame:
    return mail_items(exposure_rows(case.scan(with_audit_data=True)).collect())


@pytest.fixture(scope="module")
def sample_case(tmp_path_factory, sample_logs) -> Case:
    case = Case.named("samples", tmp_path_factory.mktemp("cases"))
    case.open([sample_logs])
    return case


def test_the_items_stored_at_load_are_the_records_decoded_on_demand(sample_case):
    stored = case_mail_items(sample_case)
    assert stored_parts(sample_case)  # read from the stored parts, not decoded
    on_demand = _decoded_on_demand(sample_case)
    assert stored.height > 1_000
    assert set(stored["activity"]) >= {"read", "sync", "search", "send", "delete", "file"}
    assert stored["throttled"].any()
    assert_frame_equal(stored, on_demand)


def test_the_sql_table_mail_items_lists_the_items_and_joins_the_trace(sample_case):
    session = SqlSession(sample_case)
    assert "mail_items" in session.tables
    counts = session.run("SELECT activity, count(*) AS n FROM mail_items GROUP BY activity ORDER BY activity").frame
    expected = _decoded_on_demand(sample_case).group_by("activity").len("n").sort("activity")
    assert counts.rows() == expected.rows()
    sent = session.run("SELECT i.message_id, m.recipient FROM mail_items i JOIN messages m USING (message_id) "
                       "WHERE i.activity = 'send' AND i.operation = 'SendAs'").frame
    assert sent.height > 0 and sent["recipient"].null_count() == 0
    described = {name: meaning for name, _kind, meaning in session.schema()["mail_items"]}
    assert described["access_type"].startswith("MailItemsAccessed: Bind")


def test_a_record_loaded_twice_has_its_items_stored_once(tmp_path):
    case = case_of_records(tmp_path, "twice", records() + records()[2:3])  # the attacker's Bind again
    assert case.load_report().totals()["duplicates"] == 1
    stored = case_mail_items(case)
    assert stored.filter(pl.col("record_id").str.ends_with("000000000003")).height == 3
    assert_frame_equal(stored, _decoded_on_demand(case))


def test_a_case_loaded_before_items_were_stored_still_gives_the_exposure_and_the_table(tmp_path):
    case = case_of_records(tmp_path, "older", records())
    attribution = Attribution(ips=frozenset({ATTACKER_IP}))
    stored = case_exposure(case, attribution, case.activity())
    table = SqlSession(case).run("SELECT * FROM mail_items").frame
    shutil.rmtree(case.state_dir / FOLDER)  # as an earlier version left it
    case.close()

    older = Case.named("older", tmp_path / "cases")
    assert stored_parts(older) is None
    assert not (older.state_dir / FOLDER).exists()
    again = case_exposure(older, attribution, older.activity())
    assert again.rows.height == stored.rows.height > 5
    assert_frame_equal(again.rows, stored.rows)
    assert again.notes == stored.notes
    assert_frame_equal(SqlSession(older).run("SELECT * FROM mail_items").frame, table)
    assert not (older.state_dir / FOLDER).exists()  # decoded in memory: the state is left as it was


def test_two_cases_of_the_same_records_each_give_their_own_items(tmp_path):
    from workbench.core.case_set import CaseSet

    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = case_of_records(tmp_path / "one", "one", records())
    two = case_of_records(tmp_path / "two", "two", records())
    both = CaseSet([(one, []), (two, [])])
    attribution = Attribution(ips=frozenset({ATTACKER_IP}))
    alone = case_exposure(one, attribution, one.activity()).rows
    together = case_exposure(both, attribution, both.activity()).rows
    assert together.height == 2 * alone.height
    assert together.filter(pl.col("case") == "one").drop("case").equals(alone.drop("case"))
    assert together["client_ip"].null_count() == alone["client_ip"].null_count() * 2


def test_item_fields_of_another_type_are_no_items_and_every_record_loads(tmp_path):
    """A record whose Folders, OperationProperties or Item is not the documented shape loads with no items of those
    fields (DuckDB's reader stops at it; the rest is decoded chunk by chunk, as the records decoded on demand)."""
    odd = [{**records()[2], "Id": "odd-folders", "Folders": "\\Inbox"},
           {**records()[2], "Id": "odd-properties", "OperationProperties": {"Name": "MailAccessType", "Value": "Bind"}},
           {**records()[6], "Id": "odd-item", "Item": "sent-1"},
           {**records()[7], "Id": "odd-affected", "AffectedItems": {"InternetMessageId": "<x@contoso.com>"}}]
    case = case_of_records(tmp_path, "odd", records()[:5] + odd + records()[5:])
    assert case.load_report().totals()["loaded"] == len(records()) + len(odd)
    stored = case_mail_items(case)
    assert_frame_equal(stored, _decoded_on_demand(case))
    by_id = {row["record_id"]: row for row in stored.filter(pl.col("record_id").str.starts_with("odd")).to_dicts()}
    assert by_id["odd-folders"]["message_id"] is None and by_id["odd-folders"]["access_type"] == "Bind"
    assert by_id["odd-properties"]["access_type"] is None and by_id["odd-properties"]["message_id"] is not None
    assert by_id["odd-item"]["message_id"] is None and by_id["odd-affected"]["message_id"] is None
    assert stored.filter(pl.col("record_id").str.ends_with("000000000008"))["message_id"].to_list() == ["<mfa-1@contoso.com>"]
