"""Two cases in one session, driven by keys: every row says its case, `case:` filters, marks go to each event's case."""

from tests.ui.conftest import settle
from tests.ui.cross_case import loaded_two_cases, two_case_dir, two_case_set  # noqa: F401 (fixtures)
from tests.ui.test_flow import apply_filter, header
from workbench.core.case import Case
from workbench.ui.app import WorkbenchApp
from workbench.ui.widgets.event_table import EventTable

FULL_ACCESS_OP = "Add-MailboxPermission"


def row_text(app, index: int) -> str:
    table = app.screen.query_one(EventTable)
    table.move_to(index)
    return " ".join(table._visible_rows(int(table.scroll_y), table.page_height, table.size.width)[index - int(table.scroll_y)][1])


async def test_two_cases_side_by_side_mark_into_their_own_case(two_case_dir):
    app = WorkbenchApp(two_case_set(two_case_dir))
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        view = app.screen.view
        assert set(view.frame["case"]) == {"case-a", "case-b"}
        assert "case-a + case-b" in header(app)
        table = app.screen.query_one(EventTable)
        assert "7:case" in " ".join(table._header(table.size.width))

        await apply_filter(pilot, f"case:case-b op:{FULL_ACCESS_OP}")
        frame = view.frame
        assert frame.height > 0 and set(frame["case"]) == {"case-b"} and set(frame["operation"]) == {FULL_ACCESS_OP}
        assert row_text(app, 0).rstrip().endswith("case-b")
        case_b_event = frame["record_id"][0]
        await pilot.press("home", "m")

        await apply_filter(pilot, f"-case:case-b op:{FULL_ACCESS_OP}")
        assert set(view.frame["case"]) == {"case-a"}
        case_a_event = view.frame["record_id"][0]
        await pilot.press("home", "m")
        await settle(app, pilot)

    assert Case.named("case-b", two_case_dir).store.marks() == {case_b_event}
    assert Case.named("case-a", two_case_dir).store.marks() == {case_a_event}

    again = WorkbenchApp(two_case_set(two_case_dir))
    async with again.run_test(size=(100, 30)) as pilot:
        await settle(again, pilot)
        assert again.screen.view.marks == {case_a_event, case_b_event}


async def test_one_case_has_no_case_column(make_app):
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(EventTable)
        assert not app.screen.view.several_cases
        assert "case" not in " ".join(table._header(table.size.width))
