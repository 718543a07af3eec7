"""Provides the signs that an input was cut off by its collector: a row count at a collector's limit, and a time
range that stops short while the case's other inputs go on.

Collectors stop without an error when a search finds more than they return, so an export can look complete
while the records of its last (or first) hours or days are missing:
- `Search-UnifiedAuditLog` returns at most 5,000 rows a call (`-ResultSize`) and at most 50,000 over a paged
  session (`-SessionCommand ReturnLargeSet`, whose rows come unsorted); the Purview audit search exports at most
  50,000 rows.
- Defender XDR's advanced hunting returns at most 100,000 rows a query.
- The Entra admin center downloads at most 250,000 sign-in or audit records (larger sets need the Graph API).

A time range stops short when a file (of at least `MIN_ROWS` records) was busy at its edge and another input of
the same kind and tenant went on without it: its last hour (from its last record back) holds at least
`MIN_EDGE_RECORDS` records and at least as many as its median active hour, and another file of the same frame and
`organization_id` began before that last record and goes on `MARGIN` or more past it. The same holds mirrored for a file whose first hour is busy while another file began `MARGIN` or more
before it (collectors that keep the newest records lose the oldest).
"""

from datetime import timedelta
from pathlib import Path

import polars as pl

from workbench.core.load_report import LoadReport
from workbench.core.schema import TIME_COLUMN

#: Row counts at which collectors stop: an export of exactly this many rows is probably cut off.
COLLECTOR_LIMITS = {
    5_000: "Search-UnifiedAuditLog's -ResultSize limit",
    50_000: "Search-UnifiedAuditLog's limit with -SessionCommand ReturnLargeSet, and the Purview audit export's",
    100_000: "Defender XDR advanced hunting's result limit",
    250_000: "the Entra admin center's download limit",
}
CUT_OFF_MARK = "may be cut off"
#: How far another input must go on past a file's edge for the file to look cut short.
MARGIN = timedelta(hours=6)
#: Files with fewer records are not judged by their time range (a few records make no usual hour).
MIN_ROWS = 500
#: An edge hour with fewer records is quiet whatever the file's usual hour (a sparse log's end tells nothing).
MIN_EDGE_RECORDS = 10
FRAME_NAMES = {"events": "audit log", "sign_ins": "sign-ins", "directory_audits": "directory audits",
               "messages": "message trace"}


def cut_off_note(rows: int) -> str | None:
    """Why an export of `rows` rows looks cut off by a collector's limit, or None."""
    if rows not in COLLECTOR_LIMITS:
        return None
    return (f"exactly {rows:,} rows, {COLLECTOR_LIMITS[rows]}: the export {CUT_OFF_MARK}; check that its time range "
            "covers what was asked for, and export the rest in smaller time ranges")


def _edges(rows: pl.LazyFrame) -> pl.DataFrame:
    """Per source file and tenant: rows, first and last time, records in its first and last hour, its median
    active hour."""
    key = ["source_file", "tenant"]
    spans = rows.group_by(key).agg(rows=pl.len(), first=pl.col("creation_time").min(),
                                   last=pl.col("creation_time").max())
    hour = timedelta(hours=1)
    edge_counts = rows.join(spans, on=key).group_by(key).agg(
        first_hour=(pl.col("creation_time") < pl.col("first") + hour).sum(),
        last_hour=(pl.col("creation_time") > pl.col("last") - hour).sum())
    usual = (rows.group_by(*key, pl.col("creation_time").dt.truncate("1h").alias("hour")).len()
             .group_by(key).agg(usual_hour=pl.col("len").median()))
    return spans.join(edge_counts, on=key).join(usual, on=key).collect()


def _stamp(column: str) -> pl.Expr:
    return pl.col(column).dt.strftime("%Y-%m-%d %H:%M:%S")


def short_ranges(frames: dict[str, pl.LazyFrame]) -> dict[str, str]:
    """Per source file whose time range stops short (see the module), the note saying where and beside what."""
    notes: dict[str, str] = {}
    for frame, rows in frames.items():
        tenant = pl.col("organization_id").fill_null("") if "organization_id" in rows.collect_schema() else pl.lit("")
        edges = _edges(rows.select("source_file", tenant.alias("tenant"),
                                   pl.col(TIME_COLUMN[frame]).alias("creation_time")).drop_nulls())
        if edges.height < 2:
            continue
        others = edges.select(pl.col("source_file").alias("other"), "tenant", pl.col("first").alias("other_first"),
                              pl.col("last").alias("other_last"))
        pairs = edges.join(others, on="tenant").filter(
            (pl.col("other") != pl.col("source_file")) & (pl.col("rows") >= MIN_ROWS))
        kind = FRAME_NAMES.get(frame, frame)
        busy_end = pl.col("last_hour") >= pl.max_horizontal("usual_hour", MIN_EDGE_RECORDS)
        busy_start = pl.col("first_hour") >= pl.max_horizontal("usual_hour", MIN_EDGE_RECORDS)
        ends = pairs.filter(busy_end & (pl.col("other_first") < pl.col("last"))
                            & (pl.col("other_last") >= pl.col("last") + MARGIN)).sort("other_last", descending=True)
        starts = pairs.filter(busy_start & (pl.col("other_last") > pl.col("first"))
                              & (pl.col("other_first") <= pl.col("first") - MARGIN)).sort("other_first")
        for found, said in ((ends, pl.concat_str([
                pl.lit(f"its {kind} records stop at "), _stamp("last"), pl.lit(", busy to the end ("),
                pl.col("last_hour").cast(pl.String), pl.lit(" in the last hour), while "), pl.col("other"),
                pl.lit(" goes on to "), _stamp("other_last")])),
                (starts, pl.concat_str([
                    pl.lit(f"its {kind} records start at "), _stamp("first"), pl.lit(", busy from the start ("),
                    pl.col("first_hour").cast(pl.String), pl.lit(" in the first hour), while "), pl.col("other"),
                    pl.lit(" begins at "), _stamp("other_first")]))):
            for path, text in found.unique("source_file", keep="first", maintain_order=True).select(
                    "source_file", said).iter_rows():  # one row per file cut short, never per event
                notes[path] = "; ".join(filter(None, (notes.get(path), text)))
    return {path: f"{text}: the export {CUT_OFF_MARK}; export that time range again" for path, text in notes.items()}


def note_short_ranges(state: Path, report: LoadReport) -> None:
    """Add a note to each file of the load `report` whose time range stops short in the state folder's frames (those
    that two files or more loaded rows into: one file alone has no other beside it)."""
    parts = {frame: sorted((state / frame).glob("part-*.parquet")) for frame in FRAME_NAMES
             if sum(1 for file in report.files if file.frames.get(frame)) >= 2}
    frames = {frame: pl.scan_parquet(paths, glob=False) for frame, paths in parts.items() if paths}
    notes = short_ranges(frames)
    for file in report.files:
        if file.path in notes:
            file.note = f"{file.note}; {notes[file.path]}" if file.note else notes[file.path]
