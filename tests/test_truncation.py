"""Inputs cut off by their collector: a row count at a collector's limit, a time range that stops short."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from workbench.core.truncation import CUT_OFF_MARK, MARGIN, cut_off_note, short_ranges

START = datetime(2023, 2, 20, tzinfo=UTC)


def rows(name: str, start: datetime, hours: int, per_hour: int = 25) -> pl.DataFrame:
    """`per_hour` records, evenly spread, in each of `hours` hours from `start`."""
    times = [start + timedelta(hours=hour, minutes=n * 60 // per_hour) for hour in range(hours) for n in range(per_hour)]
    return pl.DataFrame({"source_file": [name] * len(times), "creation_time": times},
                        schema={"source_file": pl.String, "creation_time": pl.Datetime("us", "UTC")})


def notes_of(*files: pl.DataFrame, frame: str = "events") -> dict[str, str]:
    return short_ranges({frame: pl.concat(files).lazy()})


def test_a_file_busy_to_its_end_while_another_goes_on_stops_short():
    notes = notes_of(rows("cut.csv", START, 24), rows("full.csv", START, 72, per_hour=2))

    assert list(notes) == ["cut.csv"]
    assert notes["cut.csv"] == (
        "its audit log records stop at 2023-02-20 23:57:00, busy to the end (25 in the last hour), while full.csv goes "
        f"on to 2023-02-22 23:30:00: the export {CUT_OFF_MARK}; export that time range again")


def test_a_file_busy_from_its_start_while_another_began_long_before_starts_short():
    notes = notes_of(rows("newest.json", START + timedelta(days=2), 24), rows("all.json", START, 72, per_hour=2),
                     frame="sign_ins")

    assert list(notes) == ["newest.json"]
    assert notes["newest.json"].startswith("its sign-ins records start at 2023-02-22 00:00:00, busy from the start (25 "
                                           "in the first hour), while all.json begins at 2023-02-20 00:00:00")


def test_quiet_edges_successive_exports_short_overhangs_and_small_files_are_not_cut():
    tapering = pl.concat([rows("tapering.csv", START, 20), rows("tapering.csv", START + timedelta(hours=20), 4, 5)])
    successive = rows("february.csv", START + timedelta(days=1), 24)  # begins after the first export ends
    barely = rows("barely.csv", START, 24 + int(MARGIN.total_seconds() // 3600) - 1, per_hour=2)
    small = rows("small.csv", START, 19)  # 475 records
    sparse = rows("sparse.csv", START, 24 * 30, per_hour=1)  # a month, one record an hour: no edge is busy

    assert notes_of(rows("january.csv", START, 24), successive) == {}
    assert notes_of(tapering, rows("full.csv", START, 72)) == {}
    assert notes_of(rows("busy.csv", START, 24), barely) == {}  # goes on less than MARGIN past it
    assert notes_of(small, rows("full.csv", START, 72, per_hour=1)) == {}
    assert notes_of(sparse, rows("full.csv", START, 24 * 32, per_hour=1)) == {}
    assert notes_of(rows("alone.csv", START, 24)) == {}


def test_each_collectors_row_limit_is_named():
    assert "Search-UnifiedAuditLog's -ResultSize limit" in cut_off_note(5_000)
    assert "Defender XDR advanced hunting's result limit" in cut_off_note(100_000)
    assert "the Entra admin center's download limit" in cut_off_note(250_000)
    assert cut_off_note(4_999) is None and cut_off_note(100) is None


def test_info_reports_a_time_range_that_stops_short(tmp_path, capsys):
    from workbench.cli import main

    def record(n: int, time: datetime) -> str:
        return json.dumps({"Id": f"{time:%Y%m%d%H%M%S}-{n}", "CreationTime": f"{time:%Y-%m-%dT%H:%M:%S}",
                           "Operation": "FileAccessed", "Workload": "SharePoint", "RecordType": 6,
                           "UserId": "u@example.com", "ClientIP": "50.237.205.113"}) + "\n"

    cut, full = tmp_path / "cut.jsonl", tmp_path / "full.jsonl"
    cut.write_text("".join(record(1, t) for t in rows("c", START, 12, per_hour=50)["creation_time"]))
    full.write_text("".join(record(2, t) for t in rows("f", START, 48, per_hour=1)["creation_time"]))

    assert main(["info", str(cut), str(full), "--case", "short", "--case-dir", str(tmp_path / "cases"),
                 "--format", "json"]) == 0
    files = {Path(file["path"]).name: file for file in json.loads(capsys.readouterr().out)["files"]}
    assert files["cut.jsonl"]["note"].startswith("its audit log records stop at 2023-02-20 11:58:00, busy to the end")
    assert CUT_OFF_MARK in files["cut.jsonl"]["note"] and files["full.jsonl"]["note"] is None
