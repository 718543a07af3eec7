"""The palette's IOC sweep and incident report over cases A and B: the article's indicators open the events
that carry them; the report of case A's marked events is written as Markdown, each under its technique."""

import polars as pl
import pytest
from textual.app import App
from textual.screen import Screen

from tests.ui.conftest import settle
from tests.ui.cross_case import empty_enrichment_cache, loaded_two_cases, two_case_dir  # noqa: F401 (fixtures)
from tests.ui.cross_case import two_case_events, two_cases_loaded
from tests.ui.view_app import ViewApp
from workbench.core.case import Case
from workbench.core.ioc import ioc_matches, read_iocs
from workbench.ui.commands import CaseCommands

pytestmark = pytest.mark.usefixtures("empty_enrichment_cache")
ARTICLE_IOCS = """\
# Sophos X-Ops, Investigator API yourself: the shared addresses (defanged as published)
104.161.20[.]102
20.232.202[.]245
185.241.149[.]122
botasso.cl
"""
SIGN_IN_A = "2ea1ec14-d557-4fc8-923d-0076806db368"  # original admin signs in from a shared IP, case A (README)
SIGN_IN_B = "78a7ebdc-2914-4999-b4d2-9686e3bca707"  # CompromisedAdmin from the ioflood address, case B
SPOOF_ALLOW_A = "54b73f0b-d878-4134-9f47-c7a46b57800a"  # New-TenantAllowBlockListSpoofItems, case A
CREATED_A = "0f916d11-c5dd-4f2d-8496-4526d3d06dc4"  # Add user. (CompromisedAdmin), case A
BENIGN_USER = "7b1e42b1-788d-4f34-9a31-62e36cedc466"  # a new starter created by the IT admin (not marked)


class PaletteApp(ViewApp):
    """The host app with the case commands in its palette."""

    COMMANDS = App.COMMANDS | {CaseCommands}


async def run_command(pilot, name: str, value: str) -> None:
    """Open the palette, choose `name`, type `value` into its prompt and submit."""
    await pilot.press("ctrl+p")
    await pilot.press(*name)
    await pilot.pause(0.3)
    await pilot.press("enter")
    await pilot.pause()
    pilot.app.screen.query_one("#prompt-input").value = value
    await pilot.press("enter")
    await settle(pilot.app, pilot)


async def test_the_ioc_sweep_opens_the_events_carrying_the_articles_indicators(loaded_two_cases, tmp_path):
    iocs = tmp_path / "article-iocs.txt"
    iocs.write_text(ARTICLE_IOCS)
    app = PaletteApp(two_cases_loaded(loaded_two_cases), Screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "IOC sweep", str(iocs))
        title, record_ids = app.opened[-1]
        expected = ioc_matches(two_case_events(loaded_two_cases), read_iocs(iocs))["record_id"].unique()
        assert title == f"IOC matches ({expected.len()})" and set(record_ids) == set(expected)
        assert {SIGN_IN_A, SIGN_IN_B, SPOOF_ALLOW_A} <= set(record_ids)
        events = two_case_events(loaded_two_cases).filter(pl.col("record_id").is_in(record_ids))
        assert set(events["case"]) == {"case-a", "case-b"}


async def test_a_bad_ioc_file_keeps_the_prompt_open_with_the_reason(loaded_two_cases, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("indicator,type\n1.2.3,ip\n")
    app = PaletteApp(two_cases_loaded(loaded_two_cases), Screen)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "IOC sweep", str(bad))
        hint = str(app.screen.query_one("#prompt-hint").render())
        assert "bad.csv:2: '1.2.3' is not a valid ip" in hint and app.opened == []
        await pilot.press("escape")
        assert app.opened == []


async def test_the_report_command_writes_the_marked_events_as_markdown(two_case_dir, tmp_path):
    Case.named("case-a", two_case_dir).store.set_marks([SPOOF_ALLOW_A, CREATED_A], True)
    app = PaletteApp(two_cases_loaded(two_case_dir), Screen)
    target = tmp_path / "out" / "incident.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "Write incident report", str(tmp_path / "incident.txt"))
        assert "write the report to a .md or .html file" in str(app.screen.query_one("#prompt-hint").render())
        app.screen.query_one("#prompt-input").value = str(target)
        await pilot.press("enter")
        await settle(app, pilot)
    text = target.read_text()
    assert text.startswith("# Incident report") and "case-a" in text
    assert SPOOF_ALLOW_A in text and CREATED_A in text and BENIGN_USER not in text
    persistence, evasion = text.index("Persistence"), text.index("Defense Evasion")
    assert persistence < text.index(CREATED_A) < evasion < text.index(SPOOF_ALLOW_A)
    assert "| 104.161.20.102 | 1 | case-a, case-b |" in text  # the indicators list says which the other loaded case shares


async def test_the_report_lists_the_marked_events_the_last_ioc_sweep_matched(two_case_dir, tmp_path):
    Case.named("case-a", two_case_dir).store.set_marks([SPOOF_ALLOW_A, CREATED_A], True)
    iocs = tmp_path / "article-iocs.txt"
    iocs.write_text(ARTICLE_IOCS)
    app = PaletteApp(two_cases_loaded(two_case_dir), Screen)
    target = tmp_path / "incident.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "IOC sweep", str(iocs))
        await run_command(pilot, "Write incident report", str(target))
    text = target.read_text()
    section = text[text.index("### IOC matches"):]
    assert "| botasso.cl | domain |" in section  # the spoof allow-list entry carries the article's domain
    assert "185.241.149.122" not in section  # no marked event carries it


async def test_the_report_command_hunts_with_the_apps_own_hunt_folders(two_case_dir, tmp_path):
    from tests.test_report import ANALYST_HUNT, BENIGN_RULE

    hunt_dir = tmp_path / "my-hunts"
    hunt_dir.mkdir()
    (hunt_dir / "analyst_transport_rules.toml").write_text(ANALYST_HUNT)
    Case.named("case-a", two_case_dir).store.set_marks([BENIGN_RULE], True)
    app = PaletteApp(two_cases_loaded(two_case_dir), Screen)
    app.hunt_dirs = (hunt_dir,)
    target = tmp_path / "incident.md"
    async with app.run_test(size=(80, 24)) as pilot:
        await run_command(pilot, "Write incident report", str(target))
        await settle(app, pilot)
    text = target.read_text()
    assert "no hunt maps" not in text and text.index("(T1564.008)") < text.index(BENIGN_RULE)
