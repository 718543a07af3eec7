"""`ValueIndex.match` gives, row for row, what the expression gives evaluated on the column itself: for text,
integers and booleans, with nulls, with values the index's sample never saw, and for columns it declines."""

import polars as pl
from hypothesis import given, settings, strategies as st

from workbench.core.value_index import SAMPLE, ValueIndex


def _direct_and_indexed(frame: pl.DataFrame, column: str, expression: pl.Expr) -> tuple[list, list]:
    index = ValueIndex(frame)
    direct = frame.select(expression.fill_null(False).alias("r"))["r"].to_list()
    indexed = frame.select(index.match(column, expression).alias("r"))["r"].to_list()
    return direct, indexed


@settings(max_examples=40, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.sampled_from(["Success", "failure", " interrupted", "", "x"])),
                       min_size=1, max_size=60),
       wanted=st.sampled_from(["success", "failure", "", "interrupted"]))
def test_text_columns_match_as_the_expression_says(values, wanted):
    frame = pl.DataFrame({"status": values * 3}, schema={"status": pl.String})
    expression = pl.col("status").cast(pl.String).str.to_lowercase().str.strip_chars() == wanted
    direct, indexed = _direct_and_indexed(frame, "status", expression)
    assert indexed == direct


@settings(max_examples=40, deadline=None)
@given(numbers=st.lists(st.one_of(st.none(), st.integers(-3, 3)), min_size=1, max_size=60),
       flags=st.lists(st.one_of(st.none(), st.booleans()), min_size=1, max_size=60))
def test_integer_and_boolean_columns_are_tested_as_their_text(numbers, flags):
    rows = max(len(numbers), len(flags))
    frame = pl.DataFrame({"asn": (numbers * rows)[:rows] * 3, "managed": (flags * rows)[:rows] * 3},
                         schema={"asn": pl.Int64, "managed": pl.Boolean})
    for column, expression in (("asn", pl.col("asn").cast(pl.String).is_in(["-2", "3"])),
                               ("asn", pl.col("asn").cast(pl.String).is_null()),
                               ("managed", pl.col("managed").cast(pl.String) == "true")):
        direct, indexed = _direct_and_indexed(frame, column, expression)
        assert indexed == direct, column


def test_values_beyond_the_sample_are_coded_too():
    common = ["Exchange", "SharePoint"] * SAMPLE * 2
    rare = [f"app-{number}" for number in range(50)]  # among 40,000 rows, a sample of 10,000 misses most of them
    frame = pl.DataFrame({"app": common + rare, "code": list(range(2)) * SAMPLE * 2 + list(range(100, 150))})
    index = ValueIndex(frame)
    assert index.covers("app") and index.covers("code")
    picked = frame.filter(index.match("app", pl.col("app").str.starts_with("app-4")))
    assert picked["app"].to_list() == ["app-4", *(f"app-{number}" for number in range(40, 50))]
    picked = frame.filter(index.match("code", pl.col("code").cast(pl.String).str.starts_with("14")))
    assert picked["code"].to_list() == list(range(140, 150))


def test_a_column_of_mostly_distinct_values_is_not_indexed_and_still_matches():
    frame = pl.DataFrame({"record_id": [f"id-{number}" for number in range(500)]})
    index = ValueIndex(frame)
    assert not index.covers("record_id")
    assert frame.filter(index.match("record_id", pl.col("record_id") == "id-7")).height == 1


def test_codes_take_one_or_two_bytes_and_a_literal_column_is_coded_as_it_is():
    rows = 40_000
    frame = pl.DataFrame({"few": [f"op{n % 7}" for n in range(rows)], "some": [f"ip{n % 300}" for n in range(rows)],
                          "count": [n % 5 for n in range(rows)]}).with_columns(pl.lit("case-a").alias("case"))
    index = ValueIndex(frame)
    assert [index.codes(name).dtype for name in ("few", "some", "count", "case")] == [pl.UInt8, pl.UInt16, pl.UInt8,
                                                                                      pl.UInt8]
    for column, expression in (("some", pl.col("some") == "ip299"), ("case", pl.col("case").str.starts_with("case")),
                               ("count", pl.col("count").cast(pl.String) == "4")):
        direct, indexed = _direct_and_indexed(frame, column, expression)
        assert indexed == direct and any(indexed)
