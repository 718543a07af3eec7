"""The events view paints the case's first rows as soon as the case is open, before the hunts have run and the
whole frame is read; no key acts on those rows until it is."""

import threading

import polars as pl
import pytest

from tests.ui.conftest import SIZES, settle
from workbench.ui.widgets.event_table import EventTable


def app_whose_hunts_wait(make_app, release: threading.Event):
    """The app over case A with hunts that run until `release` is set (or the app closes)."""

    def hunts_still_running(case, enrichment=None):
        while not release.wait(0.02) and app.is_running:
            pass
        return None

    app = make_app(hits_provider=hunts_still_running)
    return app


async def test_the_first_rows_show_while_the_hunts_run_and_keys_wait_for_the_events(make_app):
    release = threading.Event()
    app = app_whose_hunts_wait(make_app, release)
    async with app.run_test(size=(120, 30)) as pilot:
        screen, table = app.screen, app.screen.query_one(EventTable)
        for _ in range(1000):  # the hunts wait for `release`, so whatever paints here paints before them
            if table.view is not None and table.render_line(1).text.strip():
                break
            await pilot.pause(0.01)
        total = app.case.activity_scan().select(pl.len()).collect().item()
        assert screen.view is None and app.loaded is None
        assert f"case-a │ running the hunts, then reading {total:,} events…" in str(screen.query_one("#header").render())
        painted = table.view.events
        assert 0 < painted.height < total
        assert table.render_line(1).text.strip() and screen.query_one("#body").display
        await pilot.press("m", "slash")  # nothing to act on yet
        await pilot.pause(0.1)
        assert not app.case.store.marks() and not screen.query_one("#filter-bar").display
        assert "Reading the events" in screen.query_one("#detail-pane").text.plain

        release.set()
        await settle(app, pilot)
        assert screen.view is not None and table.view is screen.view and screen.view.events.height == total
        assert screen.view.events.head(painted.height)["record_id"].equals(painted["record_id"])
        assert f"/ {total:,} events" in str(screen.query_one("#header").render())
        detail = screen.query_one("#detail-pane").text.plain
        assert "Reading the events" not in detail and painted["record_id"][0] in detail  # the first event's drill-down
        await pilot.press("m")
        await settle(app, pilot)
        assert app.case.store.marks() == {painted["record_id"][0]}


@pytest.mark.parametrize("size", SIZES)
def test_first_rows_snapshot(snap_compare, make_app, size):
    async def first_rows_shown(pilot) -> None:
        table = pilot.app.screen.query_one(EventTable)
        while table.view is None or not table.render_line(1).text.strip():
            await pilot.pause(0.01)
        await pilot.pause(0.2)  # the drill-down pane's delay

    assert snap_compare(app_whose_hunts_wait(make_app, threading.Event()), terminal_size=size,
                        run_before=first_rows_shown)
