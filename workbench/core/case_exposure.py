"""Provides the exposure of a case (or cases opened together) as the CLI, the TUI and the report compute it: the
attribution in force (the analyst's marks, else the proposal), the mail items decoded from the case's records,
and the message trace."""

from datetime import datetime
from typing import TYPE_CHECKING

import polars as pl

from workbench.core.attribution import Attribution, combined, marked, propose
from workbench.core.enrichment import cached_enrichment
from workbench.core.exposure import Exposure, exposure
from workbench.core.hunting import case_hits
from workbench.core.mail_items import exposure_rows, mail_items

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet


def _concat(case: "Case | CaseSet", frame: str, with_records: bool = False) -> pl.LazyFrame:
    return pl.concat([one.scan(with_audit_data=with_records, frame=frame) for one in getattr(case, "cases", [case])],
                     how="vertical_relaxed")


def case_mail_items(case: "Case | CaseSet") -> pl.DataFrame:
    """The mailbox and file activity of the case's audit records, one row per item (mail_items.py)."""
    return mail_items(exposure_rows(_concat(case, "events", with_records=True)).collect())


def case_messages(case: "Case | CaseSet") -> pl.DataFrame:
    """The case's message trace, in time order."""
    return _concat(case, "messages").sort("received").collect()


def proposal(case: "Case | CaseSet", activity: pl.DataFrame, config: dict, hits: pl.DataFrame | None = None) -> Attribution:
    """What the workbench proposes as the attacker's, from the case's hunt hits and cached IP enrichment."""
    events = activity.filter(pl.col("source") == "ual") if "source" in activity.columns else activity
    hits = case_hits(events, config, case=case) if hits is None else hits
    return propose(activity, hits, cached_enrichment(events, config), case.store.attribution())


def attribution_in_force(case: "Case | CaseSet", activity: pl.DataFrame, config: dict, ips: list[str] = (),
                         sessions: list[str] = (), use_proposal: bool = False,
                         hits: pl.DataFrame | None = None) -> tuple[Attribution, Attribution | None]:
    """(attribution used, proposal): the analyst's marks plus `ips` and `sessions`; when nothing is marked or given,
    the proposal, used only with `use_proposal` (else an empty attribution). The proposal is None when marks exist."""
    chosen = combined(marked(case.store.attribution()), list(ips), list(sessions))
    if not chosen.empty:
        return chosen, None
    proposed = proposal(case, activity, config, hits)
    return (proposed if use_proposal else chosen), proposed


def case_exposure(case: "Case | CaseSet", attribution: Attribution, activity: pl.DataFrame, users: list[str] = (),
                  start: datetime | None = None, end: datetime | None = None) -> Exposure:
    """The exposure of the case by `attribution` (exposure.py)."""
    return exposure(case_mail_items(case), activity, case_messages(case), attribution, users, start, end)
