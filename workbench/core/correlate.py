"""Provides cross-case correlation: indicators seen in more than one case (or tenant), best first.

Indicators that are common by nature in any case (used by more than `max(3, 10%)` of its accounts:
Microsoft service IPs, the staff's browsers, generic newsletters) are left out, as are system actors
(see `indicators.py`). The rest are ranked by a score whose parts (ranking.py) say how specific the kind
is, how rare the indicator is among each case's events and accounts, how many cases share it, whether it
is a generic word, and how many other shared indicators it is `linked` to: those seen with the same
accounts in at least two of the cases. The attacker's IPs, browser and rules vouch for one another, a
benign look-alike (the same rule name used by two tenants' own admins) does not.
"""

import polars as pl

from hunts.model import as_text
from hunts.predicates import people_expr
from workbench.core.indicators import indicator_rows
from workbench.core.memory import in_batches
from workbench.core.ranking import bits, generic_penalty, kind_weight, linked_bits, score

MAX_ACCOUNTS = 3
MAX_SHARE = 0.1
KIND_ORDER = ("ip", "session", "allow_list", "recipient", "user_agent", "asn", "rule_name", "subject", "rule_keyword")
RESULT_SCHEMA = {
    "kind": pl.String(), "value": pl.String(), "cases": pl.List(pl.String()), "events": pl.UInt32(),
    "score": pl.Float64(), "kind_weight": pl.Float64(), "rarity": pl.Float64(), "rarity_per_case": pl.List(pl.Float64()),
    "generic": pl.Float64(), "account_rarity": pl.Float64(), "spread": pl.Float64(), "linked_bits": pl.Float64(),
    "linked": pl.UInt32(),
    "users": pl.List(pl.String()), "fields": pl.List(pl.String()), "accounts_per_case": pl.List(pl.UInt32()),
    "first_seen": pl.Datetime("us", "UTC"), "last_seen": pl.Datetime("us", "UTC"), "record_ids": pl.List(pl.String()),
}
PARTS = ("kind_weight", "rarity", "generic", "account_rarity", "spread", "linked_bits")
#: The columns of the events the indicators are made of (and the actor's), besides the case or tenant compared by.
READS = ("record_id", "creation_time", "user_key", "user_id", "user_type", "client_ip", "session_id", "user_agent",
         "parameters", "operation", "item", "affected_items", "mailbox_owner_upn")
#: Batches after which the indicators and accounts seen so far are folded together again.
COMPACT_AFTER = 8


def _rows(events: pl.DataFrame, by: str, enrichment: pl.DataFrame | None) -> pl.DataFrame:
    """The indicator rows of some events, with each one's time and `by` value (its case or tenant)."""
    return indicator_rows(events, enrichment).join(
        events.select("record_id", "creation_time", pl.col(by).alias("_group")), on="record_id"
    ).rename({"_group": by}).filter(pl.col(by).is_not_null())


def _measured(events: pl.DataFrame | pl.LazyFrame, by: str, enrichment: pl.DataFrame | None) -> pl.DataFrame:
    """Per (kind, key, case or tenant): accounts showing it, events carrying it and its evidence, with the case's
    events and active accounts (`_population`). Measured a batch of events at a time: what is kept between
    batches is per indicator (its accounts, its counts), never per event."""
    accounts, counts, people, sizes = [], [], [], []
    for part in in_batches(events, (*READS, by)):
        rows = _rows(part, by, enrichment)
        accounts.append(rows.select("kind", "key", by, "account").unique())
        counts.append(rows.group_by("kind", "key", by).agg(pl.col("evidence").sum().alias("_evidence"),
                                                           pl.col("record_id").n_unique().alias("_carrying")))
        people.append(part.filter(people_expr()).select(by, "user_key").unique())
        sizes.append(part.group_by(by).agg(pl.len().alias("_events")))
        if len(accounts) >= COMPACT_AFTER:  # the same indicators and accounts recur batch after batch
            accounts, people = [pl.concat(accounts).unique()], [pl.concat(people).unique()]
            counts = [pl.concat(counts).group_by("kind", "key", by).agg(pl.col("_evidence", "_carrying").sum())]
    if not sizes:
        return pl.DataFrame(schema={"kind": pl.String, "key": pl.String, by: pl.String, "_accounts": pl.UInt32,
                                    "_evidence": pl.UInt32, "_carrying": pl.UInt32, "_events": pl.UInt32,
                                    "_population": pl.UInt32})
    population = pl.concat(people).unique().group_by(by).agg(pl.col("user_key").n_unique().alias("_population"))
    cases = pl.concat(sizes).group_by(by).agg(pl.col("_events").sum()).join(population, on=by, how="left")
    per_case = pl.concat(counts).group_by("kind", "key", by).agg(pl.col("_evidence", "_carrying").sum())
    distinct = pl.concat(accounts).unique().group_by("kind", "key", by).agg(pl.len().alias("_accounts"))
    return per_case.join(distinct, on=["kind", "key", by]).join(cases, on=by, how="left")


