"""Attacker-controlled text stays inert in the table, drill-down, filter bar, header, status line and exports."""

import json

import polars as pl
import pytest

from tests.ui.conftest import settle
from tests.ui.test_flow import apply_filter, header, status
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp

MARKUP = "[bold red]x[/]"
OSC52 = "rule\x1b]52;c;ZXZpbA==\x07"
CLEAR = "Junk cleanup\x1b[2J"
AGENT = "Mozilla/5.0\rHIDDEN\u200bEND"
RECORDS = [
    {
        "Id": "11111111-0000-0000-0000-000000000001", "CreationTime": "2023-02-22T20:12:28", "Operation": "SendAs",
        "Workload": "Exchange", "RecordType": 2, "UserId": "attacker@example.net", "ClientIP": "104.161.20.102",
        "ClientInfoString": AGENT,
        "Item": {"Subject": f"RE: Wire details {MARKUP}", "ParentFolder": {"Path": "\\Sent Items"}},
    },
    {
        "Id": "11111111-0000-0000-0000-000000000002", "CreationTime": "2023-02-22T20:13:00",
        "Operation": "New-TransportRule", "Workload": "Exchange", "RecordType": 1, "UserId": "attacker@example.net",
        "ClientIP": "104.161.20.102", "ObjectId": OSC52,
        "Parameters": [{"Name": "Name", "Value": CLEAR}, {"Name": "Comments", "Value": "=HYPERLINK(\"http://x\")"}],
    },
    {
        "Id": "11111111-0000-0000-0000-000000000003", "CreationTime": "2023-02-22T20:14:00", "Operation": "FileAccessed",
        "Workload": "SharePoint", "RecordType": 6, "UserId": "@SUM(1+1)*cmd|' /C calc'!A0", "ClientIP": "104.161.20.102",
        "ObjectId": "=HYPERLINK(\"http://evil\")",
    },
]
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\u200b")


@pytest.fixture
def payload_app(tmp_path) -> WorkbenchApp:
    source = tmp_path / "payloads.jsonl"
    source.write_text("\n".join(json.dumps(record) for record in RECORDS) + "\n")
    return WorkbenchApp(CaseSet([(Case.named("payloads", tmp_path / "cases"), [source])]))


def assert_inert(text: str) -> None:
    for control in RAW_CONTROLS:
        assert control not in text, f"raw {control!r} in {text!r}"


async def test_table_and_drill_down_show_payloads_literally(payload_app):
    app = payload_app
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("d")  # the table takes the whole width
        table = app.screen.query_one("#events-table")
        lines = "\n".join(table.render_line(y).text for y in range(4))
        assert MARKUP in lines and "Name=Junk cleanup\\x1b[2J" in lines
        assert_inert(lines)

        pane = app.screen.query_one("#detail-pane").text.plain
        assert f"Subject: RE: Wire details {MARKUP}" in pane
        assert "Mozilla/5.0\\x0dHIDDEN\\u200bEND" in pane
        assert_inert(pane)
        await pilot.press("d", "down")
        await settle(app, pilot)
        pane = app.screen.query_one("#detail-pane").text.plain
        assert "Name -> Junk cleanup\\x1b[2J" in pane and "object: rule\\x1b]52;c;ZXZpbA==\\x07" in pane
        assert_inert(pane)


async def test_filter_bar_header_and_status_line_show_markup_literally(payload_app):
    app = payload_app
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(app, pilot)
        await apply_filter(pilot, f'"{MARKUP}"')
        assert app.screen.view.frame.height == 1
        assert f'filter: "{MARKUP}"' in header(app)
        await apply_filter(pilot, f'after:"{MARKUP}"')
        assert f"bad filter: after: '{MARKUP}' is not a time" in status(app)
        assert MARKUP in str(app.screen.query_one("#filter-problem").render())
        assert app.screen.query_one("#filter-input").value == f'after:"{MARKUP}"'


async def test_exports_neutralise_formulas_and_escape_controls(payload_app, tmp_path):
    app = payload_app
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("M", "e")
        app.screen.query_one("#export-path").value = str(tmp_path / "out.csv")
        await pilot.press("enter")
        await settle(app, pilot)
    text = (tmp_path / "out.csv").read_text()
    exported = pl.read_csv(tmp_path / "out.csv")
    rule = exported.filter(pl.col("operation") == "New-TransportRule").row(0, named=True)
    assert rule["object_id"] == "rule\\x1b]52;c;ZXZpbA==\\x07"
    assert rule["parameters_text"] == 'Name=Junk cleanup\\x1b[2J; Comments==HYPERLINK("http://x")'
    file = exported.filter(pl.col("operation") == "FileAccessed").row(0, named=True)
    assert file["object_id"] == "'=HYPERLINK(\"http://evil\")" and file["user_id"].startswith("'@SUM(1+1)")
    mail = exported.filter(pl.col("operation") == "SendAs").row(0, named=True)
    assert mail["summary"] == f"RE: Wire details {MARKUP}" and mail["user_agent"] == "Mozilla/5.0\\x0dHIDDEN\\u200bEND"
    assert json.loads(rule["audit_data"])["ObjectId"] == OSC52  # the raw record stays exact, as escaped JSON
    assert_inert(text.replace("\r\n", "\n"))
