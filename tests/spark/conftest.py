"""The Spark tests' one session per test process (`local[2]`): starting Spark takes seconds, so every Spark test
of the process shares it; tests register their tables as temporary views."""

import pytest

from workbench.core.spark import spark_session

#: The test JVM compiles with the quick JIT only and collects garbage on one thread: the tests' jobs are small and
#: short, and this halves the CPU Spark spends on them (2 cores shared by the test workers).
TEST_CONF = {"spark.driver.extraJavaOptions": "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC",
             "spark.sql.shuffle.partitions": "2"}


@pytest.fixture(scope="session")
def spark():
    """The shared local SparkSession (stopped when the test process ends)."""
    session = spark_session("local[2]", TEST_CONF)
    yield session
    session.stop()
