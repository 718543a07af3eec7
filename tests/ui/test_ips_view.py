"""The IPs view on case A, driven by keys: cached results at once, online enrichment against fake servers on
127.0.0.1 filling rows in place, a UI that keeps answering while a slow server is busy, rate limits, sort, filter."""

import time

import polars as pl
import pytest
from textual.widgets import ProgressBar

from enrich import EnrichmentCache, ip_summary
from tests.ui.conftest import burst, settle
from tests.ui.ip_fakes import FIXTURES, KEY, REFERENCE_IPS, Reply, fake_services, offline_host  # noqa: F401
from tests.ui.view_app import ViewApp, case_loaded
from workbench.core.case import Case
from workbench.ui.screens.ips import BATCH, IpsScreen
from workbench.ui.widgets.ip_table import IpTable

IOFLOOD, AZURE, LEASED = "104.161.20.102", "20.232.202.245", "185.241.149.122"
SMALL = [*REFERENCE_IPS, "50.237.205.113", "71.192.83.88"]  # by events: 50.237…, 71.192…, Azure, leased, ioflood


@pytest.fixture
def case_a(case_dir) -> Case:
    return Case.named("case-a", case_dir)


@pytest.fixture
def reference_cache(tmp_path, monkeypatch):
    """A cache holding the reference case's recorded results (fetched in 2023, so stale online)."""
    folder = tmp_path / "enrich-cache"
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(folder))
    with EnrichmentCache(folder) as cache:
        cache.import_results(FIXTURES / "reference-case-enrichment.json")
    return folder


def small(case: Case):
    """Case A's events from five addresses only (one enrichment batch)."""
    return case_loaded(case, case.events().filter(pl.col("client_ip").is_in(SMALL)))


def status(app) -> str:
    return str(app.screen.query_one("#ips-status").render())


def header(app) -> str:
    return str(app.screen.query_one("#ips-header").render())


def row(app, ip: str) -> dict:
    return app.screen.frame.filter(pl.col("ip") == ip).to_dicts()[0]


def cell(app, ip: str, column: str) -> str:
    return str(app.screen.query_one(IpTable).get_cell(ip, column))


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", ".": "full_stop"}.get(ch, ch) for ch in text])


async def test_cached_results_show_at_once_then_sort_filter_and_enter_open_the_events(case_a, offline_host,
                                                                                      reference_cache):
    app = ViewApp(case_loaded(case_a), IpsScreen, enrich_offline=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IpTable)
        assert table.row_count == 69 and table.current_ip == "50.237.205.113"  # most events first
        assert "69 / 69 IPs │ 3 hosting │ sort: events ↓" in header(app)
        assert "3 of 69 addresses enriched" in status(app)
        assert cell(app, IOFLOOD, "hosting") == "HOSTING" and "AS53755 (IOFLOOD)" in cell(app, IOFLOOD, "reasons")
        assert any(r.startswith("leased space:") and "IPXO" in r for r in row(app, LEASED)["reasons"])
        assert cell(app, "50.237.205.113", "hosting") == "?"

        await pilot.press("3")  # hosting first
        assert [table.get_row_at(i)[table.get_column_index("ip")].plain for i in range(3)] == [LEASED, AZURE, IOFLOOD]  # then by events
        await pilot.press("2")  # abuse score, highest first
        assert table.get_row_at(0)[table.get_column_index("ip")].plain == LEASED and "sort: abuse score ↓" in header(app)
        await pilot.press("2")
        assert "sort: abuse score ↑" in header(app) and table.get_row_at(0)[table.get_column_index("ip")].plain != LEASED

        await pilot.press("slash")
        await type_text(pilot, "ioflood")
        assert table.row_count == 1 and "1 / 69 IPs" in header(app) and "filter: ioflood" in header(app)
        await pilot.press("enter", "enter")
        expected = case_a.events().filter(pl.col("client_ip") == IOFLOOD)["record_id"].to_list()
        assert app.opened == [(f"IP {IOFLOOD}", expected)] and len(expected) == 9  # 5 + 3 searches and a Bind
        await pilot.press("escape")
        assert table.row_count == 69 and "filter" not in header(app)

        await pilot.press("slash", "z", "z")  # Esc while typing drops the filter too
        assert table.row_count == 0 and "no IP matches the filter" in str(app.screen.query_one("#ip-detail").render())
        await pilot.press("escape")
        assert table.row_count == 69 and table.has_focus and app.screen.query_one("#ip-filter").has_class("hidden")


async def test_online_enrichment_fills_rows_most_events_first_and_never_shows_the_key(case_a, fake_services):
    abuse, rdap, config = fake_services
    app = ViewApp(case_loaded(case_a), IpsScreen, config)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        summary = ip_summary(case_a.events())
        assert set(abuse.checked) == set(summary["ip"]) and len(abuse.checked) == summary.height
        assert set(abuse.checked[:BATCH]) == set(summary["ip"][:BATCH])  # most events first, batch by batch
        assert all(r.headers.get("Key") == KEY for r in abuse.requests)
        assert row(app, IOFLOOD)["hosting"] is True and any("IOFLOOD" in r for r in row(app, IOFLOOD)["reasons"])
        assert cell(app, IOFLOOD, "hosting") == "HOSTING" and cell(app, IOFLOOD, "abuse_score").strip() == "42"
        assert cell(app, "50.237.205.113", "hosting") == "no"
        assert "69 of 69 addresses enriched" in status(app)
        assert f"AbuseIPDB: {1000 - summary.height} checks left today" in status(app)
        assert "with errors" in status(app)  # the fake RDAP knows only the reference addresses
        assert app.screen.query_one("#ip-progress-row").has_class("hidden")
        assert KEY not in status(app) and KEY not in app.export_screenshot()


