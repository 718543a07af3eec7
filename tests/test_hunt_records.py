"""Hunts that read the original records read them from the case's copy of a JSON Lines input as they test them, a
batch at a time, and find what they find when every record is in memory (the Purview CSV of the same records)."""

import csv
import json
from pathlib import Path

import polars as pl

import hunts.engine
from workbench.core.activity import audit_log_rows
from workbench.core.case import Case
from workbench.core.hunting import case_hits, hunt_pack, record_reader, with_records, with_stored_records

#: Records of each kind the hunts look for (the throttled read in its properties, the MFA step failing three times,
#: wrong passwords), and inbox rules, whose actions the hunts read in the records.
RECORDS = [
    {"Id": "throttled", "CreationTime": "2024-03-04T10:00:00", "Operation": "MailItemsAccessed", "RecordType": 50,
     "Workload": "Exchange", "UserId": "amy@contoso.com", "MailboxOwnerUPN": "amy@contoso.com", "ClientIP": "203.0.113.9",
     "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "True"}]},
    *({"Id": f"read-{n}", "CreationTime": f"2024-03-04T10:{n:02d}:30", "Operation": "MailItemsAccessed", "RecordType": 50,
       "Workload": "Exchange", "UserId": "amy@contoso.com", "MailboxOwnerUPN": "amy@contoso.com", "ClientIP": "203.0.113.9",
       "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}, {"Name": "IsThrottled", "Value": "False"}]}
      for n in range(40)),
    *({"Id": f"mfa-{n}", "CreationTime": f"2024-03-04T11:0{n}:00", "Operation": "UserLoginFailed", "RecordType": 15,
       "Workload": "AzureActiveDirectory", "UserId": "bob@contoso.com", "UserKey": "bob-key", "ClientIP": "198.51.100.7",
       "ErrorNumber": "500121"} for n in range(3)),
    {"Id": "login-ok", "CreationTime": "2024-03-04T11:05:00", "Operation": "UserLoginFailed", "RecordType": 15,
     "Workload": "AzureActiveDirectory", "UserId": "cat@contoso.com", "UserKey": "cat-key", "ClientIP": "198.51.100.8",
     "ErrorNumber": "50126"},
    *({"Id": f"password-{n}", "CreationTime": f"2024-03-04T12:0{n}:00", "Operation": "UserLoginFailed", "RecordType": 15,
       "Workload": "AzureActiveDirectory", "UserId": f"user{n}@contoso.com", "ClientIP": "198.51.100.9",
       "ErrorNumber": "50126"} for n in range(6)),
    *({"Id": f"rule-{n}", "CreationTime": f"2024-03-04T13:0{n}:00", "Operation": "UpdateInboxRules", "RecordType": 2,
       "Workload": "Exchange", "UserId": "dan@contoso.com", "MailboxOwnerUPN": "dan@contoso.com", "ClientIP": "198.51.100.10",
       "OperationProperties": [{"Name": "RuleActions", "Value": json.dumps(
           [{"ActionType": "ForwardToRecipientsAction" if n % 3 == 0 else "MoveToFolderAction"}])}]} for n in range(10)),
]


def hits_of(hits: pl.DataFrame) -> set[tuple[str, str]]:
    return set(hits.select("hunt_id", "record_id").iter_rows())


def test_hunts_read_kept_records_in_batches_and_find_what_they_find_in_memory(tmp_path, monkeypatch):
    case = Case.named("kept", tmp_path / "cases")
    case.load([_jsonl(tmp_path, RECORDS)])
    pack = hunt_pack({})
    readers = [hunt for hunt in pack if "audit_data" in hunts.columns_read([hunt], "events")]
    rows = with_stored_records(case, audit_log_rows(case.events()), readers)
    assert rows["audit_data"].null_count() == rows.height  # nothing of the records held: read as tested

    in_memory = hunts.hunt_hits(with_records(case, audit_log_rows(case.events()), readers), pack, None)
    batches: list[int] = []
    reader = record_reader(case)
    monkeypatch.setattr(hunts.engine, "RECORD_BATCH", 7)
    monkeypatch.setattr("workbench.core.hunting.record_reader",
                        lambda _case: lambda batch: batches.append(batch.height) or reader(batch))
    batched = case_hits(case.events(), {}, pack, case=case)

    assert hits_of(batched) == hits_of(in_memory)
    assert {("collection_exo_mail_items_throttled", "throttled"),
            *(("credential_aad_mfa_fatigue", f"mfa-{n}") for n in range(3))} <= hits_of(batched)
    assert ("credential_aad_mfa_fatigue", "login-ok") not in hits_of(batched)
    assert {record_id for hunt_id, record_id in hits_of(batched) if hunt_id == "collection_exo_client_inbox_rule_forwarding"} == {
        "rule-0", "rule-3", "rule-6", "rule-9"}
    # the ten inbox rules' records read for the hunts' tests (once for all of them), 7 at most at a time
    assert batches and max(batches) <= 7 and sum(batches) >= 10


def test_records_read_from_csv_rows_and_from_the_parquet_are_hunted_as_they_are(tmp_path):
    """A CSV export's records are read from the case's copy of its rows while the rows are single lines; from a row
    holding a line break on, they stay in the case's Parquet: the hunts read both, with the hits of the JSON Lines."""
    jsonl_case, csv_case = Case.named("lines", tmp_path / "cases"), Case.named("csv", tmp_path / "cases")
    jsonl_case.load([_jsonl(tmp_path, RECORDS)])
    csv_case.load([purview_csv(tmp_path, RECORDS, broken_at=len(RECORDS) // 2)])
    pack = hunt_pack({})
    stored = csv_case.scan(with_audit_data=True, from_kept_inputs=False).collect().sort("source_row")["audit_data"]
    assert stored.head(len(RECORDS) // 2).null_count() == len(RECORDS) // 2  # read by span
    assert stored.tail(len(RECORDS) - len(RECORDS) // 2).null_count() == 0  # kept in the Parquet
    assert hits_of(case_hits(csv_case.events(), {}, pack, case=csv_case)) == hits_of(
        case_hits(jsonl_case.events(), {}, pack, case=jsonl_case))


def _jsonl(folder: Path, records: list[dict]) -> Path:
    path = folder / "audit.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def purview_csv(folder: Path, records: list[dict], broken_at: int | None = None) -> Path:
    """The records as the Purview portal's audit search exports them (one row each, the record in `AuditData`); the
    record at `broken_at` written over several lines (and every row ended as its lines are, by LF)."""
    path = folder / "audit.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\r\n" if broken_at is None else "\n")
        writer.writerow(["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData"])
        for number, record in enumerate(records):
            writer.writerow([record["Id"], record["CreationTime"] + ".0000000Z", record["RecordType"], record["Operation"],
                             record["UserId"], json.dumps(record, indent=1 if number == broken_at else None)])
    return path


def test_hunts_get_the_columns_the_events_view_leaves_out_from_the_case(tmp_path):
    """The events view's frame has no ExtendedProperties (activity DRILL_DOWN_ONLY): the hunts run on it read the
    column from the case, and flag what they flag on every column."""
    from tests.hunts.test_engine import hunt_from
    from workbench.core.activity import DRILL_DOWN_ONLY

    case = Case.named("kept", tmp_path / "cases")
    sign_ins = [{"Id": f"s{n}", "CreationTime": f"2024-03-04T12:0{n}:00", "Operation": "UserLoggedIn", "RecordType": 15,
                 "Workload": "AzureActiveDirectory", "UserId": "amy@contoso.com", "ClientIP": "203.0.113.9",
                 "ExtendedProperties": [{"Name": "RequestType", "Value": "Cmsi:Cmsi" if n == 2 else "Login:login"}]}
                for n in range(4)]
    case.load([_jsonl(tmp_path, RECORDS + sign_ins)])
    device_code = hunt_from('[condition]\noperations = ["UserLoggedIn"]\n'
                            'where = [{ field = "extended_properties", contains = ["Cmsi:Cmsi"] }]', name="device")
    narrow = case.activity(view=True)
    assert "extended_properties" not in narrow.columns
    assert hits_of(case_hits(narrow, {}, [device_code], case=case)) == {("device", "s2")}
    assert hits_of(case_hits(case.activity(), {}, [device_code], case=case)) == {("device", "s2")}


def test_the_hunts_the_events_view_runs_apart_find_what_they_find_in_process(tmp_path, sample_logs):
    """`workbench` hunts a case in a process of its own before it reads the events (its memory returned after)."""
    from workbench.core.case_set import CaseSet
    from workbench.core.hunting import hunt_case, hunt_case_apart

    cases = CaseSet([(Case.named(name, tmp_path / "cases"), [sample_logs / name]) for name in ("case-a", "case-b")])
    cases.open()
    apart = hunt_case_apart(cases, {})
    assert apart.height and hits_of(apart) == hits_of(hunt_case(cases, {}))
    assert set(apart["case"]) == {"case-a", "case-b"}


def test_a_case_hunted_alone_holds_its_text_as_categories_and_finds_what_its_whole_frame_finds(tmp_path, sample_logs):
    """`hunt_case` reads only the hunted columns, text as categories, and the bulky ones only in the rows of the
    operations whose hunts read them: the same hits (and `why`) as the pack over every column as text."""
    from workbench.core.case_set import CaseSet
    from workbench.core.hunting import hunt_case, hunted_events

    cases = CaseSet([(Case.named(name, tmp_path / "cases"), [sample_logs / name]) for name in ("case-a", "case-b")])
    cases.open()
    pack = hunt_pack({})
    hunted = hunted_events(cases, pack)
    assert hunted.schema["operation"] == pl.Categorical and hunted.schema["record_id"] == pl.String
    whole = cases.events()
    for column in ("item", "affected_items", "target"):  # only filters of named operations read them
        readers = {name.lower() for hunt in pack if column in hunts.engine.columns_read([hunt], "events")
                   for name in hunt.condition["operations"]}
        read = pl.col("operation").cast(pl.String).str.to_lowercase().is_in(readers)
        kept = whole.filter(read & pl.col(column).is_not_null())
        if column != "affected_items":  # only the deletes hold them in the samples
            assert whole.filter(~read)[column].is_not_null().any()  # values the hunts never read...
        assert hunted.filter(~read)[column].null_count() == hunted.filter(~read).height  # ...are not held
        assert hunted.filter(read & pl.col(column).is_not_null())["record_id"].to_list() == kept["record_id"].to_list()
    assert whole["affected_items"].is_not_null().any() and hunted["affected_items"].is_not_null().any()
    # read by sequences and sets too: in the rows of the operations of every filter, step and set of its readers
    from workbench.core.hunting import _modified_words, _operations_filtered

    readers = [hunt for hunt in pack if "modified_properties" in hunts.engine.columns_read([hunt], "events")]
    assert any("sequence" in hunt.condition for hunt in readers) and any("in_set" in str(hunt.condition) for hunt in readers)
    read = pl.col("operation").cast(pl.String).str.to_lowercase().is_in(set().union(*map(_operations_filtered, readers)))
    assert whole.filter(~read)["modified_properties"].is_not_null().any()
    assert hunted.filter(~read)["modified_properties"].null_count() == hunted.filter(~read).height
    # and where every reader of those rows reads it by property names, only in the texts naming one of them
    from hunts.predicates import modified_names

    paired = whole.select("record_id", "operation", "modified_properties").join(
        hunted.select("record_id", pl.col("modified_properties").alias("held")), on="record_id").filter(read)
    dropped = paired.filter(pl.col("held").is_null() & pl.col("modified_properties").is_not_null())
    assert dropped.height > 100 and paired.filter(pl.col("held").is_not_null()).height > 10
    for hunt in readers:  # no row a hunt may read lost its text: of the hunt's operations, naming its properties
        words = _modified_words(hunt)
        names = [name.lower() for name in modified_names(hunt.condition)] if words is not None else [""]
        own = pl.col("operation").cast(pl.String).str.to_lowercase().is_in(_operations_filtered(hunt))
        assert not dropped.filter(own & pl.col("modified_properties").str.to_lowercase().str.contains_any(names)).height
    assert paired.filter(pl.col("held").is_not_null()).select(pl.col("held") == pl.col("modified_properties")).to_series().all()

    alone = hunt_case(cases, {}, pack)
    everything = case_hits(whole, {}, pack, case=cases)
    assert alone.height > 100
    assert alone.drop("why").equals(everything.drop("why"))
    assert sorted(alone["why"].to_list()) == sorted(everything["why"].to_list())
