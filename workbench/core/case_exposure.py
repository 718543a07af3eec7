"""Provides the exposure of a case (or cases opened together) as the CLI, the TUI and the report compute it: the
attribution in force (the analyst's marks, else the proposal), the case's mail items (mail_item_frame.py) and the
message trace."""

from datetime import datetime
from typing import TYPE_CHECKING, Callable

import polars as pl

from workbench.core.attribution import Attribution, attributed_rows, combined, marked, propose, shared_sessions
from workbench.core.enrichment import cached_enrichment
from workbench.core.exposure import THROTTLE_PERIOD, Exposure, exposure, records_needed, window
from workbench.core.hunting import hunt_case
from workbench.core.mail_item_frame import case_mail_items
from workbench.core.mail_items import CARRIED

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet


#: The activity's columns the exposure reads, and its proposal with the hunt hits given: what a command holds of it.
EXPOSURE_READS = (*CARRIED, "mailbox_owner_upn", "source", "user_id", "workload")


def _concat(case: "Case | CaseSet", frame: str) -> pl.LazyFrame:
    return pl.concat([one.scan(frame=frame) for one in getattr(case, "cases", [case])], how="vertical_relaxed")


def case_messages(case: "Case | CaseSet", message_ids: pl.Series | None = None) -> pl.DataFrame:
    """The case's message trace (only the rows of `message_ids` when given), in time order."""
    rows = _concat(case, "messages")
    if message_ids is not None:
        rows = rows.filter(pl.col("message_id").is_in(message_ids.implode()))
    return rows.sort("received").collect()


def proposal(case: "Case | CaseSet", activity: pl.DataFrame | pl.LazyFrame, config: dict,
             hits: pl.DataFrame | None = None) -> Attribution:
    """What the workbench proposes as the attacker's, from the case's hunt hits and cached IP enrichment (`activity`
    in memory, or the case's scan)."""
    events = activity.lazy()
    events = events.filter(pl.col("source") == "ual") if "source" in events.collect_schema() else events
    enrichment = cached_enrichment(events, config)  # lazy: reads the columns it needs alone
    hits = hunt_case(case, config, enrichment=enrichment) if hits is None else hits
    return propose(activity, hits, enrichment, case.store.attribution())


def given_attribution(case: "Case | CaseSet", ips: list[str] = (), sessions: list[str] = ()) -> Attribution:
    """The analyst's marks plus `ips` and `sessions` (empty: the proposal is what there is)."""
    return combined(marked(case.store.attribution()), list(ips), list(sessions))


def attribution_in_force(case: "Case | CaseSet", activity: pl.DataFrame | pl.LazyFrame, config: dict, ips: list[str] = (),
                         sessions: list[str] = (), use_proposal: bool = False,
                         hits: pl.DataFrame | None = None) -> tuple[Attribution, Attribution | None]:
    """(attribution used, proposal): the analyst's marks plus `ips` and `sessions`; when nothing is marked or given,
    the proposal, used only with `use_proposal` (else an empty attribution). The proposal is None when marks exist."""
    chosen = given_attribution(case, ips, sessions)
    if not chosen.empty:
        return chosen, None
    proposed = proposal(case, activity, config, hits)
    return (proposed if use_proposal else chosen), proposed


def case_exposure(case: "Case | CaseSet", attribution: Attribution, activity: pl.DataFrame | pl.LazyFrame, users: list[str] = (),
                  start: datetime | None = None, end: datetime | None = None,
                  say: Callable[[str], None] | None = None) -> Exposure:
    """The exposure of the case by `attribution` (exposure.py), reading the mail items of only the records it needs;
    `activity` in memory, or the case's scan (then only the rows the exposure needs are read); `say` is told when
    the case's mail items are indexed first (case_mail_items)."""
    shared = shared_sessions(activity, attribution)
    attributed = attributed_rows(activity, attribution, shared)
    start, end = window(attributed, start, end)
    since = None if start is None else start - THROTTLE_PERIOD
    items = case_mail_items(case, records_needed(activity, attributed, start, end), since, say)
    messages = case_messages(case, items.get_column("message_id").drop_nulls().unique())
    return exposure(items, activity, messages, attribution, users, start, end, shared)
