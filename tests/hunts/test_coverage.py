"""The coverage of the public rule sets (issue 16 item 2): every hunt a coverage table names exists, every table's
total line counts its rows, every file's grand total adds its tables up, and the pack covers >= 90 %."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: The coverage files checked.
COVERAGE_FILES = [ROOT / "hunts" / "COVERAGE.md"]
HUNT_IDS = {path.stem for path in (ROOT / "hunts" / "rules").glob("*.toml")}
TACTICS = ("collection", "credential", "defense", "discovery", "execution", "exfiltration", "impact", "initial",
           "lateral", "persistence", "privilege", "reconnaissance", "resource", "command")
HUNT_ID = re.compile(r"\b(?:" + "|".join(TACTICS) + r")_[a-z0-9]+(?:_[a-z0-9]+)+\b")
TOTAL = re.compile(r"applicable\D*?(\d+)\D+?covered\D*?(\d+)\D*?\((\d+(?:\.\d+)?)\s*%\)", re.IGNORECASE)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def parse(text: str) -> tuple[list[dict], list[tuple[int, int, float]]]:
    """The tables of a coverage file (rows: hunt ids named, applicable, covered; and their total line) and the
    total lines that close no table (grand totals)."""
    tables, grand, current = [], [], None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|"):
            cells = _cells(stripped)
            if set("".join(cells)) <= set("-: ") or cells[1].lower() in ("applicable", "applicable?"):
                continue  # separator or header row
            if current is None or current["total"] is not None:
                current = {"rows": [], "total": None}
                tables.append(current)
            note = cells[2] if len(cells) > 2 else ""
            ids = HUNT_ID.findall(note)
            applicable = cells[1].lower().startswith("yes")
            covered = applicable and bool(ids) and not note.lower().startswith(("not covered", "no"))
            current["rows"].append({"ids": ids, "applicable": applicable, "covered": covered, "text": stripped})
        elif (found := TOTAL.search(stripped)) is not None:
            numbers = (int(found[1]), int(found[2]), float(found[3]))
            if current is not None and current["total"] is None:
                current["total"] = numbers
            else:
                grand.append(numbers)
        elif stripped and current is not None and current["total"] is None and not stripped.startswith("|"):
            current["total"] = ()  # prose after a table without a total line: a table with no total
    return tables, grand


@pytest.fixture(scope="module", params=COVERAGE_FILES, ids=lambda path: path.name)
def coverage(request) -> tuple[Path, list[dict], list[tuple[int, int, float]]]:
    path = request.param
    return (path, *parse(path.read_text(encoding="utf-8")))


def test_every_named_hunt_exists(coverage):
    path, tables, _ = coverage
    named = {hunt for table in tables for row in table["rows"] for hunt in row["ids"]}
    assert named, f"{path.name} names no hunt"
    assert sorted(named - HUNT_IDS) == []


def test_every_table_has_a_total_that_counts_its_rows(coverage):
    path, tables, _ = coverage
    assert tables, f"{path.name} has no table"
    for table in tables:
        assert table["total"], f"{path.name}: the table starting {table['rows'][0]['text'][:60]!r} has no total line"
        applicable = sum(row["applicable"] for row in table["rows"])
        covered = sum(row["covered"] for row in table["rows"])
        stated_applicable, stated_covered, percent = table["total"]
        assert (stated_applicable, stated_covered) == (applicable, covered), table["rows"][0]["text"][:60]
        assert percent == pytest.approx(100 * covered / applicable if applicable else 0, abs=0.5)


def test_grand_totals_add_the_tables_up_and_reach_ninety_percent(coverage):
    path, tables, grand = coverage
    applicable = sum(table["total"][0] for table in tables)
    covered = sum(table["total"][1] for table in tables)
    for stated_applicable, stated_covered, percent in grand:
        assert (stated_applicable, stated_covered) == (applicable, covered), path.name
        assert percent == pytest.approx(100 * covered / applicable, abs=0.5)
    assert covered >= 0.9 * applicable, f"{path.name}: {covered} of {applicable} applicable rules covered"


def test_the_parser_counts_rows_and_refuses_a_wrong_total():
    text = """
| Rule | Applicable | Covered by |
|---|---|---|
| a | yes | `defense_exo_audit_bypass` |
| b | yes | not covered: needs data no export has |
| c | no: vendor alert | - |

**Total: applicable 2, covered 1 (50 %)**
"""
    tables, grand = parse(text)
    assert [(row["applicable"], row["covered"]) for row in tables[0]["rows"]] == [(True, True), (True, False), (False, False)]
    assert tables[0]["total"] == (2, 1, 50.0) and grand == []
    wrong, _ = parse(text.replace("covered 1 (50 %)", "covered 2 (100 %)"))
    assert wrong[0]["total"] != (2, 1, 50.0)
