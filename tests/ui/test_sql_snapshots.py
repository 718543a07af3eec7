"""SVG snapshots of the SQL mode at 80x24 and 160x48 (case A): an article query's rows, and a positioned error."""

import pytest

from tests.ui.conftest import SIZES, settle
from tests.ui.test_sql_mode import SqlApp, loaded_case
from workbench.core.sql import example_queries
from workbench.ui.widgets.sql_editor import SqlEditor


def run_query(query: str):
    """A run_before that puts `query` in the editor, runs it and waits for the result."""

    async def run_before(pilot) -> None:
        app = pilot.app
        editor = app.screen.query_one(SqlEditor)
        editor.cursor_blink = False
        editor.load(query)
        await pilot.press("ctrl+r")
        await settle(app, pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_article_query_result(snap_compare, case_dir, size):
    query = example_queries()["article-a-mailbox-permissions"]
    assert snap_compare(SqlApp(loaded_case(case_dir)), terminal_size=size, run_before=run_query(query))


@pytest.mark.parametrize("size", SIZES)
def test_positioned_error(snap_compare, case_dir, size):
    query = "SELECT user_id, operation\nFROM events\nWHERE operation IN ('Set-Mailbox', 'New-InboxRule'"
    assert snap_compare(SqlApp(loaded_case(case_dir)), terminal_size=size, run_before=run_query(query))
