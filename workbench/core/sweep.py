"""Provides sweeps (DESIGN §7): the hunts, Sigma rules and an IOC list run over every tenant of a tenant store on
DuckDB or Spark, written to an output folder the TUI opens (`workbench --sweep OUT`).

The hunts run as SQL compiled from their conditions (`hunts.sql_run`); the hits are then completed with the hunts'
ATT&CK pairs and their rows' time, user, operation, client IP and case, read back from the store by record id, and
a directory change that both the audit log and the directory audits record is one finding (`hunts.changes`), per
tenant. An IOC sweep is SQL too (ioc_sql.py). A hit's `why` is what the SQL engines cannot say: empty for a hunt
(`workbench hunt --case NAME` on the local case says it), the fields that matched for an indicator.

OUT holds `hits.parquet` (DESIGN §4 `hunt` columns, `tenant` and `kind`: hunt, sigma or ioc), `hits.csv` (formulas
neutralised) and `summary.json` (per tenant: hits, by severity, by tactic, first and last hit, the local case).
"""

import json
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import hunts
from hunts.changes import one_finding_per_change
from hunts.engine import HIT_SCHEMA, PAIR
from workbench.core.activity import SIGN_IN_OPERATIONS
from workbench.core.enrichment import cached_enrichment
from workbench.core.export import write_atomic, write_atomic_file, write_frame
from workbench.core.ioc import Ioc
from workbench.core.ioc_sql import (engine_sql, indicator_table, kept_matches, matches_sql, network_pairs,
                                    observables_sql)
from workbench.core.store_tables import DuckStore, SparkStore, open_store, spark_sql
from workbench.core.tenant_store import FRAMES, cases_by_tenant

ENGINES = ("duckdb", "spark")
#: Hunts handed to the engine at a time (the progress bar moves per batch; Spark runs a batch as few jobs).
HUNT_BATCH = 40
#: The sweep's hit columns: the tenant, the kind of hit, then those of `workbench hunt`.
SWEEP_SCHEMA: dict[str, pl.DataType] = {"tenant": pl.String(), "kind": pl.String(), **HIT_SCHEMA}
_ROW_SCHEMA = {"tenant": pl.String(), "source": pl.String(), "record_id": pl.String(),
               "creation_time": HIT_SCHEMA["creation_time"], "user_id": pl.String(), "operation": pl.String(),
               "client_ip": pl.String(), "case": pl.String(), "workload": pl.String(), "object_id": pl.String(),
               "target_names": pl.String()}
#: Per frame: a hit's time, user, operation and client IP, its case, and what the directory-change key reads
#: (engine.py, changes.py), as SQL over the frame's table `r`, in the order of `_ROW_SCHEMA` after the record id.
_HIT_ROW = {
    "events": ["r.creation_time", "r.user_id", "r.operation", "r.client_ip", 'r."case"', "r.workload", "r.object_id",
               "NULL"],
    "sign_ins": ["r.creation_time", "coalesce(r.user_principal_name, r.service_principal)",
                 "CASE r.sign_in_type " + " ".join(f"WHEN '{kind}' THEN '{name}'" for kind, name in SIGN_IN_OPERATIONS.items())
                 + " ELSE 'SignIn' END", "r.client_ip", 'r."case"', "NULL", "NULL", "NULL"],
    "directory_audits": ["r.creation_time", "coalesce(r.initiator_user, r.initiator_app)", "r.activity", "r.client_ip",
                         'r."case"', "NULL", "NULL", "r.target_names"],
    "messages": ["r.received", "r.sender", "'message ' || r.status", "r.from_ip", 'r."case"', "NULL", "NULL", "NULL"],
}


class SweepError(ValueError):
    """A sweep that cannot run as asked (unknown tenant, unknown engine); the message says why."""


def _progress() -> Progress:
    console = Console(stderr=True)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True, disable=not console.is_terminal)


def _run(tables: DuckStore | SparkStore, sql: str) -> pl.DataFrame:
    """Run SQL written in DuckDB's dialect on the store's engine."""
    if tables.engine == "spark":
        return tables.collect(tables.spark.sql(engine_sql(spark_sql(sql), "spark")))
    return tables.query(engine_sql(sql, "duckdb"))


def _materialise(tables: DuckStore | SparkStore, name: str, sql: str) -> None:
    """Compute SQL written in DuckDB's dialect once, as table `name`, on the store's engine."""
    tables.materialise(name, engine_sql(spark_sql(sql), "spark") if tables.engine == "spark" else engine_sql(sql, "duckdb"))


