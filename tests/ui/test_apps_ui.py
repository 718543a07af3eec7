"""Applications in the TUI, as a user finds them on case A: the `app:` filter over the audit log and the sign-ins,
and the drill-down's app line; snapshots of the filtered view at 80x24 and 160x48."""

import pytest

from tests.ui.conftest import SIZES, pane, settle, still
from tests.ui.test_flow import apply_filter

POWERSHELL = "fb78d390-0c51-40cd-8e17-fdbfab77341b"


async def test_the_app_filter_finds_an_app_by_name_or_id_and_the_drill_down_names_it(make_app):
    app = make_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        view = app.screen.view

        await apply_filter(pilot, 'app:"exchange rest api"')
        await settle(app, pilot)
        assert {"ual", "signin"} <= set(view.frame["source"])
        assert set(view.frame["app"]) == {"Microsoft Exchange REST API Based Powershell"}
        by_name = view.frame["record_id"].to_list()

        await apply_filter(pilot, "app:FB78D390 source:ual")
        await settle(app, pilot)
        assert set(view.frame["app_id"]) == {POWERSHELL}
        assert set(view.frame["record_id"]) < set(by_name)
        assert f"app: Microsoft Exchange REST API Based Powershell ({POWERSHELL})" in pane(app)

        await apply_filter(pilot, 'app:"outlook mobile" op:MailItemsAccessed')
        await settle(app, pilot)
        assert view.frame.height and set(view.frame["app_name"]) == {"Outlook Mobile"}
        assert "app: Outlook Mobile (27922004-5251-4030-b22d-91ecd9a37ea4)" in pane(app)


async def test_a_bad_app_term_is_reported_and_an_unknown_app_matches_nothing(make_app):
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, "app:")
        await settle(app, pilot)
        assert "app: needs a value" in str(app.screen.query_one("#filter-problem").render())
        await apply_filter(pilot, "app:not-an-app-of-this-case")
        await settle(app, pilot)
        assert app.screen.view.frame.height == 0


def filtered(text: str):
    async def run_before(pilot) -> None:
        app = pilot.app
        await settle(app, pilot)
        await apply_filter(pilot, text)
        await still(app, pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_events_filtered_by_app(snap_compare, make_app, size):
    assert snap_compare(make_app(), terminal_size=size, run_before=filtered("app:powershell"))