def _shared_rows(events: pl.DataFrame | pl.LazyFrame, by: str, enrichment: pl.DataFrame | None,
                 verdict: pl.DataFrame) -> pl.DataFrame:
    """The evidence rows of the shared indicators (`verdict`'s kind and key), read a batch of events at a time."""
    keys = verdict.select("kind", "key")
    parts = [_rows(part, by, enrichment).filter(pl.col("evidence")).join(keys, on=["kind", "key"], how="semi")
             for part in in_batches(events, (*READS, by))] if keys.height else []
    return pl.concat(parts) if parts else _rows(as_text(events.lazy().clear().collect()), by, enrichment)


def _links(shared: pl.DataFrame, by: str) -> pl.DataFrame:
    """For each shared (kind, key): how many other shared indicators the same accounts show in 2+ cases."""
    pairs = shared.select("kind", "key", by, "actor").unique()
    joined = pairs.join(pairs, on=[by, "actor"], suffix="_other").filter(
        (pl.col("kind") != pl.col("kind_other")) | (pl.col("key") != pl.col("key_other"))
    )
    return joined.group_by("kind", "key", "kind_other", "key_other").agg(pl.col(by).n_unique().alias("_cases")).filter(
        pl.col("_cases") >= 2
    ).group_by("kind", "key").agg(pl.len().cast(pl.UInt32).alias("linked"))


def _shared(per_case: pl.DataFrame, by: str, max_accounts: int, max_share: float) -> pl.DataFrame:
    """The (kind, key) with evidence in two cases or more and common in none, with their per-case measures
    (in the order of the cases) and the parts of the score those give."""
    common = pl.col("_accounts") > pl.max_horizontal(pl.lit(max_accounts), pl.col("_population") * max_share)
    verdict = per_case.group_by("kind", "key").agg(common.any().alias("_common"))
    evident = per_case.filter(pl.col("_evidence") > 0).sort(by).group_by("kind", "key").agg(
        pl.col(by).n_unique().alias("_cases"),
        bits(pl.col("_carrying") / pl.col("_events")).alias("rarity_per_case"),
        (pl.col("_population") / pl.col("_accounts")).log(2).min().alias("account_rarity"),
        pl.col("_accounts").alias("accounts_per_case"),
    )
    return evident.join(verdict, on=["kind", "key"]).filter((pl.col("_cases") >= 2) & ~pl.col("_common")).with_columns(
        pl.col("rarity_per_case").list.min().alias("rarity"), pl.col("_cases").log(2).alias("spread"),
    )


def correlate(
    events: pl.DataFrame | pl.LazyFrame,
    by: str = "case",
    enrichment: pl.DataFrame | None = None,
    max_accounts: int = MAX_ACCOUNTS,
    max_share: float = MAX_SHARE,
) -> pl.DataFrame:
    """Indicators shared by two or more values of `by` (`case` or `organization_id`), best first, with the
    parts of their score (ranking.py). The events (in memory, or a case's scan) are read a batch at a
    time (`memory.in_batches`): to measure every indicator, then for the rows of those shared, then (when some are plain words) for
    the words' rarity in the events' text.

    With `enrichment` (the cached per-IP frame) client IPs carry `hosting`, `reasons`, `asn`, `org`
    and origin ASNs become indicators too.
    """
    verdict = _shared(_measured(events, by, enrichment), by, max_accounts, max_share)
    shared = _shared_rows(events, by, enrichment, verdict)
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
        pl.col("linked").fill_null(0), kind_weight().alias("kind_weight"),
    ).with_columns(linked_bits().alias("linked_bits"))
    result = result.join(generic_penalty(result, events.lazy().filter(pl.col(by).is_not_null())), on=["kind", "key"])
    result = result.with_columns(score().alias("score")).with_columns(
        pl.col("score", *PARTS).round(2), pl.col("rarity_per_case").list.eval(pl.element().round(2)))
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


def tenant_labels(events: pl.DataFrame | pl.LazyFrame) -> dict[str, str]:
    """A readable label per tenant id: the most common domain of its accounts plus the id's first block."""
    accounts = events.lazy().select("organization_id", "user_key").filter(  # the two columns only, not whole rows
        pl.col("organization_id").is_not_null()).group_by("organization_id", "user_key").len().with_columns(
        pl.col("organization_id", "user_key").cast(pl.String)).collect()  # categoricals in the events view's frame
    domains = accounts.filter(pl.col("user_key").str.contains("@")).select(  # per account, not per event
        "organization_id", pl.col("user_key").str.split("@").list.last().alias("domain"), "len")
    top = domains.group_by("organization_id", "domain").agg(pl.col("len").sum()).sort("len", "domain",
                                                                                      descending=[True, False])
    first = top.group_by("organization_id", maintain_order=True).first()
    return {org: f"{domain} ({org.split('-')[0]})" for org, domain in first.select("organization_id", "domain").iter_rows()}


def correlation_records(result: pl.DataFrame, by: str = "case") -> list[dict]:
    """The correlate JSON (DESIGN §4): `kind, value, cases, events, score` plus users, fields, times and
    `compared_by` (`case`, or `organization_id` when `cases` holds the tenants of one case)."""
    printable = result.drop("record_ids").with_columns(
        pl.col("first_seen", "last_seen").dt.to_string("%Y-%m-%dT%H:%M:%SZ"), pl.lit(by).alias("compared_by")
    )
    return printable.to_dicts()
