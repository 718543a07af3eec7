"""Provides `workbench sweep STORE -o OUT`: the hunts, Sigma rules and an IOC list over every tenant of a tenant
store, on DuckDB (this machine) or Spark (local mode or a cluster), and a summary per tenant."""

import argparse
import sys
from pathlib import Path

import polars as pl

from workbench.commands.common import UsageError, add_format_argument
from workbench.commands.hunt import add_hunts_argument
from workbench.core.config import load_config
from workbench.core.hunting import hunt_pack, sigma_rules
from workbench.core.inert import dumps, visible
from workbench.core.ioc import IocFileError, read_iocs
from workbench.core.spark import SparkMissing
from workbench.core.sweep import ENGINES, SweepError, sweep
from workbench.core.table_fit import Column, print_table
from workbench.core.tenant_store import StoreError

HELP = ("runs the hunts (and Sigma rules, and an IOC list) over every tenant of a tenant store on DuckDB or Spark; "
        "writes OUT/hits.parquet, OUT/hits.csv and OUT/summary.json and prints hits per tenant")

EPILOG = """\
STORE is a folder `workbench publish` filled, or with --engine spark any URI Spark reads (s3a://, abfss://, gs://).
Examples:
  workbench sweep ./store -o ./sweep-out
  workbench sweep ./store --engine spark --iocs iocs.txt -o ./sweep-out
  workbench sweep s3a://bucket/store --engine spark --master spark://host:7077 --conf spark.executor.memory=8g -o out
Open the result in the TUI with `workbench --sweep ./sweep-out`.
"""

TABLE_COLUMNS = [
    Column("tenant", min_width=12), Column("hits", min_width=5), Column("severity", "by severity", 16),
    Column("tactic", "by tactic", 20), Column("first_hit", "first hit", 20), Column("last_hit", "last hit", 20),
    Column("case", min_width=8),
]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `sweep`."""
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("store", metavar="STORE", help="the tenant store: a folder, or a URI Spark reads")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help="folder for the sweep's output")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb", help="SQL engine (default: duckdb)")
    add_spark_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("--sigma", action="append", type=Path, default=[], metavar="DIR",
                        help="folder of Sigma rules run as hunts (repeatable); adds to the config's sigma_dirs")
    parser.add_argument("--iocs", type=Path, metavar="FILE",
                        help="indicators to sweep for, as `workbench ioc` reads them (text or CSV)")
    parser.add_argument("--no-hunts", action="store_true", help="sweep the indicators of --iocs only")
    parser.add_argument("--tenant", action="append", default=[], metavar="ID",
                        help="sweep only this tenant (repeatable; default: every tenant of the store)")
    parser.add_argument("--config", type=Path, metavar="FILE", help="config file (default: user config dir)")
    add_format_argument(parser, ("table", "json"))  # json: summary.json


def add_spark_arguments(parser: argparse.ArgumentParser) -> None:
    """--master URL and --conf K=V (repeatable): where Spark runs and its settings."""
    parser.add_argument("--master", metavar="URL",
                        help="Spark master: local[N], spark://host:7077, yarn... (default: local[2])")
    parser.add_argument("--conf", action="append", default=[], metavar="K=V", help="a Spark setting (repeatable)")


def spark_settings(items: list[str]) -> dict[str, str]:
    """The --conf K=V settings as a dict; a UsageError for a malformed one."""
    conf = {}
    for item in items:
        key, equals, value = item.partition("=")
        if not equals or not key.strip():
            raise UsageError(f"--conf {item!r}: give KEY=VALUE, such as --conf spark.executor.memory=8g")
        conf[key.strip()] = value
    return conf


def spark_conf(items: list[str], engine: str, master: str | None) -> dict[str, str]:
    """The --conf K=V settings as a dict; a UsageError for a malformed one, or for Spark settings without Spark."""
    if engine != "spark" and (items or master):
        raise UsageError("--master and --conf are Spark settings: give them with --engine spark")
    return spark_settings(items)


def _table(summary: dict) -> None:
    def counts(values: dict) -> str:
        return ", ".join(f"{name} {count}" for name, count in values.items())
    rows = [{"tenant": entry["tenant"], "hits": str(entry["hits"]), "severity": counts(entry["by_severity"]),
             "tactic": counts(entry["by_tactic"]), "first_hit": entry["first_hit"] or "",
             "last_hit": entry["last_hit"] or "", "case": entry["case"] or ""} for entry in summary["tenants"]]
    frame = pl.DataFrame(rows, schema={column.key: pl.String for column in TABLE_COLUMNS})
    total = sum(entry["hits"] for entry in summary["tenants"])
    print_table(frame, TABLE_COLUMNS, title=f"{total:,} hits in {len(rows):,} tenants ({summary['engine']})")


def run(args: argparse.Namespace) -> int:
    """Sweep the store, write OUT and print the tenants' summary."""
    conf = spark_conf(args.conf, args.engine, args.master)
    if args.no_hunts and not args.iocs:
        raise UsageError("--no-hunts sweeps the indicators of --iocs only: give --iocs FILE")
    config = load_config(args.config)
    try:
        iocs = read_iocs(args.iocs) if args.iocs else None
    except IocFileError as error:
        raise UsageError(str(error)) from error
    pack, sigma_ids = [], set()
    if not args.no_hunts:
        pack = hunt_pack(config, args.hunts, args.sigma)
        sigma = sigma_rules(config, args.sigma)
        sigma_ids = {hunt.id for hunt in sigma.hunts} if sigma else set()
    try:
        summary = sweep(args.store, args.output, args.engine, pack, sigma_ids, iocs, args.tenant, args.master, conf,
                        config)
    except (StoreError, SweepError, SparkMissing) as error:
        raise UsageError(str(error)) from error
    for problem in summary.get("not_run", []):
        print(visible(f"workbench: not run on {args.engine}: {problem['hunt_id']}: {problem['reason']}"), file=sys.stderr)
    if args.format == "json":
        print(dumps(summary, indent=1))
    else:
        _table(summary)
    print(visible(f"hits written to {args.output / 'hits.parquet'} and hits.csv; summary in summary.json"),
          file=sys.stderr)
    return 0
