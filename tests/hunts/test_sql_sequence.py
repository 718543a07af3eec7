"""Sequences and impossible travel as SQL (hunts/sql_sequence.py, hunts/sql_travel.py) on DuckDB give the hits of
the Polars engine: every sequence and travel hunt's inline tests and the sample cases, all tenants in one table,
and targeted cases of the window semantics (within / after boundaries, first activity, steps of two sources,
tenants that never join)."""

import pytest
from sequence_cases import (SCENARIOS, duckdb_hits, hunt_of, inline_tables, own, polars_hits, sample_tables,
                            scenario_hunts, scenario_tables, sequence_and_travel_hunts)

from hunts.sql_compile import UnsupportedHunt, hunt_queries, row_filter, sql_text
from hunts.sql_sequence import sequence_queries


@pytest.fixture(scope="module")
def chosen(pack):
    return sequence_and_travel_hunts(pack)


def test_every_sequence_and_travel_hunts_inline_tests_give_the_same_hits_on_duckdb(chosen):
    tables, expected = inline_tables(chosen)

    on_polars, on_duckdb = polars_hits(chosen, tables), duckdb_hits(chosen, tables)

    assert own(on_polars) == expected
    assert on_duckdb == on_polars  # every hunt over every test's tenant, not only its own
    assert {hunt_id for hunt_id, *_ in expected} >= {hunt.id for hunt in chosen}  # each hunt has a positive test


def test_the_sample_cases_give_the_same_hits_on_duckdb(chosen, tmp_path_factory, sample_logs):
    tables = sample_tables(tmp_path_factory.mktemp("sequence-cases"), sample_logs, chosen)

    on_polars = polars_hits(chosen, tables)

    assert {tenant for _, _, tenant, _ in on_polars} == {"case-a", "case-b"}
    assert duckdb_hits(chosen, tables) == on_polars


@pytest.fixture(scope="module")
def scenario_hits():
    """The targeted scenarios' expected hits, and the hits on Polars and DuckDB (every scenario's hunt over every
    scenario's tenants)."""
    tables, expected = scenario_tables()
    chosen = scenario_hunts()
    return expected, polars_hits(chosen, tables), duckdb_hits(chosen, tables)


@pytest.mark.parametrize("scenario", [name for name, *_ in SCENARIOS])
def test_window_semantics_on_polars_and_duckdb(scenario, scenario_hits):
    expected, on_polars, on_duckdb = ({hit for hit in hits if hit[0] == scenario} for hits in scenario_hits)

    assert own(on_polars) == expected
    assert on_duckdb == on_polars


def test_a_sequence_flags_rows_of_each_flagged_steps_source():
    hunt = next(hunt for hunt in scenario_hunts() if hunt.id.startswith("steps of two sources"))

    queries = sequence_queries(hunt, row_filter)

    assert sorted(queries) == ["directory_audits", "sign_ins"]
    assert all(sql_text(query, "spark").startswith("SELECT DISTINCT `tenant`, `record_id` FROM") for query in queries.values())


def test_travel_over_a_threshold_is_refused_naming_the_hunt():
    hunt = hunt_of('source = "sign_ins"\nthreshold = { by = ["user_key"], min = 3 }\ntravel = { by = ["user_key"] }\n')

    with pytest.raises(UnsupportedHunt, match=r"^case: travel over the rows a threshold"):
        hunt_queries(hunt)
