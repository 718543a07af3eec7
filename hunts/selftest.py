"""Provides running a hunt's inline tests: its raw test records (audit records, or Graph sign-ins or directory
audits for a hunt of that source, and records of the other sources it joins) through the real loaders and engine."""

import polars as pl

from hunts.engine import Context, columns_read, matching_rows
from hunts.model import Hunt
from hunts.travel import PLACE_SCHEMA
from workbench.core.load import events_from_records
from workbench.core.sources.exports import graph_records_frame

#: An inline test's enrichment rows: the hosting verdict, and the places the travel hunts read.
ENRICHMENT_SCHEMA = {"ip": pl.String, "hosting": pl.Boolean, "reasons": pl.List(pl.String), **PLACE_SCHEMA}


#: The columns hunting reads beside those a hunt names: how rows are told apart and their records found.
KEYS = ("record_id", "case", "source_file", "source_row", "creation_time")


def run_inline_tests(hunt: Hunt, narrow: bool = False) -> list[str]:
    """Each failing inline test of `hunt` as a message; empty when all pass. With `narrow`, each frame holds only
    the columns `columns_read` says the hunt reads (as `workbench hunt` reads a case's events)."""
    failures = []
    source = hunt.condition.get("source", "events")
    for test in hunt.tests:
        try:
            enrichment = pl.DataFrame(list(test.enrichment), schema=ENRICHMENT_SCHEMA) if test.enrichment else None
            peers: dict[str, Context] = {}
            for kind, records in [(source, test.records), *test.others]:
                rows = _frame(list(records), kind)
                if narrow:
                    read = {*columns_read([hunt], kind), *KEYS}
                    rows = rows.select(name for name in rows.columns if name in read)
                Context(rows, enrichment, kind, peers)
            hit = {record for rows in matching_rows(hunt, peers[source]).values() for record in rows["record_id"]}
        except Exception as error:  # noqa: BLE001 - any crash is a test failure to report, not to raise
            failures.append(f"{hunt.id}: {test.name}: {type(error).__name__}: {error}")
            continue
        if hit != set(test.expect):
            failures.append(f"{hunt.id}: {test.name}: expected hits {sorted(test.expect)}, got {sorted(hit)}")
    return failures


def _frame(records: list[dict], source: str) -> pl.DataFrame:
    """The rows of raw test records of a source, through that source's loader."""
    return events_from_records(records, case="inline") if source == "events" else graph_records_frame(records, source)
