"""Provides the mail items stored in a case: the loader decodes every mailbox and file record once (mail_items.py)
into Parquet parts of the state's `mail_items/` folder, so that the exposure and the SQL table `mail_items` read
columns instead of parsing the records' JSON on every call. The parts hold `STORED_ITEM_SCHEMA`, the items' own
columns; the columns an item shares with its record (IP, session, user agent, ...) are joined back from the events.

A case loaded before the items were stored has no such folder. Nothing is written into it (a state is evidence,
complete once loaded): its items are decoded from its records when asked, only those asked for, until it is
loaded again.
"""

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from workbench.core.mail_items import (
    CARRIED, MAIL_ITEM_SCHEMA, STORED_ITEM_SCHEMA, exposure_rows, in_item_order, mail_items,
)

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet

#: The folder of a state holding the mail items' parts (present, maybe empty, in every case that stores them).
FOLDER = "mail_items"


def _cases(case: "Case | CaseSet") -> list["Case"]:
    return getattr(case, "cases", [case])


def stored_parts(case: "Case | CaseSet") -> list[Path] | None:
    """The Parquet parts of the mail items of the case (of every case of a set), or None when one of them was
    loaded before mail items were stored."""
    if not all((one.state_dir / FOLDER).is_dir() for one in _cases(case)):
        return None
    return [part for one in _cases(case) for part in one.parts(FOLDER)]


def _selected(rows: pl.LazyFrame, records: pl.DataFrame | None, since: datetime | None) -> pl.LazyFrame:
    if since is not None:  # parts hold rows in input order, mostly time order: row groups before are skipped
        rows = rows.filter(pl.col("creation_time") >= since)
    if records is not None:
        rows = rows.filter(pl.col("record_id").is_in(records.get_column("record_id").implode()))
    return rows


def _one_case_items(case: "Case", records: pl.DataFrame | None, since: datetime | None) -> pl.DataFrame:
    columns = [name for name in MAIL_ITEM_SCHEMA if records is None or name not in CARRIED or name in records.columns]
    if not (case.state_dir / FOLDER).is_dir():  # loaded before mail items were stored
        return mail_items(_selected(exposure_rows(case.scan(with_audit_data=True)), records, since).collect()).select(columns)
    parts = case.parts(FOLDER)
    stored = pl.scan_parquet(parts, schema=STORED_ITEM_SCHEMA, glob=False) if parts else pl.LazyFrame(schema=STORED_ITEM_SCHEMA)
    items = in_item_order(_selected(stored, records, since).collect())  # sorted narrow: the joined rows are 2x wider
    if records is None:
        records = case.scan().join(items.lazy().select("case", "record_id").unique(), on=["case", "record_id"],
                                   how="semi").collect()
    shared = records.select(name for name in CARRIED if name in columns).drop("creation_time").unique(["case", "record_id"])
    # inner: in a set of cases, another case's record of the same id does not bring this case's items along
    return items.join(shared, on=["case", "record_id"], how="inner", maintain_order="left").select(columns)


def case_mail_items(case: "Case | CaseSet", records: pl.DataFrame | None = None,
                    since: datetime | None = None) -> pl.DataFrame:
    """The mailbox and file activity of the case's audit records, one row per item (mail_items.py), in time order:
    only that of `records` (rows of the events, or of the activity's `ual` source, with their `CARRIED` columns or
    some of them: the items carry those) when given, only from `since` on when given."""
    found = [_one_case_items(one, records, since) for one in _cases(case)]
    if len(found) == 1:  # in item order already
        return found[0]
    return in_item_order(pl.concat(found, how="vertical_relaxed")) if found else pl.DataFrame(schema=MAIL_ITEM_SCHEMA)
