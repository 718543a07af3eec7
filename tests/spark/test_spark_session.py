"""The workbench's Spark session: UTC clock, few shuffle partitions in local mode, and a clear message without
pyspark."""

import os
import sys

import pytest

from workbench.core.spark import SparkMissing, local_heap, spark_session


def test_the_session_runs_on_utc_with_few_shuffle_partitions(spark):
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert int(spark.conf.get("spark.sql.shuffle.partitions")) <= 8
    assert spark.sparkContext.master == "local[2]"
    assert spark.sql("SELECT CAST(TIMESTAMP '2024-01-01 10:00:00' AS STRING) AS t").first().t == "2024-01-01 10:00:00"
    assert spark.sql("SELECT unix_micros(TIMESTAMP '1970-01-01 00:00:01') AS t").first().t == 1_000_000


def test_a_local_session_gets_half_the_machines_memory_as_heap(spark):
    """Spark's default of 1 GB ran out of heap caching a 1M-event store for a sweep: local mode gets half the
    machine's memory, unless a setting says otherwise."""
    memory_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") >> 20
    assert spark.conf.get("spark.driver.memory") == local_heap() == f"{max(1024, memory_mb // 2)}m"
    heap_mb = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory() >> 20
    assert memory_mb * 0.4 < heap_mb <= memory_mb * 0.5


def test_without_pyspark_the_message_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # what an install without the extra gives

    with pytest.raises(SparkMissing, match=r"pip install '\.\[spark\]'"):
        spark_session()


def test_java_options_given_add_to_the_workbenchs_log_settings(spark):
    options = spark.conf.get("spark.driver.extraJavaOptions")

    assert "spark_log4j2.properties" in options and "-XX:TieredStopAtLevel=1" in options
    assert spark.sparkContext._jvm.org.apache.logging.log4j.LogManager.getRootLogger().getLevel().toString() == "ERROR"
