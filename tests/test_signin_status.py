"""The Entra sign-in status table and its Polars decoders (kind and meaning of a status code)."""

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.signin_status import STATUS_KINDS, TABLE, load_table, status_kind, status_meaning

#: Codes that are a step of a sign-in that goes on, never a refusal.
MUST_BE_INTERRUPTS = (50140, 50074, 50076, 50072, 90072, 50097, 50125, 50199, 50058, 81010, 50079, 50129,
                      50143, 16000, 16003)


def test_table_parses_with_header_and_types():
    table = load_table()
    assert table.columns == ["code", "kind", "meaning", "reference"]
    assert table.schema == {"code": pl.Int64, "kind": pl.String, "meaning": pl.String, "reference": pl.String}
    assert 80 <= table.height <= 130
    assert table.null_count().sum_horizontal().item() == 0
    assert TABLE.equals(table)


def test_rows_are_valid():
    assert TABLE["code"].is_unique().all()
    assert set(TABLE["kind"]) <= set(STATUS_KINDS)
    assert TABLE.filter(pl.col("kind") == "success")["code"].to_list() == [0]
    for meaning in TABLE["meaning"]:
        assert 0 < len(meaning) <= 80 and meaning == meaning.strip()
    for reference in TABLE["reference"]:
        assert reference.startswith("https://learn.microsoft.com/"), reference


def test_required_codes_have_the_expected_kind():
    kinds = dict(zip(TABLE["code"], TABLE["kind"]))
    for code in MUST_BE_INTERRUPTS:
        assert kinds[code] == "interrupt", code
    for code in (50126, 50053, 50057, 50055, 53003, 500121, 70043, 700082):
        assert kinds[code] == "failure", code


def test_expressions_on_a_series_of_codes():
    frame = pl.DataFrame({"code": [0, 50126, 50140, 50074, 53003, 99999999, None]}, schema={"code": pl.Int64})
    decoded = frame.select(kind=status_kind(pl.col("code")), meaning=status_meaning(pl.col("code")))
    assert decoded["kind"].to_list() == ["success", "failure", "interrupt", "interrupt", "failure", "failure", None]
    meanings = decoded["meaning"].to_list()
    by_code = dict(zip(TABLE["code"], TABLE["meaning"]))
    assert meanings[:5] == [by_code[c] for c in (0, 50126, 50140, 50074, 53003)]
    assert meanings[5] == "error 99999999 (not in the table)"
    assert meanings[6] is None


def test_output_keeps_the_input_name_and_other_integer_widths():
    frame = pl.DataFrame({"ResultType": [50126, None, 0]}, schema={"ResultType": pl.Int32})
    out = frame.select(status_kind(pl.col("ResultType")))
    assert out.columns == ["ResultType"]
    assert out["ResultType"].to_list() == ["failure", None, "success"]


def test_every_table_row_decodes_to_itself():
    decoded = TABLE.select(kind=status_kind(pl.col("code")), meaning=status_meaning(pl.col("code")))
    assert decoded["kind"].to_list() == TABLE["kind"].to_list()
    assert decoded["meaning"].to_list() == TABLE["meaning"].to_list()


int64 = st.integers(-(2**63), 2**63 - 1)


@given(st.lists(st.one_of(st.none(), int64, st.sampled_from(TABLE["code"].to_list())), max_size=50))
def test_kind_is_one_of_three_for_codes_and_null_for_null(codes):
    frame = pl.DataFrame({"code": codes}, schema={"code": pl.Int64})
    decoded = frame.select(kind=status_kind(pl.col("code")), meaning=status_meaning(pl.col("code")))
    known = dict(zip(TABLE["code"], TABLE["kind"]))
    for code, kind, meaning in zip(codes, decoded["kind"], decoded["meaning"]):
        if code is None:
            assert kind is None and meaning is None
        else:
            assert kind in STATUS_KINDS
            assert kind == ("success" if code == 0 else known.get(code, "failure"))
            assert meaning and (code in known or meaning == f"error {code} (not in the table)")
