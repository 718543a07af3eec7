"""The analyst's flow in the TUI, driven by keys: load, filter, pivot, mark, note, tag, export, reopen."""

import json
import shutil

import polars as pl

from tests.ui.conftest import CASE_NAME, burst, settle
from workbench.ui.screens.detail import DetailScreen
from workbench.ui.screens.export_dialog import ExportDialog
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.load_report import LoadReportScreen
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.widgets.event_table import EventTable
from workbench.ui.widgets.filter_bar import FilterBar

HARD_DELETE = "e5034326-5b97-4861-83ec-16d67b47012c"  # 'Reset your Online Banking password' (sample_logs/README.md)
FULL_ACCESS = "1043ada7-a61b-46ec-8ae6-57b02ae09460"  # attacker's FullAccess on TargetUser's mailbox
ATTACKER = "compromisedadmin@example.com"


async def type_text(pilot, text: str) -> None:
    await pilot.press(*[{" ": "space", '"': "quotation_mark"}.get(ch, ch) for ch in text])


async def apply_filter(pilot, text: str) -> None:
    await pilot.press("slash", "end", "ctrl+u")  # the bar opens holding the current filter
    await type_text(pilot, text)
    await pilot.press("enter")
    await pilot.pause()


async def jump_to(app, pilot, moment: str) -> None:
    await pilot.press("g")
    await type_text(pilot, moment)
    await pilot.press("enter")
    await settle(app, pilot)


def header(app) -> str:
    return str(app.screen.query_one("#header").render())


def status(app) -> str:
    return str(app.screen.query_one("#status").render())


