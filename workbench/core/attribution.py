"""Provides attribution: whose a record's activity is, the attacker's, the owner's or uncertain, by the IPs,
sessions and user agents the analyst marks as the attacker's.

The analyst's marks are kept in the case database (store.py). Before anything is marked, the workbench proposes
the IPs and sessions of the high-severity hunt hits and the IPs the enrichment cache flags as hosting providers;
a proposal is shown as proposed until it is accepted (and what the analyst says is not the attacker's is never
proposed again). The rule is `RULE`, shown wherever attribution is.
"""

from dataclasses import dataclass, field

import polars as pl

from hunts.model import as_text

#: What can be attributed, and the activity column holding it.
KINDS = {"ip": "client_ip", "session": "session_id", "user_agent": "user_agent"}
ATTACKER, NOT_ATTACKER = "attacker", "not_attacker"
#: Hunt severities whose hits propose the attacker's IPs and sessions.
PROPOSING_SEVERITIES = ("high", "critical")
#: A hunt whose hits are of more accounts than this many, and than this share of the case's accounts, flags
#: something common in the tenant rather than one actor (as correlate judges an indicator common by nature): its
#: hits propose nothing.
PROPOSING_ACCOUNTS, PROPOSING_SHARE = 3, 0.1
RULE = ("attacker: in a session marked as the attacker's, or from an attacker IP or user agent unless its session "
        "was also used from other IPs; uncertain: an attacker IP or user agent in a session also used from other "
        "IPs (the owner's too), or a record with neither session id nor IP; owner: everything else")


@dataclass(frozen=True)
class Attribution:
    """The attacker's IPs, sessions and user agents in force, and whether they are only proposed."""

    ips: frozenset[str] = field(default_factory=frozenset)
    sessions: frozenset[str] = field(default_factory=frozenset)
    user_agents: frozenset[str] = field(default_factory=frozenset)
    proposed: bool = False
    #: The hunts a proposal passed over, each with why: "hunt_id (N of M accounts)".
    passed_over: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing is attributed to the attacker."""
        return not (self.ips or self.sessions or self.user_agents)

    def values(self, kind: str) -> frozenset[str]:
        """The attacker's values of one kind (`ip`, `session`, `user_agent`)."""
        return {"ip": self.ips, "session": self.sessions, "user_agent": self.user_agents}[kind]

    def describe(self) -> str:
        """One line: what is attributed and whether it is proposed or marked."""
        if self.empty:
            return "nothing attributed to the attacker"
        parts = [f"{len(self.values(kind))} {kind.replace('_', ' ')}{'s' if len(self.values(kind)) != 1 else ''}"
                 for kind in KINDS if self.values(kind)]
        over = f"; not from hunts flagging many accounts: {', '.join(self.passed_over)}" if self.passed_over else ""
        return f"{'proposed' if self.proposed else 'marked'} as the attacker's: {', '.join(parts)}{over}"

    def as_dict(self) -> dict:
        """The JSON shape: `ips`, `sessions`, `user_agents` (sorted), `proposed` and the rule."""
        return {"ips": sorted(self.ips), "sessions": sorted(self.sessions), "user_agents": sorted(self.user_agents),
                "proposed": self.proposed, "rule": RULE, "passed_over": list(self.passed_over)}


def _values(pairs: list[tuple[str, str, str]], kind: str, verdict: str) -> frozenset[str]:
    return frozenset(value for k, value, v in pairs if k == kind and v == verdict)


def marked(pairs: list[tuple[str, str, str]]) -> Attribution:
    """The attribution the analyst marked: (kind, value, verdict) rows of the case database."""
    return Attribution(*(_values(pairs, kind, ATTACKER) for kind in KINDS))


def propose(activity: pl.DataFrame | pl.LazyFrame, hits: pl.DataFrame, enrichment: pl.DataFrame | None,
            pairs: list[tuple[str, str, str]] = ()) -> Attribution:
    """The IPs and sessions of the high-severity hunt hits (found in `activity` by record id) and the hosting-provider
    IPs of the enrichment, less what the analyst said is not the attacker's. A hunt whose hits are of many of the
    case's accounts (`PROPOSING_ACCOUNTS`, `PROPOSING_SHARE`) is passed over, and named in the proposal."""
    activity = activity.lazy()
    severe = hits.filter(pl.col("severity").is_in(PROPOSING_SEVERITIES))
    accounts = activity.select(pl.col("user_key").drop_nulls().n_unique()).collect().item()
    most = max(PROPOSING_ACCOUNTS, PROPOSING_SHARE * accounts)
    per_hunt = severe.group_by("hunt_id").agg(pl.col("user_id").str.to_lowercase().drop_nulls().n_unique().alias("n"))
    common = per_hunt.filter(pl.col("n") > most).sort("hunt_id")
    passed_over = tuple(f"{hunt} ({count} of {accounts} accounts)" for hunt, count in common.iter_rows())
    proposing = severe.filter(~pl.col("hunt_id").is_in(common["hunt_id"].implode())).select("record_id").unique()
    rows = activity.join(proposing.lazy(), on="record_id", how="semi").select("client_ip", "session_id").collect()
    ips = set(rows["client_ip"].drop_nulls())
    if enrichment is not None and "hosting" in enrichment.columns:
        ips |= set(enrichment.filter(pl.col("hosting").fill_null(False))["ip"])
    sessions = set(rows["session_id"].drop_nulls())
    return Attribution(frozenset(ips - _values(list(pairs), "ip", NOT_ATTACKER)),
                       frozenset(sessions - _values(list(pairs), "session", NOT_ATTACKER)), proposed=True,
                       passed_over=passed_over)


