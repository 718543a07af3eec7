"""A responder opens huge and deeply nested events: the drill-down cuts long values and says how much is left,
the whole record pages, copies or goes to a file, and nothing nested too deep crashes."""

import json

import pytest

from tests.test_big_values import nested, parameters, record_line
from tests.ui.conftest import settle
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.detail import DetailScreen
from workbench.ui.screens.raw_record import RawRecordScreen
from workbench.ui.widgets.text_pager import TextPager

BIG = 2_000_000
LINES = [
    record_line(1, Parameters=parameters(("Identity", '"small"'))),
    record_line(2, Parameters=parameters(("Identity", '"big"'), ("Body", json.dumps("b" * BIG))),
                ObjectId=json.dumps("o" * BIG)),
    record_line(3, Parameters=parameters(("Identity", '"deep"'), ("Nest", nested(1_000)))),
    record_line(4, Parameters=parameters(("Nest", nested(5_000))),
                AffectedItems=f'[{{"Subject": "deep mail", "Attachments": {nested(2_000)}}}]'),
    record_line(5, Parameters=parameters(("Name", json.dumps("rule\u202egpj.exe \x9b2J" + "x" * 100)))),
]


@pytest.fixture
def app(tmp_path) -> WorkbenchApp:
    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    case = Case.named("big-values", tmp_path / "cases")
    return WorkbenchApp(CaseSet([(case, [source])]))


async def open_row(app, pilot, row: int) -> None:
    """Put the cursor on `row` and wait for its record to be read into the drill-down."""
    await settle(app, pilot)
    await pilot.press(*["down"] * row)
    await pilot.pause(0.1)
    await settle(app, pilot)
    assert app.screen.current["record_id"] == f"rec-{row + 1}"


def pane(app) -> str:
    return app.screen.query_one("#detail-pane").text.plain


async def test_a_huge_value_is_cut_with_its_size_and_the_table_row_fits(app):
    async with app.run_test(size=(160, 40)) as pilot:
        await open_row(app, pilot, 1)
        text = pane(app)
        assert "Record of 4.0 MB: long values are cut" in text
        assert "Body -> " + "b" * 2_000 + " … 2.0 MB more" in text  # 2,000 shown, 1,998,000 bytes left
        assert "object: " + "o" * 2_000 + " … 2.0 MB more" in text
        assert len(text) < 20_000
        table = app.screen.query_one("#events-table")
        row = table.render_line(2).text  # header, rec-1, rec-2
        # a 2 MB Parameters is not decoded for a cell: the object id shows, cut to the column
        assert len(row) == table.scrollable_content_region.width and row.rstrip().endswith("ooooo…")
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        assert "record of 4.0 MB, long values cut: r shows it whole" in str(detail.query_one("#detail-title").render())
        assert "… 2.0 MB more" in detail.text.plain


async def test_the_whole_record_pages_without_a_widget_per_line(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_row(app, pilot, 1)
        record = app.screen.current_audit.text
        await pilot.press("enter", "r")
        await settle(app, pilot)
        raw = app.screen
        assert isinstance(raw, RawRecordScreen)
        assert "Whole record · 4.0 MB · pretty-printed JSON" in str(raw.query_one("#raw-title").render())
        pager = raw.query_one(TextPager)
        width = pager.scrollable_content_region.width
        assert pager.chars == width and pager.line_count > 2 * BIG // width  # both values, wrapped to the width
        assert json.loads(pager.text) == json.loads(record)  # nothing cut
        first = pager.render_line(0).text
        await pilot.press("pagedown")
        assert pager.scroll_y == pager.scrollable_content_region.height - 1
        assert pager.render_line(0).text != first
        await pilot.press("end")
        assert pager.scroll_y == pager.max_scroll_y > 10_000
        lines = pager.line_count
        first = lines - pager.scrollable_content_region.height + 1
        assert f"lines {first:,}-{lines:,} of {lines:,}" in str(raw.query_one("#raw-title").render())
        last_lines = [pager.render_line(y).text.strip() for y in range(pager.scrollable_content_region.height)]
        assert "}" in last_lines
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)


async def test_a_record_too_large_for_the_clipboard_is_written_to_a_file(app, tmp_path):
    async with app.run_test(size=(120, 30)) as pilot:
        await open_row(app, pilot, 1)
        record = app.screen.current_audit.text
        await pilot.press("c")
        assert app.clipboard == ""
        assert "too large for the clipboard" in str(app.screen.query_one("#status").render())
        await pilot.press("enter", "c")
        assert app.clipboard == ""
        await pilot.press("w")
        await pilot.pause()
        field = app.screen.query_one("#prompt-input")
        assert field.value == "record-rec-2.json"
        target = tmp_path / "saved" / "rec-2.json"
        field.value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert target.read_text(encoding="utf-8") == record
        assert any(f"wrote the record (4.0 MB) to {target}" in n.message for n in app._notifications)


async def test_a_small_record_is_still_copied(app):
    async with app.run_test(size=(120, 30)) as pilot:
        await open_row(app, pilot, 0)
        await pilot.press("c")
        assert json.loads(app.clipboard)["Id"] == "rec-1"


@pytest.mark.parametrize(("row", "levels"), [(2, "939"), (3, "4,939")])
async def test_deeply_nested_events_open_and_page(app, row, levels):
    async with app.run_test(size=(120, 30)) as pilot:
        await open_row(app, pilot, row)
        assert f"Nest -> … nested {levels} levels deeper" in pane(app)  # counted from the record
        events = app.screen
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("r")
        await settle(app, pilot)
        raw = app.screen
        assert isinstance(raw, RawRecordScreen)
        assert "as stored" in str(raw.query_one("#raw-title").render())  # too deep to re-indent: shown as it is
        assert raw.query_one(TextPager).text == events.current_audit.text
        await pilot.press("escape", "escape")
        assert app.screen is events and app.is_running


async def test_the_whole_record_is_shown_inert(app):
    async with app.run_test(size=(100, 30)) as pilot:
        await open_row(app, pilot, 4)
        await pilot.press("enter", "r")
        await settle(app, pilot)
        pager = app.screen.query_one(TextPager)
        # JSON escapes C0 controls itself; a bidi override and a C1 CSI come out of the re-indenting raw
        assert "rule\\u202egpj.exe \\x9b2Jxxx" in pager.text
        shown = "".join(pager.render_line(y).text for y in range(pager.scrollable_content_region.height))
        assert "\u202e" not in pager.text + shown and "\x9b" not in pager.text + shown


async def test_enter_and_copy_before_the_record_is_read_wait_for_it(app):
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("c")  # at once, before the drill-down has read the record
        await settle(app, pilot)
        assert json.loads(app.clipboard)["Id"] == "rec-1"
        await pilot.press("down", "enter")  # opens once the record is read, off the UI thread
        await settle(app, pilot)
        assert isinstance(app.screen, DetailScreen) and app.screen.record.record_id == "rec-2"
        assert "record of 4.0 MB, long values cut" in str(app.screen.query_one("#detail-title").render())
