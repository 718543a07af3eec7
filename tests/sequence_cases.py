"""Shared by the SQL sequence and travel tests on DuckDB (tests/hunts) and Spark (tests/spark): the tables the
compiled queries read (every frame with its `tenant`), the hunts' own inline tests as tenants of one table per
source, the sample cases as tenants, and the hits the Polars engine and each SQL engine find there."""

from dataclasses import replace
from pathlib import Path

import duckdb
import polars as pl
from sqlglot import exp

import hunts
from hunts.engine import Context, matching_rows
from hunts.loader import parse_hunt
from hunts.selftest import ENRICHMENT_SCHEMA
from hunts.sql_compile import row_filter, sql_text
from hunts.sql_sequence import column, sequence_queries
from hunts.sql_travel import travel_query
from workbench.core.activity import audit_log_rows
from workbench.core.case import Case
from workbench.core.hunting import hunted_frame, with_records
from workbench.core.load import events_from_records
from workbench.core.schema import FRAME_SCHEMAS, RECORD_COLUMN
from workbench.core.sources.exports import graph_records_frame

SOURCES = ("events", "sign_ins", "directory_audits")
#: A hit as the tests compare them: (hunt id, source, tenant, record id).
Hit = tuple[str, str, str, str]
#: The enrichment table of the tests: each tenant's own (the inline tests give one IP different places).
TENANT_ENRICHMENT = {"tenant": pl.String, **ENRICHMENT_SCHEMA}
HEADER = '''
title = "t"
description = "d"
severity = "medium"
attack = ["Persistence:T1098"]
runbook = "r"
fields = ["record_id"]
references = ["x"]
'''


def hunt_of(condition: str) -> hunts.Hunt:
    """A hunt of this TOML `[condition]` body (and its sub-tables)."""
    hunt, problems = parse_hunt(Path("case.toml"), HEADER + "[condition]\n" + condition)
    assert problems == []
    return hunt


def sequence_and_travel_hunts(pack: list[hunts.Hunt]) -> list[hunts.Hunt]:
    """The hunts of the pack with a sequence or a travel condition."""
    chosen = [hunt for hunt in pack if "sequence" in hunt.condition or "travel" in hunt.condition]
    assert len(chosen) >= 13
    return chosen


def frame(records: list[dict], source: str, tenant: str) -> pl.DataFrame:
    """Raw records of a source through its loader, as rows of `tenant`."""
    rows = events_from_records(records, case="inline") if source == "events" else graph_records_frame(records, source)
    return rows.with_columns(pl.lit(tenant).alias("tenant"))


