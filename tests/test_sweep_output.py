"""Reading a sweep's output folder: the grid's counts from hand-written hits, and clear errors for bad folders."""

import json
import re

import polars as pl
import pytest

from tests.sweep_fixture import CASE_A_TENANT, FABRIKAM, FULL_ACCESS, HITS, QUIET, SCHEMA, summary, write_sweep
from workbench.cli import main
from workbench.core.sweep import SWEEP_SCHEMA, write_output
from workbench.core.sweep_output import SweepOutputError, read_sweep


def cells(sweep) -> dict:
    return {(tenant, column): (hits, severity) for tenant, column, hits, severity in sweep.cells().iter_rows()}


def test_the_grid_counts_distinct_events_per_tenant_and_tactic_with_the_highest_severity(tmp_path):
    sweep = read_sweep(write_sweep(tmp_path / "out"))
    assert [column.name for column in sweep.grid_columns()][-2:] == ["Impact", "IOC"]
    assert [entry["tenant"] for entry in sweep.tenants] == [CASE_A_TENANT, FABRIKAM, QUIET]
    counted = cells(sweep)
    # the inbox rule hit counts under both its tactics; the spoof allow item makes Defense Evasion critical
    assert counted[CASE_A_TENANT, "TA0005"] == (2, "critical")
    assert counted[CASE_A_TENANT, "TA0009"] == (1, "medium")
    assert counted[CASE_A_TENANT, "ioc"] == (1, "high")
    # the IOC and the delegate hunt hit the same record: the tenant's total counts it once
    assert counted[CASE_A_TENANT, None] == (3, "critical")
    assert counted[FABRIKAM, "TA0001"] == (1, "low") and counted[FABRIKAM, None] == (2, "medium")
    assert counted[None, "TA0005"] == (3, "critical") and counted[None, None] == (5, "critical")
    assert not any(tenant == QUIET for tenant, _ in counted)

    full_access = sweep.tenant_hits(CASE_A_TENANT)
    assert full_access["severity"].to_list() == ["critical", "high", "high", "medium"]
    assert set(sweep.tenant_hits(CASE_A_TENANT, "TA0003")["record_id"]) == {FULL_ACCESS}
    overview = sweep.overview(CASE_A_TENANT)
    assert overview["by_severity"] == {"critical": 1, "high": 1, "medium": 1}
    assert f"{overview['first_hit']:%H:%M:%S}" == "08:14:05" and f"{overview['last_hit']:%H:%M:%S}" == "09:02:44"


def test_what_workbench_sweep_writes_is_read_as_written(tmp_path):
    """The sweep's own writer and schema (the five-field ATT&CK pairs, matrix technique ids) read back unchanged."""
    pairs = pl.Struct({"tactic_id": pl.String, "tactic": pl.String, "technique_id": pl.String,
                       "technique": pl.String, "matrix_technique_id": pl.String})
    rows = [{**hit, "matrix_technique_id": hit["technique_id"],
             "techniques": [{**pair, "tactic": "", "technique": "", "matrix_technique_id": pair["technique_id"]}
                            for pair in hit["techniques"]]} for hit in HITS]
    hits = pl.DataFrame(rows, schema={**SCHEMA, "techniques": pl.List(pairs), "matrix_technique_id": pl.String})
    hits = hits.select(list(SWEEP_SCHEMA)).cast(SWEEP_SCHEMA)
    write_output(tmp_path / "out", hits, summary(hits, {CASE_A_TENANT: "case-a", FABRIKAM: None}))
    sweep = read_sweep(tmp_path / "out")
    assert sweep.hits.drop("columns").equals(hits)
    assert cells(sweep)[CASE_A_TENANT, "TA0005"] == (2, "critical") and cells(sweep)[None, None] == (5, "critical")


def test_a_hit_naming_no_tactic_counts_as_unmapped_and_tenants_only_in_the_hits_are_listed(tmp_path):
    stray = {**HITS[0], "tenant": "0f0f0f0f-aaaa-4bbb-8ccc-dddddddddddd", "techniques": [], "tactic_id": "",
             "record_id": "r-1"}
    sweep = read_sweep(write_sweep(tmp_path / "out", [*HITS, stray]))
    assert [column.key for column in sweep.grid_columns()][-2:] == ["unmapped", "ioc"]
    assert cells(sweep)[stray["tenant"], "unmapped"] == (1, "high")
    assert sweep.tenants[-1] == {"tenant": stray["tenant"], "case": None}


def test_an_empty_sweep_has_every_tactic_and_no_counts(tmp_path):
    sweep = read_sweep(write_sweep(tmp_path / "out", []))
    assert len(sweep.grid_columns()) == 11 and sweep.cells().is_empty()
    assert sweep.overview(None) == {"by_severity": {}, "first_hit": None, "last_hit": None}


def broken(tmp_path, what: str):
    out = write_sweep(tmp_path / "out")
    if what == "no summary":
        (out / "summary.json").unlink()
    elif what == "summary not json":
        (out / "summary.json").write_text('{"tenants": [\n  {"tenant": "x"},\n', encoding="utf-8")
    elif what == "summary shape":
        (out / "summary.json").write_text(json.dumps({"tenants": [{"hits": 3}]}), encoding="utf-8")
    elif what == "no hits":
        (out / "hits.parquet").unlink()
    elif what == "hits not parquet":
        (out / "hits.parquet").write_text("tenant,hunt_id\nx,y\n", encoding="utf-8")
    elif what == "hits columns":
        pl.DataFrame(HITS, schema=SCHEMA).drop("why", "kind").write_parquet(out / "hits.parquet")
    elif what == "hits types":
        pl.DataFrame(HITS, schema=SCHEMA).with_columns(pl.lit("Tuesday").alias("creation_time")).write_parquet(
            out / "hits.parquet")
    return out


@pytest.mark.parametrize("what, file, says", [
    ("no summary", "summary.json", "missing"),
    ("summary not json", "summary.json", "line 3 column 1: not JSON"),
    ("summary shape", "summary.json", "tenants[0]: expected an object with a string `tenant`"),
    ("no hits", "hits.parquet", "missing"),
    ("hits not parquet", "hits.parquet", "not a readable Parquet file"),
    ("hits columns", "hits.parquet", "missing columns kind, why"),
    ("hits types", "hits.parquet", "a column has the wrong type"),
])
def test_a_malformed_sweep_folder_is_a_clear_error_naming_the_file(tmp_path, capsys, what, file, says):
    out = broken(tmp_path, what)
    with pytest.raises(SweepOutputError, match=re.escape(says)):
        read_sweep(out)
    assert main(["--sweep", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"workbench: {out / file}: ") and says in error and "Traceback" not in error


def test_a_missing_folder_or_sweep_beside_paths_is_a_usage_error(tmp_path, capsys):
    assert main(["--sweep", str(tmp_path / "nowhere")]) == 2
    assert f"{tmp_path / 'nowhere'}: no such folder" in capsys.readouterr().err
    assert main(["--sweep", str(write_sweep(tmp_path / "out")), "--case", "case-a"]) == 2
    assert "without PATH or --case" in capsys.readouterr().err
