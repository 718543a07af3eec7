"""Provides the account (or IP) timeline: activity per day over the whole export, first-seen IPs and
user agents, quiet gaps, the dormant gap of a created account, and the log coverage per workload.

The article's actor created a Global Administrator in early December and first used it about 80
days later; the export began only days before the creation, so the first activity of an account on
the export's first day is flagged: the evidence may be older than the logs.
"""

import math
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import polars as pl

from hunts.model import as_text
from workbench.core.alerts import is_alert
from workbench.core.indicators import normalised_user_agent
from workbench.core.inert import visible
from workbench.core.signin_status import status_kind

MIN_GAP_DAYS = 14
SILENT_DAYS = 4  # a long weekend is three quiet days
LEVELS = "▁▂▃▄▅▆▇█"
EMPTY = "·"
SEVERITY_ORDER = ("informational", "low", "medium", "high", "critical")
CREATE_OPERATIONS = ("add user.",)


@dataclass
class Timeline:
    """What one account or IP did, day by day, over the export's whole range."""

    kind: str  # "user" or "ip"
    subject: str
    start: date | None
    end: date | None
    days: pl.DataFrame  # day, events, hits, severity: every day of the range
    first_seen: dict[str, pl.DataFrame]  # kind -> value, first_seen, last_seen, events
    gaps: pl.DataFrame  # start, end, days: quiet runs of MIN_GAP_DAYS or more between active days
    coverage: pl.DataFrame  # source, first, last, days, missing_days, counts (one per day of the range)
    dormant: dict | None = None
    warnings: list[str] = field(default_factory=list)
    #: Per-day counts of the subject's rows by kind (audit log, interactive and non-interactive sign-ins, directory
    #: audits), when it has rows of more than the audit log.
    lanes: dict[str, list[int]] = field(default_factory=dict)
    #: Failed sign-ins followed by a success: user, failures, first_failure, last_failure, codes, ips, success,
    #: success_ip, success_type.
    failures_before_success: pl.DataFrame = field(default_factory=pl.DataFrame)

    @property
    def strip(self) -> str:
        """The activity strip: one character per day."""
        return intensity_strip(self.days["events"].to_list())


def intensity_strip(counts: list[int]) -> str:
    """One character per count: `·` for none, else `▁`..`█` on a log scale of the largest count."""
    top = max(counts, default=0)
    if top == 0:
        return EMPTY * len(counts)
    scale = math.log1p(top)
    return "".join(EMPTY if n == 0 else LEVELS[min(len(LEVELS) - 1, int(math.log1p(n) / scale * (len(LEVELS) - 1) + 0.5))]
                   for n in counts)


def month_labels(start: date, begin: int, end: int) -> str:
    """`Dec 2022` over the first day of each month of days begin..end after `start` (and over day `begin`),
    one character per day, where the label fits."""
    row = [" "] * (end - begin)
    for i in range(begin, end):
        day = start + timedelta(days=i)
        if day.day == 1 or i == begin:
            month = day.strftime("%b %Y")
            if all(c == " " for c in row[i - begin:i - begin + len(month) + 1]):
                row[i - begin:i - begin + len(month)] = month
    return "".join(row)[: end - begin]


def _export_range(events: pl.DataFrame | pl.LazyFrame) -> tuple:
    """The first and last event's times of the export (None, None when it has none)."""
    return events.lazy().select(pl.col("creation_time").min().alias("first"),
                                pl.col("creation_time").max().alias("last")).collect().row(0)


def _day_range(first, last) -> pl.DataFrame:
    return pl.DataFrame({"day": pl.date_range(first.date(), last.date(), "1d", eager=True)})


def _rows(events: pl.DataFrame | pl.LazyFrame, where: pl.Expr) -> pl.DataFrame:
    """The rows of the export `where` selects, in time order (ties as the export holds them): only these are read
    when the export is a case's scan."""
    return as_text(events.lazy().filter(where).collect()).sort("creation_time", maintain_order=True)


