"""The mail items (mail_item_frame.py): not decoded at load; the items of a few records decoded from their text, those
of every record read from the state's index, built once when first needed (aside, then renamed into place, in batches
of events parts), the same rows either way; the SQL table `mail_items` builds it at its first query; a record loaded
twice gives its items once; a case folder that cannot be written still gives the exposure and the table."""

import json
import os
import signal
import subprocess
import sys

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from tests.conftest import case_of_records
from tests.test_exposure import ATTACKER_IP, records
from workbench.core import mail_item_frame
from workbench.core.attribution import Attribution
from workbench.core.case import Case
from workbench.core.case_exposure import case_exposure
from workbench.core.mail_item_frame import FOLDER, case_mail_items, index_parts
from workbench.core.mail_items import exposure_rows, mail_items
from workbench.core.sql import SqlCancelled, SqlSession


def _decoded_on_demand(case: Case) -> pl.DataFrame:
    return mail_items(exposure_rows(case.scan(with_audit_data=True)).collect())


def _files(folder) -> dict[str, int]:
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in folder.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def sample_case(tmp_path_factory, sample_logs) -> Case:
    case = Case.named("samples", tmp_path_factory.mktemp("cases"))
    case.open([sample_logs])
    return case


def test_the_index_built_when_first_needed_holds_the_records_decoded_on_demand(tmp_path, sample_logs):
    case = Case.named("samples", tmp_path / "cases")
    case.open([sample_logs])
    assert not (case.state_dir / FOLDER).exists()  # the load decodes no items
    loaded = _files(case.state_dir)
    indexed = case_mail_items(case)
    assert (case.state_dir / FOLDER).is_dir() and index_parts(case)
    assert {name: time for name, time in _files(case.state_dir).items() if not name.startswith(FOLDER)} == loaded
    assert not [path for path in case.state_dir.iterdir() if path.name.startswith(f".{FOLDER}")]  # nothing aside
    on_demand = _decoded_on_demand(case)
    assert indexed.height > 1_000
    assert set(indexed["activity"]) >= {"read", "sync", "search", "send", "delete", "file"}
    assert indexed["throttled"].any()
    assert_frame_equal(indexed, on_demand)
    assert_frame_equal(case_mail_items(case), indexed)  # read again from the index


def _case_of_three_files(tmp_path) -> Case:
    """The records in three files: three events parts."""
    all_records = records()
    for number in range(3):
        part = all_records[number::3]
        (tmp_path / f"part{number}.jsonl").write_text("\n".join(json.dumps(record) for record in part) + "\n")
    case = Case.named("batches", tmp_path / "cases")
    case.open(sorted(tmp_path.glob("part*.jsonl")))
    assert len(case.parts()) == 3
    return case


def test_the_index_is_built_a_batch_of_events_parts_at_a_time(tmp_path, monkeypatch):
    case = _case_of_three_files(tmp_path)
    monkeypatch.setattr(mail_item_frame, "INDEX_BATCH_ROWS", 1)  # a part of the index per events part
    indexed = case_mail_items(case)
    assert len(index_parts(case)) == 3
    assert_frame_equal(indexed, _decoded_on_demand(case))


def test_the_sql_table_mail_items_builds_the_index_at_its_first_query_and_joins_the_trace(tmp_path, sample_logs):
    case = Case.named("samples", tmp_path / "cases")
    case.open([sample_logs])
    session = SqlSession(case)
    assert "mail_items" in session.tables
    described = {name: meaning for name, _kind, meaning in session.schema()["mail_items"]}
    assert described["access_type"].startswith("MailItemsAccessed: Bind")
    assert session.run("DESCRIBE mail_items").frame.height == len(described)
    assert not (case.state_dir / FOLDER).exists()  # its columns are known without decoding a record
    counts = session.run("SELECT activity, count(*) AS n FROM mail_items GROUP BY activity ORDER BY activity")
    assert (case.state_dir / FOLDER).is_dir()
    assert any(note.startswith("mail_items: the case's mail items decoded into its index") for note in counts.notes)
    expected = _decoded_on_demand(case).group_by("activity").len("n").sort("activity")
    assert counts.frame.rows() == expected.rows()
    sent = session.run("SELECT i.message_id, m.recipient FROM mail_items i JOIN messages m USING (message_id) "
                       "WHERE i.activity = 'send' AND i.operation = 'SendAs'")
    assert sent.frame.height > 0 and sent.frame["recipient"].null_count() == 0
    assert not sent.notes  # built once
    again = SqlSession(case).run("SELECT count(*) AS n FROM mail_items")  # a new session reads the index built
    assert again.frame.item() == expected["n"].sum() and not again.notes


