"""Sigma hits in the TUI's matrix mode: with `sigma_dirs` in the config, the matrix and the hunts list show the Sigma
rules' hits like native hunts, marked as Sigma (title, rule id in the runbook, level as severity), and a rule without
ATT&CK tags in the Unmapped column, whose cell opens its events."""

import json

from tests.test_sigma import AUDIT, DIRECTORY, RULE, RULES, SIGN_INS
from tests.ui.conftest import settle
from tests.ui.view_app import ViewApp, case_loaded
from workbench.core.case import Case
from workbench.ui.screens.matrix import MatrixScreen
from workbench.ui.widgets.attack_matrix import AttackMatrix
from workbench.ui.widgets.hunt_list import HuntList


def loaded_case(tmp_path) -> Case:
    for name, records in (("ual.jsonl", AUDIT), ("signins.jsonl", SIGN_INS), ("audits.jsonl", DIRECTORY)):
        (tmp_path / name).write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    case = Case(tmp_path / "case")
    case.load([tmp_path / "ual.jsonl", tmp_path / "signins.jsonl", tmp_path / "audits.jsonl"])
    return case


async def test_sigma_hits_show_in_the_matrix_and_the_hunts_list_marked_as_sigma(tmp_path):
    app = ViewApp(case_loaded(loaded_case(tmp_path)), MatrixScreen, config={"sigma_dirs": [str(RULES)]})
    async with app.run_test(size=(120, 30)) as pilot:
        for _ in range(20):  # the first read of the rules imports pySigma: wait for the matrix worker to finish
            await settle(app, pilot)
            if "events hit" in str(app.screen.query_one("#matrix-status").render()):
                break
        matrix = app.screen.query_one(AttackMatrix)
        columns = {column.tactic.name: column for column in matrix.columns}
        assert [cell.hunt_ids for cell in columns["Unmapped"].cells] == [(RULE.format(4),)]
        matrix.move_to(len(matrix.columns) - 1, 0)
        await pilot.press("enter")
        title, record_ids = app.opened[-1]
        assert title.startswith("Unmapped › unmapped") and sorted(record_ids) == ["e-kit", "e-kit2"]

        await pilot.press("h")
        hunt_list = app.screen.query_one(HuntList)
        sigma = {hunt.id: index for index, hunt in enumerate(hunt_list.hunts) if hunt.id.startswith("sigma_")}
        assert len(sigma) == 8
        row = sigma[RULE.format(2)]
        assert str(hunt_list.get_cell_at((row, 0))).strip() == "3"  # events hit
        assert str(hunt_list.get_cell_at((row, 1))) == "medium"
        assert str(hunt_list.get_cell_at((row, 2))) == "Sigma: Exchange change by an admin account or from the partner network"
        hunt_list.move_cursor(row=row)
        await pilot.pause()
        detail = str(app.screen.query_one("#hunt-detail").render())
        assert "Sigma rule 3f0c5a1e-0d61-4d7e-9a39-1b7c2f6a0002 (test)" in detail.replace("\n", " ")
