"""Provides publishing a case into a tenant store on a URI (`s3a://`, `abfss://`, `gs://`, `file://`): Spark writes
the frames through its own connectors in the layout, columns and types of a folder publish (tenant_store.py), and
reads and writes the store's `_cases.json` through the same Hadoop file systems.

Publishing is idempotent: Spark reads the record ids the store's partitions of the case's tenants and days hold,
the case's rows they hold are left out (an anti join, in Polars, as a folder publish does) and Spark appends the
rest, one part per tenant and day. A URI has no writer lock, unlike a folder: publish one case at a time into it.
The rows go from Polars to Spark and back as Arrow; Spark writes times as Parquet microseconds (not its legacy
INT96), as Polars and DuckDB do.
"""

from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

import polars as pl

from workbench.core.case import Case
from workbench.core.spark import running_session, session_for
from workbench.core.store_tables import spark_ddl, table_schema
from workbench.core.tenant_store import (
    CASES_FILE, FRAMES, StoreError, cases_by_tenant, cases_json, windows_to_publish,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: What the store's partitions hold that decides whether a row is new.
HELD_SCHEMA = "record_id string, tenant string, day string"
#: Spark's Parquet time type: microseconds marked UTC, as Polars and DuckDB write and read them.
TIMESTAMP_TYPE = ("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")


def _file_system(spark: "SparkSession", uri: str):
    """The Hadoop path of `uri` and its file system, as Spark's connectors see them."""
    path = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(uri)
    return path, path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())


def _exists(spark: "SparkSession", uri: str) -> bool:
    path, file_system = _file_system(spark, uri)
    return bool(file_system.exists(path))


@contextmanager
def _spark_errors(store: str) -> Iterator[None]:
    """Spark's and its connectors' errors as a StoreError naming the store and the first line of the cause."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        yield
    except Py4JJavaError as error:
        cause = str(error.java_exception.toString()).splitlines()[0]
        raise StoreError(f"{store}: Spark cannot publish there: {cause}") from error
    except PySparkException as error:
        raise StoreError(f"{store}: Spark cannot publish there: {str(error).splitlines()[0]}") from error


def store_file_text(uri: str, spark: "SparkSession | None" = None) -> str | None:
    """The UTF-8 text of a file of a URI store, read through `spark` (else the session this thread runs); None when
    the file is missing or no Spark session runs."""
    spark = spark or running_session()
    if spark is None or not _exists(spark, uri):
        return None
    path, file_system = _file_system(spark, uri)
    stream = file_system.open(path)
    try:
        return bytes(spark.sparkContext._jvm.org.apache.hadoop.io.IOUtils.readFullyToByteArray(stream)).decode()
    finally:
        stream.close()


def _write_text(spark: "SparkSession", uri: str, text: str) -> None:
    """Write a small file of a URI store in one piece (an object store shows it once complete)."""
    path, file_system = _file_system(spark, uri)
    stream = file_system.create(path, True)
    try:
        stream.write(text.encode())
    finally:
        stream.close()


def _held_ids(spark: "SparkSession", frame_uri: str, rows: pl.DataFrame) -> pl.DataFrame:
    """(record_id, tenant, day) of what the frame's partitions of the rows' tenants and days hold, read by Spark."""
    folders = (f"{frame_uri}/tenant={tenant}" for tenant in sorted(rows["tenant"].unique().to_list()))
    present = [folder for folder in folders if _exists(spark, folder)]
    if not present:
        return pl.DataFrame(schema={"record_id": pl.String, "tenant": pl.String, "day": pl.String})
    held = spark.read.schema(HELD_SCHEMA).option("basePath", frame_uri).parquet(*present)
    return pl.from_arrow(held.where(held["day"].isin(sorted(rows["day"].unique().to_list()))).toArrow())


def _append_fresh(spark: "SparkSession", rows: pl.DataFrame, frame_uri: str, frame: str) -> int:
    """Append the rows whose record id their partition does not hold yet, one part per tenant and day; the rows
    added."""
    if not rows.height:
        return 0
    schema = table_schema(frame)
    fresh = rows.join(_held_ids(spark, frame_uri, rows), on=["tenant", "day", "record_id"], how="anti")
    if fresh.height:
        table = spark.createDataFrame(fresh.select(list(schema)).to_arrow(), spark_ddl(schema))
        table.repartition("tenant", "day").write.mode("append").partitionBy("tenant", "day").parquet(frame_uri)
    return fresh.height


def publish_to_uri(case: Case, store: str, tenant: str | None = None, master: str | None = None,
                   conf: dict | None = None) -> dict[str, int]:
    """`tenant_store.publish` into a store on a URI, written by Spark on `master` (default: the session this process
    runs, else `local[2]`) with the settings `conf`; the rows added per frame."""
    spark, windows = session_for(master, conf), windows_to_publish(case, tenant)
    root, added, tenants = store.rstrip("/"), dict.fromkeys(FRAMES, 0), set()
    with _spark_errors(store):
        spark.conf.set(*TIMESTAMP_TYPE)
        for frame, rows in windows:
            added[frame] += _append_fresh(spark, rows, f"{root}/{frame}", frame)
            tenants |= set(rows["tenant"].unique().to_list())
        if tenants:
            _write_text(spark, f"{root}/{CASES_FILE}", cases_json(cases_by_tenant(store, spark), case, tenants))
    return added
