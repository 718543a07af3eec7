"""UI fixtures: case A loaded once per session, copied into each test's tmp dir; an app factory; a settle helper."""

import contextlib
import shutil
from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from workbench.core.case import Case

from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.sql_editor import SqlEditor

CASE_NAME = "case-a"


@pytest.fixture(scope="session")
def loaded_case_a(tmp_path_factory, sample_logs) -> Path:
    """A cases folder holding case A, loaded once from `sample_logs/case-a`."""
    root = tmp_path_factory.mktemp("ui-cases")
    with contextlib.chdir(sample_logs.parent):  # source files recorded relative: snapshots hold no checkout path
        Case.named(CASE_NAME, root).open([Path("sample_logs/case-a")])
    return root


@pytest.fixture
def case_dir(loaded_case_a, tmp_path) -> Path:
    """This test's own copy of the loaded case A (marks and notes start empty)."""
    target = tmp_path / "cases"
    shutil.copytree(loaded_case_a, target)
    return target


@pytest.fixture
def make_app(case_dir):
    """Build the app over this test's copy of case A (reopened, no paths)."""

    def make(**kwargs) -> WorkbenchApp:
        return WorkbenchApp(CaseSet([(Case.named(CASE_NAME, case_dir), [])]), **kwargs)

    return make


#: The two terminal sizes every snapshot is taken at.
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def pressing(*keys: str):
    """A snapshot's run_before that waits for the view's workers, then presses keys."""

    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)
        await pilot.press(*keys)
        await settle(pilot.app, pilot)

    return run_before


async def settle(app, pilot) -> None:
    """Wait for every worker (loading, record reads, exports) and the messages they post."""
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()


async def still(app, pilot) -> None:
    """Settle, then stop the inputs' cursors blinking, so that a snapshot does not depend on when it is taken."""
    await settle(app, pilot)
    for field in app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


async def run_sql(app, pilot, query: str) -> None:
    """Put `query` in the SQL mode's editor, run it and wait for the result."""
    editor = app.screen.query_one(SqlEditor)
    editor.load(query)
    editor.focus()
    await pilot.press("ctrl+r")
    await settle(app, pilot)


async def ask(pilot, key: str, value: str) -> None:
    """Press `key`, replace the prompt's text with `value`, submit, and wait for the view's workers."""
    await pilot.press(key)
    await pilot.pause()
    field = pilot.app.screen.query_one("#prompt-input")
    field.value = value
    await pilot.press("enter")
    await settle(pilot.app, pilot)


KEY_NAMES = {" ": "space", "/": "slash", ":": "colon", ".": "full_stop", "-": "minus", "\r": "enter"}


def burst(app, text: str) -> None:
    """Queue `text` as key presses all at once, as a fast typist or a paste over SSH delivers them."""
    for character in text:
        app.post_message(events.Key(KEY_NAMES.get(character, character), character))


def pane(app) -> str:
    """The text of the events view's drill-down pane."""
    return app.screen.query_one("#detail-pane").text.plain
