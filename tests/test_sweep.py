"""Sweeps on DuckDB: given the sample cases published to one store, `workbench sweep` gives each tenant exactly the
hits `workbench hunt` and `workbench ioc` give its case, writes them as Parquet, formula-safe CSV and a summary per
tenant, and its command line answers with the documented exit codes."""

import json

import polars as pl
import pytest

from tests.conftest import case_of_records
from tests.store_fixture import (
    CASE_OF, IOC_CSV, TENANT_A, TENANT_B, hunt_keys, local_hunt_hits, local_ioc_matches,
    samples,  # noqa: F401 (the session's sample store fixture)
)
from workbench.cli import main
from workbench.core.hunting import hunt_pack
from workbench.core.ioc import parse_iocs
from workbench.core.sweep import SWEEP_SCHEMA, sweep
from workbench.core.tenant_store import publish

@pytest.fixture(scope="module")
def swept(samples, tmp_path_factory):
    """One DuckDB sweep of the bundled hunts and the sample indicators over both tenants: (summary, hits)."""
    out = tmp_path_factory.mktemp("sweep_out")
    summary = sweep(samples.store, out, "duckdb", hunt_pack({}), iocs=parse_iocs(IOC_CSV))
    return summary, pl.read_parquet(out / "hits.parquet"), out


def test_each_tenant_gets_the_hits_workbench_hunt_gives_its_case(samples, swept):
    _summary, hits, _out = swept
    for tenant, name in CASE_OF.items():
        local = local_hunt_hits(samples.cases[name])
        assert local.height > 50
        mine = hits.filter((pl.col("tenant") == tenant) & (pl.col("kind") == "hunt"))
        assert hunt_keys(mine) == hunt_keys(local), name
        assert set(mine["case"].unique()) == {name}
        same = local.select("hunt_id", "record_id", "creation_time", "user_id", "operation", "client_ip", "severity")
        assert mine.select(same.columns).sort(same.columns).equals(same.sort(same.columns))


def test_each_tenant_gets_the_indicator_matches_workbench_ioc_gives_its_case(samples, swept):
    _summary, hits, _out = swept
    iocs = hits.filter(pl.col("kind") == "ioc")
    for tenant, name in CASE_OF.items():
        local = local_ioc_matches(samples.cases[name]).select("indicator", "record_id").unique()
        mine = iocs.filter(pl.col("tenant") == tenant).select(pl.col("title").alias("indicator"), "record_id")
        assert set(mine.iter_rows()) == set(local.iter_rows()), name
        assert mine.height == local.height  # one hit per (indicator, record)
    rule = iocs.filter(pl.col("hunt_id") == "ioc:rule_name:External sender warning")
    assert set(rule["tenant"]) == {TENANT_A, TENANT_B} and rule["why"].str.starts_with("Name=external sender warning").all()
    assert (iocs["severity"] == "high").all() and (iocs["tactic"] == "").all()
    assert iocs.filter(pl.col("hunt_id") == "ioc:cidr:185.241.149.0/24")["client_ip"].str.starts_with("185.241.149.").all()


def test_the_output_holds_the_hunt_columns_tenant_and_kind_and_a_summary_per_tenant(samples, swept):
    summary, hits, out = swept
    assert dict(hits.schema) == SWEEP_SCHEMA
    assert set(hits["kind"]) == {"hunt", "ioc"}
    csv = pl.read_csv(out / "hits.csv", infer_schema=False)
    assert csv.height == hits.height and csv.columns == hits.columns
    entries = {entry["tenant"]: entry for entry in summary["tenants"]}
    assert set(entries) == {TENANT_A, TENANT_B}
    for tenant, name in CASE_OF.items():
        own = hits.filter(pl.col("tenant") == tenant)
        entry = entries[tenant]
        assert entry["case"] == name and entry["hits"] == own.height
        assert sum(entry["by_severity"].values()) == own.height
        assert sum(entry["by_tactic"].values()) == own.filter(pl.col("kind") == "hunt").height
        assert entry["first_hit"] == own["creation_time"].min().strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["engine"] == "duckdb" and summary["not_run"] == []


