"""Provides `workbench enrich`: one row per distinct client IP with RDAP / AbuseIPDB facts and hosting flags."""

import argparse
import sys
from pathlib import Path

import polars as pl

import enrich
from workbench.commands.common import (
    UsageError, add_format_argument, add_input_arguments, add_rows_argument, open_case, print_frame,
)
from workbench.core.config import load_config
from workbench.core.inert import dumps, visible

HELP = "one row per distinct client IP: events, users, ASN, organisation, abuse score, hosting flag and reasons"
TABLE_COLUMNS = ("ip", "events", "users", "cases", "asn", "org", "country", "abuse_score", "usage_type",
                 "hosting", "reasons", "geo_country", "geo_city", "geo_asn", "geo_as_org")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `enrich`."""
    add_input_arguments(parser)
    add_format_argument(parser)
    add_rows_argument(parser)
    parser.add_argument("--offline", action="store_true", help="no network call at all: use only the cache")
    parser.add_argument("--export", type=Path, metavar="FILE", help="write the cached lookups to FILE (for another host)")
    parser.add_argument("--import", dest="import_file", type=Path, metavar="FILE",
                        help="add lookups exported on another host to the cache first")


def settings_for(args: argparse.Namespace) -> "enrich.EnrichSettings":
    """Enrichment settings from the config file and the environment."""
    try:
        return enrich.settings_from_env(load_config(args.config))
    except enrich.SettingsError as error:
        raise UsageError(str(error)) from error


def run(args: argparse.Namespace) -> int:
    """Import/export the cache as asked, then enrich the case's client IPs."""
    settings = settings_for(args)
    with enrich.EnrichmentCache(settings.resolved_cache_dir) as cache:
        try:
            if args.import_file:
                count = cache.import_results(args.import_file)
                print(visible(f"imported {count} cached lookups from {args.import_file}"), file=sys.stderr)
            if args.export and not (args.paths or args.case):
                print(visible(f"exported {cache.export_results(args.export)} cached lookups to {args.export}"),
                      file=sys.stderr)
                return 0
        except (enrich.CacheFileError, OSError) as error:
            raise UsageError(str(error)) from error
    if not (args.paths or args.case):
        return 0
    case, _report = open_case(args, quiet=args.format != "table")
    result = enrich.enrich(enrich.ip_summary(case.activity_scan()), settings, offline=args.offline)  # sign-in IPs too
    for message in result.messages:
        print(visible(message), file=sys.stderr)
    if args.export:
        with enrich.EnrichmentCache(settings.resolved_cache_dir) as cache:
            print(visible(f"exported {cache.export_results(args.export)} cached lookups to {args.export}"),
                  file=sys.stderr)
    if args.format == "json":
        print(dumps(result.records(), indent=1))
    else:
        frame = result.frame.select(TABLE_COLUMNS).with_columns(
            pl.col("cases").list.join(", "), pl.col("reasons").list.join("; ")
        )
        print_frame(frame, args.format, title=f"Client IPs of case {case.name}", rows=args.rows)
    return 0
