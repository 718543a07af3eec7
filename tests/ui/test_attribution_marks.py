"""Attribution marks, as an analyst makes them: `A` on an IP in the IPs view marks it as the attacker's (stored in
the case at once), flagged there, in the events view and the timeline, and the exposure follows; `A` again forgets
it; `X` says an IP is not the attacker's and the proposal drops it; the events view and an account's timeline ask
which of the IP, session or user agent; correlate marks a shared IP and a user agent (every string it stands for)."""

import polars as pl

from tests.conftest import case_of_records
from tests.test_exposure import ATTACKER_IP, ATTACKER_SESSION, FIREFOX, OWNER_IP
from tests.ui.conftest import ask, settle
from tests.ui.exposure_case import FLAGGED, small_case, ui_records, workbench_of  # noqa: F401 (fixture)
from workbench.core.attribution import ATTACKER, NOT_ATTACKER
from workbench.ui.screens.attribution_menu import AttributionMenu
from workbench.ui.screens.correlate import CorrelateScreen
from workbench.ui.screens.events import EventsScreen
from workbench.ui.screens.ips import IpsScreen
from workbench.ui.screens.timeline import TimelineScreen
from workbench.ui.widgets.event_table import EventTable
from workbench.ui.widgets.indicator_table import IndicatorTable
from workbench.ui.widgets.ip_table import IpTable

OTHER_TENANT = "9f8e7d6c-0000-4000-8000-000000000002"


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def ip_flag(app, ip: str) -> str:
    return app.screen.query_one(IpTable).get_cell(ip, "attribution").plain


async def to_ip(app, pilot, ip: str) -> None:
    """The IPs view with the cursor on `ip`."""
    await pilot.press("f4")
    await settle(app, pilot)
    assert isinstance(app.screen, IpsScreen)
    table = app.screen.query_one(IpTable)
    table.move_cursor(row=table.get_row_index(ip))
    await pilot.pause()


def event_flags(app) -> dict[str, str]:
    """record id (last two digits) -> the flags the events view shows."""
    view = app.screen.view
    return {row["record_id"][-2:]: view.flags(row["record_id"], row["client_ip"])
            for row in view.frame.select("record_id", "client_ip").to_dicts()}


async def test_a_in_the_ips_view_marks_the_ip_everywhere_and_the_exposure_follows(small_case):
    app = workbench_of(small_case, proposing=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f8")
        await settle(app, pilot)
        assert "nothing attributed to the attacker" in text_of(app, "#exposure-header")

        await to_ip(app, pilot, ATTACKER_IP)
        assert ip_flag(app, ATTACKER_IP) == " "
        await pilot.press("A")
        assert small_case.store.attribution() == [("ip", ATTACKER_IP, ATTACKER)]
        assert ip_flag(app, ATTACKER_IP) == "A" and ip_flag(app, OWNER_IP) == " "
        assert f"IP {ATTACKER_IP}: the attacker's" in text_of(app, "#ips-status")

        await pilot.press("f2")
        await settle(app, pilot)
        flags = event_flags(app)
        assert all(flags[n].endswith("A") for n in ("03", "04", "05", "06", "07", "08", "09", "11", "13"))
        assert not any("A" in flags[n] for n in ("01", "02", "10", "12"))
        table = app.screen.query_one(EventTable)
        assert table.render_line(1).text.startswith("     ")  # record 01, the owner's sign-in: no flag

        await pilot.press("f8")
        await settle(app, pilot)
        assert "marked as the attacker's: 1 ip" in text_of(app, "#exposure-header")
        assert app.screen.found is not None and app.screen.found.rows.height > 0

        await to_ip(app, pilot, ATTACKER_IP)
        await pilot.press("A")  # again: forgotten
        assert small_case.store.attribution() == [] and ip_flag(app, ATTACKER_IP) == " "


async def test_x_says_a_proposed_ip_is_not_the_attackers_and_the_proposal_drops_it(small_case):
    app = workbench_of(small_case)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await to_ip(app, pilot, ATTACKER_IP)
        assert ip_flag(app, ATTACKER_IP) == "a"  # proposed (the hunt hit), not accepted
        await pilot.press("X")
        assert small_case.store.attribution() == [("ip", ATTACKER_IP, NOT_ATTACKER)]
        assert ip_flag(app, ATTACKER_IP) == "-"
        await pilot.press("f8")
        await settle(app, pilot)
        assert "proposed as the attacker's: 1 session (not accepted: a)" in text_of(app, "#exposure-header")
        await to_ip(app, pilot, ATTACKER_IP)
        await pilot.press("X")  # again: forgotten, proposed once more
        assert small_case.store.attribution() == [] and ip_flag(app, ATTACKER_IP) == "a"


async def test_the_events_view_asks_which_of_the_events_ip_session_or_user_agent(small_case):
    app = workbench_of(small_case, proposing=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        view = app.screen.view
        app.screen.query_one(EventTable).move_to(view.index_of(FLAGGED))
        await pilot.pause()
        await pilot.press("A")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, AttributionMenu)
        assert [(choice.kind, choice.values) for choice in menu.choices] == [
            ("ip", (ATTACKER_IP,)), ("session", (ATTACKER_SESSION,)), ("user_agent", (FIREFOX,))]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, EventsScreen)
        assert small_case.store.attribution() == [("session", ATTACKER_SESSION, ATTACKER)]
        flags = event_flags(app)
        assert {n for n, flag in flags.items() if "A" in flag} == {"03", "04", "05", "06", "07", "08", "11", "13"}
        assert f"session {ATTACKER_SESSION}: the attacker's" in text_of(app, "#status")


