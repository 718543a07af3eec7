"""Provides folding of repeated sign-ins and directory audits: several rows of one record id become one.

Exports repeat Entra records: pages and downloads overlap, one record arrives in several shapes, and Log
Analytics keeps several rows of one sign-in id while its processing fills fields in. The loader loads the
first row of each id and sets the others aside; `fold` then gives the loaded row, column by column, the value
of the most complete version that has one (most values first, then load order), so the sign-in keeps every
value any of its rows had. Versions whose values differ from the loaded row's are counted as `folded` (they
stay counted among the duplicates); the original record kept is the first one loaded.
"""

import shutil
from pathlib import Path

import polars as pl

from workbench.core.load import write_part
from workbench.core.load_report import LoadReport

#: Columns that say where a row came from, not what it holds.
PROVENANCE = ("raw", "case", "source_file", "source_row")


def fold(state: Path, report: LoadReport, frame: str) -> None:
    """Fold the set-aside rows of `frame` in a loaded state into its loaded rows; count the folds per file."""
    set_aside = sorted((state / "duplicates" / frame).glob("part-*.parquet"))
    if not set_aside:
        return
    others = pl.read_parquet(set_aside, glob=False)
    values = [name for name in others.columns if name not in PROVENANCE and name != "record_id"]
    files = {file_report.path: file_report for file_report in report.files}
    for part in sorted((state / frame).glob("part-*.parquet")):
        loaded = pl.read_parquet(part, glob=False)
        repeats = others.filter(pl.col("record_id").is_in(loaded["record_id"].implode()))
        if not repeats.height:
            continue
        kept = loaded.filter(pl.col("record_id").is_in(repeats["record_id"].implode()))
        differ = repeats.join(kept.select("record_id", *values), on="record_id", suffix="__kept").filter(
            pl.any_horizontal(pl.col(name).ne_missing(pl.col(f"{name}__kept")) for name in values))
        if not differ.height:
            continue
        for source_file, count in differ.group_by("source_file").len().iter_rows():
            files[source_file].folded += count
        versions = pl.concat([kept.select("record_id", *values), differ.select("record_id", *values)])
        merged = (versions.with_columns(pl.int_range(pl.len()).alias("__order"),
                                        pl.sum_horizontal(pl.col(values).is_not_null()).alias("__filled"))
                  .sort(["record_id", "__filled", "__order"], descending=[False, True, False])
                  .group_by("record_id").agg(pl.col(values).drop_nulls().first()))
        write_part(loaded.update(merged, on="record_id"), part)


def fold_all(state: Path, report: LoadReport, frames: tuple[str, ...]) -> None:
    """Fold every frame's repeats, then remove what was set aside."""
    for frame in frames:
        fold(state, report, frame)
    shutil.rmtree(state / "duplicates", ignore_errors=True)