def test_a_query_cancelled_while_the_index_is_built_leaves_no_index_and_the_next_one_builds_it(tmp_path, monkeypatch):
    case = _case_of_three_files(tmp_path)
    monkeypatch.setattr(mail_item_frame, "INDEX_BATCH_ROWS", 1)
    session = SqlSession(case)
    decode = mail_item_frame.decoded_items

    def cancelled_while_decoding(rows):  # the analyst presses cancel during the first batches
        session.cancel()
        return decode(rows)

    monkeypatch.setattr(mail_item_frame, "decoded_items", cancelled_while_decoding)
    with pytest.raises(SqlCancelled, match="indexed"):
        session.run("SELECT count(*) FROM mail_items")
    assert not [path for path in case.state_dir.iterdir() if FOLDER in path.name]  # nothing in place, nothing aside
    monkeypatch.setattr(mail_item_frame, "decoded_items", decode)
    again = session.run("SELECT count(*) AS n FROM mail_items")
    assert again.frame.item() == _decoded_on_demand(case).height and again.notes


def test_a_record_loaded_twice_has_its_items_once(tmp_path):
    case = case_of_records(tmp_path, "twice", records() + records()[2:3])  # the attacker's Bind again
    assert case.load_report().totals()["duplicates"] == 1
    indexed = case_mail_items(case)
    assert indexed.filter(pl.col("record_id").str.ends_with("000000000003")).height == 3
    assert_frame_equal(indexed, _decoded_on_demand(case))


def test_the_exposure_decodes_few_records_from_their_text_and_reads_the_index_once_built(tmp_path):
    case = case_of_records(tmp_path, "few", records())
    attribution = Attribution(ips=frozenset({ATTACKER_IP}))
    decoded = case_exposure(case, attribution, case.activity())
    assert decoded.rows.height > 5
    assert not (case.state_dir / FOLDER).exists()  # a few records: decoded, no index written
    case_mail_items(case)
    indexed = case_exposure(case, attribution, case.activity())
    assert_frame_equal(indexed.rows, decoded.rows)
    assert indexed.notes == decoded.notes


def test_an_exposure_of_many_records_builds_the_index_and_says_so_once(tmp_path, monkeypatch):
    case = case_of_records(tmp_path, "many", records())
    attribution = Attribution(ips=frozenset({ATTACKER_IP}))
    told = []
    decoded = case_exposure(case, attribution, case.activity(), say=told.append)
    assert told == []  # decoded from the records' text: nothing to wait for
    monkeypatch.setattr(mail_item_frame, "DECODE_AT_MOST", 2)
    indexed = case_exposure(case, attribution, case.activity(), say=told.append)
    assert (case.state_dir / FOLDER).is_dir()
    assert_frame_equal(indexed.rows, decoded.rows)
    assert len(told) == 1 and told[0].startswith("indexing the mail items of case many (those of ")
    assert "once for this load" in told[0]
    case_exposure(case, attribution, case.activity(), say=told.append)
    assert len(told) == 1  # built: read, nothing to say


