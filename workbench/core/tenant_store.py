"""Provides the tenant store (DESIGN §7): every frame of many cases as Hive-partitioned Parquet that DuckDB and Spark
read as tables, `FRAME/tenant=<organization_id>/day=<YYYY-MM-DD>/part-<...>.parquet`.

The files hold the frames' declared columns (§2b, §3: text, integers, floats, booleans, UTC microsecond times) with
the original record; `tenant` and `day` are in the folder names only, as Hive partitioning has them. Publishing is
idempotent: a row whose record id the partition already holds is not written again. `_cases.json` at the store's
root says which local case published which tenant.

STORE is a folder or a URI. Into a folder, a part is named by a hash of its rows' record ids (a publish repeated
after a crash writes the same file), written aside and renamed into place, under the store's writer lock. A URI
(`s3a://`, `abfss://`, `gs://`, `file://`) is written by Spark through its own connectors (spark_publish.py), and
its `_cases.json` is read and written through Spark's file systems: a sweep on Spark names the local cases, one
on DuckDB does not.
"""

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from workbench.core.case import Case
from workbench.core.case_lock import writer_lock
from workbench.core.export import write_atomic, write_atomic_file
from workbench.core.schema import FRAME_SCHEMAS, TIME_COLUMN

FRAMES = tuple(FRAME_SCHEMAS)
CASES_FILE = "_cases.json"
#: What a tenant may be called in a folder name: an organization id (a GUID) or a case-like name, never a path.
TENANT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]*")
#: Rows named in an error before "and N more".
ROWS_NAMED = 5
#: About how many rows of a frame a publish reads at once, with their original records (a window of
#: time: 10M events read at once held some 20 GB).
PUBLISH_ROWS = 200_000
#: The columns the checks of `_with_partitions` read.
_KEY_COLUMNS = ("organization_id", "source_file", "source_row")


class StoreError(ValueError):
    """A store that cannot be written or read, or rows that cannot be published; the message says which and why."""


def is_uri(store: str | Path) -> bool:
    """True for a store on an object store or any other URI (`s3://bucket/x`), False for a local folder."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", str(store)))


def frame_glob(store: str | Path, frame: str) -> str:
    """The glob of every Parquet part of a frame of the store (all tenants and days)."""
    return f"{str(store).rstrip('/')}/{frame}/**/*.parquet"


def _organization_ids(case: Case) -> list[str]:
    """The distinct organization ids the case's frames name."""
    ids = pl.concat([case.scan(frame=frame).select("organization_id").drop_nulls().unique().collect()
                     for frame in FRAMES])
    return sorted(ids["organization_id"].unique().to_list())


def _named_rows(rows: pl.DataFrame) -> str:
    places = [f"{file}:{row}" for file, row in rows.select("source_file", "source_row").head(ROWS_NAMED).iter_rows()]
    more = f" and {rows.height - ROWS_NAMED:,} more" if rows.height > ROWS_NAMED else ""
    return ", ".join(places) + more


def _with_partitions(rows: pl.DataFrame, frame: str, fallback: str | None, case: Case) -> pl.DataFrame:
    """The rows with `tenant` (the organization id, else `fallback`) and `day` (of their time, UTC); raises
    StoreError naming the rows without a tenant, with a tenant no folder may be named, or without a time."""
    rows = rows.with_columns(pl.col("organization_id").fill_null(pl.lit(fallback, pl.String)).alias("tenant"),
                             pl.col(TIME_COLUMN[frame]).dt.strftime("%Y-%m-%d").alias("day"))
    orphans = rows.filter(pl.col("tenant").is_null())
    if orphans.height:
        raise StoreError(f"case {case.name}: {orphans.height:,} {frame} rows have no organization id and the case does "
                         f"not name exactly one to give them ({_named_rows(orphans)}); give --tenant ID for them")
    unsafe = rows.filter(~pl.col("tenant").str.contains(f"^{TENANT_NAME.pattern}$"))
    if unsafe.height:
        raise StoreError(f"case {case.name}: {unsafe.height:,} {frame} rows have an organization id that is not a "
                         f"tenant name (letters, digits and . _ - @ +) ({_named_rows(unsafe)})")
    timeless = rows.filter(pl.col("day").is_null())
    if timeless.height:
        raise StoreError(f"case {case.name}: {timeless.height:,} {frame} rows have no time ({_named_rows(timeless)})")
    return rows


def _part_name(record_ids: pl.Series) -> str:
    digest = hashlib.sha256("\n".join(record_ids.sort().to_list()).encode()).hexdigest()[:24]
    return f"part-{digest}.parquet"


def _held_ids(folder: Path) -> pl.Series:
    """The record ids the Parquet parts of one partition folder hold."""
    parts = sorted(folder.glob("*.parquet"))
    if not parts:
        return pl.Series("record_id", [], dtype=pl.String)
    return pl.scan_parquet(parts, glob=False).select("record_id").collect()["record_id"]


