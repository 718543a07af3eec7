"""The TUI on a case another process is loading, and on a load with conflicting duplicates."""

import json
from contextlib import ExitStack

from rich.console import Console
from textual.widgets import Static

from tests.ui.conftest import settle
from workbench.core.case import Case
from workbench.core.case_lock import writer_lock
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp
from workbench.ui.screens.load_report import LoadReportScreen
from workbench.ui.widgets.event_table import EventTable


def write_records(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def record(record_id, operation, user="u@example.com"):
    return {"Id": record_id, "CreationTime": "2023-02-21T14:03:11", "Operation": operation, "UserId": user,
            "RecordType": 2, "Workload": "Exchange"}


def screen_text(screen) -> str:
    console = Console(width=400, record=True)
    for static in screen.query(Static):
        console.print(static.render())
    return console.export_text()


async def test_the_tui_says_it_waits_while_another_process_loads_the_case(tmp_path):
    source = write_records(tmp_path / "a.jsonl", [record("1", "Send"), record("2", "HardDelete")])
    root = tmp_path / "cases" / "shared"
    app = WorkbenchApp(CaseSet([(Case(root), [source])]))
    held = ExitStack()
    held.enter_context(writer_lock(root))  # another process holds the case while the TUI starts
    async with app.run_test(size=(100, 30)) as pilot:
        for _ in range(100):
            await pilot.pause(0.02)
            text = str(app.screen.query_one("#loading-text", Static).render())
            if "another workbench process" in text:
                break
        assert "being loaded by another workbench process" in text
        assert app.loaded is None  # nothing half-written is shown
        held.close()
        await settle(app, pilot)
        assert app.loaded is not None and app.screen.query_one(EventTable).row_count == 2


async def test_conflicting_duplicates_are_warned_about_and_listed_in_the_load_report(tmp_path):
    first = write_records(tmp_path / "a.jsonl", [record("1", "UserLoggedIn"), record("2", "Send")])
    second = write_records(tmp_path / "b.jsonl", [record("1", "HardDelete"), record("2", "Send")])
    app = WorkbenchApp(CaseSet([(Case(tmp_path / "cases" / "c"), [tmp_path])]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        warnings = [n.message for n in app._notifications if n.severity == "warning"]
        assert "1 conflicting duplicate: same Id as a loaded record, other content (both kept) — l shows them" in warnings
        assert app.loaded.report.totals()["duplicates"] == 1  # record 2: the same in both files
        await pilot.press("l")
        await pilot.pause()
        assert isinstance(app.screen, LoadReportScreen)
        text = screen_text(app.screen)
        assert "1 conflicting duplicates" in text
        assert f"record 1: loaded {first} row 1 (UserLoggedIn); conflicting {second} row 1 (HardDelete)" in text
        await pilot.press("escape", "f5")
        await pilot.pause()
        assert "conflicting_duplicates" in str(app.screen.query_one("#sql-header", Static).render())


async def test_the_load_report_says_which_file_could_not_be_read_and_why(tmp_path):
    write_records(tmp_path / "a.jsonl", [record("1", "Send")])
    (tmp_path / "contacts.csv").write_text("name,phone\nAlice,123\n")
    app = WorkbenchApp(CaseSet([(Case(tmp_path / "cases" / "c"), [tmp_path])]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert app.loaded.events.height == 1
        await pilot.press("l")
        await pilot.pause()
        text = screen_text(app.screen)
        assert "contacts.csv: not a Microsoft 365 audit log (first line is 'name,phone')" in text
        assert text.count("contacts.csv: not a Microsoft 365 audit log") == 1  # the path is not repeated


async def test_an_export_of_exactly_a_collectors_limit_is_flagged_as_maybe_cut_off(tmp_path):
    write_records(tmp_path / "search.jsonl", [record(str(n), "Send") for n in range(5_000)])
    app = WorkbenchApp(CaseSet([(Case(tmp_path / "cases" / "c"), [tmp_path / "search.jsonl"])]))
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        assert any("export cut off?" == note.title and "exactly 5,000 rows" in note.message
                   for note in app._notifications)
        await pilot.press("l")
        await pilot.pause()
        assert "search.jsonl: exactly 5,000 rows, Search-UnifiedAuditLog's -ResultSize limit" in screen_text(app.screen)
