"""The tenant store: given the sample cases, `publish` writes each frame as Hive-partitioned Parquet of plain columns
by tenant and day, adds nothing twice, records which case published which tenant, and refuses rows it cannot file."""

import json
import sys

import duckdb
import polars as pl
import pytest

from tests.conftest import case_of_records
from tests.store_fixture import TENANT_A, TENANT_B, sample_store
from workbench.cli import main
from workbench.core.schema import FRAME_SCHEMAS, TIME_COLUMN
from workbench.core.tenant_store import (
    CASES_FILE, FRAMES, StoreError, case_of_tenant, cases_by_tenant, publish, store_tenants,
)


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    return sample_store(tmp_path_factory.mktemp("tenant_store"))


def _parts(store):
    return sorted(path.relative_to(store) for path in store.rglob("*.parquet"))


def test_every_frame_is_partitioned_by_tenant_and_day(samples):
    for frame in FRAMES:
        for name, case in samples.cases.items():
            rows = case.scan(frame=frame).collect()
            tenant = TENANT_A if name == "case-a" else TENANT_B
            days = set(rows[TIME_COLUMN[frame]].dt.strftime("%Y-%m-%d").to_list())
            folders = {path.name.removeprefix("day=") for path in (samples.store / frame / f"tenant={tenant}").iterdir()}
            assert folders == days, (frame, name)
            assert samples.added[name][frame] == rows.height > 0
    assert store_tenants(samples.store) == sorted([TENANT_A, TENANT_B])
    assert all(path.name.startswith("part-") and len(path.parts) == 4 for path in _parts(samples.store))


def test_parts_hold_the_declared_plain_columns_without_the_partition_columns(samples):
    for frame in FRAMES:
        part = next((samples.store / frame).rglob("*.parquet"))
        schema = pl.read_parquet_schema(part)
        assert dict(schema) == FRAME_SCHEMAS[frame]
        assert "tenant" not in schema and "day" not in schema
    described = duckdb.sql(f"DESCRIBE SELECT * FROM read_parquet('{samples.store}/events/**/*.parquet', "
                           "hive_partitioning = true)").fetchall()
    types = {name: kind for name, kind, *_ in described}
    assert types["creation_time"] == "TIMESTAMP WITH TIME ZONE" and types["record_type"] == "BIGINT"
    assert types["organization_id"] == "VARCHAR" and types["audit_data"] == "VARCHAR"


def test_the_store_holds_each_case_row_once_and_reads_back_per_tenant(samples):
    counts = dict(duckdb.sql(f"SELECT tenant, count(*) FROM read_parquet('{samples.store}/events/**/*.parquet', "
                             "hive_partitioning = true) GROUP BY tenant").fetchall())
    assert counts == {TENANT_A: samples.cases["case-a"].scan().collect().height,
                      TENANT_B: samples.cases["case-b"].scan().collect().height}


def test_publishing_again_adds_nothing(samples):
    before = _parts(samples.store)
    for case in samples.cases.values():
        assert publish(case, samples.store) == dict.fromkeys(FRAMES, 0)
    assert _parts(samples.store) == before


def test_a_publish_read_in_small_windows_of_time_writes_the_same_rows(samples, tmp_path, monkeypatch):
    """A case is read a window of about PUBLISH_ROWS rows at a time (10M events at once held some 20 GB): with
    windows of 50 rows a day's rows fall in several windows and parts, and the store holds the same rows, each once,
    the original records included; publishing again adds nothing."""
    import workbench.core.tenant_store as tenant_store

    monkeypatch.setattr(tenant_store, "PUBLISH_ROWS", 50)
    store = tmp_path / "store"
    for name, case in samples.cases.items():
        assert publish(case, store) == samples.added[name]

    def rows(root, frame):
        return pl.read_parquet(root / frame / "**" / "*.parquet", hive_partitioning=True).sort("tenant", "record_id")

    for frame in FRAMES:
        assert rows(store, frame).equals(rows(samples.store, frame)), frame
    assert len(_parts(store)) > len(_parts(samples.store))  # days split over windows: a part per window
    for case in samples.cases.values():
        assert publish(case, store) == dict.fromkeys(FRAMES, 0)