def _publish_frame(rows: pl.DataFrame, root: Path, frame: str) -> int:
    """Write the rows no partition holds yet, one part per (tenant, day); the rows added."""
    added = 0
    columns = list(FRAME_SCHEMAS[frame])
    for (tenant, day), part in rows.partition_by("tenant", "day", as_dict=True, maintain_order=True).items():
        folder = root / frame / f"tenant={tenant}" / f"day={day}"
        fresh = part.filter(~pl.col("record_id").is_in(_held_ids(folder).implode()))
        if fresh.height:
            fresh = fresh.select(columns)
            write_atomic_file(folder / _part_name(fresh["record_id"]), fresh.write_parquet)
            added += fresh.height
    return added


def cases_by_tenant(store: str | Path, spark=None) -> dict[str, list[dict]]:
    """Per tenant, the local cases that published it (`case`, `case_dir`, `published`), oldest first; empty for a
    store without the file. A URI store's file is read through the Spark session `spark`, else the one this thread
    runs; without one (a sweep on DuckDB) the store's cases are unknown: empty."""
    path = f"{str(store).rstrip('/')}/{CASES_FILE}"
    try:
        if is_uri(store):
            from workbench.core.spark_publish import store_file_text

            text = store_file_text(path, spark)
        else:
            text = Path(path).read_text(encoding="utf-8")
        return json.loads(text) if text is not None else {}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: cannot read the store's case list: {error}") from error


def case_of_tenant(store: str | Path, tenant: str) -> str | None:
    """The local case that last published the tenant, or None when the store does not know."""
    published = cases_by_tenant(store).get(tenant)
    return published[-1]["case"] if published else None


def cases_json(known: dict[str, list[dict]], case: Case, tenants: set[str]) -> str:
    """The store's case list `known` with `case` as the latest publisher of `tenants`, as the text of `_cases.json`."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for tenant in tenants:
        entries = [entry for entry in known.get(tenant, []) if entry["case"] != case.name]
        known[tenant] = [*entries, {"case": case.name, "case_dir": str(case.root.parent), "published": now}]
    return json.dumps(dict(sorted(known.items())), indent=1)


def _fallback_tenant(case: Case, tenant: str | None) -> str | None:
    """The tenant of rows without an organization id: `tenant`, else the case's one organization id."""
    if tenant is not None and not TENANT_NAME.fullmatch(tenant):
        raise StoreError(f"tenant {tenant!r}: use letters, digits and . _ - @ + only")
    if not case.exists:
        raise StoreError(f"case {case.name} has not been loaded")
    ids = _organization_ids(case)
    return tenant or (ids[0] if len(ids) == 1 else None)


def _windows(case: Case, fallback: str | None) -> dict[str, list[pl.Expr]]:
    """Per frame, the filters of the windows of time `publish` reads one at a time, each of about `PUBLISH_ROWS`
    rows. Every frame is checked first, on its keys only: StoreError names the rows that cannot be published before
    anything is written."""
    windows = {}
    for frame in FRAMES:
        time = pl.col(TIME_COLUMN[frame])
        keys = _with_partitions(case.scan(frame=frame).select(*_KEY_COLUMNS, time).collect(), frame, fallback, case)
        starts = keys.select(time.sort().gather_every(PUBLISH_ROWS).unique(maintain_order=True)).to_series().to_list()
        windows[frame] = [(time >= first) & (time < after) for first, after in zip(starts, starts[1:])]
        windows[frame] += [time >= starts[-1]] if starts else []
    return windows


def windows_to_publish(case: Case, tenant: str | None) -> Iterator[tuple[str, pl.DataFrame]]:
    """(frame, rows with their `tenant` and `day`) of a loaded case, a window of time of each frame at a time: rows
    without an organization id take `tenant`, else the case's one organization id. StoreError names the rows that
    cannot be published, when called: before any window is read."""
    fallback = _fallback_tenant(case, tenant)
    windows = _windows(case, fallback)
    return ((frame, _with_partitions(case.scan(with_audit_data=True, frame=frame).filter(selected).collect(), frame,
                                     fallback, case))
            for frame, selections in windows.items() for selected in selections)


def publish(case: Case, store: str | Path, tenant: str | None = None, master: str | None = None,
            conf: dict | None = None) -> dict[str, int]:
    """Publish every frame of a loaded case into the store (a folder, or a URI written by Spark on `master` with the
    settings `conf`); returns the rows added per frame (0 for rows the store already holds). Rows without an
    organization id take `tenant`, else the case's one organization id; with neither, nothing is written and
    StoreError names the rows."""
    if is_uri(store):
        from workbench.core.spark_publish import publish_to_uri

        return publish_to_uri(case, str(store), tenant, master, conf)
    root, windows = Path(store), windows_to_publish(case, tenant)
    with writer_lock(root):
        added, tenants = dict.fromkeys(FRAMES, 0), set()
        for frame, rows in windows:
            added[frame] += _publish_frame(rows, root, frame)
            tenants |= set(rows["tenant"].unique().to_list())
        if tenants:
            text = cases_json(cases_by_tenant(root), case, tenants)
            write_atomic(root / CASES_FILE, lambda handle: handle.write(text))
    return added


def store_tenants(store: str | Path) -> list[str]:
    """The tenants of a local store (any frame's partition folders)."""
    root = Path(store)
    return sorted({folder.name.removeprefix("tenant=") for frame in FRAMES
                   for folder in (root / frame).glob("tenant=*") if folder.is_dir()})