def combined(base: Attribution, ips: list[str] = (), sessions: list[str] = ()) -> Attribution:
    """`base` with more attacker IPs and sessions (the command line's `--attacker-ip`, `--attacker-session`)."""
    if not ips and not sessions:
        return base
    return Attribution(base.ips | set(ips), base.sessions | set(sessions), base.user_agents, proposed=False)


def _values_in(column: str, values: frozenset[str]) -> pl.Expr:
    return pl.col(column).is_in(pl.Series(sorted(values), dtype=pl.String).implode()).fill_null(False)


def shared_sessions(activity: pl.DataFrame, attribution: Attribution) -> pl.Series:
    """The sessions of `activity` (every frame's rows of the case) also used from an IP that is not the attacker's
    (with a user agent that is not theirs either)."""
    other = (pl.col("session_id").is_not_null() & pl.col("client_ip").is_not_null()
             & ~_values_in("client_ip", attribution.ips) & ~_values_in("user_agent", attribution.user_agents))
    return activity.lazy().filter(other).select(pl.col("session_id").unique()).collect().to_series()


def not_the_owners(attribution: Attribution) -> pl.Expr:
    """Which rows `attribute` may call anything but the owner's (the attacker's or uncertain): in an attacker
    session, from an attacker IP or user agent, or with neither session id nor IP. Filtering by it first spares
    attributing the owner's rows, the bulk of a case."""
    return (_values_in("session_id", attribution.sessions) | _values_in("client_ip", attribution.ips)
            | _values_in("user_agent", attribution.user_agents)
            | (pl.col("session_id").is_null() & pl.col("client_ip").is_null()))


def attributed_rows(activity: pl.DataFrame | pl.LazyFrame, attribution: Attribution,
                    shared: pl.Series | None = None) -> pl.DataFrame:
    """The rows of `activity` (in memory, or the case's scan: only these rows are read) that may be anyone's but the
    owner's (`not_the_owners`), in time order, `attribute`d."""
    rows = as_text(activity.lazy().filter(not_the_owners(attribution)).collect()).sort("creation_time", maintain_order=True)
    return attribute(rows, attribution, activity, shared)


def attribute(rows: pl.DataFrame, attribution: Attribution, activity: pl.DataFrame | pl.LazyFrame,
              shared: pl.Series | None = None) -> pl.DataFrame:
    """`rows` (with `client_ip`, `session_id`, `user_agent`) with `attribution` (attacker, owner, uncertain) and
    `attribution_reason`, by `RULE`; `activity` (every frame's rows of the case) tells which sessions were also used
    from IPs that are not the attacker's (`shared`: those sessions, when known already)."""
    shared = shared_sessions(activity, attribution) if shared is None else shared
    marked_session = _values_in("session_id", attribution.sessions)
    marked_ip, marked_agent = _values_in("client_ip", attribution.ips), _values_in("user_agent", attribution.user_agents)
    in_shared = pl.col("session_id").is_in(shared.implode()).fill_null(False)
    clue = pl.when(marked_ip).then(pl.lit("attacker IP")).otherwise(pl.lit("attacker user agent"))
    flagged = marked_ip | marked_agent
    blind = pl.col("session_id").is_null() & pl.col("client_ip").is_null()
    return rows.with_columns(
        pl.when(marked_session).then(pl.lit(ATTACKER)).when(flagged & in_shared).then(pl.lit("uncertain"))
        .when(flagged).then(pl.lit(ATTACKER)).when(blind).then(pl.lit("uncertain")).otherwise(pl.lit("owner"))
        .alias("attribution"),
        pl.when(marked_session).then(pl.lit("attacker session"))
        .when(flagged & in_shared).then(pl.concat_str(clue, pl.lit(" in a session also used from other IPs")))
        .when(flagged).then(clue).when(blind).then(pl.lit("neither session id nor IP")).otherwise(pl.lit(""))
        .alias("attribution_reason"))