def _per_day(selected: pl.DataFrame, days: pl.DataFrame, hits: pl.DataFrame | None) -> pl.DataFrame:
    counts = selected.group_by(pl.col("creation_time").dt.date().alias("day")).agg(pl.len().cast(pl.UInt32).alias("events"))
    table = days.join(counts, on="day", how="left").with_columns(pl.col("events").fill_null(0))
    if hits is None or hits.height == 0:
        return table.with_columns(pl.lit(0, pl.UInt32).alias("hits"), pl.lit(None, pl.String).alias("severity"))
    rank = pl.col("severity").replace_strict({s: i for i, s in enumerate(SEVERITY_ORDER)}, default=0)
    per_hit_day = hits.filter(pl.col("record_id").is_in(selected["record_id"].implode())).group_by(
        pl.col("creation_time").dt.date().alias("day")
    ).agg(pl.len().cast(pl.UInt32).alias("hits"), pl.col("severity").sort_by(rank).last())
    return table.join(per_hit_day, on="day", how="left").with_columns(pl.col("hits").fill_null(0))


def _first_seen(selected: pl.DataFrame, expr: pl.Expr) -> pl.DataFrame:
    return selected.select(expr.alias("value"), "creation_time").drop_nulls("value").filter(pl.col("value") != "").group_by(
        "value"
    ).agg(
        pl.col("creation_time").min().alias("first_seen"),
        pl.col("creation_time").max().alias("last_seen"),
        pl.len().cast(pl.UInt32).alias("events"),
    ).sort("first_seen", "value")


#: The lane of each kind of row, in the order lanes are shown.
LANES = ("audit log", "sign-ins", "non-interactive", "app sign-ins", "directory audits",
         "Microsoft alerts")  # fit an 18-cell label


def _lane() -> pl.Expr:
    kind = pl.col("sign_in_type")
    return (pl.when(is_alert()).then(pl.lit(LANES[5]))
            .when(pl.col("source") == "audit").then(pl.lit(LANES[4]))
            .when(pl.col("source") != "signin").then(pl.lit(LANES[0]))
            .when(kind == "interactive").then(pl.lit(LANES[1]))
            .when(kind == "non_interactive").then(pl.lit(LANES[2]))
            .otherwise(pl.lit(LANES[3])))


def _lanes(selected: pl.DataFrame, days: pl.DataFrame) -> dict[str, list[int]]:
    """Per-day counts of the selected rows by lane, when they are of more than the audit log (or hold alerts)."""
    if "source" not in selected.columns or selected.filter((pl.col("source") != "ual") | is_alert()).height == 0:
        return {}
    counts = selected.group_by(_lane().alias("lane"), pl.col("creation_time").dt.date().alias("day")).len()
    result = {}
    for lane in LANES:
        per_day = days.join(counts.filter(pl.col("lane") == lane), on="day", how="left")["len"].fill_null(0)
        if per_day.sum():
            result[lane] = per_day.to_list()
    return result


def _logons(selected: pl.DataFrame) -> pl.DataFrame:
    """The sign-ins of `selected` as `failures_before_success` reads them (`result_status` success, failure or
    interrupt): the sign-in logs' and, for an account they do not cover, the audit log's logon records, a
    `UserLoginFailed` by its ErrorNumber (an interrupt such as a KMSI or MFA prompt is not a failure)."""
    sign_ins = selected.filter(pl.col("source") == "signin")
    code = pl.col("error_number").cast(pl.Int64, strict=False)
    logons = selected.filter((pl.col("source") == "ual") & pl.col("operation").is_in(["UserLoggedIn", "UserLoginFailed"])
                             & ~pl.col("user_key").is_in(sign_ins["user_key"].unique().implode())).with_columns(
        pl.when(pl.col("operation") == "UserLoggedIn").then(pl.lit("success"))
        .when(status_kind(code) == "interrupt").then(pl.lit("interrupt")).otherwise(pl.lit("failure"))
        .alias("result_status"),
        code.alias("status_code"), pl.lit("audit_log").alias("sign_in_type"))
    return pl.concat([sign_ins, logons], how="diagonal_relaxed") if logons.height else sign_ins


