"""Provides running a hunt's inline tests: its raw test records (audit records, or Graph sign-ins or directory
audits for a hunt of that source) through the real loader and engine."""

import polars as pl

from hunts.engine import Context, matching_events
from hunts.model import Hunt
from workbench.core.load import events_from_records
from workbench.core.sources.exports import graph_records_frame

ENRICHMENT_SCHEMA = {"ip": pl.String, "hosting": pl.Boolean, "reasons": pl.List(pl.String)}


def run_inline_tests(hunt: Hunt) -> list[str]:
    """Each failing inline test of `hunt` as a message; empty when all pass."""
    failures = []
    source = hunt.condition.get("source", "events")
    for test in hunt.tests:
        try:
            enrichment = pl.DataFrame(list(test.enrichment), schema=ENRICHMENT_SCHEMA) if test.enrichment else None
            if source == "events":
                context = Context(events_from_records(list(test.records), case="inline"), enrichment)
            else:
                audit_log = Context(events_from_records(list(test.events), case="inline")) if test.events else None
                rows = graph_records_frame(list(test.records), source)
                context = Context(rows, enrichment, source, audit_log)
            hit = set(matching_events(hunt, context)["record_id"].to_list())
        except Exception as error:  # noqa: BLE001 - any crash is a test failure to report, not to raise
            failures.append(f"{hunt.id}: {test.name}: {type(error).__name__}: {error}")
            continue
        if hit != set(test.expect):
            failures.append(f"{hunt.id}: {test.name}: expected hits {sorted(test.expect)}, got {sorted(hit)}")
    return failures