def test_an_overlapping_case_adds_only_rows_the_store_lacks(samples, tmp_path):
    from workbench.core.case import Case

    graph_only = Case.named("case-b-graph", tmp_path / "cases")
    graph_only.open([samples.cases["case-b"].inputs()[0] / "graph_audit_query.json"])
    assert graph_only.scan().collect().height == 29
    assert publish(graph_only, samples.store)["events"] == 0  # case B held all 29 records already
    assert [entry["case"] for entry in cases_by_tenant(samples.store)[TENANT_B]] == ["case-b", "case-b-graph"]
    assert case_of_tenant(samples.store, TENANT_B) == "case-b-graph"
    assert case_of_tenant(samples.store, TENANT_A) == "case-a"
    assert case_of_tenant(samples.store, "unknown") is None


def _record(record_id, organization=None, when="2023-02-20T10:00:00"):
    record = {"Id": record_id, "CreationTime": when, "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory",
              "RecordType": 15, "UserId": "user@example.org", "ClientIP": "203.0.113.7"}
    return record | ({"OrganizationId": organization} if organization else {})


def test_a_row_without_organization_id_takes_the_case_one(tmp_path):
    case = case_of_records(tmp_path, "one-tenant", [_record("r1", TENANT_A), _record("r2", None, "2023-02-21T09:00:00")])
    assert publish(case, tmp_path / "store")["events"] == 2
    assert {path.name for path in (tmp_path / "store" / "events" / f"tenant={TENANT_A}").iterdir()} == \
        {"day=2023-02-20", "day=2023-02-21"}


def test_rows_without_a_tenant_in_a_case_of_several_stop_publishing_and_are_named(tmp_path):
    case = case_of_records(tmp_path, "two-tenants", [_record("r1", TENANT_A), _record("r2", TENANT_B), _record("r3")])
    with pytest.raises(StoreError, match=r"1 events rows have no organization id .*records\.jsonl:3.*--tenant"):
        publish(case, tmp_path / "store")
    assert not (tmp_path / "store").exists()  # refused before anything is written
    assert publish(case, tmp_path / "store", tenant="contoso")["events"] == 3
    assert (tmp_path / "store" / "events" / "tenant=contoso").is_dir()


def test_an_organization_id_that_is_not_a_folder_name_is_refused(tmp_path):
    case = case_of_records(tmp_path, "escape", [_record("r1", "../../outside")])
    with pytest.raises(StoreError, match=r"not a tenant name .*records\.jsonl:1"):
        publish(case, tmp_path / "store")
    assert not (tmp_path / "store").exists()  # refused before anything is written and not (tmp_path / "outside").exists()


def test_publishing_to_a_uri_without_pyspark_names_the_extra(samples, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # what an install without the extra gives
    case_dir = str(samples.cases["case-a"].root.parent)
    assert main(["publish", "--case", "case-a", "--case-dir", case_dir, (tmp_path / "store").as_uri()]) == 2
    assert "pip install '.[spark]'" in capsys.readouterr().err
    assert not (tmp_path / "store").exists()


def test_publish_command(samples, tmp_path, capsys):
    case_dir = str(samples.cases["case-a"].root.parent)
    store = tmp_path / "cli-store"
    assert main(["publish", "--case", "case-a", "--case-dir", case_dir, str(store)]) == 0
    assert "events 4,083" in capsys.readouterr().err
    assert main(["publish", "--case", "case-a", "--case-dir", case_dir, str(store)]) == 0
    assert "events 0, sign_ins 0, directory_audits 0, messages 0" in capsys.readouterr().err
    assert json.loads((store / CASES_FILE).read_text())[TENANT_A][0]["case"] == "case-a"
    assert main(["publish", "--case", "no-such-case", "--case-dir", case_dir, str(store)]) == 2
    assert main(["publish", "--case", "case-a", "--case-dir", case_dir, "--master", "local[2]", str(store)]) == 2
    assert main(["publish", "--case", "case-a", "--case-dir", case_dir, "--tenant", "../x", str(store)]) == 2
    err = capsys.readouterr().err
    assert "no case named 'no-such-case'" in err and "Spark writes a STORE given as a URI" in err
    with pytest.raises(SystemExit) as shown:
        main(["publish", "--help"])
    assert shown.value.code == 0