async def test_ui_answers_keys_while_a_slow_server_is_enriching(case_a, fake_services):
    abuse, rdap, config = fake_services
    abuse.default = [Reply(delay=3.0)]
    config["enrich"]["concurrency"] = 8  # one slow round for the five addresses
    app = ViewApp(small(case_a), IpsScreen, config)
    async with app.run_test(size=(120, 30)) as pilot:
        while app.screen.frame is None:
            await pilot.pause(0.02)
        screen, table = app.screen, app.screen.query_one(IpTable)
        assert screen.running and not screen.query_one("#ip-progress-row").has_class("hidden")
        started = time.monotonic()
        await pilot.press("down", "down", "R")
        assert table.cursor_row == 2 and "already running" in status(app)
        await pilot.press("slash")
        await type_text(pilot, "104")
        await pilot.press("enter")
        answered = time.monotonic() - started
        assert table.row_count == 1 and table.current_ip == IOFLOOD
        assert screen.running and answered < 2.5, answered  # answered before the slow replies came back
        assert cell(app, IOFLOOD, "hosting") == "?"

        await settle(app, pilot)
        assert not screen.running and cell(app, IOFLOOD, "hosting") == "HOSTING"  # filled in place, still filtered
        assert table.row_count == 1 and set(abuse.checked) == set(SMALL)


async def test_rate_limit_stops_the_batch_and_says_when_it_resumes(case_a, fake_services):
    abuse, rdap, config = fake_services
    abuse.default = [Reply(delay=0.3)]
    abuse.script["50.237.205.113"] = [Reply(429, {"errors": [{"detail": "Too many requests", "status": 429}]},
                                            {"Retry-After": "3600", "X-RateLimit-Remaining": "0"})]
    app = ViewApp(small(case_a), IpsScreen, config)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert IOFLOOD not in abuse.checked  # the fifth address was never sent
        assert "rate limited until" in status(app) and "R resumes after that" in status(app)
        assert not app.screen.running
        await pilot.press("R")
        await settle(app, pilot)
        assert "rate limited until" in status(app) and app.screen.query_one(IpTable).row_count == 5


async def test_r_looks_up_only_the_ip_under_the_cursor_again(case_a, fake_services, reference_cache):
    abuse, rdap, config = fake_services
    app = ViewApp(small(case_a), IpsScreen, config, enrich_offline=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert abuse.requests == [] and rdap.requests == []  # offline: the stale cache is shown as it is
        await pilot.press("slash")
        await type_text(pilot, "ioflood")
        await pilot.press("enter", "r")
        await settle(app, pilot)
        assert abuse.checked == [IOFLOOD] and rdap.queried == [IOFLOOD]
        assert cell(app, IOFLOOD, "hosting") == "HOSTING" and not app.screen.running


async def test_bad_settings_are_reported_in_the_status_line_and_the_ips_still_listed(case_a, offline_host,
                                                                                     reference_cache):
    app = ViewApp(case_loaded(case_a), IpsScreen, {"enrich": {"concurrency": 0, "rdap_url": "ftp://x"}})
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.query_one(IpTable).row_count == 69
        assert "enrichment not possible" in status(app) and "concurrency" in status(app)
        assert cell(app, IOFLOOD, "hosting") == "HOSTING"  # the cache is still read
        await pilot.press("R")
        await settle(app, pilot)
        assert "enrichment not possible" in status(app)


async def test_text_from_the_services_is_shown_inert(case_a, fake_services):
    abuse, rdap, config = fake_services
    answer = abuse.fixture("50.237.205.113")
    answer["data"] |= {"isp": "[b]Evil[/b] \x1b[2J", "domain": "[link=http://x]y[/link]"}
    abuse.script["50.237.205.113"] = [Reply(body=answer)]
    app = ViewApp(small(case_a), IpsScreen, config)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert cell(app, "50.237.205.113", "org") == "[b]Evil[/b] \\x1b[2J"
        detail = str(app.screen.query_one("#ip-detail").render())
        assert "[b]Evil[/b] \\x1b[2J" in detail and "[link=http://x]y[/link]" in detail


async def test_an_unreadable_cache_still_lists_the_ips(case_a, offline_host, tmp_path, monkeypatch):
    not_a_folder = tmp_path / "cache-file"
    not_a_folder.write_text("not a cache")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(not_a_folder))
    app = ViewApp(small(case_a), IpsScreen, enrich_offline=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert app.screen.query_one(IpTable).row_count == 5
        assert "enrichment not possible" in status(app) and "0 of 5 addresses enriched" in status(app)


async def test_a_filter_typed_in_one_burst_reaches_the_filter(case_a, offline_host, reference_cache):
    app = ViewApp(case_loaded(case_a), IpsScreen, enrich_offline=True)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        burst(app, "/20.232")  # digits would sort the table if they reached it
        await settle(app, pilot)
        assert app.screen.filter_text == "20.232" and "sort: events ↓" in header(app)
        assert app.screen.query_one(IpTable).current_ip == AZURE


async def test_an_air_gapped_host_ends_the_run_after_one_batch_and_says_why(case_a, offline_host, tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "enrich-cache"))
    monkeypatch.delenv("ABUSEIPDB_API_KEY", raising=False)
    config = {"enrich": {"timeout_seconds": 1.0, "retries": 0, "backoff_seconds": 0.01}}
    app = ViewApp(case_loaded(case_a), IpsScreen, config)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert not screen.running and screen.query_one("#ip-progress-row").has_class("hidden")
        assert screen.query_one("#ip-progress", ProgressBar).progress == BATCH  # not the other 61 addresses too
        assert "stopped: cannot resolve the server's name" in status(app) and "0 of 69 addresses enriched" in status(app)
        assert screen.query_one(IpTable).row_count == 69
