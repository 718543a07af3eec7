"""The case picker `workbench` opens without PATH or --case: the cases, last opened first; Enter opens the case
under the cursor, Space marks several to open side by side, q quits; with no cases the CLI says how to load one."""

import os
from pathlib import Path

import pytest

from tests.ui.conftest import SIZES, settle
from workbench.cli import main
from workbench.core.case import Case
from workbench.core.case_index import summaries
from workbench.ui.case_picker import CasePicker

OPENED = {"alpha": 1_677_000_000, "beta": 1_677_100_000}  # beta opened last: listed first


@pytest.fixture(scope="module")
def case_root(tmp_path_factory, sample_logs) -> Path:
    """Two cases with fixed times: alpha (case A's Purview export), beta (case B's Graph audit query)."""
    root = tmp_path_factory.mktemp("picker-cases")
    for name, path in (("alpha", sample_logs / "case-a" / "purview_audit_export.csv"),
                       ("beta", sample_logs / "case-b" / "graph_audit_query.json")):
        case = Case.named(name, root)
        case.open([path])
        case.close()
        for marker in ("created", "opened"):
            os.utime(root / name / marker, (OPENED[name], OPENED[name]))
    return root


def cell(app, row: int, column: str) -> str:
    table = app.query_one("#case-table")
    return str(table.get_cell_at((row, table.get_column_index(column))))


async def test_enter_opens_the_case_under_the_cursor_last_opened_first(case_root):
    app = CasePicker(case_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert [cell(app, row, "name") for row in (0, 1)] == ["beta", "alpha"]
        assert cell(app, 1, "tenants") == "example.com (2ab04f98)" and cell(app, 1, "rows") == "4,083"
        info = str(app.query_one("#case-info").render())
        assert "29 audit log records" in info and "inputs: graph_audit_query.json" in info
        await pilot.press("down")
        assert "4,083 audit log records" in str(app.query_one("#case-info").render())
        await pilot.press("enter")
    assert app.return_value == ["alpha"]


async def test_space_marks_several_cases_to_open_side_by_side_and_q_quits(case_root):
    app = CasePicker(case_root)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("space", "down", "space", "space", "space")  # beta marked; alpha marked, unmarked, marked
        assert cell(app, 0, "mark") == cell(app, 1, "mark") == "✓"
        await pilot.press("enter")
    assert app.return_value == ["beta", "alpha"]
    quitting = CasePicker(case_root)
    async with quitting.run_test(size=(80, 24)) as pilot:
        await settle(quitting, pilot)
        await pilot.press("q")
    assert quitting.return_value is None


def test_without_cases_the_workbench_says_how_to_load_one(tmp_path, capsys):
    assert main(["--case-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "no cases in" in err and "give PATH... to load one (e.g. workbench sample_logs)" in err


@pytest.mark.parametrize("size", SIZES)
def test_case_picker(snap_compare, case_root, size, monkeypatch):
    monkeypatch.chdir(case_root.parent)  # the title shows the cases folder relative to here
    async def run_before(pilot) -> None:
        await settle(pilot.app, pilot)

    def with_fixed_sizes(root: Path) -> list[dict]:  # Parquet sizes change with the schema and the writer's version
        return [case | {"size_bytes": 1_234_567} for case in summaries(root)]

    assert snap_compare(CasePicker(case_root, with_fixed_sizes), terminal_size=size, run_before=run_before)
