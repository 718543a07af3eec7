"""The correlate mode over cases A and B: the actor's shared indicators first, Enter opens them in both
cases, `f` keeps one case; one case holding both tenants compares the tenants."""

import polars as pl
import pytest

from enrich import EnrichmentCache

from tests.ui.conftest import settle
from tests.ui.cross_case import empty_enrichment_cache, loaded_two_cases  # noqa: F401 (fixtures)
from tests.ui.cross_case import SHARED_IPS, two_case_events, two_cases_loaded
from tests.ui.ip_fakes import FIXTURES
from tests.ui.view_app import ViewApp
from workbench.core.case import Case
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.correlate import CorrelateScreen
from workbench.ui.widgets.indicator_table import IndicatorTable

pytestmark = pytest.mark.usefixtures("empty_enrichment_cache")
SPOOF_ALLOW_A = "54b73f0b-d878-4134-9f47-c7a46b57800a"  # New-TenantAllowBlockListSpoofItems in case A (README)
SPOOF_ALLOW_B = "e1e2286f-513e-44e8-b728-db4aa1ca98ec"  # the same in case B


def header(app) -> str:
    return str(app.screen.query_one("#correlate-header").render())


async def test_the_three_shared_ips_are_listed_and_enter_opens_their_events_in_both_cases(loaded_two_cases):
    app = ViewApp(two_cases_loaded(loaded_two_cases), CorrelateScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IndicatorTable)
        listed = [(row["kind"], row["value"]) for row in table.indicators]
        assert {("ip", ip) for ip in SHARED_IPS} <= set(listed)
        assert ("allow_list", "botasso.cl") in listed and ("rule_name", "Display name spoofing") in listed
        assert "Correlate 2 cases: case-a, case-b" in header(app) and f"{len(listed)} shared indicators" in header(app)
        assert str(table.get_cell_at((0, table.get_column_index("cases")))) == "case-a, case-b"

        ip = listed.index(("ip", "20.232.202.245"))
        await pilot.press(*["down"] * ip)
        assert "20.232.202.245" in str(app.screen.query_one("#indicator-detail").render())
        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        assert title == "ip 20.232.202.245 (all cases)"
        events = two_case_events(loaded_two_cases)
        expected = events.filter(pl.col("client_ip") == "20.232.202.245")
        assert set(record_ids) == set(expected["record_id"]) and len(record_ids) == len(set(record_ids))
        assert set(events.filter(pl.col("record_id").is_in(record_ids))["case"]) == {"case-a", "case-b"}


async def test_the_selected_rows_score_is_shown_in_its_parts(loaded_two_cases):
    app = ViewApp(two_cases_loaded(loaded_two_cases), CorrelateScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IndicatorTable)
        ranked = [(row["kind"], row["value"]) for row in table.indicators]
        keywords = [index for index, (kind, _) in enumerate(ranked) if kind == "rule_keyword"]
        assert max(ranked.index(("ip", ip)) for ip in SHARED_IPS) < min(keywords)
        assert ranked.index(("allow_list", "botasso.cl")) < min(keywords)
        await pilot.press(*["down"] * ranked.index(("rule_keyword", "admin")))
        row = table.current
        detail = str(app.screen.query_one("#indicator-detail").render()).splitlines()
        assert detail[1] == (f"score {row['score']:.1f} = kind 0.3 × (rarity {row['rarity']:.1f} − generic "
                             f"{row['generic']:.1f} + accounts {row['account_rarity']:.1f} + cases 1.0 + linked 4.7)")
        assert row["generic"] > 8
        assert detail[2] == (f"rarity by case: case-a {row['rarity_per_case'][0]:.1f} · case-b "
                             f"{row['rarity_per_case'][1]:.1f} bits · linked to 25 other shared indicators")


