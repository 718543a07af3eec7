"""The TUI over one case of the audit log, Entra sign-ins and directory audits (the documentation-written
corpus), as a user drives it: the source filter, the drill-down of a sign-in, pivots across sources, the
timeline's lanes."""

from pathlib import Path

import polars as pl
import pytest

from tests.ui.conftest import pane, settle
from tests.ui.test_flow import apply_filter
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.event_table import EventTable

CORPUS = Path(__file__).parent.parent / "entra_corpus"


@pytest.fixture
def corpus_app(tmp_path):
    def make() -> WorkbenchApp:
        files = [path for path in sorted(CORPUS.iterdir()) if path.suffix in (".json", ".jsonl", ".csv")
                 and path.name != "mixed_shapes.jsonl"]
        return WorkbenchApp(CaseSet([(Case.named("corpus", tmp_path), files)]))
    return make


async def test_source_filter_drill_down_and_pivot_across_sources(corpus_app):
    app = corpus_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        view = app.screen.view
        assert set(view.events["source"]) == {"ual", "signin", "audit"}

        await apply_filter(pilot, "source:signin user:adele.vance status:failure")
        await settle(app, pilot)
        assert view.frame.height and set(view.frame["source"]) == {"signin"}
        assert set(view.frame["result_status"]) == {"failure"}
        shown = pane(app)
        for part in ("Sign-in", "status: ", "failure:", "Conditional Access", "Device", "Location", "Risk", "Record"):
            assert part in shown

        await pilot.press("u")  # every row of this account, whatever its log
        await settle(app, pilot)
        assert {"ual", "signin", "audit"} <= set(view.frame["source"])
        assert set(view.frame["user_key"]) == {"adele.vance@example.org"}

        await pilot.press("escape")
        await apply_filter(pilot, "source:audit op:\"Update user\"")
        await settle(app, pilot)
        assert view.frame.height == 2  # the Graph page's and the Sentinel export's
        assert "Modified properties" in pane(app) and " -> " in pane(app)


async def test_timeline_shows_sign_in_lanes_and_failures_before_a_success(corpus_app):
    app = corpus_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        await pilot.press("u")
        await pilot.press(*"adele.vance@example.org", "enter")
        await settle(app, pilot)
        timeline = app.screen.timeline
        assert timeline.subject == "adele.vance@example.org"
        assert {"sign-ins", "audit log", "directory audits"} <= set(timeline.lanes)
        strip = str(app.screen.query_one("#day-strip").render())
        assert "non-interactive" in strip and "directory audits" in strip
        facts = str(app.screen.query_one("#timeline-facts").render())
        assert "sign-in failures before a success: adele.vance@example.org" in facts
        assert "first-seen asns" in facts and "first-seen countries" in facts


async def test_the_table_shows_each_rows_log_and_sorts_by_it(corpus_app):
    app = corpus_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(EventTable)
        header = table.render_line(0).text
        assert "src" in header and "8:src" in header
        await pilot.press("8")
        await settle(app, pilot)
        sources = app.screen.view.frame["source"]
        assert sources.to_list() == sorted(sources.to_list()) or sources.to_list() == sorted(sources.to_list(), reverse=True)
        rows = [table.render_line(y).text for y in range(1, 5)]
        assert any(" audit " in row or " signin " in row or " ual " in row for row in rows)
        assert pl.Series(sources).n_unique() == 3


async def test_f7_shows_the_timeline_of_the_account_under_the_cursor(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, "user:targetuser@example.com source:signin")
        await settle(app, pilot)
        assert app.screen.current["user_key"] == "targetuser@example.com"
        await pilot.press("f7")
        await settle(app, pilot)
        assert app.screen.timeline.subject == "targetuser@example.com"  # not the account of the most hunt hits
        await pilot.press("f2")
        await apply_filter(pilot, "user:compromisedadmin@example.com")
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert app.screen.timeline.subject == "compromisedadmin@example.com"
        facts = str(app.screen.query_one("#timeline-facts").render())
        assert "first own activity 2023-02-20 14:54, 77 days later" in facts
        assert "quiet: 76 days without events between 2022-12-05 and 2023-02-20" in facts