def tables(parts: dict[str, list[pl.DataFrame]], enrichment: list[pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """One table per source (empty ones with the source's columns) and the `enrichment` table."""
    joined = {}
    for source in SOURCES:
        empty = pl.DataFrame(schema={**FRAME_SCHEMAS[source], "tenant": pl.String})
        joined[source] = pl.concat([empty, *(part.select(pl.col(name) if name in part.columns else pl.lit(None, kind).alias(name)
                                                         for name, kind in empty.schema.items())
                                             for part in parts.get(source, []))], how="vertical_relaxed")
    joined["enrichment"] = pl.concat([pl.DataFrame(schema=TENANT_ENRICHMENT), *enrichment], how="diagonal_relaxed")
    return joined


def inline_tables(chosen: list[hunts.Hunt]) -> tuple[dict[str, pl.DataFrame], set[Hit]]:
    """Every inline test of `chosen` as a tenant (`<hunt id>: <test name>`) of one table per source, and the hits
    the tests expect (each expected record id in whichever source holds it)."""
    parts: dict[str, list[pl.DataFrame]] = {}
    enrichment, expected = [], set()
    for hunt in chosen:
        source = hunt.condition.get("source", "events")
        for test in hunt.tests:
            tenant = f"{hunt.id}: {test.name}"
            for kind, records in [(source, test.records), *test.others]:
                rows = frame(list(records), kind, tenant)
                parts.setdefault(kind, []).append(rows)
                expected |= {(hunt.id, kind, tenant, record) for record in rows["record_id"] if record in test.expect}
            if test.enrichment:
                enrichment.append(pl.DataFrame(list(test.enrichment), schema=ENRICHMENT_SCHEMA)
                                  .with_columns(pl.lit(tenant).alias("tenant")))
    return tables(parts, enrichment), expected


def polars_hits(chosen: list[hunts.Hunt], tables_: dict[str, pl.DataFrame]) -> set[Hit]:
    """The hits of the Polars engine, each tenant hunted alone (as `hunt_hits` builds its contexts: a source
    without rows has none)."""
    found = set()
    tenants = set().union(*(set(tables_[source]["tenant"]) for source in SOURCES))
    for tenant in sorted(tenants):
        enrichment = tables_["enrichment"].filter(pl.col("tenant") == tenant).drop("tenant")
        peers: dict[str, Context] = {}
        for source in SOURCES:
            rows = tables_[source].filter(pl.col("tenant") == tenant).drop("tenant")
            if rows.height:
                Context(rows, enrichment if enrichment.height else None, source, peers)
        for hunt in chosen:
            for source, rows in matching_rows(hunt, next(iter(peers.values()))).items():
                found |= {(hunt.id, source, tenant, record) for record in rows["record_id"]}
    return found


def compiled(chosen: list[hunts.Hunt]) -> list[tuple[str, str, exp.Select]]:
    """(hunt id, source, query) of every source each hunt flags rows of."""
    queries = []
    for hunt in chosen:
        if "sequence" in hunt.condition:
            queries += [(hunt.id, source, query) for source, query in sequence_queries(hunt, row_filter).items()]
        else:
            queries.append((hunt.id, hunt.condition.get("source", "events"),
                            travel_query(hunt, row_filter, enrichment_columns=list(TENANT_ENRICHMENT))))
    return queries


def labelled(queries: list[tuple[str, str, exp.Select]]) -> exp.Expression:
    """All queries as one: `hunt_id`, `source`, `tenant`, `record_id` (one engine job for all)."""
    parts = [exp.select(exp.Literal.string(hunt_id).as_("hunt_id"), exp.Literal.string(source).as_("source"),
                        column("tenant"), column("record_id")).from_(query.subquery("q"))
             for hunt_id, source, query in queries]
    return parts[0] if len(parts) == 1 else exp.union(*parts, distinct=False)


def duckdb_hits(chosen: list[hunts.Hunt], tables_: dict[str, pl.DataFrame]) -> set[Hit]:
    """The hits of the compiled hunts on DuckDB over these tables (each once)."""
    connection = duckdb.connect()
    for name, rows in tables_.items():
        connection.register(name, rows.to_arrow())
    return _once(connection.sql(sql_text(labelled(compiled(chosen)), "duckdb")).fetchall())


def spark_hits(spark, chosen: list[hunts.Hunt], tables_: dict[str, pl.DataFrame]) -> set[Hit]:
    """The hits of the compiled hunts on Spark over these tables (registered as temporary views), in one job."""
    for name, rows in tables_.items():
        spark.createDataFrame(rows.to_arrow()).createOrReplaceTempView(name)
    return _once([tuple(row) for row in spark.sql(sql_text(labelled(compiled(chosen)), "spark")).collect()])


def _once(rows: list[tuple]) -> set[Hit]:
    """The rows as a set, checking that no hit came twice."""
    assert len(rows) == len(set(rows)), "a hit came twice"
    return set(rows)


def own(hits: set[Hit]) -> set[Hit]:
    """The hits in the tenants of the hunt's own tests or scenario (tenants named `<hunt id>: ...`)."""
    return {hit for hit in hits if hit[2].startswith(f"{hit[0]}: ")}


def _add(record_id: str, time: str, target: str, operation: str = "Add user.", actor: str = "admin@example.com") -> dict:
    return {"Id": record_id, "CreationTime": time, "Operation": operation, "UserId": actor, "ObjectId": target}


def _logon(record_id: str, time: str, user: str) -> dict:
    return {"Id": record_id, "CreationTime": time, "Operation": "UserLoggedIn", "UserId": user, "ClientIP": "50.237.205.113"}


def _sign_in(record_id: str, time: str, city: str, latitude: float, longitude: float, user: str = "u@example.com") -> dict:
    return {"id": record_id, "createdDateTime": time, "userPrincipalName": user, "ipAddress": "81.2.69.1",
            "status": {"errorCode": 0}, "location": {"city": city, "countryOrRegion": "XX",
                                                      "geoCoordinates": {"latitude": latitude, "longitude": longitude}}}


_ADD_THEN_ROLE = '''flag = "last"
[[condition.sequence]]
operations = ["Add user."]
key = "object_id"
[[condition.sequence]]
operations = ["Add member to role."]
key = "object_id"
{gap}
'''
_FIRST_USE = '''flag = "last"
[[condition.sequence]]
operations = ["Add user."]
key = "object_id"
[[condition.sequence]]
key = "user_key"
first_activity = true
after = "1d"
'''
_CREDENTIAL_THEN_SIGN_IN = '''source = "directory_audits"
flag = "all"
[[condition.sequence]]
key = "target_names"
where = [{ field = "activity", equals = "Add service principal credentials" }]
[[condition.sequence]]
source = "sign_ins"
key = "service_principal"
actors = "all"
within = "1d"
where = [{ field = "status_kind", equals = "success" }]
'''
_TRAVEL = '''source = "sign_ins"
travel = { by = ["user_key"], speed_kmh = 900, min_km = 300 }
'''
_CREDENTIAL = {"id": "d", "activityDateTime": "2024-03-04T10:00:00Z", "activityDisplayName": "Add service principal credentials",
               "initiatedBy": {"user": {"userPrincipalName": "admin@example.com"}}, "targetResources": [{"displayName": "Payroll Sync"}]}
_APP_SIGN_IN = {"id": "s", "createdDateTime": "2024-03-04T12:00:00Z", "servicePrincipalName": "Payroll Sync",
                "servicePrincipalId": "0b7c3a2e-0000-4000-8000-000000000001", "ipAddress": "185.241.149.122",
                "signInEventTypes": ["servicePrincipal"], "status": {"errorCode": 0}}
_LONDON, _CHANGCHUN = ("London", 51.5142, -0.0931), ("Changchun", 43.88, 125.3228)

#: Targeted cases of the window semantics: (name, condition, {tenant: {source: records}}, expected (source, tenant,
#: record id) hits); each tenant is hunted alone by the Polars engine and with all the others by SQL.
SCENARIOS = [
    ("within is inclusive, to the microsecond", _ADD_THEN_ROLE.format(gap='within = "1h"'), {
        "on the hour": {"events": [_add("a", "2024-01-01T10:00:00", "x@example.com"),
                                   _add("b", "2024-01-01T11:00:00", "x@example.com", "Add member to role.")]},
        "half a second over": {"events": [_add("a", "2024-01-01T10:00:00", "x@example.com"),
                                          _add("b", "2024-01-01T11:00:00.5", "x@example.com", "Add member to role.")]},
        "same time is not after": {"events": [_add("a", "2024-01-01T10:00:00", "x@example.com"),
                                              _add("b", "2024-01-01T10:00:00", "x@example.com", "Add member to role.")]},
    }, {("events", "on the hour", "b")}),
    ("after is inclusive", _ADD_THEN_ROLE.format(gap='after = "30d"'), {
        "thirty days": {"events": [_add("a", "2024-01-01T10:00:00", "x@example.com"),
                                   _add("b", "2024-01-31T10:00:00", "x@example.com", "Add member to role.")]},
        "a second short": {"events": [_add("a", "2024-01-01T10:00:00", "x@example.com"),
                                      _add("b", "2024-01-31T09:59:59", "x@example.com", "Add member to role.")]},
    }, {("events", "thirty days", "b")}),
    ("keys join lower-cased and trimmed, each step row once", _ADD_THEN_ROLE.format(gap=""), {
        "two roles": {"events": [_add("a", "2024-01-01T10:00:00", " X@Example.com\t"),
                                 _add("b", "2024-01-01T11:00:00", "x@example.COM", "Add member to role."),
                                 _add("c", "2024-01-02T11:00:00", "x@example.com", "Add member to role."),
                                 _add("d", "2024-01-02T11:00:00", "y@example.com", "Add member to role.")]},
    }, {("events", "two roles", "b"), ("events", "two roles", "c")}),
    ("first activity is the key's first event after the step, then its gap", _FIRST_USE, {
        "first use too soon": {"events": [_add("a", "2024-01-01T10:00:00", "new@example.com"),
                                          _logon("b", "2024-01-01T12:00:00", "new@example.com"),
                                          _logon("c", "2024-01-09T12:00:00", "new@example.com")]},
        "first use days later": {"events": [_logon("z", "2023-12-01T12:00:00", "new@example.com"),
                                            _add("a", "2024-01-01T10:00:00", "new@example.com"),
                                            _logon("b", "2024-01-05T12:00:00", "new@example.com"),
                                            _logon("c", "2024-01-09T12:00:00", "new@example.com")]},
    }, {("events", "first use days later", "b")}),
    ("steps of two sources, every step flagged in its own", _CREDENTIAL_THEN_SIGN_IN, {
        "secret then sign-in": {"directory_audits": [_CREDENTIAL], "sign_ins": [_APP_SIGN_IN]},
        "sign-in a day too late": {"directory_audits": [_CREDENTIAL],
                                   "sign_ins": [{**_APP_SIGN_IN, "createdDateTime": "2024-03-05T10:00:01Z"}]},
    }, {("directory_audits", "secret then sign-in", "d"), ("sign_ins", "secret then sign-in", "s")}),
    ("two tenants' rows never join", _CREDENTIAL_THEN_SIGN_IN, {
        "secret only": {"directory_audits": [_CREDENTIAL]},
        "sign-in only": {"sign_ins": [_APP_SIGN_IN]},
    }, set()),
    ("travel: the previous place is the key's in its own tenant", _TRAVEL, {
        "London": {"sign_ins": [_sign_in("a", "2023-02-20T10:00:00Z", *_LONDON, user="w@example.com")]},
        "Changchun": {"sign_ins": [_sign_in("b", "2023-02-20T10:30:00Z", *_CHANGCHUN, user="w@example.com")]},
        "both, in the same second": {"sign_ins": [_sign_in("a", "2023-02-20T10:00:00Z", *_LONDON),
                                                  _sign_in("b", "2023-02-20T10:00:00Z", *_CHANGCHUN)]},
        "another account": {"sign_ins": [_sign_in("a", "2023-02-20T10:00:00Z", *_LONDON),
                                         _sign_in("b", "2023-02-20T10:30:00Z", *_CHANGCHUN, user="v@example.com")]},
        "a day's flight": {"sign_ins": [_sign_in("a", "2023-02-20T10:00:00Z", *_LONDON),
                                        _sign_in("b", "2023-02-21T10:00:00Z", *_CHANGCHUN)]},
    }, {("sign_ins", "both, in the same second", "b")}),
]


def scenario_hunts() -> list[hunts.Hunt]:
    """One hunt per scenario, its id the scenario's name."""
    return [replace(hunt_of(condition), id=name) for name, condition, _, _ in SCENARIOS]


def scenario_tables() -> tuple[dict[str, pl.DataFrame], set[Hit]]:
    """All scenarios' tenants (`<scenario>: <tenant>`) in one table per source, and the hits they expect."""
    parts: dict[str, list[pl.DataFrame]] = {}
    expected = set()
    for name, _, tenants, hits in SCENARIOS:
        for tenant, sources in tenants.items():
            for source, records in sources.items():
                parts.setdefault(source, []).append(frame(records, source, f"{name}: {tenant}"))
        expected |= {(name, source, f"{name}: {tenant}", record) for source, tenant, record in hits}
    return tables(parts, []), expected


def sample_tables(root: Path, sample_logs: Path, chosen: list[hunts.Hunt]) -> dict[str, pl.DataFrame]:
    """case-a and case-b of the sample logs, loaded into case folders under `root`, as tenants (the case names) of
    one table per source, each frame as `workbench hunt` prepares it."""
    parts: dict[str, list[pl.DataFrame]] = {}
    readers = [hunt for hunt in chosen if RECORD_COLUMN["events"] in hunts.columns_read([hunt], "events")]
    for name in ("case-a", "case-b"):
        case = Case.named(name, root)
        case.open([sample_logs / name])
        rows = {"events": with_records(case, audit_log_rows(case.events()), readers)}
        rows |= {source: hunted_frame(case, source, list(FRAME_SCHEMAS[source])) for source in SOURCES[1:]}
        for source, frame_ in rows.items():
            parts.setdefault(source, []).append(frame_.with_columns(pl.lit(name).alias("tenant")))
    return tables(parts, [])


def merged(*parts: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """Table sets of distinct tenants as one (one engine job for all)."""
    return {name: pl.concat([part[name] for part in parts], how="diagonal_relaxed") for name in parts[0]}
