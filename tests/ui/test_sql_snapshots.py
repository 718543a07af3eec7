"""SVG snapshots of the SQL mode at 80x24 and 160x48 (case A): an article query's rows, and a positioned error."""

import pytest

from tests.ui.conftest import SIZES, settle
from tests.ui.test_sql_mode import SqlApp, loaded_case
from workbench.ui.widgets.sql_editor import SqlEditor

#: The article's permissions query over case-a's two compromised admin accounts.
PERMISSIONS = """-- Additional Email Delegate Permissions (T1098.002): mailbox and recipient permissions (case-a, example.com: the article's own names)
SELECT creation_time, user_id, operation, object_id,
JSON_EXTRACT(parameters, '$[2].Value') AS Access,
JSON_EXTRACT(parameters, '$[2].Name') AS Name,
JSON_EXTRACT(parameters, '$[1].Value') AS Source, parameters
FROM xdr_identity_o365
WHERE lower(user_id) IN ('compromisedadmin@example.com', 'admin@example.onmicrosoft.com')
AND operation LIKE '%Permission%'
"""


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
    assert snap_compare(SqlApp(loaded_case(case_dir)), terminal_size=size, run_before=run_query(PERMISSIONS))


@pytest.mark.parametrize("size", SIZES)
def test_positioned_error(snap_compare, case_dir, size):
    query = "SELECT user_id, operation\nFROM events\nWHERE operation IN ('Set-Mailbox', 'New-InboxRule'"
    assert snap_compare(SqlApp(loaded_case(case_dir)), terminal_size=size, run_before=run_query(query))


@pytest.mark.parametrize("size", SIZES)
def test_schema_pane(snap_compare, case_dir, size):
    """The tables beside the editor, the events table open, creation_time under the cursor and explained."""

    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        pilot.app.screen.query_one(SqlEditor).cursor_blink = False
        await pilot.press("ctrl+o", "down", "down")
        await settle(pilot.app, pilot)

    assert snap_compare(SqlApp(loaded_case(case_dir)), terminal_size=size, run_before=run_before)
