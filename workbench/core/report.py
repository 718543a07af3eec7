"""Provides the incident report's content: the marked events grouped by ATT&CK tactic and technique in
matrix order (as the reference article is laid out), with notes and tags, enrichment, the first and
last attacker activity per account, the indicators, the exposure (what the attacker read, searched, sent
and deleted) and the queries used.

This module gathers the facts; `report_format.py` writes them as Markdown or self-contained HTML.
"""

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from hunts import attack, hit_pairs
from workbench.core import decode
from workbench.core.cases import comparison_column
from workbench.core.correlate import correlate, tenant_labels
from workbench.core.case_exposure import EXPOSURE_READS, attribution_in_force, case_exposure
from workbench.core.enrichment import cached_enrichment
from workbench.core.exposure import Exposure
from workbench.core.hunting import hunt_case_apart
from workbench.core.indicators import indicator_rows
from workbench.core.ioc import Ioc, ioc_matches

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet

DETAIL_LIMIT = 300
OTHER_EVIDENCE = "Other evidence"


@dataclass
class ReportEvent:
    """One marked event as the report shows it."""

    record_id: str
    time: datetime
    user: str
    operation: str
    client_ip: str
    object: str
    detail: str
    note: str
    tags: list[str]


@dataclass
class TechniqueSection:
    """A technique (or sub-technique) and the marked events the hunts put under it."""

    id: str
    name: str
    events: list[ReportEvent]


@dataclass
class TacticSection:
    """A tactic (matrix column) and its techniques in matrix order."""

    id: str
    name: str
    techniques: list[TechniqueSection]


@dataclass
class Report:
    """Everything the incident report says."""

    case: str
    generated: str | None
    marked: int
    first: datetime | None
    last: datetime | None
    tactics: list[TacticSection]
    other: list[ReportEvent]
    accounts: list[dict]  # user, first, last, events, operations
    enrichment: list[dict]  # ip, asn, org, country, hosting, reasons, abuse_score
    indicators: list[dict]  # kind, value, events, shared_with
    ioc_hits: list[dict]  # indicator, type, field, events
    queries: list[str] = field(default_factory=list)
    #: The input files as loaded (path, format, size, modified, sha256) and those changed or gone since.
    inputs: list[dict] = field(default_factory=list)
    changed_inputs: list[str] = field(default_factory=list)
    #: What the attacker read, searched, sent and deleted, by the attribution in force (marked, else proposed).
    exposure: Exposure | None = None


def _short(text: str) -> str:
    """`text` cut to `DETAIL_LIMIT` characters (a hostile log value may be 50 MB)."""
    return text if len(text) <= DETAIL_LIMIT else text[: DETAIL_LIMIT - 1] + "…"


def _detail(parameters: str | None, modified: str | None) -> str:
    changes = decode.modified_properties(modified)
    return _short(decode.readable(decode.name_values(parameters)) or decode.readable_changes(changes))


def _report_events(marked: pl.DataFrame, notes: dict[str, str], tags: dict[str, list[str]]) -> dict[str, ReportEvent]:
    """The marked events decoded for reading (a bounded, chosen set: one Python decode each)."""
    columns = ("record_id", "creation_time", "user_id", "operation", "client_ip", "object_id", "item",
               "affected_items", "parameters", "modified_properties")
    result = {}
    for rid, time, user, op, ip, obj, item, affected, params, modified in marked.select(columns).iter_rows():
        summary = _short(decode.summary(obj, item, affected, params))
        result[rid] = ReportEvent(rid, time, user or "", op or "", ip or "", summary, _detail(params, modified),
                                  notes.get(rid, ""), tags.get(rid, []))
    return result


def _technique_order(tactic_name: str, technique_id: str, matrix_id: str | None) -> tuple[int, str]:
    listed = [technique.id for technique in attack.techniques(tactic_name)]
    cell = matrix_id or technique_id
    return (listed.index(cell) if cell in listed else len(listed), technique_id)


def _sections(hits: pl.DataFrame, events: dict[str, ReportEvent]) -> list[TacticSection]:
    """Tactics in matrix order, techniques in matrix order, events in time order (each once per technique)."""
    pairs = hit_pairs(hits.filter(pl.col("record_id").is_in(list(events)))).select(
        "tactic_id", "tactic", "technique_id", "technique", "matrix_technique_id", "record_id").unique()
    sections = []
    for tactic in (*attack.tactics(), attack.UNMAPPED_TACTIC):  # hunts without a technique of the matrix last
        rows = pairs.filter(pl.col("tactic_id") == tactic.id)
        if rows.height == 0:
            continue
        techniques = []
        keys = rows.select("technique_id", "technique", "matrix_technique_id").unique().rows()
        for technique_id, name, matrix_id in sorted(keys, key=lambda k: _technique_order(tactic.name, k[0], k[2])):
            ids = rows.filter(pl.col("technique_id") == technique_id)["record_id"].unique().to_list()
            chosen = sorted((events[rid] for rid in ids), key=lambda e: (e.time, e.record_id))
            techniques.append(TechniqueSection(technique_id, name, chosen))
        sections.append(TacticSection(tactic.id, tactic.name, techniques))
    return sections


def _accounts(marked: pl.DataFrame) -> list[dict]:
    return marked.group_by("user_key").agg(
        pl.col("user_id").first().alias("user"),
        pl.col("creation_time").min().alias("first"),
        pl.col("creation_time").max().alias("last"),
        pl.len().alias("events"),
        pl.col("operation").unique().sort().alias("operations"),
    ).sort("first", "user_key").drop("user_key").to_dicts()


