"""The SQL form of the hunts (hunts.sql_compile) gives the Polars engine's hits on DuckDB: every bundled hunt's inline
tests (and what they expect), every hunt and test Sigma rule over the sample cases, many tenants in one table; and
no hunt depends on a construct SQL cannot express."""

import polars as pl
import pytest
from hunt_engines import differences, inline_tenants, own_hits, pack_with_sigma, sample_tenants

import hunts
from hunts.sql_compile import UnsupportedHunt, hunt_queries, java_pattern, re2_pattern, row_filter, sql_text
from hunts.sql_run import run_duckdb
from workbench.core import duck


def _found(frame: pl.DataFrame) -> set[tuple[str, str, str, str]]:
    return set(frame.select("tenant", "hunt_id", "source", "record_id").iter_rows())


@pytest.fixture(scope="module")
def full_pack() -> list[hunts.Hunt]:
    return pack_with_sigma()


@pytest.fixture(scope="module")
def inline(pack):
    return inline_tenants(pack, with_enrichment=True)


@pytest.fixture(scope="module")
def samples(sample_logs, tmp_path_factory, full_pack):
    return sample_tenants(sample_logs, tmp_path_factory.mktemp("sql-cases"), full_pack)


def test_every_hunt_and_sigma_test_rule_compiles_to_sql(full_pack):
    unsupported = {}
    for hunt in full_pack:
        try:
            hunt_queries(hunt)
        except UnsupportedHunt as error:
            unsupported[hunt.id] = error.reason
    assert unsupported == {}
    assert len(full_pack) > 235


def test_inline_tests_give_the_same_hits_on_duckdb_as_on_polars_and_as_expected(pack, inline):
    for tenants, enrichment in inline:
        owned = {tenant: hunt_id for tenant, hunt_id in tenants.owners.items()}
        chosen = [hunt for hunt in pack if hunt.id in set(owned.values())]
        found = _found(run_duckdb(chosen, tenants.frames, enrichment))
        assert differences(tenants, found) == {}
        hit = {}
        for tenant, _, _, record_id in own_hits(tenants, found):
            hit.setdefault(tenant, set()).add(record_id)
        assert {tenant: hit.get(tenant, set()) for tenant in tenants.expected} == tenants.expected


def test_inline_tests_cover_every_bundled_hunt(pack, inline):
    together, *apart = inline
    owners = set(together[0].owners.values()) | {hunt_id for tenants, _ in apart for hunt_id in tenants.owners.values()}
    assert owners == {hunt.id for hunt in pack}


def test_sample_cases_give_the_same_hits_on_duckdb_as_on_polars(samples, full_pack):
    tenants = samples
    found = _found(run_duckdb(full_pack, tenants.frames))
    assert differences(tenants, found) == {}
    assert len(tenants.polars) > 50 and {hit[0] for hit in found} == {"case-a", "case-b"}


def test_a_tenant_gets_the_hits_it_gets_alone(pack, samples):
    """Thresholds, first-seen and sets are per tenant: the same rows as two tenants give each the hits of one."""
    tenants = samples
    pack = [hunt for hunt in pack if {"threshold", "first_seen", "in_set", "sequence", "travel"} & _keys(hunt.condition)]
    alone = {hit[1:] for hit in _found(run_duckdb(pack, {source: frame.filter(pl.col("tenant") == "case-a")
                                                         for source, frame in tenants.frames.items()}))}
    twice = {source: pl.concat([frame.filter(pl.col("tenant") == "case-a"),
                                frame.filter(pl.col("tenant") == "case-a").with_columns(pl.lit("copy").alias("tenant"))])
             for source, frame in tenants.frames.items()}
    found = _found(run_duckdb(pack, twice))
    assert {hit[1:] for hit in found if hit[0] == "case-a"} == alone
    assert {hit[1:] for hit in found if hit[0] == "copy"} == alone
    assert len(alone) > 10


def _keys(data: object) -> set[str]:
    """Every key of a condition, nested ones too."""
    if isinstance(data, dict):
        return set(data).union(*(_keys(value) for value in data.values()))
    return set().union(*(_keys(item) for item in data)) if isinstance(data, list) else set()


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    (r"\bmfa\b", "an mfa reset", True),
    (r"^(?:[\W_]+|.{1,2})$", "__--", True),
    (r"^(?:[\W_]+|.{1,2})$", "é_", True),
    (r"^(?:[\W_]+|.{1,2})$", "éé_", False),
    (r"(?i)(?:^|\W)(?:admin)(?:$|\W)", "éadmin", False),
    (r"(?i)(?:^|\W)(?:admin)(?:$|\W)", "-ADMIN ", True),
    (r"\d+", "٣", True),
    (r"^\s*$", "\u00a0\u2003", True),
    (r"abc$", "abc\n", False),
    (r"a.c", "a\rc", True),
    (r'"RuleName"\s*,\s*"Value"\s*:\s*"(?:[^"\w\\]|\\[\\"])+"', '"RuleName", "Value": "..."', True),
    (r'"RuleName"\s*,\s*"Value"\s*:\s*"(?:[^"\w\\]|\\[\\"])+"', '"RuleName", "Value": "é"', False),
])
def test_regular_expressions_read_the_same_on_polars_and_duckdb(pattern, text, matches):
    assert pl.select(pl.lit(text).str.contains(pattern)).item() is matches
    connection = duck.connect()
    assert connection.execute("SELECT regexp_matches(?, ?)", [text, re2_pattern(pattern)]).fetchone()[0] is matches
    assert java_pattern(pattern).startswith("(?dU)")


def test_constructs_sql_reads_differently_are_refused():
    for pattern in (r"[a-z&&[^aeiou]]", r"(?m)^x$", r"[^\W_]"):
        with pytest.raises(UnsupportedHunt):
            row_filter({"where": [{"field": "operation", "regex": pattern}]}, "events")


@pytest.mark.parametrize(("networks", "address", "inside"), [
    (["10.0.0.0/8"], "10.1.2.3", True),
    (["10.0.0.0/8"], "11.1.2.3", False),
    (["10.0.0.0/8"], "::ffff:10.1.2.3", True),
    (["10.0.0.0/8"], "010.1.2.3", False),
    (["2001:db8::/32"], "2001:db8::1", True),
    (["2001:db8::/32"], "2001:DB8:0:0:0:0:0:1", True),
    (["2001:db8::/32"], "2001:db9::1", False),
    (["2001:db8::/32", "192.168.0.0/16"], "192.168.4.4", True),
    (["::/0"], "::", True),
    (["0.0.0.0/0"], "not an address", False),
    (["0.0.0.0/0"], None, False),
])
def test_cidr_is_decided_as_python_decides_it(networks, address, inside):
    frame = pl.DataFrame({"client_ip": [address]}, schema={"client_ip": pl.String})
    condition = {"actors": "all", "where": [{"field": "client_ip", "cidr": networks}]}
    connection = duck.connect()
    connection.register("events", frame.to_arrow())
    assert connection.execute(f"SELECT {sql_text(row_filter(condition, 'events'), 'duckdb')} FROM events").fetchone()[0] is inside