def test_a_case_folder_that_cannot_be_written_still_gives_the_exposure_and_the_table(tmp_path, monkeypatch):
    case = case_of_records(tmp_path, "readonly", records())
    attribution = Attribution(ips=frozenset({ATTACKER_IP}))
    expected_rows = case_exposure(case, attribution, case.activity()).rows
    expected_items = _decoded_on_demand(case)

    def unwritable(self, name, build):
        raise PermissionError(13, "Permission denied", str(self.state_dir / name))

    monkeypatch.setattr(Case, "derived", unwritable)
    monkeypatch.setattr(mail_item_frame, "DECODE_AT_MOST", 2)
    assert_frame_equal(case_exposure(case, attribution, case.activity()).rows, expected_rows)
    result = SqlSession(case).run("SELECT * FROM mail_items")
    assert result.frame.height == expected_items.height
    assert any("decoded in memory for this session" in note and "Permission denied" in note for note in result.notes)
    assert not (case.state_dir / FOLDER).exists()


def test_a_derived_folder_is_renamed_into_place_whole_and_the_first_one_renamed_is_kept(tmp_path):
    case = case_of_records(tmp_path, "derived", records())

    def broken(folder):
        (folder / "half.txt").write_text("half")
        raise RuntimeError("killed while building")

    with pytest.raises(RuntimeError):
        case.derived("index", broken)
    assert not (case.state_dir / "index").exists()
    assert not [path for path in case.state_dir.iterdir() if path.name.startswith(".index")]

    def ours(folder):
        (folder / "who.txt").write_text("ours")
        case.derived("index", lambda theirs: (theirs / "who.txt").write_text("theirs"))  # another process, faster

    assert (case.derived("index", ours) / "who.txt").read_text() == "theirs"
    assert not [path for path in case.state_dir.iterdir() if path.name.startswith(".index")]
    assert case.derived("index", broken) == case.state_dir / "index"  # built: not built again
    assert os.listdir(case.state_dir / "index") == ["who.txt"]


#: A process building the folder `index` of a case: it writes a file, says so, then is killed (`kill`) or waits for a
#: line on its input before it finishes.
BUILDER = """
import os, signal, sys
from workbench.core.case import Case

def build(folder):
    (folder / "half.txt").write_text("half")
    print("building", flush=True)
    if sys.argv[3] == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    sys.stdin.readline()

Case.named(sys.argv[1], sys.argv[2]).derived("index", build)
"""


def _aside(case: Case) -> set[str]:
    return {path.name for path in case.state_dir.iterdir() if path.name.startswith(".index")}


def test_the_folder_of_a_killed_build_is_removed_by_the_next_build_and_one_being_built_is_left(tmp_path):
    case = case_of_records(tmp_path, "derived", records())
    command = [sys.executable, "-c", BUILDER, "derived", str(tmp_path / "cases")]
    killed = subprocess.run([*command, "kill"], capture_output=True, text=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL and killed.stdout == "building\n"
    (killed_aside,) = _aside(case)
    assert (case.state_dir / killed_aside / "half.txt").exists()

    with subprocess.Popen([*command, "wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as alive:
        assert alive.stdout.readline() == "building\n"
        (being_built,) = _aside(case) - {killed_aside}
        assert (case.derived("index", lambda folder: (folder / "who.txt").write_text("ours")) / "who.txt").exists()
        assert _aside(case) == {being_built}  # the killed build's folder removed, the live one's left
        alive.communicate("go\n", timeout=120)
    assert alive.returncode == 0
    assert not _aside(case)  # it found the folder built and removed its own
    assert os.listdir(case.state_dir / "index") == ["who.txt"]


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
    indexed = case_mail_items(case)
    assert_frame_equal(indexed, _decoded_on_demand(case))
    by_id = {row["record_id"]: row for row in indexed.filter(pl.col("record_id").str.starts_with("odd")).to_dicts()}
    assert by_id["odd-folders"]["message_id"] is None and by_id["odd-folders"]["access_type"] == "Bind"
    assert by_id["odd-properties"]["access_type"] is None and by_id["odd-properties"]["message_id"] is not None
    assert by_id["odd-item"]["message_id"] is None and by_id["odd-affected"]["message_id"] is None
    assert indexed.filter(pl.col("record_id").str.ends_with("000000000008"))["message_id"].to_list() == ["<mfa-1@contoso.com>"]
