"""Sweeps on Spark (local[2], the shared session): given the sample cases published to one store, one Spark sweep of
the bundled hunts and the sample indicators gives each tenant the hits `workbench hunt` and `workbench ioc` give its
case, and `workbench sql --store --engine spark` runs the console's queries there."""

import json

import polars as pl
import pytest

from tests.store_fixture import (
    CASE_OF, IOC_CSV, TENANT_A, TENANT_B, hunt_keys, local_hunt_hits, local_ioc_matches,
    samples,  # noqa: F401 (the session's sample store fixture)
)
from workbench.cli import main
from workbench.core.hunting import hunt_pack
from workbench.core.ioc import parse_iocs
from workbench.core.sweep import SWEEP_SCHEMA, sweep
from workbench.spark_job import run


@pytest.fixture(scope="module")
def swept(spark, samples, tmp_path_factory):
    """One Spark sweep of every bundled hunt that fires on the samples (all of them run on Spark in the equivalence
    tests) and of the sample indicators: (summary, hits, local hunt hits by case)."""
    local = {name: local_hunt_hits(case) for name, case in samples.cases.items()}
    firing = set().union(*(set(hits["hunt_id"]) for hits in local.values()))
    pack = [hunt for hunt in hunt_pack({}) if hunt.id in firing]
    out = tmp_path_factory.mktemp("spark_sweep")
    summary = sweep(samples.store, out, "spark", pack, iocs=parse_iocs(IOC_CSV), master="local[2]")
    return summary, pl.read_parquet(out / "hits.parquet"), local


def test_spark_gives_each_tenant_the_hits_of_workbench_hunt_and_ioc(samples, swept):
    summary, hits, local = swept
    assert dict(hits.schema) == SWEEP_SCHEMA and summary["engine"] == "spark" and summary["not_run"] == []
    for tenant, name in CASE_OF.items():
        case = samples.cases[name]
        own = hits.filter(pl.col("tenant") == tenant)
        assert hunt_keys(own.filter(pl.col("kind") == "hunt")) == hunt_keys(local[name]), name
        matches = local_ioc_matches(case).select("indicator", "record_id").unique()
        mine = own.filter(pl.col("kind") == "ioc").select(pl.col("title").alias("indicator"), "record_id")
        assert set(mine.iter_rows()) == set(matches.iter_rows()) and mine.height == matches.height, name
    assert {entry["tenant"]: entry["case"] for entry in summary["tenants"]} == CASE_OF


def test_spark_job_runs_a_sweep_on_the_session_it_is_given(spark, samples, swept, tmp_path):
    _summary, hits, _local = swept
    iocs = tmp_path / "iocs.csv"
    iocs.write_text(IOC_CSV)
    assert run(["--no-hunts", "--iocs", str(iocs), str(samples.store), "-o", str(tmp_path / "out")]) == 0
    assert pl.read_parquet(tmp_path / "out" / "hits.parquet").equals(hits.filter(pl.col("kind") == "ioc"))


def test_sql_over_a_store_on_spark(spark, samples, capsys):
    query = "SELECT tenant, count(*) AS n FROM events WHERE operation = ‘New-TransportRule’ GROUP BY tenant ORDER BY tenant"
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", query, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [{"tenant": TENANT_A, "n": 5}, {"tenant": TENANT_B, "n": 7}]
    assert "typographic quotes" in captured.err and "Spark compares text exactly" in captured.err
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", "SELECT * FROM parquet.`/etc`"]) == 2
    assert main(["sql", "--store", str(samples.store), "--engine", "spark", "SELECT nope FROM events"]) == 2
