"""CLI tables fit the terminal (`COLUMNS`): every line within the width, one line per row, no cell broken over
lines, the columns left out named; `--format json|csv` carry every column in full."""

import csv
import fcntl
import io
import json
import os
import pty
import re
import struct
import subprocess
import sys
import termios

import pytest
from rich.cells import cell_len

from workbench.cli import main
from workbench.core.table_fit import fit_widths

LEFT_OUT = re.compile(r"left out at (\d+) columns: (.*?) \(--format json( or csv)? shows every column\)")
ROWS_LEFT_OUT = re.compile(r"the first ([\d,]+) of ([\d,]+) rows shown \(--rows 0 shows every row, --format json( or csv)? "
                           r"lists them\)")


@pytest.fixture(scope="module")
def case_dir(tmp_path_factory, sample_logs):
    """One case of sample_logs/case-a, loaded once for the module."""
    root = tmp_path_factory.mktemp("cases")
    assert main(["info", str(sample_logs / "case-a"), "--case", "tables", "--case-dir", str(root), "--format", "json"]) == 0
    return root


def run(capsys, monkeypatch, width: int | None, *args: str) -> str:
    """stdout of `workbench ARGS` at a terminal width of `width` (None: table formats other than table)."""
    if width:
        monkeypatch.setenv("COLUMNS", str(width))
    assert main(list(args)) == 0
    return capsys.readouterr().out


def body(out: str) -> list[str]:
    """The row lines of the first table in `out`: after its heading rule, up to a blank line or a line on what is
    left out."""
    lines = out.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("─")) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip() or line.startswith(("left out at", "the first ")):
            break
        rows.append(line)
    return rows


def left_out(out: str) -> tuple[int, list[str]] | None:
    """The width and the column names of the `left out` line (which may wrap), or None."""
    found = LEFT_OUT.search(" ".join(out.split()))
    return (int(found.group(1)), found.group(2).split(", ")) if found else None


def rows_left_out(out: str) -> list[tuple[int, int]]:
    """(rows shown, rows in all) of each `the first N of M rows shown` line."""
    return [(int(shown.replace(",", "")), int(total.replace(",", "")))
            for shown, total, _csv in ROWS_LEFT_OUT.findall(" ".join(out.split()))]


def shown(value: str, line: str) -> bool:
    """`value` is on `line` whole, or cut with an ellipsis (never a piece of it without one)."""
    return value in line or any(f"{value[:cut]}…" in line for cut in range(1, len(value)))


def assert_fits(out: str, width: int) -> None:
    wide = [line for line in out.splitlines() if cell_len(line) > width]
    assert not wide, f"{len(wide)} lines wider than {width}: {wide[0]!r}"


def test_widths_keep_the_leading_columns_that_fit_and_share_the_rest():
    assert fit_widths([10, 10, 10], [30, 12, 40], 32) == [10, 10, 10]
    assert fit_widths([10, 10, 10], [30, 12, 40], 31) == [18, 12]  # the third left out; the spare shared, up to widest
    assert fit_widths([10, 10], [11, 12], 80) == [11, 12]  # never wider than the widest cell
    assert fit_widths([30], [50], 20) == [20]  # one column always, cut to the width


@pytest.mark.parametrize("width", [80, 200])
def test_hunt_table_fits_one_line_per_hit(case_dir, capsys, monkeypatch, width):
    case = ["--case", "tables", "--case-dir", str(case_dir)]
    hits = json.loads(run(capsys, monkeypatch, None, "hunt", *case, "--format", "json"))
    out = run(capsys, monkeypatch, width, "hunt", *case)
    assert_fits(out, width)
    rows = body(out)
    assert len(rows) == len(hits) > 20
    for line, hit in zip(rows, hits):
        assert line.startswith(hit["creation_time"][:10]) and line[11:16] == hit["creation_time"][11:16]
        assert shown(hit["hunt_id"], line) and shown(hit["user_id"], line) and shown(hit["operation"], line)
    if width == 80:
        assert left_out(out) == (80, ["client IP", "technique", "why", "title", "record"])
        assert any("…" in line for line in rows)
    else:
        assert left_out(out) is None
        assert all(shown(hit["client_ip"], line) for line, hit in zip(rows, hits) if hit["client_ip"])  # IPv6 cut


