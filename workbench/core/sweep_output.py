"""Provides `read_sweep`: a sweep's output folder (`workbench sweep ... -o OUT`) read and checked, and the tenants x
tactics grid of its hits.

The folder holds `hits.parquet` (DESIGN §4 `hunt` columns plus `tenant` and `kind`: `hunt`, `sigma` or `ioc`)
and `summary.json` (`{"store", "engine", "started", "finished", "tenants": [{"tenant", "hits", "by_severity",
"by_tactic", "first_hit", "last_hit", "case"}]}`). A missing or malformed file is a `SweepOutputError` naming it.
"""

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from hunts import attack
from hunts.model import SEVERITIES

HITS_FILE = "hits.parquet"
SUMMARY_FILE = "summary.json"
#: The grid column of indicator (IOC) hits, which name no tactic.
IOC = "ioc"
#: The columns of hits.parquet the grid and the hits list read, with the types they are read as.
HIT_COLUMNS: dict[str, pl.DataType] = {
    "tenant": pl.String(), "kind": pl.String(), "hunt_id": pl.String(), "title": pl.String(),
    "severity": pl.String(), "source": pl.String(), "tactic_id": pl.String(), "tactic": pl.String(),
    "technique_id": pl.String(), "technique": pl.String(), "record_id": pl.String(),
    "creation_time": pl.Datetime("us", "UTC"), "user_id": pl.String(), "operation": pl.String(),
    "client_ip": pl.String(), "case": pl.String(), "why": pl.String(),
}

#: A hit's severity as a number, informational 0 to critical 4 (an unknown severity counts as informational).
SEVERITY_RANK = pl.col("severity").replace_strict(SEVERITIES, list(range(len(SEVERITIES))), default=0,
                                                  return_dtype=pl.Int8)


class SweepOutputError(ValueError):
    """A sweep's output folder that is missing or does not hold what `workbench sweep` writes."""


@dataclass(frozen=True)
class GridColumn:
    """One column of the tenants x tactics grid: a tactic, `unmapped` (hunt hits naming no tactic) or `ioc`."""

    key: str
    name: str


@dataclass(frozen=True)
class SweepOutput:
    """A sweep's hits (one row per hunt or indicator and record, with `columns`: the grid columns it counts in),
    its summary, and one summary entry per tenant, those in the summary first, then any only the hits name."""

    folder: Path
    hits: pl.DataFrame
    summary: dict
    tenants: list[dict]

    def grid_columns(self) -> list[GridColumn]:
        """Every tactic in matrix order, then `Unmapped` and `IOC` when some hit counts there."""
        present = set(self.hits["columns"].explode().drop_nulls().unique().to_list())
        columns = [GridColumn(tactic.id, tactic.name) for tactic in attack.tactics()]
        if attack.UNMAPPED in present:
            columns.append(GridColumn(attack.UNMAPPED, "Unmapped"))
        if IOC in present:
            columns.append(GridColumn(IOC, "IOC"))
        return columns

    def cells(self) -> pl.DataFrame:
        """Per tenant and grid column: the distinct records hit (`hits`) and the highest severity; column `total`
        (key None) per tenant, and tenant None for every tenant together."""
        ranked = self.hits.with_columns(
            SEVERITY_RANK.alias("_rank"),
            pl.struct("source", "record_id").alias("_record"))
        per_column = ranked.explode("columns").rename({"columns": "column"})
        aggregates = (pl.col("_record").n_unique().alias("hits"), pl.col("_rank").max().alias("_rank"))
        frames = [
            per_column.group_by("tenant", "column").agg(*aggregates),
            ranked.group_by("tenant").agg(*aggregates).with_columns(pl.lit(None, pl.String).alias("column")),
            per_column.group_by("column").agg(*aggregates).with_columns(pl.lit(None, pl.String).alias("tenant")),
            ranked.select(*aggregates).with_columns(pl.lit(None, pl.String).alias("tenant"),
                                                    pl.lit(None, pl.String).alias("column")),
        ]
        return (pl.concat([frame.select("tenant", "column", pl.col("hits").cast(pl.Int64), "_rank")
                           for frame in frames])
                .filter(pl.col("hits") > 0)
                .with_columns(pl.col("_rank").replace_strict(list(range(len(SEVERITIES))), SEVERITIES,
                                                             return_dtype=pl.String).alias("severity"))
                .drop("_rank"))

    def overview(self, tenant: str | None) -> dict:
        """One tenant's hits (None: every tenant's) at a glance: distinct records hit per severity, highest first,
        and the first and last hit's time (None without hits)."""
        rows = self.tenant_hits(tenant)
        if rows.is_empty():
            return {"by_severity": {}, "first_hit": None, "last_hit": None}
        highest = rows.group_by("source", "record_id").agg(SEVERITY_RANK.max().alias("_rank"))
        counted = highest.group_by("_rank").len().sort("_rank", descending=True)
        return {"by_severity": {SEVERITIES[rank]: count for rank, count in counted.iter_rows()},
                "first_hit": rows["creation_time"].min(), "last_hit": rows["creation_time"].max()}

    def tenant_hits(self, tenant: str | None, column: str | None = None) -> pl.DataFrame:
        """The hits of one tenant (None: all), in one grid column (None: all), highest severity first, then by time."""
        rows = self.hits
        if tenant is not None:
            rows = rows.filter(pl.col("tenant") == tenant)
        if column is not None:
            rows = rows.filter(pl.col("columns").list.contains(column))
        return rows.sort(SEVERITY_RANK, "creation_time", "title", descending=[True, False, False], nulls_last=True)


