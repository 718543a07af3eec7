"""Provides `workbench correlate PATH...`: indicators seen in more than one case (or tenant), best first; the JSON
carries the parts of each score (core/ranking.py)."""

import argparse
import sys

import polars as pl

from workbench.commands.common import UsageError, add_format_argument, add_rows_argument, print_frame
from workbench.core.cases import CasesUsageError, OpenedCases, add_cases_arguments, comparison_column, open_cases_from_args
from workbench.core.config import load_config
from workbench.core.correlate import correlate, correlation_records, tenant_labels
from workbench.core.enrichment import cached_enrichment
from workbench.core.inert import dumps

HELP = "indicators (IPs, ASNs, user agents, rules, keywords, recipients, allow-list entries, subjects) shared by cases"
TABLE_COLUMNS = ("score", "kind", "value", "cases", "events", "users", "flags")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `correlate`."""
    add_cases_arguments(parser)
    add_format_argument(parser)
    add_rows_argument(parser)


def opened(args: argparse.Namespace) -> OpenedCases:
    """The cases named by the arguments, usage problems as UsageError."""
    try:
        return open_cases_from_args(args)
    except CasesUsageError as error:
        raise UsageError(str(error)) from error


def _table(result: pl.DataFrame, labels: dict[str, str]) -> pl.DataFrame:
    """The printable columns; cases by label; a `flags` column when the enrichment cache knew the IPs."""
    table = result.with_columns(
        pl.col("score").round(1), pl.col("cases").list.eval(pl.element().replace(labels)).list.join(", "),
        pl.col("users").list.join(", "))
    if "hosting" not in result.columns:
        return table.select(TABLE_COLUMNS[:-1])
    hosting = pl.concat_str(pl.lit("hosting: "), pl.col("reasons").list.join("; "))
    return table.with_columns(pl.when(pl.col("hosting")).then(hosting).alias("flags")).select(TABLE_COLUMNS)


def run(args: argparse.Namespace) -> int:
    """Open the cases, correlate them and print the shared indicators."""
    cases = opened(args)
    by = comparison_column(cases.events)
    groups = cases.events.select(pl.col(by).drop_nulls().n_unique()).collect().item()
    if groups < 2:
        raise UsageError("correlate needs two cases (PATH PATH..., or --case A --case B) or one case holding two tenants")
    enrichment = cached_enrichment(cases.events, load_config(args.config))
    result = correlate(cases.events, by, enrichment)
    compared = "cases" if by == "case" else f"tenants (organization_id) of case {cases.names[0]}"
    if args.format == "json":
        print(dumps(correlation_records(result, by), indent=1))
        return 0
    if args.format == "table":
        print(f"comparing {groups} {compared}", file=sys.stderr)
    table = _table(result, tenant_labels(cases.events) if by == "organization_id" else {})
    print_frame(table, args.format, title=f"{result.height} indicators shared by {compared}", rows=args.rows)
    return 0
