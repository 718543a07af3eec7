"""Provides `workbench publish --case NAME STORE`: a loaded case's frames into a tenant store (DESIGN §7)."""

import argparse
import sys

from workbench.commands.common import UsageError, add_case_arguments, existing_case
from workbench.core.inert import visible
from workbench.core.tenant_store import StoreError, publish

HELP = ("publishes a loaded case's events, sign-ins, directory audits and message trace into a tenant store: "
        "Hive-partitioned Parquet FRAME/tenant=<organization id>/day=<date>/ that `workbench sweep` and Spark read; "
        "publishing again adds nothing twice")

EPILOG = """\
STORE is a folder. For a store on S3, ADLS or GCS publish to a folder and copy it there with the cloud's
own tool (aws s3 sync, azcopy sync, gcloud storage rsync); `workbench sweep --engine spark` reads it in place.
Example:
  workbench publish --case case-a ./store && workbench sweep ./store -o ./sweep-out
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """--case NAME (required), STORE and --tenant."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("store", metavar="STORE", help="the store's folder (created when missing)")
    add_case_arguments(parser)
    parser.add_argument("--tenant", metavar="ID",
                        help="the tenant of rows that name no organization id (default: the case's one organization "
                             "id; a case naming none or several needs this)")


def run(args: argparse.Namespace) -> int:
    """Publish the case and say how many rows each frame added."""
    if not args.case:
        raise UsageError("publish needs --case NAME (a loaded case; `workbench cases` lists them)")
    case = existing_case(args.case, args)
    try:
        added = publish(case, args.store, tenant=args.tenant)
    except StoreError as error:
        raise UsageError(str(error)) from error
    counts = ", ".join(f"{frame} {rows:,}" for frame, rows in added.items())
    print(visible(f"published {case.name} to {args.store}: rows added: {counts}"), file=sys.stderr)
    return 0
