"""Provides the summary of a loaded case that `workbench info` prints (DESIGN.md §4 `info` shape)."""

import polars as pl

from workbench.core.correlate import tenant_labels

from workbench.core.load_report import LoadReport


def _counts(events: pl.DataFrame, column: str, top: int | None) -> dict[str, int]:
    counted = events.group_by(column).len().sort(["len", column], descending=[True, False])
    if top:
        counted = counted.head(top)
    return {str(name): count for name, count in counted.iter_rows()}


def _sign_ins(events: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Sign-ins per type and status kind (success, failure, interrupt)."""
    if "source" not in events.columns:
        return {}
    sign_ins = events.filter(pl.col("source") == "signin")
    counted = sign_ins.group_by("sign_in_type", "result_status").len().sort("sign_in_type", "result_status")
    result: dict[str, dict[str, int]] = {}
    for kind, status, count in counted.iter_rows():
        result.setdefault(str(kind), {})[str(status)] = count
    return result


def summarise(events: pl.DataFrame, report: LoadReport, top: int = 20) -> dict:
    """The load report plus, over every source (activity.py), time range, rows per source, sign-ins per type and
    status, workloads, top operations, users, client IPs and tenants."""
    first, last = (events["creation_time"].min(), events["creation_time"].max()) if events.height else (None, None)
    return {
        "sources": _counts(events, "source", None) if "source" in events.columns else {"ual": events.height},
        "sign_ins": _sign_ins(events),
        "files": [
            {key: value for key, value in vars(file).items()} for file in report.files
        ],
        "totals": report.totals(),
        "first_event": first.isoformat() if first else None,
        "last_event": last.isoformat() if last else None,
        "workloads": _counts(events, "workload", None),
        "operations": _counts(events, "operation", top),
        "users": events["user_key"].n_unique() if events.height else 0,
        "client_ips": events["client_ip"].drop_nulls().n_unique(),
        "tenants": sorted(events["organization_id"].drop_nulls().unique().to_list()),
        "tenant_names": tenant_labels(events),
        "warnings": report.warnings,
        "conflicts": report.conflicts,
    }
