"""Provides the tenant store (DESIGN §7): every frame of many cases as Hive-partitioned Parquet that DuckDB and Spark
read as tables, `FRAME/tenant=<organization_id>/day=<YYYY-MM-DD>/part-<hash>.parquet`.

The files hold the frames' declared columns (§2b, §3: text, integers, floats, booleans, UTC microsecond times) with
the original record; `tenant` and `day` are in the folder names only, as Hive partitioning has them. Publishing is
idempotent: a row whose record id the partition already holds is not written again, and a part is named by a hash
of its rows' record ids, so a publish repeated after a crash writes the same file. Each part is written aside and
renamed into place, under the store's writer lock. `_cases.json` says which local case published which tenant.

A store on an object store (`s3://`, `abfss://`, `gs://`) is read by Spark through its own connectors; publishing
writes a folder, which is copied there with the cloud's own tool (README, "Beyond one machine").
"""

import hashlib
import json
import re
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


class StoreError(ValueError):
    """A store that cannot be written or read, or rows that cannot be published; the message says which and why."""


def is_uri(store: str | Path) -> bool:
    """True for a store on an object store or any other URI (`s3://bucket/x`), False for a local folder."""
    return bool(re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:/", str(store)))


def frame_glob(store: str | Path, frame: str) -> str:
    """The glob of every Parquet part of a frame of the store (all tenants and days)."""
    return f"{str(store).rstrip('/')}/{frame}/**/*.parquet"


def local_root(store: str | Path) -> Path:
    """The folder of a local store; a URI is refused with how to publish to it."""
    if is_uri(store):
        raise StoreError(f"{store}: publishing writes a local folder; publish there and copy the folder to the object "
                         f"store with its own tool (aws s3 sync, azcopy, gcloud storage rsync); sweeps read it in place")
    return Path(store)


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


def cases_by_tenant(store: str | Path) -> dict[str, list[dict]]:
    """Per tenant, the local cases that published it (`case`, `case_dir`, `published`), oldest first; empty for a
    store on an object store or one without the file."""
    if is_uri(store):
        return {}
    path = Path(store) / CASES_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as error:
        raise StoreError(f"{path}: cannot read the store's case list: {error}") from error


def case_of_tenant(store: str | Path, tenant: str) -> str | None:
    """The local case that last published the tenant, or None when the store does not know."""
    published = cases_by_tenant(store).get(tenant)
    return published[-1]["case"] if published else None


def _record_cases(root: Path, case: Case, tenants: set[str]) -> None:
    known = cases_by_tenant(root)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for tenant in tenants:
        entries = [entry for entry in known.get(tenant, []) if entry["case"] != case.name]
        known[tenant] = [*entries, {"case": case.name, "case_dir": str(case.root.parent), "published": now}]
    write_atomic(root / CASES_FILE, lambda handle: json.dump(dict(sorted(known.items())), handle, indent=1))


def publish(case: Case, store: str | Path, tenant: str | None = None) -> dict[str, int]:
    """Publish every frame of a loaded case into the store; returns the rows added per frame (0 for rows the store
    already holds). Rows without an organization id take `tenant`, else the case's one organization id; with
    neither, nothing is written and StoreError names the rows."""
    root = local_root(store)
    if tenant is not None and not TENANT_NAME.fullmatch(tenant):
        raise StoreError(f"tenant {tenant!r}: use letters, digits and . _ - @ + only")
    if not case.exists:
        raise StoreError(f"case {case.name} has not been loaded")
    ids = _organization_ids(case)
    fallback = tenant or (ids[0] if len(ids) == 1 else None)
    frames = {frame: _with_partitions(case.scan(with_audit_data=True, frame=frame).collect(), frame, fallback, case)
              for frame in FRAMES}
    with writer_lock(root):
        added = {frame: _publish_frame(rows, root, frame) for frame, rows in frames.items()}
        tenants = set().union(*(set(rows["tenant"].unique().to_list()) for rows in frames.values()))
        if tenants:
            _record_cases(root, case, tenants)
    return added


def store_tenants(store: str | Path) -> list[str]:
    """The tenants of a local store (any frame's partition folders)."""
    root = Path(store)
    return sorted({folder.name.removeprefix("tenant=") for frame in FRAMES
                   for folder in (root / frame).glob("tenant=*") if folder.is_dir()})
