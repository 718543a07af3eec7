"""The Spark tests' one session per test process (`local[2]`): starting Spark takes seconds, so every Spark test
of the process shares it; tests register their tables as temporary views."""

import pytest

from workbench.core.spark import spark_session

#: The test JVM compiles with the quick JIT only and collects garbage on one thread: the tests' jobs are small and
#: short, and this halves the CPU Spark spends on them (2 cores shared by the test workers). The quick JIT alone
#: shrinks the JVM's code cache to 48 MB, which the whole hunt pack's queries can fill ("Out of space in CodeCache
#: for adapters" killed a run), so it keeps the usual 240 MB.
TEST_CONF = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize=240m "
                                              "-XX:+UseSerialGC",
             "spark.sql.shuffle.partitions": "2"}


@pytest.fixture(scope="session")
def spark():
    """The shared local SparkSession (stopped when the test process ends)."""
    session = spark_session("local[2]", TEST_CONF)
    yield session
    session.stop()


#: Settings for the tests' few thousand rows: one shuffle partition, and no Java generated per query (compiling it
#: costs more than interpreting so few rows; Spark's generated and interpreted forms compute the same).
SMALL_DATA = {"spark.sql.shuffle.partitions": "1", "spark.sql.codegen.wholeStage": "false",
              "spark.sql.codegen.factoryMode": "NO_CODEGEN"}


@pytest.fixture(scope="module")
def small_data(spark):
    """The SMALL_DATA settings on the shared session for a module's tests, then the session's own again."""
    before = {key: spark.conf.get(key, None) for key in SMALL_DATA}
    for key, value in SMALL_DATA.items():
        spark.conf.set(key, value)
    yield
    for key, value in before.items():
        if value is None:
            spark.conf.unset(key)
        else:
            spark.conf.set(key, value)
