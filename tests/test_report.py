"""The incident report: marked events under their ATT&CK techniques in matrix order, notes, enrichment,
indicators and queries, as Markdown and as one self-contained HTML file (golden files), log text inert.

Regenerate the golden files after a deliberate change with `UPDATE_GOLDEN=1 pytest tests/test_report.py`
and read the diff before committing it.
"""

import os
import re
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

import hunts
from hunts.engine import HIT_SCHEMA
from workbench.cli import main
from workbench.core.case import Case
from workbench.core.cases import plan_case_set
from workbench.core.report import OTHER_EVIDENCE, build_report
from workbench.core.report_format import to_html, to_markdown

GOLDEN = Path(__file__).parent / "golden"
BENIGN_RULE = "ff5e3101-1186-4c3d-be65-9fa367da343d"  # ITAdmin's "External sender warning" rule
GOLDEN_MARKS = {
    "0f916d11-c5dd-4f2d-8496-4526d3d06dc4": ("T1136.003", "TA0003"),  # Add user.
    "bdabc258-b1e7-48ef-a596-3d5ff3e7e046": ("T1098", "TA0003"),  # MFA phone replaced
    "54b73f0b-d878-4134-9f47-c7a46b57800a": ("T1562.001", "TA0005"),  # spoof allow item
    "7ff2efba-7f85-4a98-b6e7-4f006c778889": ("T1070.008", "TA0005"),  # delete-in-transport rule
    "2ce213f9-a3c2-4cce-aa58-522657e712d3": ("T1114.002", "TA0009"),  # SendAs
}
NAMES = {"TA0003": "Persistence", "TA0005": "Defense Evasion", "TA0009": "Collection",
         "T1136.003": "Create Account: Cloud Account", "T1098": "Account Manipulation",
         "T1562.001": "Impair Defenses (T1562.001)", "T1070.008": "Indicator Removal: Clear Mailbox Data",
         "T1114.002": "Email Collection: Remote Email Collection"}


def planted_case_a(sample_logs: Path) -> dict[str, list[str]]:
    """Record id -> ATT&CK techniques of every planted case-a step, read from the sample README."""
    rows = [line.split("|") for line in (sample_logs / "README.md").read_text().splitlines() if line.startswith("| case-a | 20")]
    return {row[3].strip(): [t.strip() for t in row[7].split(",")] for row in rows
            if row[7].strip().startswith("T") and row[9].strip() != "no"}  # `hunted` no: no hunt gives it that technique


@pytest.fixture(scope="module")
def case_a(tmp_path_factory, sample_logs):
    root = tmp_path_factory.mktemp("report-cases")
    cases = plan_case_set([sample_logs / "case-a"], ["report-a"], case_dir=root)
    cases.open()
    return cases.cases[0], cases.activity()


def test_every_marked_event_is_under_its_technique(case_a, sample_logs):
    case, events = case_a
    planted = planted_case_a(sample_logs)
    assert len(planted) == 46  # 41 before the exposure story (issue 17): 5 more reads the hunts flag
    report = build_report(case.name, events, {*planted, BENIGN_RULE}, hunts.hunt_hits(events, hunts.load_hunts()))
    placed: dict[str, set[str]] = {}
    for tactic in report.tactics:
        for technique in tactic.techniques:
            for event in technique.events:
                placed.setdefault(event.record_id, set()).add(technique.id)
    for record_id, techniques in planted.items():
        assert set(techniques) <= placed[record_id], record_id
    assert [event.record_id for event in report.other] == [BENIGN_RULE]
    order = [tactic.id for tactic in report.tactics]
    assert order == sorted(order, key=[t.id for t in hunts.attack.tactics()].index)
    markdown = to_markdown(report)
    for record_id, techniques in planted.items():
        for technique in techniques:
            section = re.search(rf"^### [^\n]*\({re.escape(technique)}\)\n(.*?)(?=^##)", markdown, re.M | re.S).group(1)
            assert record_id in section, (record_id, technique)
    assert BENIGN_RULE in markdown.split(f"## {OTHER_EVIDENCE}")[1].split("## ")[0]


