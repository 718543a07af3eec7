"""Cached IP enrichment in the TUI on case A: the $ flag in the events view, the drill-down, the export columns,
the `ip_enrichment` table of the SQL mode, and the flags renewed when the IPs view finishes a run."""

import polars as pl
import pytest

from enrich import EnrichmentCache
from tests.ui.conftest import run_sql, settle
from tests.ui.ip_fakes import FIXTURES
from tests.ui.test_flow import apply_filter, status
from workbench.core.enrichment import cached_enrichment
from workbench.ui.messages import EnrichmentUpdated
from workbench.ui.screens.export_dialog import ExportDialog
from workbench.ui.widgets.event_table import EventTable

IOFLOOD = "104.161.20.102"


def import_reference(folder) -> None:
    with EnrichmentCache(folder) as cache:
        cache.import_results(FIXTURES / "reference-case-enrichment.json")


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    folder = tmp_path / "enrich-cache"
    folder.mkdir()
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(folder))
    return folder


HOSTING_EVENTS = ("SELECT e.client_ip, count(*) AS n, any_value(i.hosting) AS hosting FROM events e "
                  "JOIN ip_enrichment i ON e.client_ip = i.ip WHERE i.hosting GROUP BY 1 ORDER BY 1")


def first_row_line(app) -> str:
    table = app.screen.query_one(EventTable)
    return table.render_line(1).text


async def test_hosting_flag_drill_down_export_and_sql_from_the_cache(make_app, cache_dir, tmp_path):
    import_reference(cache_dir)
    app = make_app()
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert app.loaded.enrichment is not None
        await apply_filter(pilot, f"ip:{IOFLOOD}")
        await settle(app, pilot)
        assert screen.view.frame.height > 0 and set(screen.view.frame["client_ip"]) == {IOFLOOD}
        record_id = screen.current["record_id"]
        assert screen.view.flags(record_id, IOFLOOD) == "    $"
        assert first_row_line(app).startswith("    $")
        detail = screen.query_one("#detail-pane").text.plain
        assert "Client IP enrichment" in detail and "hosting: yes" in detail
        assert "ASN: 53755" in detail and "org: Input Output Flood LLC" in detail and "abuse score: 42" in detail
        assert "usage type: Data Center/Web Hosting/Transit" in detail and "country: US" in detail
        reasons = app.loaded.enrichment.filter(pl.col("ip") == IOFLOOD)["reasons"][0].to_list()
        assert reasons and all(f"reason: {reason}" in detail for reason in reasons)

        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        target = tmp_path / "out" / "ioflood.csv"
        dialog.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert "exported" in status(app)

        await pilot.press("f5")
        await settle(app, pilot)
        await run_sql(app, pilot, HOSTING_EVENTS)
        result = app.screen.result.frame
        assert IOFLOOD in result["client_ip"].to_list() and result["hosting"].all()

    exported = pl.read_csv(target)
    assert {"asn", "org", "hosting", "reasons"} <= set(exported.columns)
    assert exported.height == screen.view.frame.height
    assert exported["hosting"].all() and set(exported["client_ip"]) == {IOFLOOD}
    assert exported["reasons"][0] == "; ".join(reasons)


async def test_without_a_cache_no_flag_until_the_ips_view_announces_a_run(make_app, cache_dir):
    app = make_app(enrich_offline=True)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(app, pilot)
        events_screen = app.screen
        assert app.loaded.enrichment is None
        await apply_filter(pilot, f"ip:{IOFLOOD}")
        assert not first_row_line(app).startswith("    $")
        assert "Client IP enrichment" not in events_screen.query_one("#detail-pane").text.plain

        await pilot.press("f5")
        await settle(app, pilot)
        await run_sql(app, pilot, HOSTING_EVENTS)
        assert "ip_enrichment" in str(app.screen.query_one("#sql-status").render())  # no such table yet

        await pilot.press("f4")
        await settle(app, pilot)
        import_reference(cache_dir)
        app.screen.post_message(EnrichmentUpdated(cached_enrichment(app.loaded.events, app.config)))
        await settle(app, pilot)
        await pilot.press("f2")
        await settle(app, pilot)
        assert app.screen is events_screen
        assert first_row_line(app).startswith("    $")
        assert "hosting: yes" in events_screen.query_one("#detail-pane").text.plain

        await pilot.press("f5")  # the SQL mode queries the new results too
        await settle(app, pilot)
        assert "ip_enrichment" in str(app.screen.query_one("#sql-header").render())
        await run_sql(app, pilot, HOSTING_EVENTS)
        assert IOFLOOD in app.screen.result.frame["client_ip"].to_list()
