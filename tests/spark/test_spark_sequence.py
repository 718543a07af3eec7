"""Sequences and impossible travel as Spark SQL (pyspark, local[2]) give the hits of the Polars engine: every
sequence and travel hunt's inline tests and the targeted window cases as tenants of one table per source, all hunts
in one Spark job. (Over the sample cases they run in the Spark sweep of their store, test_spark_sweep.py.)"""

import pytest
from sequence_cases import (inline_tables, merged, own, polars_hits, scenario_hunts, scenario_tables,
                            sequence_and_travel_hunts, spark_hits)

import hunts


@pytest.fixture(scope="module")
def everything():
    """The tables of the inline tests and the targeted cases, the hunts, and what is expected."""
    chosen = sequence_and_travel_hunts(hunts.load_hunts())
    inline, inline_expected = inline_tables(chosen)
    scenarios, scenario_expected = scenario_tables()
    return merged(inline, scenarios), chosen + scenario_hunts(), inline_expected | scenario_expected


def test_sequences_and_travel_give_the_same_hits_on_spark_as_on_polars(spark, everything):
    tables, chosen, expected = everything

    on_polars = polars_hits(chosen, tables)
    on_spark = spark_hits(spark, chosen, tables)

    assert own(on_polars) == expected
    assert on_spark == on_polars
