"""Provides `workbench publish --case NAME STORE`: a loaded case's frames into a tenant store (DESIGN §7), a folder
or a URI Spark writes."""

import argparse
import sys

from workbench.commands.common import UsageError, add_case_arguments, existing_case
from workbench.commands.sweep import add_spark_arguments, spark_settings
from workbench.core.inert import visible
from workbench.core.spark import SparkMissing
from workbench.core.tenant_store import StoreError, is_uri, publish

HELP = ("publishes a loaded case's events, sign-ins, directory audits and message trace into a tenant store: "
        "Hive-partitioned Parquet FRAME/tenant=<organization id>/day=<date>/ that `workbench sweep` and Spark read; "
        "publishing again adds nothing twice")

EPILOG = """\
STORE is a folder, or a URI Spark writes through its own connectors (s3a://, abfss://, gs://, file://; needs
the spark extra: pip install '.[spark]'), given the connector and its credentials with --conf.
Examples:
  workbench publish --case case-a ./store && workbench sweep ./store -o ./sweep-out
  workbench publish --case case-a s3a://bucket/store \\
      --conf spark.jars.packages=org.apache.hadoop:hadoop-aws:<Spark's Hadoop version>
  workbench sweep s3a://bucket/store --engine spark --conf spark.jars.packages=... -o ./sweep-out
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--case NAME (required), STORE, --tenant, and --master and --conf for a URI."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("store", metavar="STORE",
                        help="the store's folder (created when missing), or a URI Spark writes (s3a://bucket/store)")
    add_case_arguments(parser)
    parser.add_argument("--tenant", metavar="ID",
                        help="the tenant of rows that name no organization id (default: the case's one organization "
                             "id; a case naming none or several needs this)")
    add_spark_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Publish the case and say how many rows each frame added."""
    if not args.case:
        raise UsageError("publish needs --case NAME (a loaded case; `workbench cases` lists them)")
    if not is_uri(args.store) and (args.master or args.conf):
        raise UsageError("--master and --conf are Spark settings: Spark writes a STORE given as a URI (s3a://...)")
    conf = spark_settings(args.conf)
    case = existing_case(args.case, args)
    try:
        added = publish(case, args.store, tenant=args.tenant, master=args.master, conf=conf)
    except (StoreError, SparkMissing) as error:
        raise UsageError(str(error)) from error
    counts = ", ".join(f"{frame} {rows:,}" for frame, rows in added.items())
    print(visible(f"published {case.name} to {args.store}: rows added: {counts}"), file=sys.stderr)
    return 0
