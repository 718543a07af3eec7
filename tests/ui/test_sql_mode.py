"""The SQL mode driven by keys: run the article's queries, errors with a caret, cancel, history, export, mark, open, palette."""

import json
import shutil
import time
from pathlib import Path

import polars as pl
import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, Label, Static, Tree

from tests.ui.conftest import CASE_NAME, run_sql, settle
from workbench.core.case import Case
from workbench.core.sql import example_queries
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.screens.sql import ExportPathPrompt, ParameterPrompt, SqlQueries, SqlScreen
from workbench.ui.widgets.sql_editor import SqlEditor
from workbench.ui.widgets.sql_results import ResultTable
from workbench.ui.widgets.sql_schema import SchemaPane

CSS = Path(__file__).resolve().parents[2] / "workbench" / "ui" / "workbench.tcss"
FULL_ACCESS = "1043ada7-a61b-46ec-8ae6-57b02ae09460"  # attacker's FullAccess on TargetUser's mailbox
#: The article's first query exactly as printed: typographic quotes, one closing quote lost in print.
ARTICLE_LOGINS = """SELECT creation_time, user_id, operation, client_ip
FROM xdr_identity_o365
WHERE lower(user_id) IN (‘CompromisedAdmin@example.com', ‘CompromisedAdmin@example.com)
AND operation IN ('UserLoggedIn', 'UserLoginFailed')"""
PERMISSIONS = "SELECT record_id, user_id, object_id FROM events WHERE operation = 'add-mailboxpermission'"
SLOW = "SELECT sum(a.range * b.range) AS s FROM range(100000000) a, range(100000000) b"


class Blank(Screen):
    """Another mode, to switch away from SQL."""


class SqlApp(App[None]):
    """The SQL mode as the shell wires it: `loaded` set, `show_events` recorded, the query provider in the palette."""

    CSS_PATH = CSS
    MODES = {"other": Blank, "sql": SqlScreen}
    DEFAULT_MODE = "sql"
    COMMANDS = App.COMMANDS | {SqlQueries}

    def __init__(self, loaded: CaseLoaded | None, mode: str = "sql") -> None:
        super().__init__()
        self.loaded, self.start_mode = loaded, mode
        self.shown: list[tuple[str, list[str]]] = []

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)

    def show_events(self, title: str, record_ids: list[str]) -> None:
        self.shown.append((title, record_ids))


def loaded_case(case_dir: Path, hits: pl.DataFrame | None = None) -> CaseLoaded:
    """What the shell's loader sends once this test's copy of case A is open."""
    case = Case.named(CASE_NAME, case_dir)
    report, reused = case.open([])
    return CaseLoaded(case, case.events(), report, case.rejects(), reused, hits)


@pytest.fixture
def loaded(case_dir) -> CaseLoaded:
    return loaded_case(case_dir)


def status(app) -> str:
    return str(app.screen.query_one("#sql-status", Static).render())


def header(app) -> str:
    return str(app.screen.query_one("#sql-header", Static).render())


async def test_an_article_query_runs_as_printed(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, ARTICLE_LOGINS)
        screen = app.screen
        frame = screen.result.frame
        assert frame.columns == ["creation_time", "user_id", "operation", "client_ip"]
        assert frame.height > 0 and set(frame["user_id"].str.to_lowercase()) == {"compromisedadmin@example.com"}
        table = screen.query_one(ResultTable)
        assert table.row_count == frame.height and app.focused is table
        text = status(app)
        assert text.startswith(f"{frame.height} rows") and "note:" in text and "Traceback" not in text
        assert "no record_id column" in text
        assert loaded.case.store.query_history()[0] == ARTICLE_LOGINS


