"""Provides running compiled hunts (hunts.sql_compile) on DuckDB and on Spark: the hit pairs (`tenant`, `hunt_id`,
`source`, `record_id`) of many hunts over the frames of many tenants.

A frame the hunts read but nobody supplies is an empty table of its schema, as the Polars engine reads an absent
source as no rows; the enrichment likewise (`ip`, `hosting` and the places the travel hunts read).
"""

from collections.abc import Iterable, Mapping
from pathlib import Path

import polars as pl
from sqlglot import exp

from hunts.model import Hunt
from hunts.sql_compile import SOURCES, hunt_queries, sql_text
from hunts.travel import PLACE_SCHEMA
from workbench.core import duck
from workbench.core.schema import FRAME_SCHEMAS

#: The hit pairs both runners return.
HIT_PAIRS = {"tenant": pl.String, "hunt_id": pl.String, "source": pl.String, "record_id": pl.String}
#: The enrichment columns compiled hunts read.
ENRICHMENT_SCHEMA = {"ip": pl.String, "hosting": pl.Boolean, **PLACE_SCHEMA}
#: Queries sent to Spark as one job (a UNION ALL): fewer, larger jobs keep the driver's overhead down.
SPARK_BATCH = 40


def _empty(frame: str) -> pl.DataFrame:
    schema = ENRICHMENT_SCHEMA if frame == "enrichment" else {**FRAME_SCHEMAS[frame], "tenant": pl.String}
    return pl.DataFrame(schema=schema)


def _labelled(hunts: Iterable[Hunt]) -> list[tuple[str, str, object]]:
    """(hunt id, source, query) of every hunt, in order."""
    return [(hunt.id, source, query) for hunt in hunts for source, query in hunt_queries(hunt).items()]


def run_duckdb(hunts: Iterable[Hunt], frames: Mapping[str, "pl.DataFrame | Path | str"],
               enrichment: pl.DataFrame | None = None) -> pl.DataFrame:
    """The hit pairs of `hunts` over `frames` (`events`, `sign_ins`, `directory_audits`: each a frame with a `tenant`
    column, or a Parquet path or glob, Hive-partitioned by tenant allowed) on DuckDB."""
    connection = duck.connect()
    try:
        for name in (*SOURCES, "enrichment"):
            given = enrichment if name == "enrichment" else frames.get(name)
            if isinstance(given, (str, Path)):
                path = str(given).replace("'", "''")
                connection.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}', hive_partitioning = true, "
                                   "union_by_name = true)")
            else:
                rows = _empty(name) if given is None else given
                if name == "enrichment":
                    rows = rows.with_columns(pl.lit(None, kind).alias(column) for column, kind in ENRICHMENT_SCHEMA.items()
                                             if column not in rows.columns)
                connection.register(f"_{name}", rows.to_arrow())
                connection.execute(f"CREATE VIEW {name} AS SELECT * FROM _{name}")
        rows = [(tenant, hunt_id, source, record_id) for hunt_id, source, query in _labelled(hunts)
                for tenant, record_id in connection.execute(sql_text(query, "duckdb")).fetchall()]
    finally:
        connection.close()
    return pl.DataFrame(rows, schema=HIT_PAIRS, orient="row").unique(maintain_order=True)


def run_spark(hunts: Iterable[Hunt], spark, tables: Iterable[str] = ()) -> pl.DataFrame:
    """The hit pairs of `hunts` on Spark over the temp views `events`, `sign_ins`, `directory_audits` and `enrichment`
    the caller registered (`tables` names them); a view not named is created empty."""
    registered = set(tables)
    for name in (*SOURCES, "enrichment"):
        if name not in registered:
            empty = _empty(name)
            spark.createDataFrame([], _spark_schema(empty)).createOrReplaceTempView(name)
    labelled = _labelled(hunts)
    rows = []
    for start in range(0, len(labelled), SPARK_BATCH):
        selects = [exp.select(exp.column("tenant"), exp.Literal.string(hunt_id).as_("hunt_id"),
                              exp.Literal.string(source).as_("source"), exp.column("record_id")).from_(query.subquery("_h"))
                   for hunt_id, source, query in labelled[start:start + SPARK_BATCH]]
        query = exp.union(*selects, distinct=False) if len(selects) > 1 else selects[0]
        rows += [tuple(row) for row in spark.sql(sql_text(query, "spark")).collect()]
    return pl.DataFrame(rows, schema=HIT_PAIRS, orient="row").unique(maintain_order=True)


def _spark_schema(frame: pl.DataFrame) -> str:
    """A Spark DDL schema string for a frame's columns."""
    names = {pl.String: "string", pl.Int64: "bigint", pl.Float64: "double", pl.Boolean: "boolean"}
    kinds = [names.get(kind.base_type(), "timestamp") if not isinstance(kind, pl.Datetime) else "timestamp"
             for kind in frame.schema.values()]
    return ", ".join(f"`{name}` {kind}" for name, kind in zip(frame.columns, kinds))
