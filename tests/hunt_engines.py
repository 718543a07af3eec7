"""What the engine-equivalence tests share: the bundled hunts' inline tests and the sample cases as tables of many
tenants (each inline test, each case, is a tenant), and the hits the Polars engine finds in each, as
(tenant, hunt_id, source, record_id) tuples to compare with what DuckDB and Spark find."""

from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

import hunts
from hunts.engine import Context, matching_rows
from hunts.selftest import ENRICHMENT_SCHEMA
from hunts.sigma import load_sigma
from workbench.core.activity import audit_log_rows
from workbench.core.case import Case
from workbench.core.hunting import hunted_frame, with_records
from workbench.core.load import events_from_records
from workbench.core.schema import FRAME_SCHEMAS
from workbench.core.sources.exports import graph_records_frame

SIGMA_RULES = Path(__file__).parent / "sigma_rules"
SOURCES = ("events", "sign_ins", "directory_audits")


@dataclass
class Tenants:
    """Frames of many tenants (`tenant` column) and the Polars engine's hits in them; `owners` maps each tenant to
    the hunt whose inline test it is (None: every hunt runs there)."""

    frames: dict[str, pl.DataFrame]
    polars: set[tuple[str, str, str, str]]
    owners: dict[str, str | None] = field(default_factory=dict)
    expected: dict[str, set[str]] = field(default_factory=dict)


def pack_with_sigma() -> list[hunts.Hunt]:
    """The bundled hunts and the Sigma rules of tests/sigma_rules that run."""
    return hunts.load_hunts() + list(load_sigma([SIGMA_RULES]).hunts)


def _tagged(frame: pl.DataFrame, tenant: str) -> pl.DataFrame:
    return frame.with_columns(pl.lit(tenant).alias("tenant"))


def _table(parts: list[pl.DataFrame], source: str) -> pl.DataFrame:
    """One table of a source from the tenants' frames: the frame's declared columns (nulls where a part lacks one)."""
    schema = {**FRAME_SCHEMAS[source], "tenant": pl.String}
    whole = pl.concat([part.select([name for name in part.columns if name in schema]) for part in parts],
                      how="diagonal_relaxed") if parts else pl.DataFrame(schema=schema)
    return whole.select(pl.col(name).cast(kind) if name in whole.columns else pl.lit(None, kind).alias(name)
                        for name, kind in schema.items())


def _polars_hits(hunt: hunts.Hunt, peers: dict[str, Context], tenant: str) -> set[tuple[str, str, str, str]]:
    if not peers:
        return set()
    return {(tenant, hunt.id, source, record_id)
            for source, rows in matching_rows(hunt, next(iter(peers.values()))).items() for record_id in rows["record_id"]}


def _test_frame(records: list[dict], source: str) -> pl.DataFrame:
    return events_from_records(records, case="inline") if source == "events" else graph_records_frame(records, source)


def inline_tenants(pack: list[hunts.Hunt], with_enrichment: bool) -> list[tuple[Tenants, pl.DataFrame | None]]:
    """The inline tests of `pack` as tenants (`<hunt id>#<test number>`): those without enrichment rows all in one
    Tenants, and (`with_enrichment`) each test with enrichment rows apart with its enrichment frame."""
    shared: dict[str, list[pl.DataFrame]] = {source: [] for source in SOURCES}
    together = Tenants({}, set())
    apart = []
    for hunt in pack:
        source = hunt.condition.get("source", "events")
        for number, test in enumerate(hunt.tests):
            tenant = f"{hunt.id}#{number}"
            enrichment = pl.DataFrame(list(test.enrichment), schema=ENRICHMENT_SCHEMA) if test.enrichment else None
            if enrichment is not None and not with_enrichment:
                continue
            frames = {kind: _test_frame(list(records), kind) for kind, records in [(source, test.records), *test.others]}
            peers: dict[str, Context] = {}
            for kind, frame in frames.items():
                Context(frame, enrichment, kind, peers)
            polars = _polars_hits(hunt, peers, tenant)
            if enrichment is None:
                for kind, frame in frames.items():
                    shared[kind].append(_tagged(frame, tenant))
                together.polars |= polars
                together.owners[tenant] = hunt.id
                together.expected[tenant] = set(test.expect)
            else:
                alone = Tenants({kind: _table([_tagged(frame, tenant)], kind) for kind, frame in frames.items()}, polars,
                                {tenant: hunt.id}, {tenant: set(test.expect)})
                apart.append((alone, enrichment))
    together.frames = {source: _table(parts, source) for source, parts in shared.items()}
    return [(together, None), *apart]


def sample_tenants(sample_logs: Path, root: Path, pack: list[hunts.Hunt]) -> Tenants:
    """The sample cases (tenant = the case name), their rows prepared as `workbench hunt` prepares them (the audit log
    rows, with their records for the hunts that read them; the other sources' columns the pack reads), and the
    Polars engine's hits in each."""
    parts: dict[str, list[pl.DataFrame]] = {source: [] for source in SOURCES}
    polars: set[tuple[str, str, str, str]] = set()
    readers = [hunt for hunt in pack if "audit_data" in hunts.columns_read([hunt], "events")]
    for name in ("case-a", "case-b"):
        case = Case.named(name, root)
        case.open([sample_logs / name])
        rows = with_records(case, audit_log_rows(case.events()), readers)
        others = {frame: hunted_frame(case, frame, hunts.columns_read(pack, frame)) for frame in SOURCES[1:]}
        peers: dict[str, Context] = {}
        for source, frame in {"events": rows, **others}.items():
            if frame.height:
                Context(frame, None, source, peers)
        for hunt in pack:
            polars |= _polars_hits(hunt, peers, name)
        parts["events"].append(_tagged(rows, name))
        for frame in SOURCES[1:]:
            parts[frame].append(_tagged(case.scan(True, frame=frame).collect(), name))
    return Tenants({source: _table(frames, source) for source, frames in parts.items()}, polars)


def own_hits(tenants: Tenants, found: set[tuple[str, str, str, str]]) -> set[tuple[str, str, str, str]]:
    """The hits of each inline-test tenant's own hunt (every hit of a case tenant)."""
    return {hit for hit in found if tenants.owners.get(hit[0], hit[1]) == hit[1]}


def differences(tenants: Tenants, found: set[tuple[str, str, str, str]]) -> dict[str, dict[str, list]]:
    """Per hunt, the hits only Polars found and those only the other engine found (empty when they agree)."""
    mine = own_hits(tenants, found)
    report: dict[str, dict[str, list]] = {}
    for label, hits in (("only_polars", tenants.polars - mine), ("only_sql", mine - tenants.polars)):
        for tenant, hunt_id, source, record_id in sorted(hits):
            report.setdefault(hunt_id, {}).setdefault(label, []).append((tenant, source, record_id))
    return report