async def test_the_case_filter_keeps_one_cases_events(loaded_two_cases):
    app = ViewApp(two_cases_loaded(loaded_two_cases), CorrelateScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IndicatorTable)
        both = {row["value"]: row["events"] for row in table.indicators}
        await pilot.press("f", "f")
        assert header(app).endswith("showing: case-b")
        only_b = {row["value"]: row["events"] for row in table.indicators}
        assert only_b.keys() == both.keys() and all(only_b[v] < both[v] for v in both)
        botasso = [row["value"] for row in table.indicators].index("botasso.cl")
        table.move_cursor(row=botasso)
        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        assert title == "allow_list botasso.cl (case-b)" and SPOOF_ALLOW_B in record_ids
        assert SPOOF_ALLOW_A not in record_ids
        await pilot.press("f")
        assert header(app).endswith("showing: all")


async def test_one_case_with_both_tenants_compares_tenants(loaded_two_cases):
    loaded = two_cases_loaded(loaded_two_cases)
    events = loaded.events.with_columns(pl.lit("both").alias("case"))
    app = ViewApp(CaseLoaded(Case.named("case-a", loaded_two_cases), events, loaded.report, loaded.rejects,
                             True), CorrelateScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        assert "Correlate 2 tenants: example.com (2ab04f98), example.net (e5da9a31)" in header(app)
        table = app.screen.query_one(IndicatorTable)
        assert {("ip", ip) for ip in SHARED_IPS} <= {(row["kind"], row["value"]) for row in table.indicators}
        assert str(table.get_cell_at((0, table.get_column_index("cases")))) == "example.com (2ab04f98), example.net (e5da9a31)"
        com, net = table.current["rarity_per_case"]
        detail = str(app.screen.query_one("#indicator-detail").render())
        assert f"\nrarity by tenant: example.com (2ab04f98) {com:.1f} · example.net (e5da9a31) {net:.1f} bits" in detail
        assert " + tenants 1.0 + " in detail
        await pilot.press("enter")
        assert app.opened[-1][0].endswith("(all tenants)")
        await pilot.resize_terminal(80, 24)  # the tenants' names give way so that the counts stay in view
        await pilot.pause()
        assert header(app) == f"Correlate 2 tenants │ {table.row_count} shared indicators │ showing: all"


async def test_a_single_case_says_nothing_is_shared(loaded_two_cases):
    loaded = two_cases_loaded(loaded_two_cases)
    events = loaded.events.filter(pl.col("case") == "case-a")
    app = ViewApp(CaseLoaded(loaded.case, events, loaded.report, loaded.rejects, True), CorrelateScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.query_one(IndicatorTable).row_count == 0
        assert "no indicator is shared" in str(app.screen.query_one("#correlate-status").render())
        await pilot.press("enter")
        assert app.opened == []


async def test_cached_enrichment_flags_the_shared_hosting_addresses(loaded_two_cases, tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "enrich-cache"))
    with EnrichmentCache(tmp_path / "enrich-cache") as cache:
        cache.import_results(FIXTURES / "reference-case-enrichment.json")
    app = ViewApp(two_cases_loaded(loaded_two_cases), CorrelateScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IndicatorTable)
        row = next(i for i, r in enumerate(table.indicators) if r["value"] == "104.161.20.102")
        assert str(table.get_cell_at((row, table.get_column_index("kind")))) == "ip ⚑"
        table.move_cursor(row=row)
        await pilot.pause()
        detail = str(app.screen.query_one("#indicator-detail").render())
        assert "AS53755 Input Output Flood LLC · hosting: yes · " in detail and "ioflood.com" in detail


async def test_indicator_text_is_shown_inert(loaded_two_cases):
    loaded = two_cases_loaded(loaded_two_cases)
    planted = "[red]Display[/red] \\u001b[2J spoofing"  # JSON text: the rule name carries markup and an escape
    events = loaded.events.with_columns(pl.col("parameters").str.replace_all("Display name spoofing", planted, literal=True))
    app = ViewApp(CaseLoaded(loaded.case, events, loaded.report, loaded.rejects, True), CorrelateScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IndicatorTable)
        row = next(i for i, r in enumerate(table.indicators) if r["kind"] == "rule_name" and "Display" in r["value"])
        assert table.get_cell_at((row, table.get_column_index("value"))).plain == "[red]Display[/red] \\x1b[2J spoofing"
        table.move_cursor(row=row)
        await pilot.press("enter")
        assert app.opened[-1][0] == "rule_name [red]Display[/red] \\x1b[2J spoofing (all cases)"