def _hit_rows(tables: DuckStore | SparkStore, ids: pl.DataFrame) -> pl.DataFrame:
    """The hit columns of the rows named by `ids` (tenant, source, record_id), one row each."""
    tables.register("hit_ids", ids.select("tenant", "source", "record_id").unique())
    sources = sorted(set(ids["source"].unique().to_list()))
    if not sources:
        return pl.DataFrame(schema=_ROW_SCHEMA)
    named = {frame: ", ".join(f'{value} AS "{name}"' for value, name in zip(_HIT_ROW[frame], list(_ROW_SCHEMA)[3:]))
             for frame in sources}
    sql = " UNION ALL ".join(
        f"SELECT r.tenant, '{frame}' AS source, r.record_id, {named[frame]} FROM {frame} AS r "
        f"JOIN (SELECT DISTINCT tenant, record_id FROM hit_ids WHERE source = '{frame}') AS h "
        f"ON r.tenant = h.tenant AND r.record_id = h.record_id" for frame in sources)
    rows = _run(tables, sql)
    return pl.DataFrame(rows.rows(), schema=_ROW_SCHEMA, orient="row").unique(["tenant", "source", "record_id"],
                                                                             keep="first")


def _hunt_table(pack: list[hunts.Hunt], sigma_ids: set[str]) -> pl.DataFrame:
    """Per hunt: its kind, title, severity, first ATT&CK pair and all of them."""
    rows = []
    for hunt in pack:
        pairs = [{"tactic_id": p.tactic_id, "tactic": p.tactic, "technique_id": p.technique_id,
                  "technique": p.technique, "matrix_technique_id": p.matrix_id} for p in hunt.attack]
        first = pairs[0] if pairs else dict.fromkeys(PAIR.to_schema(), "")
        rows.append({"hunt_id": hunt.id, "kind": "sigma" if hunt.id in sigma_ids else "hunt", "title": hunt.title,
                     "severity": hunt.severity, **first, "techniques": pairs})
    schema = {"hunt_id": pl.String, "kind": pl.String, "title": pl.String, "severity": pl.String,
              **PAIR.to_schema(), "techniques": pl.List(PAIR)}
    return pl.DataFrame(rows, schema=schema)


def _enrichment(tables: DuckStore | SparkStore, config: dict) -> pl.DataFrame | None:
    """The cached enrichment of the store's client IPs (never the network), as `workbench hunt` reads it."""
    union = " UNION ALL ".join([f"SELECT client_ip, user_key, \"case\", creation_time FROM {frame}"
                                for frame in ("events", "sign_ins", "directory_audits")]
                               + ["SELECT from_ip, sender_key, \"case\", received FROM messages"])
    ips = _run(tables, f"SELECT client_ip, max(user_key) AS user_key, max(\"case\") AS \"case\", "
                       f"min(creation_time) AS creation_time FROM ({union}) AS seen GROUP BY client_ip")
    return cached_enrichment(ips, config) if ips.height else None


