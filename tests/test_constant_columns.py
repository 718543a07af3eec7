"""Columns that hold one text in every row, or none, are read as literals: found from the Parquet statistics alone,
never for a text the statistics may have cut, and the frames read the same."""

import polars as pl
from polars.testing import assert_frame_equal

from hunts.model import as_text
from tests.conftest import case_of_records
from workbench.core.activity import DRILL_DOWN_ONLY
from workbench.core.constant_columns import STATISTICS_CUT, constant_columns


def _parts(tmp_path, *frames: pl.DataFrame) -> tuple:
    paths = []
    for number, frame in enumerate(frames):
        path = tmp_path / f"part-{number}.parquet"
        frame.write_parquet(path, row_group_size=2)
        paths.append(path)
    return tuple(paths)


def test_constants_are_found_from_the_statistics_of_every_row_group(tmp_path):
    long = "x" * (STATISTICS_CUT - 1)
    first = pl.DataFrame({"same": ["a"] * 5, "empty": pl.Series([None] * 5, dtype=pl.String), "varies": list("abcab"),
                          "long": [long + "y"] * 5, "edge": [long] * 5, "late": ["a"] * 5})
    second = first.head(3).with_columns(pl.lit("b").alias("late")).drop("empty")  # a part without the column
    columns = ("same", "empty", "varies", "long", "edge", "late", "missing")
    found = constant_columns(_parts(tmp_path, first, second), columns)
    assert found == {"same": "a", "empty": None, "edge": long, "missing": None}
    assert constant_columns((), columns) == {}


def test_a_case_reads_the_same_frames_with_its_constant_columns_as_literals(tmp_path):
    records = [{"Id": f"r{n}", "CreationTime": f"2024-03-01T10:00:{n:02d}", "Operation": "FileAccessed",
                "RecordType": 6, "UserId": f"user{n % 3}@contoso.com", "OrganizationId": "ORG-1"} for n in range(9)]
    case = case_of_records(tmp_path, "literals", records)
    constants = constant_columns(tuple(case.parts()), ("case", "source_file", "organization_id", "session_id", "user_key"))
    source = str(tmp_path / "records.jsonl")  # a path of 64 bytes or more may be cut in the statistics: read
    assert constants == {"case": "literals", "organization_id": "org-1", "session_id": None} | (
        {"source_file": source} if len(source.encode()) < STATISTICS_CUT else {})
    read = pl.read_parquet(case.parts(), glob=False).drop("audit_data").sort("creation_time")
    assert_frame_equal(case.events(), read)
    activity = as_text(case.activity(view=True))
    assert activity["source"].unique().to_list() == ["ual"] and activity["sign_in_type"].null_count() == 9
    assert_frame_equal(activity.select(read.drop(*DRILL_DOWN_ONLY).columns), read.drop(*DRILL_DOWN_ONLY))


def test_polars_cuts_text_statistics_where_constant_columns_expects(tmp_path):
    """What `STATISTICS_CUT` stands on: a longer text's statistics are cut to that many bytes, a shorter one's whole
    (a Polars that cut shorter would make two texts with a common start look like one)."""
    import pyarrow.parquet as pq

    path = _parts(tmp_path, pl.DataFrame({"text": ["é" * 100, "é" * 10]}))[0]
    statistics = pq.read_metadata(path).row_group(0).column(0).statistics
    assert len(statistics.max.encode()) <= STATISTICS_CUT and statistics.min == "é" * 10
    assert len(statistics.max.encode()) >= STATISTICS_CUT - 1  # cut at the limit (within a UTF-8 character)