async def test_load_filter_pivot_mark_note_export_reopen(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        total = screen.view.events.height
        assert total > 4000 and screen.view.frame.height == total
        assert "case-a" in header(app) and f"{total:,} / {total:,} events" in header(app)

        await apply_filter(pilot, "op:HardDelete,Add-MailboxPermission user:admin")
        frame = screen.view.frame
        assert set(frame["operation"]) == {"HardDelete", "Add-MailboxPermission"}
        assert {HARD_DELETE, FULL_ACCESS} <= set(frame["record_id"])
        assert "filter: op:HardDelete,Add-MailboxPermission user:admin" in header(app)
        assert isinstance(app.focused, EventTable)

        await jump_to(app, pilot, "2023-02-20T15:03:44")
        assert screen.current["record_id"] == FULL_ACCESS
        await pilot.press("m")  # marks and moves down, to the HardDelete
        assert screen.current["record_id"] == HARD_DELETE
        await pilot.press("u")  # every event of the attacker account, filter empty within the pivot
        assert set(screen.view.frame["user_key"]) == {ATTACKER}
        assert screen.view.frame.height > frame.height
        assert "pivot: user=CompromisedAdmin@example.com" in header(app)
        assert screen.current["record_id"] == HARD_DELETE  # the cursor stays on the event pivoted from

        await jump_to(app, pilot, "2023-02-22 16:25:34")
        assert screen.current["record_id"] == HARD_DELETE
        assert "Reset your Online Banking password" in screen.query_one("#detail-pane").text.plain
        await pilot.press("m", "k", "n")
        assert isinstance(app.screen, TextPrompt)
        await type_text(pilot, "banking reset mail destroyed")
        await pilot.press("enter", "t")
        await type_text(pilot, "evidence, T1070.008")
        await pilot.press("enter")
        await pilot.pause()
        assert screen.view.marks == {HARD_DELETE, FULL_ACCESS}
        assert screen.view.flags(HARD_DELETE) == "*NT"

        await pilot.press("escape")  # back from the pivot to the filtered view
        assert screen.view.frame.height == frame.height and not screen.view.pivots
        assert "filter: op:HardDelete" in header(app)

        await pilot.press("e")
        dialog = app.screen
        assert isinstance(dialog, ExportDialog)
        assert str(dialog.query_one("#export-path").value) == "case-a-marked.csv"
        target = tmp_path / "out" / "marked.csv"
        dialog.query_one("#export-path").value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert f"exported 2 events to {target}" in status(app)

    exported = pl.read_csv(target)
    assert exported["record_id"].to_list() == [FULL_ACCESS, HARD_DELETE]
    row = exported.row(1, named=True)
    assert row["note"] == "banking reset mail destroyed" and row["tags"] == "T1070.008, evidence"
    assert row["marked"] is True and row["summary"] == "Reset your Online Banking password"
    assert json.loads(row["audit_data"])["Id"] == HARD_DELETE
    assert "AccessRights=FullAccess" in exported.row(0, named=True)["parameters_text"]

    reopened = make_app()
    async with reopened.run_test(size=(120, 40)) as pilot:
        await settle(reopened, pilot)
        view = reopened.screen.view
        assert view.marks == {HARD_DELETE, FULL_ACCESS}
        assert view.notes == {HARD_DELETE: "banking reset mail destroyed"}
        await pilot.press("asterisk")
        assert view.frame["record_id"].to_list() == [FULL_ACCESS, HARD_DELETE]
        assert "marked only" in header(reopened)
        await pilot.press("up", "slash", "up")  # the filter history of the case is back too
        assert reopened.screen.query_one(FilterBar).input.value == "op:HardDelete,Add-MailboxPermission user:admin"


async def test_export_all_in_view_as_json_lines(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, 'op:HardDelete "banking"')
        await pilot.press("e")
        dialog = app.screen
        assert dialog.query_one("#scope-view").value  # nothing marked: all in view is the default
        dialog.query_one("#export-path").value = str(tmp_path / "view.jsonl")
        await pilot.press("enter")
        await settle(app, pilot)
    lines = (tmp_path / "view.jsonl").read_text().splitlines()
    assert [json.loads(line)["record_id"] for line in lines] == [HARD_DELETE]


async def test_export_dialog_refuses_an_unknown_suffix(make_app, tmp_path):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        app.screen.query_one("#export-path").value = str(tmp_path / "out.xls")
        await pilot.press("enter")
        assert isinstance(app.screen, ExportDialog)
        assert "export to .csv, .json, .jsonl, .xlsx" in str(app.screen.query_one("#export-hint").render())
        await pilot.press("escape")
        assert not isinstance(app.screen, ExportDialog)
    assert not (tmp_path / "out.xls").exists()


async def test_bad_filter_is_explained_and_changes_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        total = app.screen.view.frame.height
        await apply_filter(pilot, "colour:red after:yesterday")
        problem = str(app.screen.query_one("#filter-problem").render())
        assert "unknown field 'colour'" in problem and "after: 'yesterday' is not a time" in problem
        assert app.screen.view.frame.height == total and app.screen.view.filter_text == ""
        await pilot.press("escape")
        assert app.screen.query_one(FilterBar).has_class("hidden")


async def test_pivots_stack_and_escape_pops(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        await jump_to(app, pilot, "2023-02-22 16:25:34")
        row = screen.current
        await pilot.press("i")
        assert set(screen.view.frame["client_ip"]) == {row["client_ip"]}
        await pilot.press("s")
        assert set(screen.view.frame["session_id"]) == {row["session_id"]}
        await pilot.press("o")
        assert set(screen.view.frame["operation"]) == {"HardDelete"}
        await pilot.press("w")
        times = screen.view.frame["creation_time"]
        assert (times.max() - times.min()).total_seconds() <= 30 * 60
        assert len(screen.view.pivots) == 4 and "±15min of 2023-02-22 16:25:34" in header(app)
        for expected in (3, 2, 1, 0):
            await pilot.press("escape")
            assert len(screen.view.pivots) == expected
        assert screen.view.frame.height == screen.view.events.height


async def test_sort_marks_and_marked_only(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        view = app.screen.view
        await pilot.press("3")
        assert view.sort == ("operation", False) and view.frame["operation"].is_sorted()
        await pilot.press("3")
        assert view.frame["operation"].is_sorted(descending=True)
        await pilot.press("1")  # time, the default order, again
        assert view.sort is None and view.frame["creation_time"].is_sorted()
        await apply_filter(pilot, "op:SoftDelete")
        await pilot.press("M")
        assert view.marks == set(view.frame["record_id"]) and len(view.marks) > 1
        assert app.screen.view.store.marks() == view.marks  # committed at once
        await pilot.press("escape", "asterisk")
        assert set(view.frame["record_id"]) == view.marks
        await pilot.press("M")  # all in view are marked: the key unmarks them
        assert view.marks == set() and view.frame.height == 0
        await pilot.press("escape")
        assert not view.marked_only


async def test_detail_full_screen_search_and_copy(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await jump_to(app, pilot, "2023-02-20T15:03:44")
        pane = app.screen.query_one("#detail-pane").text.plain
        assert "Parameters" in pane and "AccessRights -> FullAccess" in pane and '"Id": "' + FULL_ACCESS in pane
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await pilot.press("slash")
        await type_text(pilot, "targetuser")
        await pilot.press("enter")
        assert len(detail.matches) >= 2
        assert "matches for targetuser" in str(detail.query_one("#detail-title").render())
        await pilot.press("n", "c")
        assert json.loads(app.clipboard)["Id"] == FULL_ACCESS
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
        await pilot.press("c")
        assert json.loads(app.clipboard)["Id"] == FULL_ACCESS
        await pilot.press("d")
        assert app.screen.query_one("#detail-pane").has_class("hidden")


async def test_help_load_report_and_palette_list_the_keys(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        described = dict((description, key) for key, description in app.screen.bindings)
        assert {"Mark", "Note", "Tags", "Export", "Same user", "Jump to time", "Mark all in view"} <= set(described)
        await pilot.press("escape", "l")
        assert isinstance(app.screen, LoadReportScreen)
        await pilot.press("escape")
        commands = {command.title for command in app.get_system_commands(app.screen)}
        assert {"Mark", "Filter", "Export", "Same session", "Load report"} <= commands


def test_every_binding_has_an_id():
    from workbench.ui.app import WorkbenchApp
    from workbench.ui.screens.events import EventsScreen

    for owner in (WorkbenchApp, EventsScreen, EventTable, FilterBar, DetailScreen, ExportDialog, HelpScreen,
                  LoadReportScreen, TextPrompt):
        for binding in owner.BINDINGS:
            assert binding.id, f"{owner.__name__}: {binding.key} has no id"


async def test_hunt_hits_flag_the_table_fill_the_drill_down_and_the_export(make_app, tmp_path):
    from functools import partial

    from workbench.core.hunting import hunt_case_apart

    app = make_app(hits_provider=partial(hunt_case_apart, config={}))  # as `workbench` opens a case: hunts apart
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        view = app.screen.view
        hit_ids = set(view.hits["record_id"])
        assert hit_ids and hit_ids <= set(view.events["record_id"])
        await apply_filter(pilot, f"id:{view.hits['record_id'][0]}")
        await settle(app, pilot)
        assert view.flags(view.hits["record_id"][0]) == "   H"  # flags keep their columns: * N T H
        detail = app.screen.query_one("#detail-pane").text.plain
        assert "Hunt hits" in detail and "why: " in detail  # what matched, under the hunt
        assert "tenant: example.com (2ab04f98-6e9a-4dc2-8cab-317b054bad8d)" in detail  # named by its domain
        await pilot.press("e")
        app.screen.query_one("#export-path").value = str(tmp_path / "hits.json")
        await pilot.press("enter")
        await settle(app, pilot)
    exported = json.loads((tmp_path / "hits.json").read_text())
    assert exported[0]["hunt_ids"] == "; ".join(view.hits.filter(pl.col("record_id") == exported[0]["record_id"])["hunt_id"].unique(maintain_order=True))


async def test_a_failing_hunt_run_leaves_the_events_usable(make_app):
    def broken(case, enrichment=None):
        raise RuntimeError("bad hunt file")

    app = make_app(hits_provider=broken)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.view.hits is None and app.screen.view.events.height > 4000


def test_headless_commands_never_import_textual():
    import subprocess
    import sys

    code = ("import sys, workbench.cli, workbench.commands.open, workbench.commands.export, workbench.core.export, "
            "workbench.core.filter, workbench.core.decode; sys.exit('textual' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


async def test_other_views_open_their_events_as_a_pivot(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        app.show_events("T1098.002 Account Manipulation", [FULL_ACCESS, HARD_DELETE])
        await pilot.pause()
        view = app.screen.view
        assert view.frame["record_id"].to_list() == [FULL_ACCESS, HARD_DELETE]
        assert "pivot: T1098.002 Account Manipulation" in header(app)
        await pilot.press("escape")
        assert view.frame.height == view.events.height


async def test_keys_work_while_loading_and_rejects_are_one_key_away(tmp_path, sample_logs):
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet
    from workbench.ui.app import WorkbenchApp

    app = WorkbenchApp(CaseSet([(Case.named("broken", tmp_path / "cases"), [sample_logs / "broken", sample_logs / "case-a"])]))
    async with app.run_test(size=(80, 24)) as pilot:
        assert app.screen.query_one("#loading-progress") is not None
        await pilot.press("question_mark")  # answered by the UI thread while the loader works
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen.query_one("#loading").has_class("hidden")
        assert "rows rejected" in status(app) and "l: load report" in status(app)
        await pilot.press("l")
        report = app.screen
        assert isinstance(report, LoadReportScreen)
        problems = "\n".join(str(widget.render()) for widget in report.query("Static"))
        assert "broken_rows.csv:3" in problems and "rejected" in problems


async def test_header_keeps_to_one_line_at_80_columns(case_dir):
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet
    from workbench.ui.app import WorkbenchApp

    shutil.copytree(case_dir / CASE_NAME, case_dir / "sample_logs-1d95181c")  # the name a PATH gives a case
    app = WorkbenchApp(CaseSet([(Case.named("sample_logs-1d95181c", case_dir), [])]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        total = app.screen.view.events.height
        narrow = header(app)
        assert narrow == f"sample_logs-1d95181c │ {total:,}/{total:,} │ 2022-12-01 – 2023-02-24"
        assert app.screen.query_one("#header").size.height == 1
        await pilot.resize_terminal(160, 48)
        await pilot.pause()
        assert f"{total:,} / {total:,} events │ 2022-12-01 01:46 – " in header(app) and header(app).endswith(" UTC")


async def test_lines_typed_in_one_burst_reach_the_prompt_or_bar_they_open(make_app):
    """Over SSH "/op:HardDelete⏎" can arrive at once: no key after "/" (or n, g) may act as a table command."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        burst(app, "g2023-02-20 15:03:44\r")
        await settle(app, pilot)
        assert screen.current["record_id"] == FULL_ACCESS and not screen.view.pivots
        burst(app, "ngrant to the attacker\r")
        await settle(app, pilot)
        assert screen.view.notes[FULL_ACCESS] == "grant to the attacker" and not screen.view.pivots

        burst(app, "/op:HardDelete\r")
        await settle(app, pilot)
        assert screen.view.filter_text == "op:HardDelete" and not screen.view.pivots
        assert set(screen.view.frame["operation"]) == {"HardDelete"}
        await pilot.press("slash", "end", "space", "slash")  # in the bar "/" is text
        assert screen.query_one(FilterBar).input.value == "op:HardDelete /"
