"""The ATT&CK matrix mode on case A, driven by keys: cells, Enter to the events, coverage, the hunts list."""

from pathlib import Path

import polars as pl

import hunts

from tests.ui.conftest import settle
from tests.ui.view_app import ViewApp, case_a_hits, case_loaded  # noqa: F401 (fixture)
from workbench.ui.screens.matrix import MatrixScreen
from workbench.ui.widgets.attack_matrix import AttackMatrix
from workbench.ui.widgets.hunt_list import HuntList

FULL_ACCESS = "1043ada7-a61b-46ec-8ae6-57b02ae09460"  # attacker's FullAccess on TargetUser's mailbox (README)
SPOOF_ALLOW = "9e35b53d-46f2-4dbd-b2b3-b3bd03434b9a"  # New-TenantAllowBlockListSpoofItems (README)


def line(matrix: AttackMatrix, y: int) -> str:
    return "".join(segment.text for segment in matrix.render_line(y))


def cell_info(app) -> str:
    return str(app.screen.query_one("#cell-info").render())


async def move_to(pilot, matrix: AttackMatrix, tactic: str, technique_id: str) -> None:
    """Walk the cursor with arrow keys to a technique under a tactic."""
    column = next(i for i, c in enumerate(matrix.columns) if c.tactic.name == tactic)
    row = next(i for i, c in enumerate(matrix.columns[column].cells) if c.technique_id == technique_id)
    across = column - matrix.cursor[0]
    await pilot.press("home", *["right" if across > 0 else "left"] * abs(across), *["down"] * row)


async def test_cells_hold_the_hits_in_the_articles_tactic_columns_and_enter_opens_them(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=hits), MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        matrix = app.screen.query_one(AttackMatrix)
        cells = {(c.tactic.name, cell.technique_id): cell for c in matrix.columns for cell in c.cells}
        assert cells["Persistence", "T1098.002"].hits >= 2 and cells["Persistence", "T1098.002"].severity == "high"
        assert cells["Defense Evasion", "T1562"].severity == "critical"  # spoof allow items (T1562.001)
        assert cells["Collection", "T1114.003"].hits > 0
        assert not cells["Execution", "T1059"].has_hunt and cells["Execution", "T1059"].hits == 0

        # all eleven tactics stay on an 80-column screen; the one under the cursor is shown wide
        header = line(matrix, 0)
        initial_access = hits.filter(pl.col("tactic_id") == "TA0001")["record_id"].n_unique()
        assert header.startswith(f"Initial Access ({initial_access})") and "│Exec│Pers│" in header and header.count("│") == 11
        await move_to(pilot, matrix, "Persistence", "T1098.002")
        assert "Persistence (" in line(matrix, 0) and "│Init│" in "│" + line(matrix, 0)
        assert "T1098.002 Account Manipulation: Additional Email Delegate Permissions" in cell_info(app)
        assert "highest severity high" in cell_info(app)

        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        assert title == "Persistence › T1098.002 Account Manipulation: Additional Email Delegate Permissions"
        expected = hits.filter((pl.col("tactic_id") == "TA0003") & (pl.col("matrix_technique_id") == "T1098.002"))
        assert FULL_ACCESS in record_ids and set(record_ids) == set(expected["record_id"])
        assert len(record_ids) == len(set(record_ids))

        await move_to(pilot, matrix, "Defense Evasion", "T1562")
        await pilot.press("enter")
        assert app.opened[-1][0].startswith("Defense Evasion › T1562") and SPOOF_ALLOW in app.opened[-1][1]


async def test_enter_on_a_cell_without_hits_opens_nothing_and_the_cursor_stays_inside(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=hits), MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        matrix = app.screen.query_one(AttackMatrix)
        await move_to(pilot, matrix, "Execution", "T1059")
        assert "no hunt covers this technique" in cell_info(app)
        await pilot.press("enter")
        assert app.opened == []
        await pilot.press("left", "left", "up", "up")
        assert matrix.cursor == (0, 0)
        await pilot.press("end", *["right"] * 12)
        assert matrix.cursor[0] == 10 and matrix.current[0].tactic.name == "Impact"
        # a column shorter than the row the cursor was on puts the cursor on its last cell
        assert matrix.cursor[1] == len(matrix.columns[10].cells) - 1


async def test_coverage_toggle_shows_hunts_per_technique(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=hits), MatrixScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        matrix = app.screen.query_one(AttackMatrix)
        execution_first = line(matrix, 1).split("│")[1]
        assert execution_first.strip().startswith("·")
        await pilot.press("c")
        assert matrix.coverage
        cells = [cell for column in matrix.columns for cell in column.cells]
        header = str(app.screen.query_one("#matrix-header").render())
        assert f"coverage: {sum(c.has_hunt for c in cells)} of {len(cells)} techniques have hunts" in header
        assert line(matrix, 1).split("│")[1].strip().startswith("–")  # Execution: no hunt
        covered = matrix.columns[0].cells[2]  # Initial Access › Cloud Accounts
        assert line(matrix, 3).split("│")[0].strip().startswith(str(len(covered.hunt_ids)))
        await pilot.press("c")
        assert not matrix.coverage and line(matrix, 3).split("│")[0].strip().startswith(str(covered.hits))


