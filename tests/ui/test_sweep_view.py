"""`workbench --sweep OUT`: the tenants x tactics grid, a tenant's hits, one hit, and opening the tenant's case, driven
by keys over a sweep folder written by hand (three tenants, one of them sample case A's, loaded locally)."""

import io
from pathlib import Path

import pytest
from rich.console import Console
from rich.segment import Segment
from textual.widgets import DataTable

from tests.sweep_fixture import CASE_A_TENANT, FABRIKAM, FULL_ACCESS, HITS, QUIET, SPOOF_ALLOW, write_sweep
from tests.ui.conftest import SIZES, pressing, settle
from workbench.core.sweep_output import read_sweep
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.sweep import SweepScreen
from workbench.ui.screens.sweep_hits import HitDetailScreen, TenantHitsScreen
from workbench.ui.sweep_view import SweepApp, local_cases
from workbench.ui.widgets.tenant_grid import TenantGrid, count_text


@pytest.fixture
def sweep_app(case_dir, tmp_path, monkeypatch):
    """The sweep app over the hand-written sweep, read as `workbench --sweep out` from its parent folder, with
    case A in the cases folder (the header shows no temporary path)."""
    write_sweep(tmp_path / "out")
    monkeypatch.chdir(tmp_path)
    sweep = read_sweep(Path("out"))
    return SweepApp(sweep, local_cases(sweep, case_dir), case_dir)


def line(grid: TenantGrid, y: int) -> str:
    return "".join(segment.text for segment in grid.render_line(y))


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def detail_segments(app) -> list[Segment]:
    """The hit detail's fields as drawn at 150 columns."""
    console = Console(width=150, file=io.StringIO(), color_system="truecolor")
    return list(console.render(app.screen.query_one("#hit-detail").content))


def detail_text(app) -> str:
    """The hit detail's text, each run of spaces as one."""
    return " ".join("".join(segment.text for segment in detail_segments(app)).split())


async def test_the_grid_puts_the_most_severe_tenant_first_with_totals_and_every_tactic_on_80_columns(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.screen.query_one(TenantGrid)
        header = line(grid, 0)
        assert header.startswith("tenants (3)") and "│all │Init│Exec│Pers│" in header and header.endswith("│IOC │")
        assert line(grid, 1).split("│")[:6] == ["all tenants   ", "   5", "   1", "   ·", "   1", "   ·"]
        case_a, fabrikam, quiet = (line(grid, y).split("│") for y in (2, 3, 4))
        assert case_a[0].startswith("2ab04f98")
        assert [cell.strip() for cell in case_a[1:14]] == ["3", "·", "·", "1", "·", "2", "·", "·", "·", "1", "·", "·",
                                                           "1"]
        assert fabrikam[0].startswith("7f1c9e02") and fabrikam[1:3] == ["   2", "   1"]
        assert quiet[0].startswith("c3d4e5f6") and set(quiet[1:14]) == {"   ·"}
        assert "all 3 tenants · engine duckdb" in text_of(app, "#sweep-info")
        assert "5 events hit (1 critical, 1 high, 2 medium, 1 low)" in text_of(app, "#sweep-info")

        await pilot.press("down", *["right"] * 6)  # case A's tenant, Defense Evasion
        assert grid.current[0].tenant == CASE_A_TENANT and grid.current[1].name == "Defense Evasion"
        info = text_of(app, "#sweep-info")
        assert f"tenant {CASE_A_TENANT} · case case-a: o opens it" in info
        assert "Defense Evasion (TA0005): 2 events hit, highest severity critical" in info


async def test_enter_lists_a_cells_hits_then_shows_one_hit_and_escape_comes_back(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.screen.query_one(TenantGrid)
        await pilot.press("down", "right", "right", "right", "right")  # case A, Persistence
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, TenantHitsScreen)
        assert text_of(app, "#hits-header").startswith(f"tenant {CASE_A_TENANT} › Persistence: 1 hit on 1 event")
        assert [row["record_id"] for row in app.screen.rows] == [FULL_ACCESS]
        assert "why: AccessRights=FullAccess on TargetUser by the attacker" in text_of(app, "#hit-info")

        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, HitDetailScreen)
        detail = detail_text(app)
        for field in ("hunt Mailbox FullAccess granted to another user", f"record id {FULL_ACCESS}",
                      "ATT&CK TA0003 Persistence › T1098.002 Additional Email Delegate Permissions",
                      "time (UTC) 2023-02-21 08:14:05", "client IP 104.161.20.23"):
            assert field in detail
        await pilot.press("escape", "escape")
        assert isinstance(app.screen, SweepScreen) and grid.cursor == (1, 4)

        await pilot.press("home", "enter")  # the tenant itself: all its hits, most severe first
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        assert [row["record_id"] for row in app.screen.rows] == [SPOOF_ALLOW, FULL_ACCESS, FULL_ACCESS,
                                                                   HITS[2]["record_id"]]
        assert table.get_row_at(1)[2].plain.rstrip() == "IOC 104.161.20.23"
        assert "tenant" not in [column.label.plain for column in table.columns.values()]