def fixed_hits() -> pl.DataFrame:
    """Hits as the hunt pack gives them for the golden marks (one per event, every technique listed), fixed so the
    golden files test the layout only."""
    def pair(technique: str, tactic: str) -> dict:
        return {"tactic_id": tactic, "tactic": NAMES[tactic], "technique_id": technique, "technique": NAMES[technique],
                "matrix_technique_id": "T1562" if technique == "T1562.001" else technique}

    forwarding = {"tactic_id": "TA0009", "tactic": "Collection", "technique_id": "T1114.003",
                  "technique": "Email Collection: Email Forwarding Rule", "matrix_technique_id": "T1114.003"}
    rows = []
    for index, (rid, (technique, tactic)) in enumerate(GOLDEN_MARKS.items()):
        first = pair(technique, tactic)
        rows.append({"record_id": rid, **first, "techniques": [first, forwarding] if index == 3 else [first]})
    return pl.DataFrame([{name: row.get(name) for name in HIT_SCHEMA} for row in rows], schema=HIT_SCHEMA)


def golden_report(events: pl.DataFrame):
    enrichment = pl.DataFrame({
        "ip": ["104.161.20.102", "192.0.2.250"], "asn": [53755, 64496], "as_name": ["IOFLOOD", "TEST"],
        "org": ["IOFLOOD, LLC", "Test"], "country": ["US", "ZZ"], "abuse_score": [7, 0],
        "hosting": [True, False], "reasons": [["asn:IOFLOOD dedicated hosting"], []],
    })
    correlation = pl.DataFrame({"kind": ["ip", "allow_list"], "value": ["104.161.20.102", "botasso.cl"],
                                "cases": [["case-a", "case-b"], ["case-a", "case-b"]]})
    notes = {"54b73f0b-d878-4134-9f47-c7a46b57800a": "botasso.cl | allowed <script>alert(1)</script> `x` \x1b[2J",
             BENIGN_RULE: "benign *look-alike* kept for contrast"}
    tags = {"54b73f0b-d878-4134-9f47-c7a46b57800a": ["allow-list", "[bold]x[/]"]}
    queries = ["SELECT creation_time, user_id, operation FROM xdr_identity_o365\nWHERE operation LIKE '%Spoof%'",
               "SELECT '```' AS fence, '<b>' AS tag"]
    return build_report("report-a", events, {*GOLDEN_MARKS, BENIGN_RULE}, fixed_hits(), notes=notes, tags=tags,
                        enrichment=enrichment, correlation=correlation, queries=queries, generated="2023-02-24 18:00 UTC")


@pytest.mark.parametrize("name, render", [("report.md", to_markdown), ("report.html", to_html)])
def test_golden_files(case_a, name, render):
    _case, events = case_a
    text = render(golden_report(events))
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8", newline="\n")
    assert text == path.read_text(encoding="utf-8")


def test_html_is_self_contained_and_inert(case_a):
    text = to_html(golden_report(case_a[1]))
    assert "<script" not in text and "&lt;script&gt;" in text
    assert not re.search(r"(src|href)\s*=|@import|url\(", text)
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert text.index("<h2>Persistence: TA0003</h2>") < text.index("<h2>Defense Evasion: TA0005</h2>") < text.index(
        "<h2>Collection: TA0009</h2>") < text.index(f"<h2>{OTHER_EVIDENCE}</h2>")


def test_markdown_escapes_pipes_backticks_and_controls(case_a):
    text = to_markdown(golden_report(case_a[1]))
    note = next(line for line in text.splitlines() if "botasso.cl \\|" in line)
    assert "\\`x\\`" in note and "\\<script\\>" in note and "\\\\x1b\\[2J" in note and "\x1b" not in text
    assert "````sql\nSELECT '```' AS fence" in text  # a fence longer than any backtick run in the query
    assert "Impair Defenses (T1562.001)\n" in text and "(T1562.001) (T1562.001)" not in text


def test_report_first_and_last_activity_per_account(case_a):
    report = golden_report(case_a[1])
    accounts = {row["user"]: (row["first"], row["last"], row["events"]) for row in report.accounts}
    assert accounts["CompromisedAdmin@example.com"] == (
        datetime(2023, 2, 20, 15, 40, tzinfo=timezone.utc), datetime(2023, 2, 22, 16, 16, 54, tzinfo=timezone.utc), 3)
    assert accounts["admin@example.onmicrosoft.com"][2] == 2


