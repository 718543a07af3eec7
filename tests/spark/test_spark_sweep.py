"""Sweeps on Spark (local[2], the shared session): given the sample cases published to one store, a Spark sweep gives
each tenant the hits `workbench hunt` gives its case (a few hunts of each source and a directory change both sources
record), the spark-submit entry point's IOC sweep the matches of `workbench ioc`, and `workbench sql --store --engine
spark` runs the console's queries there."""

import json

import polars as pl
import pytest

from tests.store_fixture import (
    CASE_OF, IOC_CSV, TENANT_A, TENANT_B, hunt_keys, local_hunt_hits, local_ioc_matches,
    samples,  # noqa: F401 (the session's sample store fixture)
)
from workbench.cli import main
from workbench.core.hunting import hunt_pack
from workbench.core.sweep import SWEEP_SCHEMA, sweep
from workbench.spark_job import run


def _few_hunts(local: dict[str, pl.DataFrame]) -> list:
    """The hunts with most hits in each source on the samples, and both hunts of every directory change the audit
    log and the directory audits both record (all hunts run on Spark in the equivalence tests)."""
    hits = pl.concat(local.values())
    top = hits.group_by("source", "hunt_id").len().sort("len", "hunt_id", descending=[True, False]).unique(
        "source", keep="first")["hunt_id"]
    paired = hits.filter(pl.col("why").str.contains("same change as"))
    other = paired["why"].str.extract_all(r"same change as \S+ \S+ \(([^)]+)\)").explode().str.extract(r"\(([^)]+)\)")
    chosen = set(top) | set(paired["hunt_id"]) | set(other.drop_nulls())
    assert len(paired) and len(chosen) < 12
    return [hunt for hunt in hunt_pack({}) if hunt.id in chosen]


@pytest.fixture(scope="module")
def swept(spark, samples, tmp_path_factory):
    """One Spark sweep of a few hunts over the sample store: (summary, hits, `workbench hunt` of those hunts by
    case)."""
    pack = _few_hunts({name: local_hunt_hits(case) for name, case in samples.cases.items()})
    local = {name: local_hunt_hits(case, pack) for name, case in samples.cases.items()}
    out = tmp_path_factory.mktemp("spark_sweep")
    summary = sweep(samples.store, out, "spark", pack, master="local[2]")
    return summary, pl.read_parquet(out / "hits.parquet"), local


def test_spark_gives_each_tenant_the_hits_of_workbench_hunt(samples, swept):
    summary, hits, local = swept
    assert dict(hits.schema) == SWEEP_SCHEMA and summary["engine"] == "spark" and summary["not_run"] == []
    assert hits.filter(pl.col("why").str.contains("same change as")).height  # one finding per directory change
    for tenant, name in CASE_OF.items():
        own = hits.filter(pl.col("tenant") == tenant)
        assert hunt_keys(own) == hunt_keys(local[name]) and own.height == local[name].height, name
    assert {entry["tenant"]: entry["case"] for entry in summary["tenants"]} == CASE_OF


def test_spark_job_sweeps_indicators_on_the_session_it_is_given(spark, samples, tmp_path):
    iocs = tmp_path / "iocs.csv"
    iocs.write_text(IOC_CSV)
    assert run(["--no-hunts", "--iocs", str(iocs), str(samples.store), "-o", str(tmp_path / "out")]) == 0
    hits = pl.read_parquet(tmp_path / "out" / "hits.parquet")
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
