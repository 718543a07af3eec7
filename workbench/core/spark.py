"""Provides `spark_session`: a SparkSession set up for hunting (UTC clock, quiet logs, no web UI).

pyspark is the optional extra `spark` (`pip install '.[spark]'`); it is imported only here, when a session is
asked for, so the core install never needs it. A local master (`local`, `local[N]`, `local[*]`) gets a few
shuffle partitions instead of Spark's 200, which suit a cluster, not one machine, and a heap of half the machine's
memory: in local mode the driver's JVM does all the work, and Spark's default of 1 GB ran out of heap caching the
events of a 1M-event store for a sweep.
"""

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

#: Shuffle partitions of a local session (Spark's default of 200 is made for clusters).
LOCAL_SHUFFLE_PARTITIONS = 4
#: The share of the machine's memory a local session's JVM may take as heap.
LOCAL_HEAP_SHARE = 0.5
#: The driver JVM's options: `conf` adds to them instead of replacing them.
JAVA_OPTIONS = "spark.driver.extraJavaOptions"
#: Settings of every session the workbench makes; `conf` given to `spark_session` overrides them.
BASE_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    JAVA_OPTIONS: f"-Dlog4j2.configurationFile={Path(__file__).with_name('spark_log4j2.properties').as_uri()}",
}


class SparkMissing(RuntimeError):
    """pyspark (the `spark` extra) is not installed."""


def spark_session(master: str = "local[2]", conf: dict | None = None) -> "SparkSession":
    """A SparkSession on `master` (`local[2]`, `spark://host:7077`, `yarn`...) with the UTC session time zone, no
    web UI, errors-only logs on stderr and, in local mode, few shuffle partitions and `local_heap()`; `conf` (Spark
    settings, `spark.driver.memory` too) overrides these, except that driver Java options add to the workbench's.
    Returns the running session when there is one (Spark allows one per process). Raises `SparkMissing` when pyspark
    is not installed."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise SparkMissing("the Spark engine needs pyspark: pip install '.[spark]' (and a Java runtime)") from error
    settings = dict(BASE_CONF)
    if master.startswith("local"):
        settings["spark.sql.shuffle.partitions"] = str(LOCAL_SHUFFLE_PARTITIONS)
        settings["spark.driver.memory"] = local_heap()
    for key, value in (conf or {}).items():  # Java options add to the workbench's (its log settings), others replace
        settings[key] = f"{settings[key]} {value}" if key == JAVA_OPTIONS and key in settings else value
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers run this interpreter, not the PATH's
    if master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # one machine: no guessing of its network address
    builder = SparkSession.builder.master(master).appName("workbench")
    for key, value in settings.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def local_heap() -> str:
    """The heap of a local session's JVM: `LOCAL_HEAP_SHARE` of the machine's memory, in whole MB (at least 1 GB)."""
    memory = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return f"{max(1024, int(memory * LOCAL_HEAP_SHARE) >> 20)}m"


def running_session() -> "SparkSession | None":
    """The session this process already runs (spark-submit, a Databricks job or notebook), or None (none, or no
    pyspark)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def session_for(master: str | None, conf: dict | None) -> "SparkSession":
    """With no master named, the session this process runs, set up for hunting (UTC clock, `conf`): a job runs where
    it was submitted; else, or without one, `spark_session` on `master` (default `local[2]`)."""
    session = running_session() if master is None else None
    if session is None:
        return spark_session(master or "local[2]", conf)
    for key, value in {"spark.sql.session.timeZone": "UTC", **(conf or {})}.items():
        session.conf.set(key, value)
    return session