def test_tables_show_their_first_rows_and_count_the_rest(case_dir, capsys, monkeypatch):
    """A table shows its first `--rows` rows (1,000 by default; 0: every row) and says how many it left out; JSON
    lists every row."""
    hunt = ["hunt", "--case", "tables", "--case-dir", str(case_dir)]
    hits = json.loads(run(capsys, monkeypatch, 200, *hunt, "--format", "json"))
    assert 5 < len(hits) < 1_000
    whole = run(capsys, monkeypatch, 200, *hunt)
    assert len(body(whole)) == len(hits) and rows_left_out(whole) == []
    assert run(capsys, monkeypatch, 200, *hunt, "--rows", "0") == whole
    first = run(capsys, monkeypatch, 200, *hunt, "--rows", "5")
    assert body(first) == body(whole)[:5] and rows_left_out(first) == [(5, len(hits))]

    sql = ["sql", "--case", "tables", "--case-dir", str(case_dir), "SELECT record_id FROM events ORDER BY record_id LIMIT 1200"]
    out = run(capsys, monkeypatch, 80, *sql, "--rows", "3")
    ids = [line.strip() for line in body(out)]
    assert ids == [row["record_id"] for row in json.loads(run(capsys, monkeypatch, 80, *sql, "--format", "json"))[:3]]
    assert rows_left_out(out) == [(3, 1_200)]
    default = run(capsys, monkeypatch, 80, *sql)
    assert len(body(default)) == 1_000 and rows_left_out(default) == [(1_000, 1_200)]


@pytest.mark.parametrize("rows", ["-1", "x", "1.5"])
def test_rows_must_be_a_count(case_dir, capsys, rows):
    with pytest.raises(SystemExit) as exited:
        main(["hunt", "--case", "tables", "--case-dir", str(case_dir), "--rows", rows])
    assert exited.value.code == 2 and "is not a number of rows" in capsys.readouterr().err


def test_hunt_json_and_csv_carry_full_values(case_dir, capsys, monkeypatch):
    case = ["--case", "tables", "--case-dir", str(case_dir)]
    hits = json.loads(run(capsys, monkeypatch, 80, "hunt", *case, "--format", "json"))
    rows = list(csv.DictReader(io.StringIO(run(capsys, monkeypatch, 80, "hunt", *case, "--format", "csv"))))
    assert [row["hunt_id"] for row in rows] == [hit["hunt_id"] for hit in hits]
    assert "persistence_aad_account_created_then_admin" in {hit["hunt_id"] for hit in hits}
    assert all("…" not in row["title"] and row["record_id"] and row["client_ip"] is not None for row in rows)
    assert {"title", "record_id", "client_ip", "technique_id"} <= set(rows[0])


def test_ioc_table_fits_and_csv_has_every_column(case_dir, capsys, monkeypatch, tmp_path):
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("185.241.149.122\n104.161.20.102\n")
    args = ["ioc", "--case", "tables", "--case-dir", str(case_dir), "--iocs", str(iocs)]
    out = run(capsys, monkeypatch, 80, *args)
    assert_fits(out, 80)
    matches = list(csv.DictReader(io.StringIO(run(capsys, monkeypatch, 80, *args, "--format", "csv"))))
    rows = body(out)
    assert len(rows) == len(matches) > 0
    assert all(shown(match["user_id"], line) and match["indicator"] in line for line, match in zip(rows, matches))
    assert left_out(out) == (80, ["client IP", "type", "case", "matched", "record"])
    assert {"client_ip", "type", "case", "matched", "record_id"} <= set(matches[0])
    wide = run(capsys, monkeypatch, 200, *args)
    assert_fits(wide, 200)
    assert left_out(wide) is None and len(body(wide)) == len(matches)


def test_sql_result_fits_and_json_is_whole(case_dir, capsys, monkeypatch):
    query = ("SELECT creation_time, user_id, operation, client_ip, user_agent, record_id FROM events "
             "WHERE user_agent LIKE 'Mozilla%' ORDER BY creation_time, record_id LIMIT 20")
    args = ["sql", "--case", "tables", "--case-dir", str(case_dir), query]
    out = run(capsys, monkeypatch, 80, *args)
    assert_fits(out, 80)
    records = json.loads(run(capsys, monkeypatch, 80, *args, "--format", "json"))
    rows = body(out)
    assert len(rows) == len(records) == 20
    assert left_out(out) == (80, ["record_id"])
    for line, record in zip(rows, records):
        assert line.startswith(record["creation_time"][:19].replace("T", " "))  # times are never cut
        assert shown(record["user_agent"], line) and "…" in line  # agents are longer than their column
    assert all(len(record["user_agent"]) > 40 and record["record_id"] for record in records)


