"""Provides a tenant store's frames as SQL tables on DuckDB or Spark (`open_store`): one object per engine that runs
SQL written in DuckDB's dialect (written for Spark by sqlglot), takes small Polars frames as tables and runs
compiled hunts (`hunts.sql_run`).

Every frame is a table of its declared columns plus `tenant` and `day` (text, from the Hive partition folders),
limited to the chosen tenants; a frame the store lacks is an empty table of the same columns.
"""

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
import sqlglot

from workbench.core.schema import FRAME_SCHEMAS
from workbench.core.tenant_store import FRAMES, StoreError, frame_glob, is_uri

if TYPE_CHECKING:
    import hunts

#: The partition columns every frame table has besides its declared ones.
PARTITIONS = {"tenant": pl.String(), "day": pl.String()}
#: Folders a local Spark session lists on the driver before it lists them with a job (Spark's default: 32).
LOCAL_LISTING = 100_000
#: Spark SQL type of each column type the frames and the sweep's small tables use.
_SPARK_TYPES = {pl.String: "string", pl.Int64: "bigint", pl.Int32: "int", pl.UInt32: "bigint", pl.Float64: "double",
                pl.Boolean: "boolean", pl.Datetime: "timestamp"}


def table_schema(frame: str) -> dict[str, pl.DataType]:
    """The columns of a frame's table: the frame's declared ones, then `tenant` and `day`."""
    return FRAME_SCHEMAS[frame] | PARTITIONS


def _spark_type(dtype: pl.DataType) -> str:
    if isinstance(dtype, pl.List):
        return f"array<{_spark_type(dtype.inner)}>"
    return _SPARK_TYPES[dtype.base_type()]


def spark_ddl(schema: dict[str, pl.DataType]) -> str:
    """A Polars schema as a Spark DDL schema string (`record_id string, creation_time timestamp, ...`)."""
    return ", ".join(f"`{name}` {_spark_type(dtype)}" for name, dtype in schema.items())


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckStore:
    """A store's frames as DuckDB views over its Parquet parts (read where they lie, out of core).

    A sweep runs hundreds of queries, and a store partitioned by day holds many small files whose opening each
    query would pay again; `for_sweep` first copies each frame (the chosen tenants' rows) into one Parquet file in a
    scratch folder, streamed by DuckDB, which the queries then read.
    """

    engine = "duckdb"

    def __init__(self, store: str | Path, tenants: list[str], for_sweep: bool = False):
        import duckdb

        self.store, self.tenants = str(store), tenants
        self.con: duckdb.DuckDBPyConnection = duckdb.connect()
        self._scratch = tempfile.TemporaryDirectory(prefix="workbench-sweep-") if for_sweep else None
        self.frames: dict[str, str | pl.DataFrame] = {}
        for frame in FRAMES:
            columns = ", ".join(f'"{name}"' for name in table_schema(frame))
            parts = [] if is_uri(store) else sorted((Path(store) / frame).rglob("*.parquet"))
            if is_uri(store) or parts:
                # a local store's parts by name: its folder may be named like a pattern (`x[1]`)
                files = _quoted(frame_glob(store, frame)) if is_uri(store) else f"[{', '.join(_quoted(str(part)) for part in parts)}]"
                source = (f"read_parquet({files}, hive_partitioning = true, "
                          f"hive_types = {{'tenant': 'VARCHAR', 'day': 'VARCHAR'}}, union_by_name = true)")
                chosen = f" WHERE tenant IN ({', '.join(map(_quoted, tenants))})" if tenants else ""
                rows = f"SELECT {columns} FROM {source}{chosen}"
                if self._scratch is not None:
                    path = str(Path(self._scratch.name) / f"{frame}.parquet")
                    self.con.execute(f"COPY ({rows}) TO {_quoted(path)} (FORMAT parquet, COMPRESSION zstd)")  # 2.5x smaller
                    rows = f"SELECT * FROM read_parquet({_quoted(path)})"
                    self.frames[frame] = path
                self.con.execute(f"CREATE VIEW {frame} AS {rows}")
            else:
                self.frames[frame] = pl.DataFrame(schema=table_schema(frame))
                self.con.register(frame, self.frames[frame])

    def query(self, sql: str) -> pl.DataFrame:
        """The result of SQL in DuckDB's dialect."""
        return self.con.sql(sql).pl()

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Make a small Polars frame a table."""
        self.con.register(name, frame)

    def materialise(self, name: str, sql: str) -> None:
        """Make the result of SQL in DuckDB's dialect a table that later queries read (computed once)."""
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")

    def hunt_pairs(self, chosen: "list[hunts.Hunt]", enrichment: pl.DataFrame | None) -> pl.DataFrame:
        """The hits of the hunts: (tenant, hunt_id, source, record_id); the store was opened `for_sweep`."""
        from hunts.sql_run import run_duckdb

        if self._scratch is None:
            raise StoreError("hunts run over a store opened for a sweep (open_store(..., for_sweep=True))")

        return run_duckdb(chosen, self.frames, enrichment)

    def close(self) -> None:
        """Close the connection and remove the scratch copies."""
        self.con.close()
        if self._scratch is not None:
            self._scratch.cleanup()


