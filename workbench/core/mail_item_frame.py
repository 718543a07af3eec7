"""Provides the mail items of a case (mail_items.py): its mailbox and file activity, one row per item touched.

The loader does not decode them. On 1M audit records with 7.4M items that took a third of a cold load, for a table
that an exposure reads a few thousand rows of. They are decoded when asked:
- the items of a few records (`case_mail_items` with `records`, as the exposure asks for those of the records it
  needs) are decoded from those records' original text;
- the items of every record (the SQL table `mail_items`, or more than `DECODE_AT_MOST` records) are read from the
  state's index, `mail_items/`, built the first time it is needed (`Case.derived`: aside, then renamed into place).
  Its Parquet parts hold `STORED_ITEM_SCHEMA`, the items' own columns; the columns an item shares with its record
  (IP, session, user agent, ...) are joined back from the events when read. It is built a few events parts at a
  time, so its memory does not grow with the case. A state loaded by a version that stored the items at load has
  the same folder.
"""

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import polars as pl
import pyarrow.parquet as pq

from workbench.core.mail_items import (
    CARRIED, MAIL_ITEM_SCHEMA, STORED_ITEM_SCHEMA, decoded_items, exposure_rows, in_item_order, mail_items,
)

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet

#: The folder of a state holding the index of its mail items.
FOLDER = "mail_items"
#: The most records whose items are decoded from their text when asked for; more are read from the index.
DECODE_AT_MOST = 100_000
#: About how many events each batch of the index is decoded from (whole parts; two batches at a time: 1.8 GB and
#: 42 s for 10M events, where 200k took 2.4 GB, one at a time 68 s).
INDEX_BATCH_ROWS = 50_000


def _cases(case: "Case | CaseSet") -> list["Case"]:
    return getattr(case, "cases", [case])


class Stopped(Exception):
    """The building of an index was stopped (nothing of it is left)."""


def _build_index(case: "Case", folder: Path, stopped: Callable[[], bool]) -> None:
    """Write the items of every record of the case into `folder`: a part per batch of its events parts, two batches
    at a time (the decoding is half Python and DuckDB, half Polars); raises Stopped once `stopped()` says so."""
    from workbench.core.load import write_part  # the loader (and DuckDB) only when building

    batches, rows = [[]], 0
    for part in case.parts():
        if rows >= INDEX_BATCH_ROWS:
            batches, rows = [*batches, []], 0
        batches[-1].append(part)
        rows += pq.ParquetFile(part).metadata.num_rows

    def index_batch(number: int, parts: list[Path]) -> None:
        if stopped():
            raise Stopped
        items = decoded_items(exposure_rows(case.scan(with_audit_data=True, parts=parts)).collect())
        if items.height:
            write_part(items.select(STORED_ITEM_SCHEMA.keys()), folder / f"part-{number:05d}.parquet")

    with ThreadPoolExecutor(2, thread_name_prefix="mail-item-index") as pool:
        list(pool.map(index_batch, range(len(batches)), batches))


def index_parts(case: "Case | CaseSet", stopped: Callable[[], bool] = lambda: False) -> list[Path]:
    """The Parquet parts of the mail items of the case (of every case of a set), built first where missing; raises
    OSError when a case's folder cannot be written, Stopped when `stopped()` says so while building."""
    return [part for one in _cases(case) if one.parts()
            for part in sorted(one.derived(FOLDER, lambda folder, one=one: _build_index(one, folder, stopped))
                               .glob("part-*.parquet"))]


def _selected(rows: pl.LazyFrame, records: pl.DataFrame | None, since: datetime | None) -> pl.LazyFrame:
    if since is not None:  # parts hold rows in input order, mostly time order: row groups before are skipped
        rows = rows.filter(pl.col("creation_time") >= since)
    if records is not None:
        rows = rows.filter(pl.col("record_id").is_in(records.get_column("record_id").implode()))
    return rows


def _decoded(case: "Case", records: pl.DataFrame | None, since: datetime | None) -> pl.DataFrame:
    rows = _selected(exposure_rows(case.scan(with_audit_data=True, from_kept_inputs=False)), records, since).collect()
    # The records read in one pass over the kept input: the scan's fill (a pass per Parquet part) took 3x as long
    return mail_items(rows.with_columns(case.kept_records.fill(rows)))


def _one_case_items(case: "Case", records: pl.DataFrame | None, since: datetime | None,
                    say: Callable[[str], None] | None) -> pl.DataFrame:
    columns = [name for name in MAIL_ITEM_SCHEMA if records is None or name not in CARRIED or name in records.columns]
    indexed = (case.state_dir / FOLDER).is_dir()
    if records is not None and records.height <= DECODE_AT_MOST and not indexed:
        return _decoded(case, records, since).select(columns)
    if say is not None and not indexed and case.parts():
        needed = "every record's" if records is None else f"those of {records.height:,} records"
        say(f"indexing the mail items of case {case.name} ({needed} are needed): once for this load, about a minute "
            "per 10M events")
    try:
        parts = index_parts(case)
    except OSError:  # a case folder that cannot be written: decoded in memory
        return _decoded(case, records, since).select(columns)
    stored = pl.scan_parquet(parts, schema=STORED_ITEM_SCHEMA, glob=False) if parts else pl.LazyFrame(schema=STORED_ITEM_SCHEMA)
    items = in_item_order(_selected(stored, records, since).collect())  # sorted narrow: the joined rows are 2x wider
    if records is None:
        records = case.scan().join(items.lazy().select("case", "record_id").unique(), on=["case", "record_id"],
                                   how="semi").collect()
    shared = records.select(name for name in CARRIED if name in columns).drop("creation_time").unique(["case", "record_id"])
    # inner: in a set of cases, another case's record of the same id does not bring this case's items along
    return items.join(shared, on=["case", "record_id"], how="inner", maintain_order="left").select(columns)


def case_mail_items(case: "Case | CaseSet", records: pl.DataFrame | None = None, since: datetime | None = None,
                    say: Callable[[str], None] | None = None) -> pl.DataFrame:
    """The mailbox and file activity of the case's audit records, one row per item (mail_items.py), in time order:
    only that of `records` (rows of the events, or of the activity's `ual` source, with their `CARRIED` columns or
    some of them: the items carry those) when given, only from `since` on when given. `say` is told when a case's
    index is to be built first (a minute or so per 10M events)."""
    found = [_one_case_items(one, records, since, say) for one in _cases(case)]
    if len(found) == 1:  # in item order already
        return found[0]
    return in_item_order(pl.concat(found, how="vertical_relaxed")) if found else pl.DataFrame(schema=MAIL_ITEM_SCHEMA)