def failures_before_success(selected: pl.DataFrame) -> pl.DataFrame:
    """Per account, each run of failed sign-ins that a successful one ends (interrupts neither end nor count): of the
    sign-in logs, else of the audit log's logon records (`_logons`)."""
    columns = {"user": pl.String, "failures": pl.UInt32, "first_failure": pl.Datetime("us", "UTC"),
               "last_failure": pl.Datetime("us", "UTC"), "codes": pl.List(pl.String), "ips": pl.List(pl.String),
               "success": pl.Datetime("us", "UTC"), "success_ip": pl.String, "success_type": pl.String}
    if "source" not in selected.columns:
        return pl.DataFrame(schema=columns)
    sign_ins = _logons(selected).filter(pl.col("result_status").is_in(["success", "failure"]))
    sign_ins = sign_ins.sort("user_key", "creation_time").with_columns(
        (pl.col("result_status") == "success").cast(pl.UInt32).cum_sum().shift(1, fill_value=0).over("user_key").alias("run"))
    code = pl.col("status_code").cast(pl.String)
    runs = sign_ins.group_by("user_key", "run").agg(
        pl.col("user_id").first().alias("user"),
        (pl.col("result_status") == "failure").sum().cast(pl.UInt32).alias("failures"),
        pl.col("creation_time").filter(pl.col("result_status") == "failure").min().alias("first_failure"),
        pl.col("creation_time").filter(pl.col("result_status") == "failure").max().alias("last_failure"),
        code.filter(pl.col("result_status") == "failure").drop_nulls().unique(maintain_order=True).alias("codes"),
        pl.col("client_ip").filter(pl.col("result_status") == "failure").drop_nulls().unique(maintain_order=True).alias("ips"),
        pl.col("creation_time").filter(pl.col("result_status") == "success").first().alias("success"),
        pl.col("client_ip").filter(pl.col("result_status") == "success").first().alias("success_ip"),
        pl.col("sign_in_type").filter(pl.col("result_status") == "success").first().alias("success_type"),
    )
    ended = runs.filter((pl.col("failures") > 0) & pl.col("success").is_not_null())
    return ended.select(list(columns)).cast(columns).sort("success")


def failure_lines(timeline: Timeline) -> list[str]:
    """One inert line per run of failed sign-ins that a success ended."""
    lines = []
    for row in timeline.failures_before_success.iter_rows(named=True):
        codes, ips = ", ".join(row["codes"]) or "?", ", ".join(row["ips"]) or "?"
        kind = (row["success_type"] or "").replace("_", "-")
        lines.append(visible(f"sign-in failures before a success: {row['user']}: {row['failures']} failed "
                             f"({codes}) from {ips}, {row['first_failure']:%Y-%m-%d %H:%M:%S} .. "
                             f"{row['last_failure']:%H:%M:%S}; then {kind} success {row['success']:%Y-%m-%d %H:%M:%S} "
                             f"from {row['success_ip'] or '?'}"))
    return lines


def quiet_gaps(days: pl.DataFrame, min_days: int = MIN_GAP_DAYS) -> pl.DataFrame:
    """Runs of `min_days` or more days without events between two active days: start, end (active days), days."""
    active = days.filter(pl.col("events") > 0).select(pl.col("day").alias("end"))
    gaps = active.with_columns(pl.col("end").shift(1).alias("start")).drop_nulls("start").with_columns(
        ((pl.col("end") - pl.col("start")).dt.total_days() - 1).alias("days")
    )
    return gaps.filter(pl.col("days") >= min_days).select("start", "end", "days")