class SparkStore:
    """A store's frames as Spark temporary views (read by Spark's own connectors: folders, s3a://, abfss://, gs://).

    `for_sweep` persists each frame (memory, spilling to disk) at its first read, so that a sweep's hundreds of
    queries read the store's files once.
    """

    engine = "spark"

    def __init__(self, store: str | Path, tenants: list[str], master: str | None = None, conf: dict | None = None,
                 for_sweep: bool = False):
        from pyspark import StorageLevel

        from workbench.core.spark import session_for

        self.spark = session_for(master, conf)
        if self.spark.sparkContext.master.startswith("local"):
            # one machine lists a store's tenant and day folders faster itself than through a Spark job
            self.spark.conf.set("spark.sql.sources.parallelPartitionDiscovery.threshold", str(LOCAL_LISTING))
        self.store, self.tenants = str(store), tenants
        self.tables = {}
        self._persisted = []
        for frame in FRAMES:
            schema = spark_ddl(table_schema(frame))
            path = f"{self.store.rstrip('/')}/{frame}"
            if is_uri(store) or Path(path).is_dir():
                table = self.spark.read.schema(schema).option("basePath", path).parquet(path)
                if tenants:
                    table = table.where(table["tenant"].isin(tenants))
            else:
                table = self.spark.createDataFrame([], schema)
            if for_sweep:
                table = table.persist(StorageLevel.MEMORY_AND_DISK)
            table.createOrReplaceTempView(frame)
            self.tables[frame] = table
            self._persisted.append(table)

    def query(self, sql: str) -> pl.DataFrame:
        """The result of SQL in DuckDB's dialect, written for Spark by sqlglot."""
        return self.collect(self.spark.sql(spark_sql(sql)))

    @staticmethod
    def collect(table) -> pl.DataFrame:
        """A Spark DataFrame's rows as a Polars frame (through Arrow)."""
        return pl.from_arrow(table.toArrow())

    def register(self, name: str, frame: pl.DataFrame) -> None:
        """Make a Polars frame (hit ids, indicators, enrichment) a temporary view, sent as Arrow."""
        self.spark.createDataFrame(frame.to_arrow(), spark_ddl(frame.schema)).createOrReplaceTempView(name)

    def materialise(self, name: str, sql: str) -> None:
        """Make the result of SQL in Spark's dialect a persisted view that later queries read (computed once)."""
        self._persisted.append(self.spark.sql(sql).persist())
        self._persisted[-1].createOrReplaceTempView(name)

    def hunt_pairs(self, chosen: "list[hunts.Hunt]", enrichment: pl.DataFrame | None) -> pl.DataFrame:
        """The hits of the hunts: (tenant, hunt_id, source, record_id)."""
        from hunts.sql_run import ENRICHMENT_SCHEMA, run_spark

        tables = list(self.tables)
        if enrichment is not None:
            self.register("enrichment", enrichment.select(
                pl.col(name).cast(kind) if name in enrichment.columns else pl.lit(None, kind).alias(name)
                for name, kind in ENRICHMENT_SCHEMA.items()))
            tables.append("enrichment")
        return run_spark(chosen, self.spark, tables)

    def close(self) -> None:
        """Let go of what was persisted; the session outlives a sweep (Spark allows one per process)."""
        for table in self._persisted:
            table.unpersist()


def spark_sql(sql: str) -> str:
    """SQL written in DuckDB's dialect, in Spark's."""
    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


def open_store(store: str | Path, engine: str, tenants: list[str], master: str | None = None,
               conf: dict | None = None, for_sweep: bool = False) -> DuckStore | SparkStore:
    """The store's frames as tables on `engine` (`duckdb` or `spark`), limited to `tenants` (all when empty);
    `for_sweep`: read the files once for the many queries to come (DuckStore, SparkStore)."""
    if not is_uri(store) and not Path(store).is_dir():
        raise StoreError(f"{store}: no such store folder (`workbench publish --case NAME {store}` makes one)")
    if engine == "duckdb":
        return DuckStore(store, tenants, for_sweep)
    return SparkStore(store, tenants, master, conf, for_sweep)