def test_cases_table_names_what_it_leaves_out(case_dir, capsys, monkeypatch):
    out = run(capsys, monkeypatch, 80, "cases", "--case-dir", str(case_dir))
    assert_fits(out, 80)
    assert len(body(out)) == 1 and body(out)[0].startswith("tables")
    width, names = left_out(out)
    assert width == 80 and names[-2:] == ["rejected", "created"] and "name" not in names
    listed = list(csv.DictReader(io.StringIO(run(capsys, monkeypatch, 80, "cases", "--case-dir", str(case_dir),
                                                 "--format", "csv"))))
    assert listed[0]["inputs"].endswith("case-a") and listed[0]["created"]


@pytest.mark.parametrize("width", [80, 200])
def test_matrix_fits_and_has_json_and_csv(case_dir, capsys, monkeypatch, width):
    case = ["--case", "tables", "--case-dir", str(case_dir)]
    out = run(capsys, monkeypatch, width, "matrix", *case)
    assert_fits(out, width)
    cells = json.loads(run(capsys, monkeypatch, width, "matrix", *case, "--format", "json"))
    assert {"tactic_id", "tactic", "technique_id", "technique", "hits", "severity", "has_hunt", "hunt_ids"} <= set(cells[0])
    hit = next(cell for cell in cells if cell["technique_id"] == "T1078.004" and cell["hits"])
    assert hit["tactic"] == "Initial Access" and hit["hunt_ids"]
    if width == 80:  # a list of techniques, one line each
        rows = body(out)
        assert len(rows) == len(cells)
        assert all(line[21:].startswith(cell["technique_id"]) for line, cell in zip(rows, cells))
    else:  # the grid: cells wrap between words, never inside one
        words = {word for cell in cells for word in f"{cell['technique_id']} {cell['name']} ({cell['hits']})".split()}
        grid = [line for line in out.splitlines() if line.startswith("│")]
        assert {word for line in grid for word in re.split(r"[│\s]+", line) if word} <= words
    table = list(csv.DictReader(io.StringIO(run(capsys, monkeypatch, width, "matrix", *case, "--format", "csv"))))
    assert [row["technique_id"] for row in table] == [cell["technique_id"] for cell in cells]


def test_timeline_first_seen_tables_fit(case_dir, capsys, monkeypatch):
    args = ["timeline", "--case", "tables", "--case-dir", str(case_dir), "--user", "CompromisedAdmin@example.com"]
    out = run(capsys, monkeypatch, 80, *args)
    assert_fits(out, 80)
    record = json.loads(run(capsys, monkeypatch, 80, *args, "--format", "json"))
    agents = record["first_seen"]["user_agents"]
    section = out[out.index("first-seen user agents"):]
    assert all(shown(agent["value"], line) for agent, line in zip(agents, body(section)))
    narrow = run(capsys, monkeypatch, 50, *args)
    assert_fits(narrow, 50)
    assert left_out(narrow) == (50, ["last seen (UTC)"])


def test_table_cells_stay_inert_text(tmp_path, capsys, monkeypatch):
    log = tmp_path / "markup.jsonl"
    user = "[bold red]boss[/bold red]\x1b[2J@example.com"
    log.write_text(json.dumps({"Id": "m1", "CreationTime": "2023-02-22T20:12:28", "Operation": "UserLoggedIn",
                               "Workload": "AzureActiveDirectory", "RecordType": 15, "UserId": user,
                               "ClientIP": "104.161.20.102"}) + "\n", encoding="utf-8")
    out = run(capsys, monkeypatch, 200, "sql", str(log), "--case-dir", str(tmp_path / "cases"),
              "SELECT user_id, operation FROM events")
    assert "[bold red]boss[/bold red]\\x1b[2J@example.com" in out and "\x1b" not in out


def test_piped_from_a_terminal_the_table_fits_that_terminal(case_dir):
    """`workbench hunt | less`: stdout is a pipe, but stdin is the user's terminal, whose width the table takes."""
    main_side, terminal_side = pty.openpty()
    fcntl.ioctl(terminal_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    environment = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    try:
        piped = subprocess.run([sys.executable, "-m", "workbench", "hunt", "--case", "tables", "--case-dir", str(case_dir)],
                               stdin=terminal_side, capture_output=True, text=True, env=environment, timeout=120)
    finally:
        os.close(terminal_side)
        os.close(main_side)
    assert piped.returncode == 0, piped.stderr
    assert_fits(piped.stdout, 60)
    assert left_out(piped.stdout)[0] == 60
    alone = subprocess.run([sys.executable, "-m", "workbench", "hunt", "--case", "tables", "--case-dir", str(case_dir)],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, env=environment, timeout=120)
    assert alone.returncode == 0 and left_out(alone.stdout) is None  # no terminal at all: 200 columns, all shown
