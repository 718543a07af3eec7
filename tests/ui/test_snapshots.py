"""SVG snapshots of the events view, drill-down, help and export dialog at 80x24 and 160x48 (case A, fixed)."""

import pytest

from tests.ui.conftest import SIZES, settle, still
from tests.ui.test_flow import jump_to


def prepare(*keys: str):
    """A run_before that waits for the case, puts the cursor on the attacker's FullAccess grant, then presses keys."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await jump_to(app, pilot, "2023-02-20T15:03:44")
        await pilot.press(*keys)
        await still(app, pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_events_view(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=prepare())


@pytest.mark.parametrize("size", SIZES)
def test_drill_down(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=prepare("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=prepare("question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_export_dialog(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=prepare("m", "e"))