async def test_an_accounts_timeline_offers_the_days_values_and_flags_its_first_seen_ip(small_case):
    app = workbench_of(small_case, proposing=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f7")
        await settle(app, pilot)
        assert isinstance(app.screen, TimelineScreen) and app.screen.timeline.subject == "jane@contoso.com"
        await pilot.press("A")
        await pilot.pause()
        menu = app.screen
        assert isinstance(menu, AttributionMenu)
        assert [(choice.kind, choice.values[0]) for choice in menu.choices][:2] == [("ip", ATTACKER_IP),
                                                                                    ("ip", OWNER_IP)]
        await pilot.press("enter")
        await pilot.pause()
        assert small_case.store.attribution() == [("ip", ATTACKER_IP, ATTACKER)]
        facts = text_of(app, "#timeline-facts").splitlines()
        assert any(line.endswith(f"A {ATTACKER_IP}") for line in facts)
        assert any(line.endswith(f"  {OWNER_IP}") for line in facts)

        await ask(pilot, "i", ATTACKER_IP)  # an IP's timeline: A marks that IP at once
        assert "the attacker's" in text_of(app, "#timeline-header")
        await pilot.press("A")
        assert small_case.store.attribution() == [] and "the attacker's" not in text_of(app, "#timeline-header")


def two_tenant_records() -> list[dict]:
    """The small mailbox, and another tenant's mailbox read from the attacker's IP with the attacker's browser
    (correlate then compares the two tenants)."""

    def other(number: int, when: str, ip: str, user: str, agent: str) -> dict:
        return {"CreationTime": when, "Id": f"00000000-0000-4000-9000-{number:012d}", "Operation": "MailItemsAccessed",
                "OrganizationId": OTHER_TENANT, "RecordType": 50, "ResultStatus": "Succeeded", "UserType": 0,
                "Workload": "Exchange", "UserId": user, "ClientIPAddress": ip, "ClientInfoString": agent,
                "MailboxOwnerUPN": user, "OperationProperties": [{"Name": "MailAccessType", "Value": "Bind"}]}

    safari = "Client=OWA;Mozilla/5.0 (Macintosh) Safari/605.1.15"
    return [*ui_records(), other(1, "2023-02-21T10:00:00", ATTACKER_IP, "bob@fabrikam.com", FIREFOX),
            other(2, "2023-02-21T10:05:00", "198.51.100.77", "bob@fabrikam.com", safari),
            other(3, "2023-02-21T11:05:00", "198.51.100.78", "amy@fabrikam.com", safari)]


async def test_correlate_marks_a_shared_ip_and_a_user_agent_as_every_string_it_stands_for(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "empty-cache"))
    case = case_of_records(tmp_path, "two-tenants", two_tenant_records())
    app = workbench_of(case, proposing=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("f6")
        await settle(app, pilot)
        assert isinstance(app.screen, CorrelateScreen)
        table = app.screen.query_one(IndicatorTable)
        listed = [(row["kind"], row["value"]) for row in table.indicators]
        assert listed[0] == ("ip", ATTACKER_IP) and listed[1][0] == "user_agent"

        def flag(row: int) -> str:
            return table.get_cell_at((row, table.get_column_index("attribution"))).plain

        await pilot.press("A")
        assert case.store.attribution() == [("ip", ATTACKER_IP, ATTACKER)] and flag(0) == "A" and flag(1) == " "
        await pilot.press("down", "A")
        shown = table.indicators[1]["value"]
        assert not shown.startswith("Client=") and FIREFOX.endswith(f"{shown};")
        # The strings its events carry, Exchange's `Client=OWA;` and all: what attribution compares.
        agents = case.activity().filter(pl.col("record_id").is_in(table.indicators[1]["record_ids"]))["user_agent"]
        assert {value for kind, value, _ in case.store.attribution() if kind == "user_agent"} == set(agents) == {FIREFOX}
        assert flag(1) == "A"