async def test_the_mode_waits_for_the_case_and_offers_hunt_hits(case_dir):
    hits = pl.DataFrame({"hunt_id": ["mailbox-fullaccess"], "record_id": [FULL_ACCESS]})
    app = SqlApp(None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        assert "waiting for the case" in str(screen.query_one("#sql-header", Static).render())
        await pilot.press("ctrl+r")
        assert screen.result is None and not screen.running
        app.loaded = loaded_case(case_dir, hits)
        screen.post_message(app.loaded)
        await pilot.pause()
        assert "hunt_hits" in str(screen.query_one("#sql-header", Static).render())
        app.loaded = loaded_case(case_dir)  # loaded again while another mode shows: picked up on return
        await app.switch_mode("other")
        await app.switch_mode("sql")
        await pilot.pause()
        assert screen.loaded is app.loaded and "hunt_hits" not in str(screen.query_one("#sql-header", Static).render())
        app.loaded = loaded_case(case_dir, hits)
        screen.post_message(app.loaded)
        await pilot.pause()
        await run_sql(app, pilot, "SELECT e.operation FROM hunt_hits h JOIN events e USING (record_id)")
        assert screen.result.frame["operation"].to_list() == ["Add-MailboxPermission"]


async def test_malformed_sql_shows_the_position_and_moves_the_cursor_there(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, "SELECT user_id\nFROM events\nWHERE operation = = 'x'")
        text = status(app)
        assert text.startswith("error: line 3, column") and "Traceback" not in text
        caret_line = text.splitlines()[-1]
        assert caret_line.strip() == "^"
        line, column = int(text.split("line ")[1].split(",")[0]), int(text.split("column ")[1].split(":")[0])
        assert app.screen.query_one(SqlEditor).cursor_location == (line - 1, column - 1)
        assert app.focused is app.screen.query_one(SqlEditor)


async def test_escape_cancels_a_long_query(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        editor = app.screen.query_one(SqlEditor)
        editor.load(SLOW)
        await pilot.press("ctrl+r")
        await pilot.pause(0.3)
        assert app.screen.running and "running" in status(app)
        started = time.monotonic()
        await pilot.press("escape")
        await settle(app, pilot)
        assert time.monotonic() - started < 5
        assert not app.screen.running and status(app) == "query cancelled"
        await run_sql(app, pilot, "SELECT 42 AS answer")  # the engine is usable afterwards
        assert app.screen.result.frame["answer"].to_list() == [42]


async def test_history_steps_back_and_returns_to_the_draft(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, "SELECT 1 AS first")
        await run_sql(app, pilot, "SELECT 2 AS second")
        editor = app.screen.query_one(SqlEditor)
        editor.load("SELECT 3 -- draft")
        await pilot.press("ctrl+up")
        assert editor.text == "SELECT 2 AS second"
        await pilot.press("ctrl+up")
        assert editor.text == "SELECT 1 AS first"
        await pilot.press("ctrl+down", "ctrl+down")
        assert editor.text == "SELECT 3 -- draft"


async def test_result_rows_are_marked_and_opened_as_events(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, PERMISSIONS)
        ids = app.screen.result.frame["record_id"].to_list()
        assert FULL_ACCESS in ids and len(ids) == 3
        await pilot.press("m")
        assert loaded.case.store.marks() == set(ids)
        assert status(app).startswith("3 events marked")
        await pilot.press("end", "enter")
        assert app.shown[-1] == ("SQL result row 3", [ids[-1]])
        await pilot.press("v")
        assert app.shown[-1] == ("SQL result: 3 events", ids)


async def test_a_result_without_record_id_says_so_instead_of_marking(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, "SELECT operation, count(*) AS n FROM events GROUP BY ALL")
        await pilot.press("m")
        assert loaded.case.store.marks() == set()
        assert "no record_id column" in status(app)
        await pilot.press("enter")
        assert app.shown == []


@pytest.mark.parametrize("suffix", ["csv", "json", "jsonl"])
async def test_export_writes_the_result(loaded, tmp_path, suffix):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, PERMISSIONS)
        await pilot.press("e")
        prompt = app.screen
        assert isinstance(prompt, ExportPathPrompt)
        field = prompt.query_one(Input)
        assert field.value == f"{CASE_NAME}-sql.csv"
        field.value = str(tmp_path / "bad.txt")
        await pilot.press("enter")
        assert app.screen is prompt  # a suffix naming no format keeps the prompt open
        target = tmp_path / f"result.{suffix}"
        field.value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
        assert status(app) == f"exported 3 rows to {target}"
    if suffix == "csv":
        written = pl.read_csv(target)
    elif suffix == "json":
        written = pl.DataFrame(json.loads(target.read_text()))
    else:
        written = pl.read_ndjson(target)
    assert written.columns == ["record_id", "user_id", "object_id"]
    assert FULL_ACCESS in written["record_id"].to_list() and written.height == 3


async def test_save_query_then_the_palette_loads_it_from_another_mode(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        app.screen.query_one(SqlEditor).load(PERMISSIONS)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, TextPrompt)
        app.screen.query_one(Input).value = "fullaccess-grants"
        await pilot.press("enter")
        assert loaded.case.store.saved_queries() == {"fullaccess-grants": PERMISSIONS}
        sql_screen = app.screen
        sql_screen.query_one(SqlEditor).load("")
        await app.switch_mode("other")
        await pilot.press("ctrl+p")
        await pilot.press(*"fullaccess")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is sql_screen
        assert sql_screen.query_one(SqlEditor).text == PERMISSIONS


async def test_palette_lists_the_article_examples(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("ctrl+p")
        await pilot.press(*"article-mailbox")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await settle(app, pilot)
        editor = app.screen.query_one(SqlEditor)
        assert editor.text == example_queries()["article-mailbox-permissions"]
        await pilot.press("ctrl+r")
        await settle(app, pilot)
        frame = app.screen.result.frame
        assert frame.filter(pl.col("Access") == '"FullAccess"').height >= 1


async def test_log_text_in_results_is_inert(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, "SELECT chr(27) || '[31m[b]red[/b]' || chr(7) AS s, NULL AS nothing")
        table = app.screen.query_one(ResultTable)
        line = table.render_line(1).text
        assert "\\x1b[31m[b]red[/b]\\x07" in line and "\x1b" not in line and "∅" in line


async def test_ctrl_t_makes_text_comparison_exact(loaded):
    query = "SELECT count(*) AS n FROM events WHERE user_id = 'COMPROMISEDADMIN@EXAMPLE.COM'"
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await run_sql(app, pilot, query)
        assert app.screen.result.frame["n"].item() > 0
        await pilot.press("ctrl+t")
        assert "text: exact" in str(app.screen.query_one("#sql-header", Static).render())
        await run_sql(app, pilot, query)
        assert app.screen.result.frame["n"].item() == 0


async def test_the_header_keeps_to_one_line_at_80_columns(case_dir):
    long_name = "sample_logs-1d95181c-tenant-export"
    shutil.copytree(case_dir / CASE_NAME, case_dir / long_name)
    case = Case.named(long_name, case_dir)
    report, reused = case.open([])
    app = SqlApp(CaseLoaded(case, case.events(), report, case.rejects(), reused, pl.DataFrame()))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        assert header(app) == f"SQL │ {long_name} │ xdr_identity_o365 / events, hunt_hits │ text: ignore case"
        await pilot.resize_terminal(80, 24)  # the case name gives way
        await pilot.pause()
        assert header(app) == "SQL │ xdr_identity_o365 / events, hunt_hits │ text: ignore case"


# --- parameters, completion and the schema pane -------------------------------------------------------

async def answer(pilot, value: str) -> None:
    """Replace the parameter prompt's text with `value` and submit it."""
    prompt = pilot.app.screen
    assert isinstance(prompt, ParameterPrompt)
    prompt.query_one(Input).value = ""
    await pilot.press(*value, "enter")
    await pilot.pause()


async def test_parameters_are_asked_for_remembered_and_bound_as_values(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        editor = screen.query_one(SqlEditor)
        editor.load(example_queries()["ip-activity"])
        editor.focus()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.query_one(Label).render().plain == "Value of :ip"
        await answer(pilot, "104.161.20.102")
        await answer(pilot, "20 Feb")  # not a time: the prompt stays and says so
        assert isinstance(app.screen, ParameterPrompt) and "is not a date or time" in str(
            app.screen.query_one("#prompt-hint", Label).render())
        await answer(pilot, "2023-02-20T15:04:00Z")
        await settle(app, pilot)
        frame = screen.result.frame
        assert frame["action"].to_list()[:2] == ["Add-RecipientPermission", "One Outlook Web success"]
        assert status(app).startswith(f"{frame.height} rows · :ip = 104.161.20.102 · :since = 2023-02-20T15:04:00Z")
        editor.load("SELECT count(*) AS n, :ip AS ip FROM events WHERE user_key = :ip")
        editor.focus()
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert app.screen.query_one(Input).value == "104.161.20.102"  # the last value is offered
        await answer(pilot, "x' OR '1'='1")
        await settle(app, pilot)
        assert screen.result.frame.rows() == [(0, "x' OR '1'='1")]  # the injection attempt stayed a value
        await pilot.press("ctrl+r")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert status(app) == "not run: no value given for :ip"


async def test_tab_completes_table_and_column_names(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        editor = app.screen.query_one(SqlEditor)
        editor.focus()
        await pilot.press(*"SELECT mailbox_o", "tab", *" FROM xdr", "tab", *" WHERE user_", "tab")
        assert editor.text == "SELECT mailbox_owner_upn FROM xdr_identity_o365 WHERE user_id"
        assert status(app).startswith("7 names: [user_id], user_key, user_type")
        await pilot.press("tab")
        assert editor.text.endswith("WHERE user_key") and "[user_key]" in status(app)
        await pilot.press(*" = 'x' AND sig", "tab")  # outside FROM and JOIN, columns come before tables
        assert editor.text.endswith("AND sign_in_type")
        assert status(app).startswith("3 names: [sign_in_type], sign_ins, SigninLogs")
        await pilot.press("space", "tab")  # nothing to complete: tab moves the focus on, as before
        assert isinstance(app.focused, ResultTable)


async def test_the_schema_pane_shows_the_tables_and_writes_a_column_in_the_editor(loaded):
    app = SqlApp(loaded)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        pane = screen.query_one(SchemaPane)
        assert not pane.display
        await pilot.press("ctrl+o")
        tree = pane.query_one(Tree)
        assert pane.display and app.focused is tree
        tables = [str(node.label).split()[0] for node in tree.root.children]
        assert tables[0] == "events" and {"sign_ins", "directory_audits", "SigninLogs", "AuditLogs", "OfficeActivity",
                                          "conflicting_duplicates"} <= set(tables) and "xdr_identity_o365" not in tables
        events = tree.root.children[0]
        assert events.is_expanded and [node.data[1] for node in events.children][:3] == [
            "record_id", "creation_time", "operation"]
        await pilot.press("down", "down")
        meaning = str(pane.query_one("#schema-meaning", Static).render())
        assert meaning.startswith("events.creation_time TIMESTAMP WITH TIME ZONE\nwhen it happened")
        await pilot.press("enter")
        editor = screen.query_one(SqlEditor)
        assert editor.text == "creation_time" and app.focused is editor and pane.display
        await pilot.press("ctrl+o")
        assert app.focused is tree
        await pilot.press("ctrl+o")
        assert not pane.display and app.focused is editor
