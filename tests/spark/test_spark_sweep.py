"""Tenant stores on Spark (local[2], the shared session). Given the sample cases: Spark publishing them to a
`file://` URI writes the rows, columns and folders the folder publish writes, and publishing again adds nothing; a
sweep of that URI by the spark-submit entry point (`workbench sweep --engine spark`) with every bundled hunt, the
test Sigma rules and indicators gives each tenant the hits `workbench hunt` and the matches `workbench ioc` give its
case (as the folder store's sweep does, tests/test_sweep.py), naming the case from the URI store's `_cases.json`; and
`workbench sql --store --engine spark` runs the console's queries there."""

import json

import polars as pl
import pytest
from hunt_engines import SIGMA_RULES

from tests.store_fixture import (
    CASE_OF, IOC_CSV, TENANT_A, TENANT_B, hunt_keys, local_hunt_hits, local_ioc_matches,
    samples,  # noqa: F401 (the session's sample store fixture)
)
from workbench.cli import main
from workbench.core.hunting import hunt_pack
from workbench.core.schema import FRAME_SCHEMAS
from workbench.core.sweep import SWEEP_SCHEMA
from workbench.core.tenant_store import FRAMES, cases_by_tenant, publish
from workbench.spark_job import run

pytestmark = pytest.mark.usefixtures("small_data")


@pytest.fixture(scope="module")
def uri_store(spark, samples, tmp_path_factory):
    """The sample cases published by Spark to a `file://` URI: (URI, its folder, rows added per case)."""
    folder = tmp_path_factory.mktemp("uri_store") / "store"
    added = {name: publish(case, folder.as_uri()) for name, case in samples.cases.items()}
    return folder.as_uri(), folder, added


def _parts(store, frame: str) -> list:
    return sorted((store / frame).rglob("*.parquet"))


def _rows(store, frame: str) -> pl.DataFrame:
    return pl.read_parquet(_parts(store, frame), hive_partitioning=True,
                           hive_schema={"tenant": pl.String, "day": pl.String}).sort("tenant", "record_id")


def test_spark_publishes_to_a_uri_the_rows_and_folders_of_a_folder_publish(samples, uri_store):
    _, folder, added = uri_store
    assert added == samples.added  # case B, another tenant, added its rows and only them
    for frame in FRAMES:
        parts, folder_parts = _parts(folder, frame), _parts(samples.store, frame)
        assert [part.parent.relative_to(folder) for part in parts] == \
            [part.parent.relative_to(samples.store) for part in folder_parts]  # one part per tenant and day
        assert all(dict(pl.read_parquet_schema(part)) == FRAME_SCHEMAS[frame] for part in parts)
        assert _rows(folder, frame).equals(_rows(samples.store, frame)), frame


def test_publishing_to_the_uri_again_adds_nothing(samples, uri_store, capsys):
    uri, folder, _ = uri_store
    before = {frame: _parts(folder, frame) for frame in FRAMES}
    case = samples.cases["case-b"]
    assert main(["publish", "--case", "case-b", "--case-dir", str(case.root.parent), uri]) == 0
    assert "rows added: events 0, sign_ins 0, directory_audits 0, messages 0" in capsys.readouterr().err
    assert {frame: _parts(folder, frame) for frame in FRAMES} == before
    assert {tenant: entries[-1]["case"] for tenant, entries in cases_by_tenant(uri).items()} == CASE_OF


@pytest.fixture(scope="module")
def swept(uri_store, tmp_path_factory):
    """The spark-submit entry point's sweep of the URI store with the bundled hunts, the test Sigma rules and the
    indicators: (summary, hits)."""
    out = tmp_path_factory.mktemp("spark_sweep")
    (out / "iocs.csv").write_text(IOC_CSV)
    assert run([uri_store[0], "--sigma", str(SIGMA_RULES), "--iocs", str(out / "iocs.csv"), "-o", str(out / "out")]) \
        == 0
    return json.loads((out / "out" / "summary.json").read_text()), pl.read_parquet(out / "out" / "hits.parquet")


def test_a_spark_sweep_of_the_uri_gives_each_tenant_the_hits_of_workbench_hunt(samples, swept):
    summary, hits = swept
    pack = hunt_pack({}, sigma_dirs=[SIGMA_RULES])
    assert dict(hits.schema) == SWEEP_SCHEMA and summary["engine"] == "spark" and summary["not_run"] == []
    assert set(hits["kind"]) == {"hunt", "sigma", "ioc"}
    for tenant, name in CASE_OF.items():
        local = local_hunt_hits(samples.cases[name], pack)
        own = hits.filter(pl.col("tenant") == tenant, pl.col("kind") != "ioc")
        assert hunt_keys(own) == hunt_keys(local) and own.height == local.height, name
        changes = pl.col("why").str.contains("same change as")  # a directory change both sources record: one finding
        assert own.filter(changes).height == local.filter(changes).height > 0, name
    assert {entry["tenant"]: entry["case"] for entry in summary["tenants"]} == CASE_OF


def test_a_spark_sweep_of_the_uri_gives_each_tenant_the_matches_of_workbench_ioc(samples, swept):
    hits = swept[1].filter(pl.col("kind") == "ioc")
    for tenant, name in CASE_OF.items():
        matches = local_ioc_matches(samples.cases[name]).select("indicator", "record_id").unique()
        mine = hits.filter(pl.col("tenant") == tenant).select(pl.col("title").alias("indicator"), "record_id")
        assert set(mine.iter_rows()) == set(matches.iter_rows()) and mine.height == matches.height, name


def test_sql_over_a_store_on_spark(spark, samples, capsys):
    query = "SELECT tenant, count(*) AS n FROM events WHERE operation = ‘New-TransportRule’ GROUP BY tenant ORDER BY tenant"
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", query, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [{"tenant": TENANT_A, "n": 5}, {"tenant": TENANT_B, "n": 7}]
    assert "typographic quotes" in captured.err and "Spark compares text exactly" in captured.err
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", "SELECT * FROM parquet.`/etc`"]) == 2
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", "SELECT nope FROM events"]) == 2