async def test_hunts_list_shows_hits_description_runbook_and_opens_a_hunts_events(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=hits), MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        hunt_list = app.screen.query_one(HuntList)
        assert app.screen.hunts_shown and hunt_list.has_focus
        counted = hits.group_by("hunt_id").agg(pl.col("record_id").n_unique().alias("n"))
        counts = dict(zip(counted["hunt_id"], counted["n"]))
        listed = [counts.get(hunt.id, 0) for hunt in hunt_list.hunts]
        assert listed == sorted(listed, reverse=True) and listed[0] == max(counts.values())
        assert len(hunt_list.hunts) >= 50 and hunt_list.row_count == len(hunt_list.hunts)
        assert str(hunt_list.get_cell_at((0, 0))).strip() == str(listed[0])

        spoof = next(i for i, h in enumerate(hunt_list.hunts) if h.id == "defense_exo_spoof_allow_item")
        await pilot.press(*["down"] * spoof)
        await pilot.pause()
        detail = str(app.screen.query_one("#hunt-detail").render())
        hunt = hunt_list.hunts[spoof]
        assert hunt.title in detail and "Runbook" in detail
        assert hunt.runbook.strip().splitlines()[0].strip()[:30] in detail.replace("\n", " ")
        await pilot.press("enter")
        assert app.opened[-1][0] == f"hunt {hunt.title}" and SPOOF_ALLOW in app.opened[-1][1]

        quiet = next(i for i, h in enumerate(hunt_list.hunts) if h.id not in set(hits["hunt_id"]))
        hunt_list.move_cursor(row=quiet)
        await pilot.press("enter")
        assert len(app.opened) == 1 and "no hits" in str(app.screen.query_one("#matrix-status").render())

        await pilot.press("escape")
        assert not app.screen.hunts_shown and app.screen.query_one(AttackMatrix).has_focus


async def test_without_loader_hits_the_view_hunts_itself(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=None), MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        screen = app.screen
        assert screen.hits is not None and screen.hits.height == hits.height
        persistence = next(c for c in screen.columns if c.tactic.id == "TA0003")
        delegate = next(cell for cell in persistence.cells if cell.technique_id == "T1098.002")
        assert delegate.hits == hits.filter(pl.col("matrix_technique_id") == "T1098.002")["record_id"].n_unique() > 0


async def test_user_hunts_join_the_matrix_and_bad_hunt_files_are_named_in_the_status_line(case_a_hits, tmp_path):
    case, _ = case_a_hits
    spoof = (Path(hunts.__file__).parent / "rules" / "defense_exo_spoof_allow_item.toml").read_text()
    folder = tmp_path / "my-hunts"
    folder.mkdir()
    (folder / "my_spoof_copy.toml").write_text(spoof.replace(
        'title = "Spoofed senders allowed in the Tenant Allow/Block List"', 'title = "[red]mine[/red] \\u001b[2J"'))
    app = ViewApp(case_loaded(case, hits=None), MatrixScreen, {"hunts_dirs": [str(folder)]})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("h")
        hunt_list = app.screen.query_one(HuntList)
        mine = next(i for i, h in enumerate(hunt_list.hunts) if h.id == "my_spoof_copy")
        assert hunt_list.get_cell_at((mine, 2)).plain == "[red]mine[/red] \\x1b[2J"  # inert, not markup
        assert hunt_list.get_cell_at((mine, 0)).plain.strip() == "4"  # hunted over case A like the bundled copy

    (folder / "broken.toml").write_text('title = "no closing quote\n')
    app = ViewApp(case_loaded(case, hits=None), MatrixScreen, {"hunts_dirs": [str(folder)]})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        text = str(app.screen.query_one("#matrix-status").render())
        assert "cannot build the matrix" in text and "broken.toml" in text
        assert app.screen.columns == [] and not app.screen.check_action("open", ())


async def test_a_hunt_that_reads_ip_enrichment_says_it_waits_for_it_when_the_case_has_none(case_a_hits):
    case, hits = case_a_hits
    app = ViewApp(case_loaded(case, hits=hits), MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert f"{hits['hunt_id'].n_unique()} of {len(hunts.load_hunts())} hunts hit, 2 need IP enrichment" in str(app.screen.query_one("#matrix-header").render())
        await pilot.press("h")
        hunt_list = app.screen.query_one(HuntList)
        waiting = {h.id for i, h in enumerate(hunt_list.hunts) if str(hunt_list.get_cell_at((i, 0))) == "wait"}
        assert waiting == {"initial_aad_signin_hosting_ip", "initial_signin_hosting_ip_success"}
        row = next(i for i, h in enumerate(hunt_list.hunts) if h.id == "initial_aad_signin_hosting_ip")
        hunt_list.move_cursor(row=row)
        await pilot.pause()
        detail = str(app.screen.query_one("#hunt-detail").render()).replace("\n", " ")
        assert "Waits for IP enrichment" in detail and "workbench enrich --import FILE" in detail


async def test_no_hunt_waits_once_the_case_has_hosting_verdicts(case_a_hits):
    case, hits = case_a_hits
    loaded = case_loaded(case, hits=hits)
    loaded.enrichment = pl.DataFrame({"ip": ["104.161.20.102"], "hosting": [True]})
    app = ViewApp(loaded, MatrixScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert "needs" not in str(app.screen.query_one("#matrix-header").render())
        await pilot.press("h")
        hunt_list = app.screen.query_one(HuntList)
        assert all(str(hunt_list.get_cell_at((i, 0))) != "wait" for i in range(hunt_list.row_count))
