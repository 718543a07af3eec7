"""Provides `store_query`: one read-only query of the SQL console over a tenant store, on DuckDB or Spark.

The tables are the store's frames (`events`, alias `xdr_identity_o365`, `sign_ins`, `directory_audits`,
`messages`), each with `tenant` and `day`. The query is read as the console reads it (quotes repaired, one SELECT,
no files, URLs or settings: sql_guard.py) and written for the engine by sqlglot. DuckDB is locked as the console's
engine is (it reads the store's folder only) and compares text ignoring case unless `exact`; Spark compares text
exactly.
"""

from pathlib import Path

from workbench.core.duck import ERRORS
from workbench.core.sql import EVENTS_TABLE, SqlResult, engine_error, tolerant_json
from workbench.core.sql_guard import parse_read_only
from workbench.core.sql_params import query_parameters
from workbench.core.sql_repair import repair
from workbench.core.store_tables import DuckStore, SparkStore, open_store
from workbench.core.tenant_store import FRAMES, is_uri

TABLES = [*FRAMES, EVENTS_TABLE]
#: Said beside a Spark result: the console's case-insensitive text comparison is DuckDB's.
SPARK_EXACT_NOTE = "Spark compares text exactly (the DuckDB engine ignores case unless --exact)"


def _lock(tables: DuckStore, store: str, exact: bool) -> None:
    """The console's engine settings: UTC, no access beyond the store's folder, no further setting changes."""
    con = tables.con
    con.execute("SET TimeZone = 'UTC'")
    if not exact:
        con.execute("SET default_collation = 'nocase'")
    if not is_uri(store):
        con.execute(f"SET allowed_directories = ['{str(Path(store).resolve()).replace(chr(39), chr(39) * 2)}/']")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def store_query(store: str | Path, engine: str, query: str, exact: bool = False, master: str | None = None,
                conf: dict | None = None) -> SqlResult:
    """The rows of one read-only query over the store's frames; raises SqlError (positioned when possible)."""
    repaired = repair(query)
    if query_parameters(repaired.text):
        raise repaired.error("parameters (:name) are for a case's queries; write the values into a store query", None)
    tree = tolerant_json(parse_read_only(repaired, TABLES))
    tables = open_store(store, engine, [], master, conf)
    try:
        if isinstance(tables, SparkStore):
            tables.spark.table("events").createOrReplaceTempView(EVENTS_TABLE)
            sql = tree.sql(dialect="spark")
            try:
                frame = tables.collect(tables.spark.sql(sql))
            except Exception as error:  # Spark's analysis and runtime errors share no base class worth naming
                raise repaired.error(str(error).split("\n")[0], None) from None
            return SqlResult(frame, [*repaired.notes, SPARK_EXACT_NOTE], repaired.text, sql)
        tables.con.execute(f"CREATE VIEW {EVENTS_TABLE} AS SELECT * FROM events")
        _lock(tables, str(store), exact)
        sql = tree.sql(dialect="duckdb")
        try:
            frame = tables.con.sql(sql).pl()
        except ERRORS as error:
            raise engine_error(error, repaired) from None
        return SqlResult(frame, repaired.notes, repaired.text, sql)
    finally:
        tables.close()