def _grid_columns(hits: pl.DataFrame) -> pl.Expr:
    """The grid columns of each hit: `ioc` for an indicator, else its pairs' tactics (its own tactic when it lists
    none), `unmapped` when it names no tactic."""
    tactics = pl.col("techniques").list.eval(pl.element().struct.field("tactic_id")).list.drop_nulls()
    tactics = tactics.list.eval(pl.element().filter(pl.element() != "")).list.unique(maintain_order=True)
    own = pl.when(pl.col("tactic_id").fill_null("") != "").then(pl.concat_list(pl.col("tactic_id")))
    mapped = pl.when(tactics.list.len() > 0).then(tactics).otherwise(
        own.otherwise(pl.lit([attack.UNMAPPED], pl.List(pl.String))))
    return (pl.when(pl.col("kind") == IOC).then(pl.lit([IOC], pl.List(pl.String))).otherwise(mapped)
            .alias("columns"))


def _read_hits(path: Path) -> pl.DataFrame:
    if not path.is_file():
        raise SweepOutputError(f"{path}: missing (a sweep's output folder holds {HITS_FILE} and {SUMMARY_FILE})")
    try:
        hits = pl.read_parquet(path, glob=False)
    except Exception as error:
        raise SweepOutputError(f"{path}: not a readable Parquet file ({type(error).__name__}: {error})") from error
    missing = [name for name in (*HIT_COLUMNS, "techniques") if name not in hits.columns]
    if missing:
        raise SweepOutputError(f"{path}: missing columns {', '.join(missing)}")
    techniques = hits.schema["techniques"]
    if not (isinstance(techniques, pl.List) and isinstance(techniques.inner, pl.Struct)
            and "tactic_id" in {field.name for field in techniques.inner.fields}):
        raise SweepOutputError(f"{path}: column techniques is {techniques}, expected a list of (tactic_id, "
                               "technique_id) structs")
    try:
        hits = hits.with_columns(pl.col(name).cast(dtype) for name, dtype in HIT_COLUMNS.items())
    except Exception as error:
        raise SweepOutputError(f"{path}: a column has the wrong type ({type(error).__name__}: {error})") from error
    if hits["tenant"].null_count():
        raise SweepOutputError(f"{path}: {hits['tenant'].null_count()} hits name no tenant")
    return hits.with_columns(_grid_columns(hits))


def _read_summary(path: Path) -> dict:
    if not path.is_file():
        raise SweepOutputError(f"{path}: missing (a sweep's output folder holds {HITS_FILE} and {SUMMARY_FILE})")
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        raise SweepOutputError(f"{path}: not UTF-8 text") from error
    except json.JSONDecodeError as error:
        raise SweepOutputError(f"{path}: line {error.lineno} column {error.colno}: not JSON: {error.msg}") from error
    if not isinstance(summary, dict) or not isinstance(summary.get("tenants"), list):
        raise SweepOutputError(f"{path}: expected an object with a list `tenants`")
    for index, entry in enumerate(summary["tenants"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("tenant"), str):
            raise SweepOutputError(f"{path}: tenants[{index}]: expected an object with a string `tenant`")
        if not isinstance(entry.get("case"), (str, type(None))):
            raise SweepOutputError(f"{path}: tenants[{index}].case: expected a case name or null")
    return summary


def read_sweep(folder: Path) -> SweepOutput:
    """The sweep output in `folder`; a SweepOutputError names the file that is missing or malformed."""
    if not folder.is_dir():
        raise SweepOutputError(f"{folder}: no such folder (give the -o folder of `workbench sweep`)")
    summary = _read_summary(folder / SUMMARY_FILE)
    hits = _read_hits(folder / HITS_FILE)
    tenants = {entry["tenant"]: entry for entry in summary["tenants"]}
    for tenant in hits["tenant"].unique(maintain_order=True).to_list():
        tenants.setdefault(tenant, {"tenant": tenant, "case": None})
    return SweepOutput(folder, hits, summary, list(tenants.values()))
