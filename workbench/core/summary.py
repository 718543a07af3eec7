"""Provides the summary of a loaded case that `workbench info` prints (DESIGN.md §4 `info` shape)."""

import polars as pl

from workbench.core.correlate import tenant_labels

from workbench.core.load_report import LoadReport


def _counts(activity: pl.LazyFrame, column: str, top: int | None) -> dict[str, int]:
    counted = activity.group_by(column).len().sort(["len", column], descending=[True, False])
    if top:
        counted = counted.head(top)
    return {str(name): count for name, count in counted.collect().iter_rows()}


def _sign_ins(activity: pl.LazyFrame) -> dict[str, dict[str, int]]:
    """Sign-ins per type and status kind (success, failure, interrupt)."""
    if "source" not in activity.collect_schema():
        return {}
    sign_ins = activity.filter(pl.col("source") == "signin")
    counted = sign_ins.group_by("sign_in_type", "result_status").len().sort("sign_in_type", "result_status").collect()
    result: dict[str, dict[str, int]] = {}
    for kind, status, count in counted.iter_rows():
        result.setdefault(str(kind), {})[str(status)] = count
    return result


def summarise(activity: pl.LazyFrame, report: LoadReport, top: int = 20) -> dict:
    """The load report plus, over every source (activity.py), time range, rows per source, sign-ins per type and
    status, workloads, top operations, users, client IPs and tenants: each counted over the rows' scan, reading
    only its columns (a case of ten million events is never in memory for it)."""
    first, last, users, addresses = activity.select(
        pl.col("creation_time").min().alias("first"), pl.col("creation_time").max().alias("last"),
        pl.col("user_key").n_unique(), pl.col("client_ip").drop_nulls().n_unique()).collect().row(0)
    tenants = activity.select(pl.col("organization_id").drop_nulls().unique()).collect().to_series()
    return {
        "sources": _counts(activity, "source", None) if "source" in activity.collect_schema() else
        {"ual": activity.select(pl.len()).collect().item()},
        "sign_ins": _sign_ins(activity),
        "files": [
            {key: value for key, value in vars(file).items()} for file in report.files
        ],
        "totals": report.totals(),
        "first_event": first.isoformat() if first else None,
        "last_event": last.isoformat() if last else None,
        "workloads": _counts(activity, "workload", None),
        "operations": _counts(activity, "operation", top),
        "users": users,
        "client_ips": addresses,
        "tenants": sorted(tenants.to_list()),
        "tenant_names": tenant_labels(activity),
        "warnings": report.warnings,
        "conflicts": report.conflicts,
    }