def test_cli_writes_html_and_markdown(tmp_path, sample_logs, capsys):
    case_dir = tmp_path / "cases"
    assert main(["info", str(sample_logs / "case-a"), "--case", "cli-a", "--case-dir", str(case_dir)]) == 0
    case = Case.named("cli-a", case_dir)
    case.store.set_marks(list(GOLDEN_MARKS), True)
    case.store.add_query_history("SELECT audit_data FROM events WHERE record_id = 'one-off'")  # not saved: left out
    case.store.save_query("spoof allow-list", "SELECT count(*) FROM events")
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("botasso.cl\n185.241.149[.]122\n")
    for suffix in ("html", "md"):
        out = tmp_path / f"report.{suffix}"
        assert main(["report", "--case", "cli-a", "--case-dir", str(case_dir), "-o", str(out), "--iocs", str(iocs)]) == 0
        text = out.read_text()
        assert all(record_id in text for record_id in GOLDEN_MARKS) and "SELECT count(*) FROM events" in text
        assert "spoof allow-list" in text and "one-off" not in text
        assert "IOC matches" in text and "185.241.149.122" in text
    assert main(["info", str(sample_logs / "case-b"), "--case", "cli-b", "--case-dir", str(case_dir)]) == 0
    compared = tmp_path / "compared.md"
    assert main(["report", "--case", "cli-a", "--compare-case", "cli-b", "--case-dir", str(case_dir), "-o", str(compared)]) == 0
    assert "| ip | 104.161.20.102 | 1 | cli-a, cli-b |" in compared.read_text()
    assert main(["report", "--case", "cli-a", "--case-dir", str(case_dir), "-o", str(tmp_path / "r.pdf")]) == 2
    assert main(["report", "--case", "nope", "--case-dir", str(case_dir), "-o", str(tmp_path / "r.md")]) == 2
    assert ".md or .html" in capsys.readouterr().err


ANALYST_HUNT = '''title = "Analyst: transport rules by the IT admin"
description = "Every transport rule ITAdmin wrote, while the case decides which are the attacker's."
severity = "low"
attack = ["Defense Evasion:T1564.008"]
runbook = "Compare with the rules the client's IT team expects."
fields = ["user_id", "object_id"]
references = ["https://attack.mitre.org/techniques/T1564/008/"]

[condition]
operations = ["New-TransportRule"]

[[tests]]
name = "a transport rule"
expect = ["a"]
records = [{ Id = "a", Operation = "New-TransportRule", UserId = "ITAdmin@example.com" }]
'''


def test_the_report_hunts_with_the_analysts_own_hunts(tmp_path, sample_logs):
    case_dir, hunt_dir = tmp_path / "cases", tmp_path / "my-hunts"
    hunt_dir.mkdir()
    (hunt_dir / "analyst_transport_rules.toml").write_text(ANALYST_HUNT)
    assert main(["info", str(sample_logs / "case-a"), "--case", "own", "--case-dir", str(case_dir)]) == 0
    Case.named("own", case_dir).store.set_marks([BENIGN_RULE], True)
    bundled, own = tmp_path / "bundled.md", tmp_path / "own.md"
    assert main(["report", "--case", "own", "--case-dir", str(case_dir), "-o", str(bundled)]) == 0
    assert main(["report", "--case", "own", "--case-dir", str(case_dir), "-o", str(own), "--hunts", str(hunt_dir)]) == 0
    assert "Marked events no hunt maps to a technique: 1" in bundled.read_text()
    text = own.read_text()
    assert "no hunt maps" not in text and "(T1564.008)" in text
    assert text.index("(T1564.008)") < text.index(BENIGN_RULE)


def test_a_case_of_two_tenants_names_them_by_domain_in_the_report(tmp_path, sample_logs):
    case_dir, out = tmp_path / "cases", tmp_path / "both.md"
    assert main(["info", str(sample_logs), "--case", "both", "--case-dir", str(case_dir)]) == 0
    Case.named("both", case_dir).store.set_marks(["54b73f0b-d878-4134-9f47-c7a46b57800a"], True)  # spoof allow item
    assert main(["report", "--case", "both", "--case-dir", str(case_dir), "-o", str(out)]) == 0
    text = out.read_text()
    assert "| ip | 104.161.20.102 | 1 | example.com (2ab04f98), example.net (e5da9a31) |" in text
    assert "2ab04f98-6e9a" not in text
