"""The exposure mode (F8) on a small mailbox: the proposal shown as proposed until `a` accepts it (then the case
store holds it), kinds cycled with `k`, uncertain rows flagged, the notes and the rule on screen, Enter opening a
row's events, hostile subjects shown inert; SVG snapshots at 80x24 and 160x40."""

import pytest

from tests.test_exposure import ATTACKER_IP, ATTACKER_SESSION
from tests.ui.conftest import settle, still
from tests.ui.exposure_case import HOSTILE_READ, HOSTILE_SHOWN, small_case, workbench_of  # noqa: F401 (fixture)
from workbench.core.attribution import ATTACKER, RULE
from workbench.ui.screens.events import EventsScreen
from workbench.ui.screens.exposure import ExposureScreen
from workbench.ui.widgets.exposure_table import ExposureTable


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def open_exposure(app, pilot) -> ExposureTable:
    await settle(app, pilot)
    await pilot.press("f8")
    await settle(app, pilot)
    assert isinstance(app.screen, ExposureScreen)
    return app.screen.query_one(ExposureTable)


def kinds(table: ExposureTable) -> list[str]:
    return [row["kind"] for row in table.exposure_rows]


async def test_f8_shows_the_proposal_and_a_accepts_it_into_the_case(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_exposure(app, pilot)
        header = text_of(app, "#exposure-header")
        assert "proposed as the attacker's: 1 ip, 1 session (not accepted: a)" in header
        assert "2023-02-20 09:00 .. 2023-02-20 09:40 UTC" in header
        assert set(kinds(table)) == {"read", "sync", "search", "file", "sent", "deleted", "throttled"}
        assert small_case.store.attribution() == []  # proposed: nothing stored yet

        await pilot.press("a")
        await settle(app, pilot)
        assert {(kind, value, verdict) for kind, value, verdict in small_case.store.attribution()} == {
            ("ip", ATTACKER_IP, ATTACKER), ("session", ATTACKER_SESSION, ATTACKER)}
        header = text_of(app, "#exposure-header")
        assert "marked as the attacker's: 1 ip, 1 session" in header and "proposed" not in header
        assert "a accept" not in text_of(app, "#exposure-status")


async def test_the_status_line_says_when_the_mail_items_are_indexed_first(small_case, monkeypatch):
    from workbench.core import mail_item_frame

    monkeypatch.setattr(mail_item_frame, "DECODE_AT_MOST", 2)  # more records than that: the index is built
    said = []
    monkeypatch.setattr(ExposureScreen, "say", lambda screen, message: said.append(message))
    app = workbench_of(small_case)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_exposure(app, pilot)
        assert table.row_count > 0
    indexing = [message for message in said if message.startswith("indexing the mail items of case exposure-ui")]
    assert len(indexing) == 1 and indexing[0].endswith("once for this load, about a minute per 10M events…")
    assert said.index(indexing[0]) < len(said) - 1  # said while computing, then the hint once done


async def test_nothing_proposed_says_how_to_attribute(small_case):
    app = workbench_of(small_case, proposing=False)
    async with app.run_test(size=(80, 24)) as pilot:
        table = await open_exposure(app, pilot)
        assert table.row_count == 0
        assert "nothing attributed to the attacker" in text_of(app, "#exposure-header")
        assert text_of(app, "#exposure-notes").startswith("note: nothing is attributed to the attacker: mark IPs")
        await pilot.press("r")
        assert "mark IPs, sessions or user agents with A" in " ".join(text_of(app, "#exposure-notes").split())


async def test_k_cycles_the_kinds_and_uncertain_rows_are_flagged(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_exposure(app, pilot)
        reads = [row for row in table.exposure_rows if row["kind"] == "read"]
        await pilot.press("k")
        assert set(kinds(table)) == {"read"} and len(kinds(table)) == len(reads)
        assert "read: " in text_of(app, "#exposure-header")
        for index, row in enumerate(table.exposure_rows):
            flag = table.get_cell_at((index, table.get_column_index("flag"))).plain
            assert flag == ("?" if row["attribution"] == "uncertain" else " ")
        assert {row["message_id"] for row in table.exposure_rows if row["attribution"] == "uncertain"} == {
            "<own-2@contoso.com>", "<own-3@contoso.com>"}
        await pilot.press(*["k"] * 6)
        assert kinds(table) == ["throttled"]
        await pilot.press("k")
        assert "all: " in text_of(app, "#exposure-header")


async def test_the_notes_and_the_rule_are_on_screen_and_r_shows_them_in_full(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_exposure(app, pilot)
        lines = text_of(app, "#exposure-notes").splitlines()
        assert lines[0].startswith("note: jane@contoso.com: auditing throttled from 2023-02-20 09:02")  # first
        assert any(line.startswith("note: 2 rows are uncertain") for line in lines)
        assert lines[-1].startswith("rule (r): attacker: in a session marked") and lines[-1].endswith("…")
        await pilot.press("r")
        await pilot.pause()
        shown = " ".join(text_of(app, "#exposure-notes").split())
        assert " ".join(RULE.split()) in shown
        assert "assume the whole mailbox was exposed" in shown


async def test_enter_opens_the_rows_events_in_the_events_view(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_exposure(app, pilot)
        await pilot.press("k", "k")  # the folders synced
        row = table.current
        assert row["kind"] == "sync" and row["folder"] == "\\Inbox"
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, EventsScreen)
        assert app.screen.view.frame["record_id"].to_list() == row["record_ids"]
        assert "exposure sync: \\Inbox" in text_of(app, "#header")


async def test_a_hostile_subject_shows_literally(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(160, 40)) as pilot:
        table = await open_exposure(app, pilot)
        index = next(i for i, row in enumerate(table.exposure_rows) if HOSTILE_READ in row["record_ids"])
        assert table.get_cell_at((index, table.get_column_index("what"))).plain == HOSTILE_SHOWN
        table.move_cursor(row=index)
        await pilot.pause()
        assert HOSTILE_SHOWN in app.screen.query_one("#exposure-detail").render().plain


SNAPSHOT_SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 40), id="160x40")]


@pytest.mark.parametrize("size", SNAPSHOT_SIZES)
def test_exposure_mode(snap_compare, small_case, size):
    """The proposal, the counts, the rows (the cursor on the second read), the notes and the rule."""

    async def run_before(pilot) -> None:
        await open_exposure(pilot.app, pilot)
        await pilot.press("down")
        await still(pilot.app, pilot)

    assert snap_compare(workbench_of(small_case), terminal_size=size, run_before=run_before)
