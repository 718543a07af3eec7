"""With cases A and B open, `f` in the matrix, timeline and IPs modes keeps one case in view, then the next, then all."""

import polars as pl

import hunts

from tests.ui.conftest import ask, settle
from tests.ui.cross_case import SHARED_IPS, two_case_events, two_cases_loaded
from tests.ui.cross_case import empty_enrichment_cache, loaded_two_cases, two_case_hits  # noqa: F401 (fixtures)
from tests.ui.ip_fakes import offline_host  # noqa: F401 (fixture)
from tests.ui.view_app import ViewApp
from workbench.ui.screens.ips import IpsScreen
from workbench.ui.screens.matrix import MatrixScreen
from workbench.ui.screens.timeline import TimelineScreen
from workbench.ui.widgets.attack_matrix import AttackMatrix
from workbench.ui.widgets.ip_table import IpTable


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def cell_hits(app) -> dict[tuple[str, str], int]:
    matrix = app.screen.query_one(AttackMatrix)
    return {(column.tactic.id, cell.technique_id): cell.hits for column in matrix.columns for cell in column.cells}


async def test_matrix_counts_each_cases_hits_and_enter_opens_only_that_cases_events(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), MatrixScreen)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        both = cell_hits(app)
        await pilot.press("f")
        assert "showing: case-a" in text_of(app, "#matrix-header")
        only_a = cell_hits(app)
        await pilot.press("f")
        only_b = cell_hits(app)
        assert "showing: case-b" in text_of(app, "#matrix-header")
        per_case = hunts.hit_pairs(two_case_hits).group_by("case", "tactic_id", "matrix_technique_id").agg(
            pl.col("record_id").n_unique().alias("n"))  # distinct events per cell
        for case, counted in (("case-a", only_a), ("case-b", only_b)):
            expected = {(t, m): n for c, t, m, n in per_case.iter_rows() if c == case}
            assert {key: n for key, n in counted.items() if n} == expected
        assert all(only_a[key] + only_b[key] == both[key] for key in both)

        await pilot.press("home")  # a cell with hits in case B: Enter opens case B's events only
        matrix = app.screen.query_one(AttackMatrix)
        column, row = next((c, r) for c, column in enumerate(matrix.columns)
                           for r, cell in enumerate(column.cells) if cell.hits)
        matrix.move_to(column, row)
        await pilot.press("enter")
        cases = two_case_events(loaded_two_cases).filter(pl.col("record_id").is_in(app.opened[-1][1]))["case"]
        assert set(cases) == {"case-b"}
        await pilot.press("f")
        assert "showing: all cases" in text_of(app, "#matrix-header") and cell_hits(app) == both


async def test_timeline_keeps_the_ip_and_counts_only_the_cases_events(loaded_two_cases, two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await ask(pilot, "i", SHARED_IPS[0])
        events = two_case_events(loaded_two_cases).filter(pl.col("client_ip") == SHARED_IPS[0])
        assert app.screen.timeline.days["events"].sum() == events.height
        await pilot.press("f")
        await settle(app, pilot)
        timeline = app.screen.timeline
        assert timeline.subject == SHARED_IPS[0] and text_of(app, "#timeline-header").endswith("case-a")
        assert timeline.days["events"].sum() == events.filter(pl.col("case") == "case-a").height
        assert set(timeline.coverage["source"].str.split("/").list.first()) <= {"AzureActiveDirectory", "Exchange",
                                                                                "OneDrive", "SharePoint"}


async def test_timeline_shows_the_busiest_account_of_a_case_without_the_current_one(loaded_two_cases,
                                                                                    two_case_hits):
    app = ViewApp(two_cases_loaded(loaded_two_cases, two_case_hits), TimelineScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert app.screen.timeline.subject == "compromisedadmin@example.com"  # case A's, the most hunt hits
        await pilot.press("f")
        await settle(app, pilot)
        assert app.screen.timeline.subject == "compromisedadmin@example.com"  # case A shown: the account is in it
        await pilot.press("f")
        await settle(app, pilot)
        assert app.screen.timeline.subject == "compromisedadmin@example.net"  # case B's busiest


async def test_ips_lists_one_cases_addresses_and_opens_its_events(loaded_two_cases, empty_enrichment_cache,
                                                                   offline_host):
    cases_of_ip = two_case_events(loaded_two_cases).filter(pl.col("client_ip").is_not_null()).group_by(
        "client_ip").agg(pl.col("case").unique())
    only_in_a = set(cases_of_ip.filter(pl.col("case").list.len() == 1)
                    .filter(pl.col("case").list.first() == "case-a")["client_ip"])
    in_b = set(cases_of_ip.filter(pl.col("case").list.contains("case-b"))["client_ip"])
    app = ViewApp(two_cases_loaded(loaded_two_cases), IpsScreen, enrich_offline=True)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one(IpTable)

        def listed() -> list[str]:
            return [table.get_row_at(index)[table.get_column_index("ip")].plain for index in range(table.row_count)]

        assert only_in_a and only_in_a <= set(listed()) and set(SHARED_IPS) <= set(listed())
        await pilot.press("f", "f")
        assert set(listed()) == in_b and not only_in_a & set(listed())
        assert "showing: case-b" in text_of(app, "#ips-header")
        table.move_cursor(row=listed().index(SHARED_IPS[0]))
        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        opened = two_case_events(loaded_two_cases).filter(pl.col("record_id").is_in(record_ids))
        assert title == f"IP {SHARED_IPS[0]} in case-b" and set(opened["case"]) == {"case-b"}
