"""Provides conflicting duplicates: records that share an `Id` with a loaded record but differ from it.

The loader loads the first version of each record id and sets every later one aside. Once every file
is read, `resolve` compares each set-aside version with the loaded one. The same record written by
another export (other key order or spacing) is an exact duplicate; any other difference makes a
*conflicting duplicate*: kept in the state's `conflicts/` parts (the events columns plus `kept_file`,
`kept_row`), counted apart in the load report and listed there with both versions' file and row.
"""

import json
from pathlib import Path

import polars as pl

from workbench.core.kept_records import KeptRecords
from workbench.core.load_report import LoadReport

MAX_LISTED = 200
#: The columns a conflicting duplicate has beyond the events': where the version loaded came from.
KEPT_COLUMNS = {"kept_file": pl.String, "kept_row": pl.Int64}


def _canonical(text: str) -> str | None:
    """The record as JSON with sorted keys and no spacing, without the OData annotations Microsoft Graph adds
    to a record (`@odata.type`); None when it cannot be read as an object."""
    try:
        record = json.loads(text)
        if not isinstance(record, dict):
            return None
        content = {key: value for key, value in record.items() if not key.startswith("@odata.")}
        return json.dumps(content, sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        return None


def _same_record(texts: pl.Series, kept: pl.Series) -> pl.Series:
    """Per pair, whether two record texts hold the same JSON value.

    Runs per pair in Python, but only on duplicates whose text differs from the loaded version's
    (an overlapping export of another shape, or a real conflict), never on the events.
    """
    def same(text: str, other: str) -> bool:
        canonical = _canonical(text)
        return canonical is not None and canonical == _canonical(other)

    return pl.Series([same(text, other) for text, other in zip(texts, kept)], dtype=pl.Boolean)


def resolve(state: Path, report: LoadReport) -> None:
    """Tell the set-aside duplicates of a loaded state apart; write the conflicting ones and count them."""
    set_aside = sorted((state / "duplicates" / "events").glob("part-*.parquet"))
    events = pl.scan_parquet(sorted((state / "events").glob("part-*.parquet")), glob=False)
    kept = KeptRecords(state)
    if kept:
        events = events.with_columns(kept.fill_expression())
    files = {file_report.path: file_report for file_report in report.files}
    for number, part in enumerate(set_aside):
        others = pl.read_parquet(part, glob=False)
        kept = (events.filter(pl.col("record_id").is_in(others["record_id"].unique().implode()))
                .select("record_id", pl.col("source_file").alias("kept_file"), pl.col("source_row").alias("kept_row"),
                        pl.col("operation").alias("kept_operation"), pl.col("audit_data").alias("kept_text"))
                .collect())
        pairs = others.join(kept, on="record_id", how="left")
        differ = pairs.filter(pl.col("audit_data") != pl.col("kept_text"))
        conflicting = differ.filter(~_same_record(differ["audit_data"], differ["kept_text"]))
        if not conflicting.height:
            continue
        (state / "conflicts").mkdir(exist_ok=True)
        conflicting.select(*others.columns, *KEPT_COLUMNS).write_parquet(state / "conflicts" / f"part-{number:05d}.parquet")
        for source_file, count in conflicting.group_by("source_file").len().iter_rows():
            files[source_file].duplicates -= count
            files[source_file].conflicting += count
        room = MAX_LISTED - len(report.conflicts)
        report.conflicts += [
            {"record_id": row["record_id"],
             "kept": {"file": row["kept_file"], "row": row["kept_row"], "operation": row["kept_operation"]},
             "conflicting": {"file": row["source_file"], "row": row["source_row"], "operation": row["operation"]}}
            for row in conflicting.head(max(room, 0)).to_dicts()
        ]
