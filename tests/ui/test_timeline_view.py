"""The timeline mode over cases A and B: the created admin's dormant gap, moving along the strip, Enter on a
day opens that day's events of the account; an IP's timeline; an unknown account keeps the timeline shown."""

from datetime import date

import polars as pl

from tests.ui.conftest import ask, burst, settle
from tests.ui.cross_case import loaded_two_cases, two_case_hits  # noqa: F401 (fixtures)
from tests.ui.cross_case import SHARED_IPS, two_case_events, two_cases_loaded
from tests.ui.view_app import ViewApp
from workbench.ui.screens.timeline import TimelineScreen
from workbench.ui.widgets.day_strip import DORMANT_STYLE, DayStrip

FIRST_ACTIVITY_A = "4381aa88-be7d-4045-8d1c-7f5498289b2c"  # CompromisedAdmin's first sign-in, case A (README)
CREATED_A = "0f916d11-c5dd-4f2d-8496-4526d3d06dc4"  # CompromisedAdmin created, case A


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def red_days(strip: DayStrip) -> tuple[int, int]:
    """Where the activity row is shown red (the dormant gap)."""
    activity = strip.render().split()[1]
    (span,) = [span for span in activity.spans if str(span.style) == DORMANT_STYLE]
    return span.start, span.end


async def test_the_created_admins_timeline_shows_the_dormant_gap_and_enter_opens_a_days_events(
        loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.timeline.subject == "compromisedadmin@example.com"  # the most hunt hits (one per hunt and event)
        await ask(pilot, "u", "CompromisedAdmin@example.com")
        timeline = app.screen.timeline
        assert timeline.subject == "compromisedadmin@example.com" and timeline.dormant["days"] == 77
        hits = int(timeline.days["hits"].sum())
        assert text_of(app, "#timeline-header") == f"compromisedadmin@example.com │ 86 days, 4 active, {hits} hits │ all cases"
        facts = text_of(app, "#timeline-facts")
        assert "dormant: created 2022-12-05 15:42 by admin@example.onmicrosoft.com; first own activity 2023-02-20 14:55, 77 days later" in facts
        assert "104.161.20.102" in facts and "rv:109.0" in facts and "first-seen ips (3)" in facts

        strip = app.screen.query_one(DayStrip)
        assert strip.has_focus and timeline.days["day"][strip.cursor] == date(2022, 12, 5)  # first day with hits
        label = strip.label_width
        assert red_days(strip) == (label + 5, len(strip.render().split()[1]))  # from 2022-12-06 to the window's edge
        await pilot.press("right")
        assert "2022-12-06 Tue: 0 events · dormant: day 1 of 77" in text_of(app, "#day-info")

        await pilot.press("shift+right")  # the next active day: the first use, 77 days later, off the 80-column window
        assert timeline.days["day"][strip.cursor] == date(2023, 2, 20) and strip.first_shown > 0
        assert red_days(strip)[1] == label + strip.cursor - strip.first_shown  # quiet up to the day before
        assert text_of(app, "#day-info").startswith("2023-02-20 Mon: 11 events, 23 hunt hits (highest critical)")
        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        assert title == "compromisedadmin@example.com on 2023-02-20" and FIRST_ACTIVITY_A in record_ids
        events = two_case_events(loaded_two_cases).filter(pl.col("record_id").is_in(record_ids))
        assert events.height == 11 == len(record_ids)  # 7 + 3 searches and a Bind of the exposure story
        assert set(events["creation_time"].dt.date()) == {date(2023, 2, 20)}

        await pilot.press("home", "enter")
        assert len(app.opened) == 1  # an empty day opens nothing
        assert "no events of compromisedadmin@example.com on 2022-12-01" in text_of(app, "#timeline-status")
        await pilot.press("shift+right", "enter")
        assert CREATED_A in app.opened[-1][1]

        await pilot.resize_terminal(160, 48)  # wide enough for the full header
        await pilot.pause()
        assert text_of(app, "#timeline-header") == (
            f"Timeline of account compromisedadmin@example.com │ 2022-12-01..2023-02-24, 86 days │ 4 active, "
            f"{hits} hits │ all cases")


async def test_an_ips_timeline_lists_the_accounts_first_seen_on_it(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await ask(pilot, "i", "104.161.20.102")
        assert app.screen.timeline.kind == "ip"
        assert "Timeline of IP 104.161.20.102" in text_of(app, "#timeline-header")
        facts = text_of(app, "#timeline-facts")
        assert "first-seen accounts" in facts and "compromisedadmin@example.com" in facts
        assert "compromisedadmin@example.net" in facts
        strip = app.screen.query_one(DayStrip)
        assert strip.first_shown == 0 and strip.days_shown >= 86  # the whole range fits at 160 columns

        await ask(pilot, "u", "nobody@example.org")
        assert app.screen.timeline.subject == "104.161.20.102"
        assert "no events by or about nobody@example.org; still showing 104.161.20.102" in text_of(app, "#timeline-status")


async def test_without_loader_hits_the_view_hunts_itself(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, None), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.hits.height == two_case_hits.height
        assert app.screen.timeline.days["hits"].sum() > 0


async def test_the_ip_prompt_offers_the_ip_of_the_most_hunt_hits(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("i")
        await pilot.pause()
        counted = two_case_hits.group_by("client_ip").len().sort(["len", "client_ip"], descending=[True, False])
        assert app.screen.query_one("#prompt-input").value == counted["client_ip"][0]
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen.timeline.kind == "ip" and app.screen.timeline.subject == counted["client_ip"][0]


async def test_an_ip_typed_in_one_burst_reaches_the_prompt(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        burst(app, f"i{SHARED_IPS[1]}\r")
        await settle(app, pilot)
        assert app.screen.timeline.subject == SHARED_IPS[1]