async def test_enter_on_the_all_tenants_row_lists_every_tenants_hits_with_their_tenant(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press(*["right"] * 6, "enter")  # all tenants, Defense Evasion
        await settle(app, pilot)
        assert text_of(app, "#hits-header").startswith("all tenants › Defense Evasion: 3 hits on 3 events")
        assert [row["tenant"] for row in app.screen.rows] == [CASE_A_TENANT, CASE_A_TENANT, FABRIKAM]
        assert "tenant" in [column.label.plain for column in app.screen.query_one(DataTable).columns.values()]


async def test_enter_on_a_cell_without_hits_opens_nothing(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "right", "right", "enter")  # case A, Execution: no hits
        await pilot.press("end", "down", "down", "enter")  # the quiet tenant: none at all
        await settle(app, pilot)
        assert isinstance(app.screen, SweepScreen)
        assert app.screen.query_one(TenantGrid).current[0].tenant == QUIET
        assert "IOC: no hits" in text_of(app, "#sweep-info")


async def test_o_opens_the_tenants_local_case_and_says_so_plainly_when_there_is_none(sweep_app, case_dir):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "down", "o")  # Fabrikam: the sweep names no case
        assert text_of(app, "#sweep-status") == "cannot open a case: no case named in the sweep"
        await pilot.press("enter", "enter", "o")  # from one of its hits, the same
        assert text_of(app, "#hit-status") == "cannot open a case: no case named in the sweep"
        await pilot.press("escape", "escape", "up", "enter")  # case A's tenant, from its hits list
        await settle(app, pilot)
        first = app.screen.rows[0]
        await pilot.press("o")
        await settle(app, pilot)
    assert app.return_value == ("case-a", CASE_A_TENANT, first)  # the case opens at that hit's event


async def test_a_case_the_sweep_names_that_is_not_here_is_said_with_the_cases_folder(case_dir, tmp_path):
    out = write_sweep(tmp_path / "out", cases={CASE_A_TENANT: "case-z", FABRIKAM: None})
    sweep = read_sweep(out)
    assert local_cases(sweep, case_dir) == {}
    app = SweepApp(sweep, {}, case_dir)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "o")
        assert text_of(app, "#sweep-status") == f"cannot open a case: case case-z: not in {case_dir}"
        assert app.is_running


def test_local_cases_finds_a_case_by_its_folder_stem(case_dir, tmp_path):
    (case_dir / "case-a").rename(case_dir / "case-a-7c871cc6")
    sweep = read_sweep(write_sweep(tmp_path / "out"))
    assert local_cases(sweep, case_dir) == {CASE_A_TENANT: "case-a-7c871cc6"}


