"""SVG snapshots of the Entra sources in case A at 80x24 and 160x48: the events view filtered to the attacker's
sign-ins, the full-screen drill-down of one, and the account timeline with its sign-in lanes."""

import pytest

from tests.ui.conftest import SIZES, settle, still
from tests.ui.test_flow import apply_filter, jump_to, type_text


def attacker_sign_ins(*keys: str):
    """A run_before: the attacker's sign-ins, cursor on CompromisedAdmin's first one (2023-02-20), then `keys`."""

    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await apply_filter(pilot, "source:signin user:compromisedadmin")
        await jump_to(app, pilot, "2023-02-20T14:50")
        await pilot.press(*keys)
        await still(app, pilot)

    return run_before


async def _attacker_timeline(pilot) -> None:
    app = pilot.app
    await settle(app, pilot)
    await pilot.press("f7")
    await settle(app, pilot)
    await pilot.press("u")
    await type_text(pilot, "CompromisedAdmin@example.com")
    await pilot.press("enter")
    await settle(app, pilot)


@pytest.mark.parametrize("size", SIZES)
def test_attacker_sign_ins(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=attacker_sign_ins())


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_drill_down(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=attacker_sign_ins("enter"))


@pytest.mark.parametrize("size", SIZES)
def test_timeline_with_sign_in_lanes(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=_attacker_timeline)
