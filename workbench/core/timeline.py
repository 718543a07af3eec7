"""Provides the account (or IP) timeline: activity per day over the whole export, first-seen IPs and
user agents, quiet gaps, the dormant gap of a created account, and the log coverage per workload.

The article's actor created a Global Administrator in early December and first used it about 80
days later; the export began only days before the creation, so the first activity of an account on
the export's first day is flagged: the evidence may be older than the logs.
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

import polars as pl

from workbench.core.indicators import normalised_user_agent

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


def _day_range(events: pl.DataFrame) -> pl.DataFrame:
    first, last = events["creation_time"].min(), events["creation_time"].max()
    return pl.DataFrame({"day": pl.date_range(first.date(), last.date(), "1d", eager=True)})


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


def quiet_gaps(days: pl.DataFrame, min_days: int = MIN_GAP_DAYS) -> pl.DataFrame:
    """Runs of `min_days` or more days without events between two active days: start, end (active days), days."""
    active = days.filter(pl.col("events") > 0).select(pl.col("day").alias("end"))
    gaps = active.with_columns(pl.col("end").shift(1).alias("start")).drop_nulls("start").with_columns(
        ((pl.col("end") - pl.col("start")).dt.total_days() - 1).alias("days")
    )
    return gaps.filter(pl.col("days") >= min_days).select("start", "end", "days")


def coverage(events: pl.DataFrame) -> pl.DataFrame:
    """Per workload (per case and workload when several cases): first and last event, per-day counts and missing days."""
    days = _day_range(events)
    several = events["case"].n_unique() > 1
    source = pl.concat_str("case", pl.lit(" / "), "workload") if several else pl.col("workload")
    keyed = events.select(source.fill_null("(none)").alias("source"), pl.col("creation_time").dt.date().alias("day"))
    counts = keyed.group_by("source", "day").agg(pl.len().cast(pl.UInt32).alias("n"))
    grid = keyed.select("source").unique().join(days, how="cross").join(counts, on=["source", "day"], how="left")
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


def _dormant(events: pl.DataFrame, user: str) -> dict | None:
    """The account's creation, its first own activity after it, and the days between."""
    created = events.filter(
        pl.col("operation").str.to_lowercase().is_in(CREATE_OPERATIONS) & (pl.col("object_id").str.to_lowercase() == user)
    ).head(1)
    if created.height == 0:
        return None
    when = created["creation_time"][0]
    own = events.filter((pl.col("user_key") == user) & (pl.col("creation_time") > when)).head(1)
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


def _coverage_warnings(subject: str, own: pl.DataFrame, events: pl.DataFrame, cover: pl.DataFrame) -> list[str]:
    """The account starting on the export's first day; workloads that start late, end early or go silent."""
    warnings = []
    start, end = events["creation_time"].min().date(), events["creation_time"].max().date()
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
        return pl.col("client_ip").str.to_lowercase() == key
    return (pl.col("user_key") == key) | (pl.col("object_id").str.to_lowercase() == key) | (
        pl.col("mailbox_owner_upn").str.to_lowercase() == key)


def account_timeline(events: pl.DataFrame, user: str, hits: pl.DataFrame | None = None,
                     min_gap: int = MIN_GAP_DAYS) -> Timeline:
    """The timeline of an account: its own events and events about it; first-seens and the dormant gap from its own."""
    key = user.strip().lower()
    own = events.filter(pl.col("user_key") == key)
    return _timeline(events, "user", key, events.filter(subject_expr("user", key)), own, hits, min_gap)


def ip_timeline(events: pl.DataFrame, ip: str, hits: pl.DataFrame | None = None, min_gap: int = MIN_GAP_DAYS) -> Timeline:
    """The timeline of a client IP: the events from it, the accounts and user agents first seen on it."""
    key = ip.strip().lower()
    selected = events.filter(subject_expr("ip", key))
    return _timeline(events, "ip", key, selected, selected, hits, min_gap)


def _timeline(events: pl.DataFrame, kind: str, key: str, selected: pl.DataFrame, own: pl.DataFrame,
              hits: pl.DataFrame | None, min_gap: int) -> Timeline:
    if events.height == 0:
        empty = pl.DataFrame(schema={"day": pl.Date, "events": pl.UInt32, "hits": pl.UInt32, "severity": pl.String})
        no_coverage = pl.DataFrame(schema={"source": pl.String, "first": pl.Date, "last": pl.Date, "active_days": pl.UInt32,
                                           "missing_days": pl.List(pl.Date), "counts": pl.List(pl.UInt32)})
        return Timeline(kind, key, None, None, empty, {}, quiet_gaps(empty, min_gap), no_coverage, None, [])
    days = _per_day(selected, _day_range(events), hits)
    seen = {"user_agents": _first_seen(own, normalised_user_agent())}
    if kind == "user":
        seen = {"ips": _first_seen(own, pl.col("client_ip")), **seen}
    else:
        seen = {"accounts": _first_seen(own, pl.col("user_key")), **seen}
    cover = coverage(events)
    return Timeline(
        kind, key, days["day"].min(), days["day"].max(), days, seen, quiet_gaps(days, min_gap), cover,
        _dormant(events, key) if kind == "user" else None, _coverage_warnings(key, own, events, cover),
    )


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
    }