def _one_finding_per_change(hits: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`hunts.changes.one_finding_per_change`, tenant by tenant."""
    kept = []
    for tenant_hits in hits.partition_by("tenant", maintain_order=True):
        tenant_rows = rows.filter(pl.col("tenant") == tenant_hits["tenant"][0])
        frames = {"events": tenant_rows.filter(pl.col("source") == "events"),
                  "directory_audits": tenant_rows.filter(pl.col("source") == "directory_audits")}
        kept.append(one_finding_per_change(tenant_hits, frames))
    return pl.concat(kept) if kept else hits


def runnable(pack: list[hunts.Hunt]) -> tuple[list[hunts.Hunt], list[dict]]:
    """The hunts SQL expresses, and (hunt_id, reason) of those it does not (a user's hunt or Sigma rule)."""
    if not pack:
        return [], []
    from hunts.sql_compile import UnsupportedHunt, hunt_queries

    chosen, not_run = [], []
    for hunt in pack:
        try:
            hunt_queries(hunt)
            chosen.append(hunt)
        except UnsupportedHunt as error:
            not_run.append({"hunt_id": hunt.id, "reason": str(error)})
    return chosen, not_run


def hunt_hits(tables: DuckStore | SparkStore, pack: list[hunts.Hunt], sigma_ids: set[str],
              enrichment: pl.DataFrame | None, progress: Progress | None = None) -> pl.DataFrame:
    """The hits of the hunts over every tenant of the tables, in the sweep's columns (every hunt of `pack` must
    compile: see `runnable`)."""
    task = progress.add_task(f"hunts on {tables.engine}", total=len(pack)) if progress else None
    found = []
    for start in range(0, len(pack), HUNT_BATCH):
        batch = pack[start:start + HUNT_BATCH]
        found.append(tables.hunt_pairs(batch, enrichment).select("tenant", "hunt_id", "source", "record_id"))
        if progress:
            progress.update(task, advance=len(batch))
    pairs = pl.concat(found) if found else pl.DataFrame(schema={"tenant": pl.String, "hunt_id": pl.String,
                                                                "source": pl.String, "record_id": pl.String})
    rows = _hit_rows(tables, pairs)
    hits = (pairs.unique().join(_hunt_table(pack, sigma_ids), on="hunt_id")
            .join(rows, on=["tenant", "source", "record_id"]).with_columns(pl.lit(None, pl.String).alias("why")))
    hits = _one_finding_per_change(hits, rows)
    return hits.select(list(SWEEP_SCHEMA)).cast(SWEEP_SCHEMA)


def ioc_hits(tables: DuckStore | SparkStore, iocs: list[Ioc]) -> pl.DataFrame:
    """One hit per (indicator, row) carrying it, in the sweep's columns; `why` says which fields held it."""
    tables.register("iocs", indicator_table(iocs))
    _materialise(tables, "observables", observables_sql())
    networks = pl.DataFrame(schema={"key": pl.String, "ioc_key": pl.String})
    if any(ioc.type == "cidr" for ioc in iocs):
        ips = _run(tables, "SELECT DISTINCT key FROM observables WHERE kind = 'ip'")["key"]
        networks = network_pairs(ips.to_list(), iocs)
    tables.register("network_ips", networks)
    matched = kept_matches(_run(tables, matches_sql()))
    grouped = matched.group_by("tenant", "source", "record_id", "indicator", "type", maintain_order=True).agg(
        pl.concat_str(pl.col("field"), pl.lit("="), pl.col("matched")).str.join("; ").alias("why"))
    rows = _hit_rows(tables, grouped)
    empty = pl.lit("", pl.String)
    hits = grouped.join(rows, on=["tenant", "source", "record_id"]).with_columns(
        pl.lit("ioc").alias("kind"), pl.concat_str(pl.lit("ioc:"), "type", pl.lit(":"), "indicator").alias("hunt_id"),
        pl.col("indicator").alias("title"), pl.lit("high").alias("severity"),
        *(empty.alias(name) for name in PAIR.to_schema()), pl.lit([], pl.List(PAIR)).alias("techniques"))
    return hits.select(list(SWEEP_SCHEMA)).cast(SWEEP_SCHEMA)


def _time(value) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def tenant_summary(hits: pl.DataFrame, tenants: list[str], store: str | Path) -> list[dict]:
    """Per tenant (every one swept, hits or not): hits, by severity, by tactic, first and last hit, its local case."""
    published = cases_by_tenant(store)
    entries = []
    for tenant in tenants:
        own = hits.filter(pl.col("tenant") == tenant)
        tactics = own.filter(pl.col("tactic") != "")
        entries.append({
            "tenant": tenant, "hits": own.height,
            "by_severity": dict(sorted(own.group_by("severity").len().iter_rows(), key=lambda item: -item[1])),
            "by_tactic": dict(sorted(tactics.group_by("tactic").len().iter_rows(), key=lambda item: -item[1])),
            "first_hit": _time(own["creation_time"].min()), "last_hit": _time(own["creation_time"].max()),
            "case": published[tenant][-1]["case"] if published.get(tenant) else None,
        })
    return entries


def _tenants(tables: DuckStore | SparkStore, chosen: list[str]) -> list[str]:
    union = " UNION ".join(f"SELECT DISTINCT tenant FROM {frame}" for frame in FRAMES)
    present = sorted(_run(tables, union)["tenant"].drop_nulls().to_list())
    missing = [tenant for tenant in chosen if tenant not in present]
    if missing:
        raise SweepError(f"tenant {', '.join(missing)}: not in the store {tables.store}")
    return present


def write_output(out: Path, hits: pl.DataFrame, summary: dict) -> None:
    """Write hits.parquet, hits.csv and summary.json into `out`, each atomically."""
    out.mkdir(parents=True, exist_ok=True)
    write_atomic_file(out / "hits.parquet", hits.write_parquet)
    write_frame(hits, out / "hits.csv", "csv")
    write_atomic(out / "summary.json", lambda handle: json.dump(summary, handle, indent=1, ensure_ascii=False))


def sweep(store: str | Path, out: Path, engine: str = "duckdb", pack: list[hunts.Hunt] | None = None,
          sigma_ids: set[str] = frozenset(), iocs: list[Ioc] | None = None, tenants: list[str] = (),
          master: str | None = None, conf: dict | None = None, config: dict | None = None) -> dict:
    """Run the hunts of `pack` (Sigma rules among them by `sigma_ids`) and the indicators `iocs` over the store's
    tenants (all, or `tenants`) on `engine`, write OUT and return the summary (with `not_run`: the hunts SQL cannot
    express, and why)."""
    if engine not in ENGINES:
        raise SweepError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
    started = datetime.now(timezone.utc)
    tables = open_store(store, engine, list(tenants), master, conf, for_sweep=True)
    try:
        swept = _tenants(tables, list(tenants))
        swept = [tenant for tenant in swept if not tenants or tenant in tenants]
        pack, not_run = runnable(pack or [])
        parts = []
        with _progress() as progress:
            progress.add_task(f"{len(swept)} tenants", total=None)
            if pack:
                parts.append(hunt_hits(tables, pack, set(sigma_ids), _enrichment(tables, config or {}), progress))
            if iocs:
                parts.append(ioc_hits(tables, iocs))
    finally:
        tables.close()
    hits = pl.concat(parts) if parts else pl.DataFrame(schema=SWEEP_SCHEMA)
    hits = hits.sort("tenant", "creation_time", "hunt_id", "record_id", maintain_order=True)
    summary = {"store": str(store), "engine": engine, "started": _time(started),
               "finished": _time(datetime.now(timezone.utc)), "tenants": tenant_summary(hits, swept, store),
               "not_run": not_run}
    write_output(out, hits, summary)
    return summary