def coverage(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Per workload (per case and workload when several cases): first and last event, per-day counts and missing days
    (counted over the export's scan when it is one)."""
    events = events.lazy()
    days = _day_range(*_export_range(events))
    several = events.select(pl.col("case").n_unique()).collect().item() > 1
    log = pl.col("workload")
    if "source" in events.collect_schema():  # sign-ins and directory audits are logs of their own
        log = pl.when(pl.col("source") == "signin").then(pl.lit("Entra sign-ins")).when(
            pl.col("source") == "audit").then(pl.lit("Entra audits")).otherwise(log)
    source = pl.concat_str("case", pl.lit(" / "), log) if several else log
    keyed = events.select(source.fill_null("(none)").alias("source"), pl.col("creation_time").dt.date().alias("day"))
    counts = keyed.group_by("source", "day").agg(pl.len().cast(pl.UInt32).alias("n")).collect()
    grid = counts.select("source").unique().join(days, how="cross").join(counts, on=["source", "day"], how="left")
    grid = grid.with_columns(pl.col("n").fill_null(0)).sort("source", "day")
    return grid.group_by("source", maintain_order=True).agg(
        pl.col("day").filter(pl.col("n") > 0).min().alias("first"),
        pl.col("day").filter(pl.col("n") > 0).max().alias("last"),
        (pl.col("n") > 0).sum().cast(pl.UInt32).alias("active_days"),
        pl.col("day").filter(
            (pl.col("n") == 0)
            & (pl.col("day") > pl.col("day").filter(pl.col("n") > 0).min())
            & (pl.col("day") < pl.col("day").filter(pl.col("n") > 0).max())
        ).alias("missing_days"),
        pl.col("n").alias("counts"),
    )


def _dormant(selected: pl.DataFrame, own: pl.DataFrame, user: str) -> dict | None:
    """The account's creation (among the rows about it), its first own activity after it, and the days between."""
    created = selected.filter(
        pl.col("operation").str.to_lowercase().is_in(CREATE_OPERATIONS) & (pl.col("object_id").str.to_lowercase() == user)
    ).head(1)
    if created.height == 0:
        return None
    when = created["creation_time"][0]
    own = own.filter(pl.col("creation_time") > when).head(1)
    if own.height == 0:
        return {"created": when, "created_by": created["user_id"][0], "created_record_id": created["record_id"][0],
                "first_activity": None, "first_activity_record_id": None, "days": None}
    first = own["creation_time"][0]
    return {
        "created": when, "created_by": created["user_id"][0], "created_record_id": created["record_id"][0],
        "first_activity": first, "first_activity_record_id": own["record_id"][0],
        "days": (first.date() - when.date()).days,
    }


def _longest_run(missing: list[date]) -> int:
    """The most consecutive days in a sorted list of days."""
    longest = run = 0
    for index, day in enumerate(missing):
        run = run + 1 if index and (day - missing[index - 1]).days == 1 else 1
        longest = max(longest, run)
    return longest


def _coverage_warnings(subject: str, own: pl.DataFrame, began, ended, cover: pl.DataFrame) -> list[str]:
    """The account starting on the export's first day (the export `began` and `ended` then); workloads that start
    late, end early or go silent."""
    warnings = []
    start, end = began.date(), ended.date()
    if own.height and own["creation_time"].min().date() == start:
        warnings.append(f"{subject}: activity starts on the first day of the export ({start}); "
                        "the evidence may be older than the logs")
    for row in cover.iter_rows(named=True):  # one row per workload
        if row["first"] is not None and (row["first"] - start).days > 1:
            warnings.append(f"{row['source']}: logs start {row['first']}, {(row['first'] - start).days} days after the export")
        if row["last"] is not None and (end - row["last"]).days > 1:
            warnings.append(f"{row['source']}: logs end {row['last']}, {(end - row['last']).days} days before the export")
        if _longest_run(row["missing_days"]) >= SILENT_DAYS:
            warnings.append(f"{row['source']}: {_longest_run(row['missing_days'])} days in a row without events")
    return warnings


def subject_expr(kind: str, subject: str) -> pl.Expr:
    """The events a timeline counts: by or about an account (created, granted, its mailbox), or from an IP."""
    key = subject.strip().lower()
    if kind == "ip":
        return _lowered("client_ip") == key
    return (pl.col("user_key") == key) | (_lowered("object_id") == key) | (_lowered("mailbox_owner_upn") == key)


def _lowered(column: str) -> pl.Expr:
    """A text column lower-cased, read as text (the events view holds it as a categorical)."""
    return pl.col(column).cast(pl.String).str.to_lowercase()


def account_timeline(events: pl.DataFrame | pl.LazyFrame, user: str, hits: pl.DataFrame | None = None,
                     min_gap: int = MIN_GAP_DAYS) -> Timeline:
    """The timeline of an account over the export `events` (in memory, or a case's scan: then only the account's
    rows are read): its own events and events about it; first-seens and the dormant gap from its own."""
    key = user.strip().lower()
    selected = _rows(events, subject_expr("user", key))
    return _timeline(events, "user", key, selected, selected.filter(pl.col("user_key") == key), hits, min_gap)


def ip_timeline(events: pl.DataFrame | pl.LazyFrame, ip: str, hits: pl.DataFrame | None = None,
                min_gap: int = MIN_GAP_DAYS) -> Timeline:
    """The timeline of a client IP over the export `events` (as `account_timeline` says): the events from it, the
    accounts and user agents first seen on it."""
    key = ip.strip().lower()
    selected = _rows(events, subject_expr("ip", key))
    return _timeline(events, "ip", key, selected, selected, hits, min_gap)


def _timeline(events: pl.DataFrame | pl.LazyFrame, kind: str, key: str, selected: pl.DataFrame, own: pl.DataFrame,
              hits: pl.DataFrame | None, min_gap: int) -> Timeline:
    began, ended = _export_range(events)
    if began is None:
        empty = pl.DataFrame(schema={"day": pl.Date, "events": pl.UInt32, "hits": pl.UInt32, "severity": pl.String})
        no_coverage = pl.DataFrame(schema={"source": pl.String, "first": pl.Date, "last": pl.Date, "active_days": pl.UInt32,
                                           "missing_days": pl.List(pl.Date), "counts": pl.List(pl.UInt32)})
        return Timeline(kind, key, None, None, empty, {}, quiet_gaps(empty, min_gap), no_coverage, None, [])
    days = _per_day(selected, _day_range(began, ended), hits)
    seen = {"user_agents": _first_seen(own, normalised_user_agent())}
    if kind == "user":
        seen = {"ips": _first_seen(own, pl.col("client_ip")), **seen}
    else:
        seen = {"accounts": _first_seen(own, pl.col("user_key")), **seen}
    if "source" in own.columns:  # what the sign-ins say of how the account came in
        for name, column in (("asns", "asn"), ("countries", "country"), ("apps", "app"), ("client_apps", "client_app")):
            first = _first_seen(own, pl.col(column).cast(pl.String))
            if first.height:
                seen[name] = first
    cover = coverage(events)
    return Timeline(
        kind, key, days["day"].min(), days["day"].max(), days, seen, quiet_gaps(days, min_gap), cover,
        _dormant(selected, own, key) if kind == "user" else None, _coverage_warnings(key, own, began, ended, cover),
        _lanes(selected, days), failures_before_success(own),
    )


#: The offline geolocation columns a first-seen IP gains from the enrichment (enrich/geo.py).
PLACE_COLUMNS = ("geo_country", "geo_city", "geo_latitude", "geo_longitude", "geo_asn", "geo_as_org")


def with_places(timeline: Timeline, enrichment: pl.DataFrame | None) -> Timeline:
    """The timeline whose first-seen IPs carry where the geolocation database places them: the `geo_` columns and
    `place` (`London, GB · AS20712 Example Broadband`); unchanged without an enrichment holding them."""
    ips = timeline.first_seen.get("ips")
    if ips is None or enrichment is None or "geo_country" not in enrichment.columns:
        return timeline
    geo = enrichment.select(pl.col("ip").alias("value"), *PLACE_COLUMNS).unique("value", keep="first")
    asn = pl.concat_str([pl.lit("AS"), pl.col("geo_asn").cast(pl.String), pl.lit(" "), pl.col("geo_as_org").fill_null("")])
    place = pl.concat_str([pl.concat_str([pl.col("geo_city"), pl.lit(", ")]).fill_null(""), pl.col("geo_country"),
                           pl.concat_str([pl.lit(" · "), asn]).fill_null("")]).str.strip_chars()
    located = ips.join(geo, on="value", how="left", maintain_order="left").with_columns(place.alias("place"))
    return replace(timeline, first_seen={**timeline.first_seen, "ips": located})


def _iso(value) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(value, "hour") else value.isoformat()


def timeline_record(timeline: Timeline) -> dict:
    """The timeline as JSON-ready data: range, days, gaps, dormant gap, first-seens, coverage, warnings."""
    def rows(frame: pl.DataFrame) -> list[dict]:
        return [{k: _iso(v) if hasattr(v, "isoformat") else v for k, v in row.items()} for row in frame.to_dicts()]

    dormant = None if timeline.dormant is None else {k: _iso(v) if hasattr(v, "isoformat") else v
                                                     for k, v in timeline.dormant.items()}
    return {
        "kind": timeline.kind, "subject": timeline.subject,
        "start": _iso(timeline.start), "end": _iso(timeline.end), "strip": timeline.strip,
        "days": rows(timeline.days), "gaps": rows(timeline.gaps), "dormant": dormant,
        "first_seen": {name: rows(frame) for name, frame in timeline.first_seen.items()},
        "coverage": [
            {"source": row["source"], "first": _iso(row["first"]), "last": _iso(row["last"]),
             "active_days": row["active_days"], "missing_days": [_iso(d) for d in row["missing_days"]],
             "strip": intensity_strip(row["counts"])}
            for row in timeline.coverage.to_dicts()
        ],
        "warnings": timeline.warnings,
        "lanes": {lane: {"strip": intensity_strip(counts), "counts": counts} for lane, counts in timeline.lanes.items()},
        "failures_before_success": rows(timeline.failures_before_success),
    }