async def test_attacker_text_is_shown_as_written_never_as_markup(sweep_app):
    app = sweep_app
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")  # Fabrikam's hits: the hide rule first (medium)
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        cells = [cell.plain.rstrip() for cell in table.get_row_at(0)]
        assert "[red]ceo[/red]@fabrikam…" in cells and "Set-InboxRule [b]x[/b]" in cells
        info = app.screen.query_one("#hit-info").render()
        assert "why: [bold red]Operation[/] \\x1b[31mSet-InboxRule" in info.plain
        assert not any("link" in str(span.style) for span in info.spans)
        await pilot.press("enter")
        detail = detail_text(app)
        assert "user [red]ceo[/red]@fabrikam.example" in detail and "operation Set-InboxRule [b]x[/b]" in detail
        assert "\x1b" not in detail and "\\x1b[31mSet-InboxRule" in detail
        assert "[link=https://evil.example]x[/link]" in detail
        styles = [segment.style for segment in detail_segments(app) if segment.style and segment.text.strip()]
        assert not any(style.link or style.color for style in styles)  # plain text; only the labels are bold


async def test_question_mark_lists_the_sweeps_keys(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        assert [description for _key, description in app.screen.bindings] == ["Hits", "Open case", "Quit", "Help"]
        await pilot.press("escape")
        assert isinstance(app.screen, SweepScreen)


async def test_many_tenants_scroll_under_the_header_and_the_all_tenants_line(case_dir, tmp_path):
    rows = [{**HITS[4], "tenant": f"tenant-{index:02d}", "record_id": f"r{index}"} for index in range(40)]
    sweep = read_sweep(write_sweep(tmp_path / "out", rows, cases={}))
    app = SweepApp(sweep, {}, case_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        grid = app.screen.query_one(TenantGrid)
        await pilot.press(*["pagedown"] * 5)
        assert grid.current[0].tenant == "tenant-39" and grid.scroll_y > 0
        last = grid.scrollable_content_region.height - 1
        assert line(grid, 0).startswith("tenants (40)")
        assert line(grid, 1).split("│")[:3] == ["all tenants       ", "  40", "  40"]
        assert line(grid, last).startswith("tenant-39")
        await pilot.press("pageup", "pageup", "pageup", "pageup", "up")
        assert grid.current[0].tenant is None and grid.scroll_y == 0 and line(grid, 2).startswith("tenant-00")


def test_counts_that_do_not_fit_are_shown_in_thousands_or_millions():
    assert [count_text(hits, 4) for hits in (0, 7, 999, 1000, 12_345, 2_600_000)] == [
        "   ·", "   7", " 999", "  1k", " 12k", "  3M"]
    assert count_text(12_345, 8) == "  12,345"


@pytest.mark.parametrize("size", SIZES)
def test_sweep_grid(snap_compare, sweep_app, size):
    """Cursor on case A's tenant under Defense Evasion (critical: the spoof allow item)."""
    assert snap_compare(sweep_app, terminal_size=size, run_before=pressing("down", *["right"] * 6))


@pytest.mark.parametrize("size", SIZES)
def test_sweep_hits(snap_compare, sweep_app, size):
    """Case A's tenant, all its hits, the cursor on the indicator hit."""
    assert snap_compare(sweep_app, terminal_size=size, run_before=pressing("down", "enter", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_sweep_hit_with_markup(snap_compare, sweep_app, size):
    """Fabrikam's hide-rule hit in full: its why, user and operation hold markup and an escape sequence."""
    assert snap_compare(sweep_app, terminal_size=size, run_before=pressing("down", "down", "enter", "enter"))


async def test_a_case_opened_from_a_sweep_hit_shows_that_event_first_and_esc_shows_them_all(make_app):
    app = make_app(opening=("sweep hit persistence_exchange_delegate_full_access", [FULL_ACCESS]))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.view.height == 1 and screen.current["record_id"] == FULL_ACCESS
        assert text_of(app, "#status") == ("sweep hit persistence_exchange_delegate_full_access: 1 event "
                                           "(Esc goes back)")
        await pilot.press("escape")
        await settle(app, pilot)
        assert screen.view.height > 1000 and app.opening is None


async def test_the_hits_table_fits_its_columns_again_when_the_terminal_is_resized(sweep_app):
    app = sweep_app
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("enter", "down")  # all tenants' hits, the second
        await settle(app, pilot)
        table = app.screen.query_one(DataTable)
        narrow = [column.width for column in table.columns.values()]
        await pilot.resize_terminal(260, 24)
        await settle(app, pilot)
        wide = [column.width for column in table.columns.values()]
        assert sum(wide) > sum(narrow) + 40 and table.cursor_row == 1
