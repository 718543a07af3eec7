"""The Spark tests' one session per test process (`local[2]`): starting Spark takes seconds, so every Spark test
of the process shares it; tests register their tables as temporary views."""

import pytest

from workbench.core.spark import spark_session


@pytest.fixture(scope="session")
def spark():
    """The shared local SparkSession (stopped when the test process ends)."""
    session = spark_session("local[2]")
    yield session
    session.stop()
