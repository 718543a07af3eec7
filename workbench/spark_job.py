"""Provides `workbench sweep` as a Spark application, for `spark-submit` and Databricks or EMR jobs:

    spark-submit --master spark://host:7077 workbench/spark_job.py STORE -o OUT [sweep options]

The session is the one the cluster manager starts (master, executors and settings from spark-submit or the job);
the sweep runs on it with the Spark engine, its hits and summary written on the driver. The workbench needs to be
installed on the driver only: the hunts run as Spark SQL.
"""

import sys


def run(argv: list[str] | None = None) -> int:
    """Start (or join) the application's session and run `workbench sweep --engine spark` with `argv`."""
    from pyspark.sql import SparkSession

    from workbench.cli import main

    SparkSession.builder.appName("workbench sweep").getOrCreate()
    return main(["sweep", "--engine", "spark", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(run())
