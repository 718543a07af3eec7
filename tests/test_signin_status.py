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


def test_the_drill_down_of_a_failed_logon_says_its_status_in_words():
    """An audit log logon's ErrorNumber decoded by the same table as the sign-ins' status (an interrupt is not a
    failure), with its LogonError: from the event's columns, or from the record once it is read."""
    import json

    from workbench.core.load import events_from_records
    from workbench.ui.widgets.event_detail import detail_text, read_record

    base = {"CreationTime": "2024-03-04T10:00:00", "Operation": "UserLoginFailed", "Workload": "AzureActiveDirectory",
            "RecordType": 15, "UserId": "u@example.com", "ResultStatus": "Failed", "ClientIP": "81.2.69.142"}
    records = [base | {"Id": "kmsi", "ErrorNumber": "50140", "LogonError": "KmsiInterrupt"},
               base | {"Id": "password", "ErrorNumber": 50126, "LogonError": "InvalidUserNameOrPassword"},
               base | {"Id": "hostile", "ErrorNumber": "50126", "LogonError": "\x1b[2J[red]x[/red]"},
               base | {"Id": "none", "Operation": "UserLoggedIn"}]
    rows = {row["record_id"]: row for row in events_from_records(records).to_dicts()}
    shown = {key: detail_text(row, None).plain for key, row in rows.items()}
    assert "logon status: 50140 interrupt: Keep me signed in (KMSI) prompt shown during sign-in (KmsiInterrupt)\n" in shown["kmsi"]
    assert "logon status: 50126 failure: invalid username or password (InvalidUserNameOrPassword)\n" in shown["password"]
    assert "(\\x1b[2J[red]x[/red])" in shown["hostile"] and "\x1b" not in shown["hostile"]
    assert "logon status" not in shown["none"]
    # the events view leaves the columns out of its frame: the status comes from the record
    bare = {key: value for key, value in rows["kmsi"].items() if key not in ("error_number", "logon_error")}
    assert "logon status" not in detail_text(bare, None).plain
    record = read_record("kmsi", json.dumps(records[0]))
    assert "logon status: 50140 interrupt:" in detail_text(bare, record).plain