def test_a_sweep_of_one_tenant_holds_only_its_hits(samples, swept, tmp_path):
    _summary, hits, _out = swept
    summary = sweep(samples.store, tmp_path, "duckdb", iocs=parse_iocs(IOC_CSV), tenants=[TENANT_A])
    assert [entry["tenant"] for entry in summary["tenants"]] == [TENANT_A]
    mine = pl.read_parquet(tmp_path / "hits.parquet")
    assert mine.equals(hits.filter((pl.col("tenant") == TENANT_A) & (pl.col("kind") == "ioc")))


def test_attacker_text_in_a_hit_is_neutralised_in_the_csv(tmp_path):
    record = {"Id": "formula-1", "CreationTime": "2023-02-20T10:00:00", "Operation": "=HYPERLINK(\"http://evil\")",
              "Workload": "Exchange", "RecordType": 1, "UserId": "@SUM(1+1)", "ClientIP": "198.51.100.9",
              "OrganizationId": TENANT_A}
    case = case_of_records(tmp_path, "formula", [record])
    publish(case, tmp_path / "store")
    sweep(tmp_path / "store", tmp_path / "out", "duckdb", iocs=parse_iocs("198.51.100.9\n"))
    csv = pl.read_csv(tmp_path / "out" / "hits.csv", infer_schema=False)
    assert csv["operation"].to_list() == ["'=HYPERLINK(\"http://evil\")"]
    assert csv["user_id"].to_list() == ["'@SUM(1+1)"]
    assert pl.read_parquet(tmp_path / "out" / "hits.parquet")["user_id"].to_list() == ["@SUM(1+1)"]


def test_sweep_command_prints_the_tenants_and_exits_by_the_rules(samples, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    iocs = tmp_path / "iocs.csv"
    iocs.write_text(IOC_CSV)
    store, out = str(samples.store), str(tmp_path / "out")
    assert main(["sweep", store, "--no-hunts", "--iocs", str(iocs), "-o", out, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [entry["case"] for entry in printed["tenants"]] == [CASE_OF[TENANT_A], CASE_OF[TENANT_B]]
    assert main(["sweep", store, "--no-hunts", "--iocs", str(iocs), "-o", out, "--tenant", TENANT_B]) == 0
    table = capsys.readouterr().out
    assert "case-b" in table and "case-a" not in table
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,type\n1.2.3.4,planet\n")
    for arguments in (["--no-hunts", "--iocs", str(bad)], ["--no-hunts"], ["--tenant", "not-there", "--no-hunts",
                      "--iocs", str(iocs)], ["--master", "local[1]"], ["--engine", "spark", "--conf", "novalue"]):
        assert main(["sweep", store, "-o", out, *arguments]) == 2, arguments
    assert main(["sweep", str(tmp_path / "no-store"), "-o", out]) == 2
    errors = capsys.readouterr().err
    assert "bad.csv:2: type 'planet'" in errors and "not-there: not in the store" in errors
    assert "no such store folder" in errors
    with pytest.raises(SystemExit) as shown:
        main(["sweep", "--help"])
    assert shown.value.code == 0


def test_sql_over_a_store_keeps_the_consoles_rules(samples, capsys):
    store = str(samples.store)
    query = "SELECT tenant, count(*) AS n FROM events WHERE operation = ‘new-transportrule’ GROUP BY tenant ORDER BY tenant"
    assert main(["sql", "--store", store, query, "--format", "json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == [{"tenant": TENANT_A, "n": 5}, {"tenant": TENANT_B, "n": 7}]
    assert "typographic quotes" in captured.err
    assert main(["sql", "--store", store, "SELECT * FROM read_parquet('/etc/passwd')"]) == 2
    assert main(["sql", "--store", store, "DELETE FROM events"]) == 2
    assert main(["sql", "--store", store, "SELECT count(*) FROM xdr_identity_o365"]) == 0
    assert "refused" in capsys.readouterr().err
