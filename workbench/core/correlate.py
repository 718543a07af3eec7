"""Provides cross-case correlation: indicators seen in more than one case (or tenant), ranked by rarity.

How rare an indicator is in one case is `log2(accounts active in the case / accounts showing it)`,
in bits: an IP used by one of 30 accounts scores 4.9, one used by half of them 1.0. An indicator is
only as telling as it is in the case where it is most common, so the rarity is the smaller one over
its cases. Indicators that are common by nature in any case (used by more than `max(3, 10%)` of its
accounts: Microsoft service IPs, the staff's browsers, generic newsletters) are left out, as are
system actors (see `indicators.py`). The score adds `log2(1 + linked)`, where `linked` counts the
other shared indicators seen with the same accounts in at least two of the cases: the attacker's
IPs, browser and rules vouch for one another, a benign look-alike (the same rule name used by two
tenants' own admins) does not.
"""

import polars as pl

from hunts.predicates import people_expr
from workbench.core.indicators import indicator_rows

MAX_ACCOUNTS = 3
MAX_SHARE = 0.1
KIND_ORDER = ("ip", "asn", "user_agent", "rule_name", "allow_list", "recipient", "subject", "rule_keyword")
RESULT_SCHEMA = {
    "kind": pl.String(), "value": pl.String(), "cases": pl.List(pl.String()), "events": pl.UInt32(),
    "score": pl.Float64(), "rarity": pl.Float64(), "linked": pl.UInt32(), "users": pl.List(pl.String()),
    "fields": pl.List(pl.String()), "accounts_per_case": pl.List(pl.UInt32()),
    "first_seen": pl.Datetime("us", "UTC"), "last_seen": pl.Datetime("us", "UTC"), "record_ids": pl.List(pl.String()),
}


def _population(events: pl.DataFrame, by: str) -> pl.DataFrame:
    """Accounts active (as a person) per case."""
    return events.filter(people_expr()).group_by(by).agg(pl.col("user_key").n_unique().alias("_population"))


def _links(shared: pl.DataFrame, by: str) -> pl.DataFrame:
    """For each shared (kind, key): how many other shared indicators the same accounts show in 2+ cases."""
    pairs = shared.select("kind", "key", by, "actor").unique()
    joined = pairs.join(pairs, on=[by, "actor"], suffix="_other").filter(
        (pl.col("kind") != pl.col("kind_other")) | (pl.col("key") != pl.col("key_other"))
    )
    return joined.group_by("kind", "key", "kind_other", "key_other").agg(pl.col(by).n_unique().alias("_cases")).filter(
        pl.col("_cases") >= 2
    ).group_by("kind", "key").agg(pl.len().cast(pl.UInt32).alias("linked"))


def correlate(
    events: pl.DataFrame,
    by: str = "case",
    enrichment: pl.DataFrame | None = None,
    max_accounts: int = MAX_ACCOUNTS,
    max_share: float = MAX_SHARE,
) -> pl.DataFrame:
    """Indicators shared by two or more values of `by` (`case` or `organization_id`), best first.

    With `enrichment` (the cached per-IP frame) client IPs carry `hosting`, `reasons`, `asn`, `org`
    and origin ASNs become indicators too.
    """
    rows = indicator_rows(events, enrichment).join(
        events.select("record_id", "creation_time", pl.col(by).alias("_group")), on="record_id"
    ).rename({"_group": by}).filter(pl.col(by).is_not_null())
    per_case = rows.group_by("kind", "key", by).agg(
        pl.col("account").n_unique().alias("_accounts"),
        pl.col("evidence").sum().alias("_evidence"),
    ).join(_population(events, by), on=by, how="left")
    common = pl.col("_accounts") > pl.max_horizontal(pl.lit(max_accounts), pl.col("_population") * max_share)
    verdict = per_case.group_by("kind", "key").agg(
        pl.col(by).filter(pl.col("_evidence") > 0).n_unique().alias("_cases"),
        common.any().alias("_common"),
        (pl.col("_population") / pl.col("_accounts")).log(2).min().alias("rarity"),
        pl.col("_accounts").sort_by(by).alias("accounts_per_case"),
    ).filter((pl.col("_cases") >= 2) & ~pl.col("_common"))
    shared = rows.filter(pl.col("evidence")).join(verdict.select("kind", "key"), on=["kind", "key"])
    result = shared.sort("creation_time", "record_id").group_by("kind", "key").agg(
        pl.col("value").mode().sort().first().alias("value"),
        pl.col(by).unique().sort().alias("cases"),
        pl.col("record_id").n_unique().alias("events"),
        pl.col("actor").unique().sort().alias("users"),
        pl.col("field").unique().sort().alias("fields"),
        pl.col("creation_time").min().alias("first_seen"),
        pl.col("creation_time").max().alias("last_seen"),
        pl.col("record_id").unique(maintain_order=True).alias("record_ids"),
    ).join(verdict, on=["kind", "key"]).join(_links(shared, by), on=["kind", "key"], how="left").with_columns(
        pl.col("linked").fill_null(0),
        pl.col("rarity").round(2),
    ).with_columns((pl.col("rarity") + (1 + pl.col("linked")).log(2)).round(2).alias("score"))
    kind_rank = pl.col("kind").replace_strict({k: i for i, k in enumerate(KIND_ORDER)}, default=len(KIND_ORDER))
    result = result.sort([pl.col("score"), kind_rank, pl.col("value")], descending=[True, False, False])
    result = result.select(list(RESULT_SCHEMA)).cast(RESULT_SCHEMA)
    return _with_enrichment(result, enrichment)


def _with_enrichment(result: pl.DataFrame, enrichment: pl.DataFrame | None) -> pl.DataFrame:
    """Hosting flag, reasons, ASN and organisation of the IP indicators, when the cache knows them."""
    if enrichment is None:
        return result
    wanted = [name for name in ("asn", "org", "hosting", "reasons") if name in enrichment.columns]
    facts = enrichment.select(pl.col("ip").alias("_ip"), *wanted)
    keyed = result.with_columns(pl.when(pl.col("kind") == "ip").then(pl.col("value").str.to_lowercase()).alias("_ip"))
    return keyed.join(facts, on="_ip", how="left", maintain_order="left").drop("_ip")


def tenant_labels(events: pl.DataFrame) -> dict[str, str]:
    """A readable label per tenant id: the most common domain of its accounts plus the id's first block."""
    domains = events.filter(pl.col("organization_id").is_not_null() & pl.col("user_key").str.contains("@")).select(
        "organization_id", pl.col("user_key").str.split("@").list.last().alias("domain"))
    top = domains.group_by("organization_id", "domain").len().sort("len", "domain", descending=[True, False])
    first = top.group_by("organization_id", maintain_order=True).first()
    return {org: f"{domain} ({org.split('-')[0]})" for org, domain in first.select("organization_id", "domain").iter_rows()}


def correlation_records(result: pl.DataFrame, by: str = "case") -> list[dict]:
    """The correlate JSON (DESIGN §4): `kind, value, cases, events, score` plus users, fields, times and
    `compared_by` (`case`, or `organization_id` when `cases` holds the tenants of one case)."""
    printable = result.drop("record_ids").with_columns(
        pl.col("first_seen", "last_seen").dt.to_string("%Y-%m-%dT%H:%M:%SZ"), pl.lit(by).alias("compared_by")
    )
    return printable.to_dicts()
