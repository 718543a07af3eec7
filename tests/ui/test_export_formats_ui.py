"""The export dialog writes Excel workbooks and Timesketch files of the marked or the filtered events."""

import json

import openpyxl

from tests.ui.conftest import settle
from tests.ui.test_flow import HARD_DELETE, apply_filter, status, type_text
from workbench.ui.screens.export_dialog import ExportDialog


async def test_marked_events_to_an_xlsx_for_the_client(make_app, tmp_path):
    app = make_app()
    target = tmp_path / "client.xlsx"
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, 'op:HardDelete "banking"')
        await pilot.press("m", "k", "n")
        await type_text(pilot, "banking reset mail destroyed")
        await pilot.press("enter")
        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog) and dialog.query_one("#scope-marked").value
        assert ".xlsx .timesketch.csv .timesketch.jsonl" in " ".join(str(label.render()) for label in dialog.query("Label"))
        dialog.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert f"exported 1 events to {target}" in status(app)
    book = openpyxl.load_workbook(target, read_only=True)
    assert book.sheetnames == ["events", "notes"]
    events = list(book["events"].iter_rows(values_only=True))
    assert [row[0] for row in events[1:]] == [HARD_DELETE]
    notes = list(book["notes"].iter_rows(values_only=True))
    assert notes[1][0] == HARD_DELETE and notes[1][-1] == "banking reset mail destroyed"


async def test_events_in_view_to_a_timesketch_import(make_app, tmp_path):
    app = make_app()
    target = tmp_path / "timeline.timesketch.jsonl"
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, "op:HardDelete")
        in_view = app.screen.view.frame.height
        await pilot.press("e")
        assert app.screen.query_one("#scope-view").value
        app.screen.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert f"exported {in_view:,} events to" in status(app)
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == in_view and all(row["operation"] == "HardDelete" for row in rows)
    assert all(row["message"].startswith(row["user_id"]) and row["datetime"].endswith("+00:00") for row in rows)
    assert {row["timestamp_desc"] for row in rows} == {"Event Recorded"}