def _indicators(marked: pl.DataFrame, correlation: pl.DataFrame | None) -> list[dict]:
    """The indicators the marked events carry, with the other cases or tenants that share them."""
    rows = indicator_rows(marked).filter(pl.col("evidence")).group_by("kind", "key").agg(
        pl.col("value").sort().first(), pl.col("record_id").n_unique().alias("events"))
    if correlation is not None and correlation.height:
        shared = correlation.select("kind", pl.col("value").str.to_lowercase().alias("key"), pl.col("cases").alias("shared_with"))
        rows = rows.join(shared, on=["kind", "key"], how="left")
    else:
        rows = rows.with_columns(pl.lit(None, pl.List(pl.String)).alias("shared_with"))
    rank = pl.col("kind").replace_strict({k: i for i, k in enumerate(
        ("ip", "user_agent", "rule_name", "recipient", "allow_list", "rule_keyword", "subject"))}, default=9)
    return rows.sort(rank, pl.col("shared_with").is_null(), "value").select("kind", "value", "events", "shared_with").to_dicts()


def _enrichment(marked: pl.DataFrame, enrichment: pl.DataFrame | None) -> list[dict]:
    if enrichment is None:
        return []
    wanted = [c for c in ("ip", "asn", "as_name", "org", "country", "abuse_score", "hosting", "reasons") if c in enrichment.columns]
    ips = marked["client_ip"].drop_nulls().unique()
    return enrichment.filter(pl.col("ip").is_in(ips.implode())).select(wanted).sort("ip").to_dicts()


def build_report(
    case_name: str,
    events: pl.DataFrame | pl.LazyFrame,
    marks: set[str],
    hits: pl.DataFrame,
    notes: dict[str, str] | None = None,
    tags: dict[str, list[str]] | None = None,
    enrichment: pl.DataFrame | None = None,
    correlation: pl.DataFrame | None = None,
    ioc_matches: pl.DataFrame | None = None,
    queries: list[str] | None = None,
    generated: str | None = None,
    inputs: list[dict] | None = None,
    changed_inputs: list[str] | None = None,
    exposure: Exposure | None = None,
) -> Report:
    """The report of the marked events of one case (`events`: its rows in memory, or its scan); `hits` are the hunt
    hits over the case's events."""
    marked = events.lazy().filter(pl.col("record_id").is_in(list(marks))).collect().sort("creation_time", "record_id")
    decoded = _report_events(marked, notes or {}, tags or {})
    tactics = _sections(hits, decoded)
    mapped = {e.record_id for t in tactics for s in t.techniques for e in s.events}
    other = [decoded[rid] for rid in marked["record_id"].to_list() if rid not in mapped]
    iocs = []
    if ioc_matches is not None:
        chosen = ioc_matches.filter(pl.col("record_id").is_in(marked["record_id"].implode()))
        iocs = chosen.group_by("indicator", "type").agg(
            pl.col("field").unique().sort().alias("fields"), pl.col("record_id").n_unique().alias("events"),
        ).sort("type", "indicator").to_dicts()
    return Report(
        case=case_name, generated=generated, marked=marked.height,
        first=marked["creation_time"].min(), last=marked["creation_time"].max(),
        tactics=tactics, other=other, accounts=_accounts(marked), enrichment=_enrichment(marked, enrichment),
        indicators=_indicators(marked, correlation), ioc_hits=iocs, queries=list(queries or []),
        inputs=list(inputs or []), changed_inputs=list(changed_inputs or []), exposure=exposure,
    )


def case_report(case: "Case | CaseSet", config: dict, iocs: list[Ioc] | None = None, generated: str | None = None,
                others: list["Case"] | None = None, hits: pl.DataFrame | None = None,
                hunt_dirs: tuple[Path, ...] = ()) -> Report:
    """The report of a case's marked events: the hunt `hits` over the whole case (default: the case hunted with
    the bundled, configured and `hunt_dirs` hunts), enrichment from the cache only, the indicators compared with
    the `others` cases (or, without them, between the cases of a case set or the tenants of a case), the
    exposure by the analyst's attribution (else the proposal, said so), and the queries the analyst saved (not
    every one-off query run). The case is read through its scan, each step reading only what it needs (the
    marked rows, the indicators a batch at a time, the exposure's rows); the hunts run in a process of their own."""
    events = case.activity_scan()  # every source: marked sign-ins and directory audits are evidence too
    store = case.store
    enrichment = cached_enrichment(events, config)
    by = comparison_column(events)
    if others:
        together = pl.concat([events, *(other.activity_scan() for other in others)], how="diagonal_relaxed")
        correlation = correlate(together, "case", cached_enrichment(together, config))
    elif events.select(pl.col(by).drop_nulls().n_unique()).collect().item() > 1:  # a case set, or several tenants
        correlation = correlate(events, by, enrichment)
        if by == "organization_id":  # tenants by domain, as correlate shows them
            labels = tenant_labels(events)
            correlation = correlation.with_columns(pl.col("cases").list.eval(pl.element().replace(labels)))
    else:
        correlation = None
    if hits is None:
        hits = hunt_case_apart(case, config, extra_dirs=hunt_dirs, enrichment=enrichment)
    attribution, _proposal = attribution_in_force(case, events, config, use_proposal=True, hits=hits)
    return build_report(
        case.name, events, store.marks(), hits,
        notes=store.notes(), tags=store.tags(), enrichment=enrichment, correlation=correlation,
        ioc_matches=ioc_matches(events, iocs) if iocs else None,
        queries=[f"-- {name}\n{sql}" for name, sql in store.saved_queries().items()], generated=generated,
        inputs=[{key: getattr(file, key) for key in ("path", "format", "size", "modified", "sha256")}
                for one in getattr(case, "cases", [case]) for file in one.load_report().files],
        changed_inputs=case.changed_inputs(), exposure=case_exposure(case, attribution, events.select(EXPOSURE_READS)),
    )
