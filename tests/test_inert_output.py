"""Every command, in every format, on a hostile corpus: nothing raw reaches the terminal, and files keep the data.

The corpus puts escape sequences (clear screen, OSC 52 clipboard), BEL, C1 controls (U+009B is a CSI on its
own), bidi overrides, NUL and carriage returns into user ids, operations, rule names, subjects, user agents,
the input file's own name, the IOC file and an enrichment server's error text.
"""

import csv
import json
import os
import pty
import re
import subprocess
import sys

import pytest

from tests.ui.ip_fakes import Reply, fake_services, offline_host  # noqa: F401 (fixtures)
from workbench.cli import command_names
from workbench.cli import main as workbench
from workbench.core.inert import dumps, visible

#: What must never reach a terminal raw: C0 controls but newline, DEL, C1, bidi embeddings, overrides, isolates.
RAW = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
CLEAR = "\x1b[2J\x1b[H"
OSC52 = "\x1b]52;c;ZXZpbA==\x07"
C1 = "\x9b31m"
BIDI = "\u202egnp.exe"
USER = f"attacker{BIDI}@example.net"
AGENT = f"Mozilla/5.0\rHIDDEN {C1}"
RULE = f"Junk{CLEAR}{OSC52}"
RECORDS = [
    {"Id": "r1", "CreationTime": "2023-02-22T20:12:28", "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory",
     "RecordType": 15, "UserId": USER, "ClientIP": "104.161.20.102",
     "ExtendedProperties": [{"Name": "UserAgent", "Value": AGENT}]},
    {"Id": "r2", "CreationTime": "2023-02-22T20:13:00", "Operation": f"New-InboxRule{C1}", "Workload": "Exchange",
     "RecordType": 1, "UserId": USER, "ClientIP": "104.161.20.102", "ObjectId": RULE,
     "Parameters": [{"Name": "Name", "Value": RULE}, {"Name": "DeleteMessage", "Value": "True"},
                    {"Name": "SubjectContainsWords", "Value": "invoice\x00"}]},
    {"Id": "r3", "CreationTime": "2023-02-22T20:14:00", "Operation": "SendAs", "Workload": "Exchange", "RecordType": 2,
     "UserId": USER, "ClientIP": "185.241.149.122", "ClientInfoString": AGENT,
     "Item": {"Subject": f"RE: Wire {OSC52}{BIDI}", "ParentFolder": {"Path": "\\Sent Items"}}},
]
#: Commands that print (the TUI's `open` is checked by tests/ui/test_inert.py).
PRINTING = {"correlate", "enrich", "export", "hunt", "info", "ioc", "matrix", "report", "sql", "timeline", "cases",
            "exposure", "publish", "sweep"}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    log = folder / f"export{CLEAR}{BIDI}.jsonl"
    log.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in RECORDS), encoding="utf-8")
    iocs = tmp_path / "iocs.txt"
    iocs.write_text(f"104.161.20.102\nnever{OSC52}seen.example\n{USER}\n", encoding="utf-8")
    return log, iocs, tmp_path / "cases"


def run(capsys, *args: str) -> tuple[int, str]:
    """Run a command; CSV (which has no escapes of its own, so a pipe gets the exact data) as if to a terminal."""
    terminal = "csv" in args and "--format" in args
    original = sys.stdout.isatty
    sys.stdout.isatty = (lambda: True) if terminal else original
    try:
        status = workbench(list(args))
    finally:
        sys.stdout.isatty = original
    out, err = capsys.readouterr()
    return status, out + err


def assert_inert(text: str, what: str) -> None:
    found = RAW.search(text)
    assert found is None, f"{what}: raw {found.group()!r} at {found.start()}: {text[max(0, found.start() - 60):found.start() + 20]!r}"


def test_every_printing_command_is_covered():
    assert set(command_names()) - {"open"} == PRINTING


def test_no_command_prints_raw_control_or_bidi_characters(corpus, capsys, tmp_path):
    log, iocs, cases = corpus
    case = ["--case", "hostile", "--case-dir", str(cases)]
    runs = {
        "info": [[str(log), *case, "--format", fmt] for fmt in ("table", "json")],
        "hunt": [[str(log), *case, "--format", fmt] for fmt in ("table", "json", "csv")],
        "matrix": [[str(log), *case, "--navigator", str(tmp_path / f"layer{BIDI}.json"), "--format", fmt]
                   for fmt in ("table", "json", "csv")],
        "sql": [[str(log), *case, "SELECT user_id, operation, object_id, user_agent, parameters, item FROM events",
                 "--format", fmt] for fmt in ("table", "json", "csv")],
        "enrich": [[str(log), *case, "--offline", "--format", fmt] for fmt in ("table", "json", "csv")],
        "correlate": [[str(log), str(log.with_name("other.jsonl")), "--case-dir", str(cases), "--format", fmt]
                      for fmt in ("table", "json", "csv")],
        "timeline": [[str(log), *case, "--user", USER, "--format", fmt] for fmt in ("table", "json")],
        "ioc": [[str(log), *case, "--iocs", str(iocs), "--format", fmt] for fmt in ("table", "json", "csv")],
        "export": [["--case", "hostile", "--case-dir", str(cases), "-o", str(tmp_path / f"out{OSC52}.csv")]],
        "report": [["--case", "hostile", "--case-dir", str(cases), "-o", str(tmp_path / f"report{CLEAR}.md")]],
        "cases": [["--case-dir", str(cases), "--format", fmt] for fmt in ("table", "json", "csv")],
        "exposure": [[str(log), *case, "--attacker-ip", "185.241.149.122", "--format", fmt]
                     for fmt in ("table", "json", "csv")],
        "publish": [[*case, "--tenant", "hostile-tenant", str(tmp_path / f"store{CLEAR}")]],
        "sweep": [[str(tmp_path / f"store{CLEAR}"), "--iocs", str(iocs), "-o", str(tmp_path / f"sweep{OSC52}"),
                   "--format", fmt] for fmt in ("table", "json")],
    }
    log.with_name("other.jsonl").write_text(json.dumps({**RECORDS[0], "Id": "o1"}, ensure_ascii=False) + "\n")
    assert set(runs) == PRINTING
    for command, argument_lists in runs.items():
        for arguments in argument_lists:
            status, text = run(capsys, command, *arguments)
            assert status == 0, (command, arguments, text)
            assert_inert(text, f"{command} {' '.join(arguments[-2:])}")
    status, text = run(capsys, "info", str(tmp_path / f"missing{OSC52}.jsonl"))  # error lines name files inertly
    assert status == 2 and "missing\\x1b]52" in text
    assert_inert(text, "error line")
    status, text = run(capsys, "sql", "--case", "hostile", "--case-dir", str(cases), f"SELECT 1 {CLEAR}")
    assert status == 2 and "\\x1b[2J" in text  # the query quoted in the error, escaped
    assert_inert(text, "sql error")


def test_csv_to_a_terminal_is_shown_escaped_and_to_a_file_kept_exact(corpus, capsys, tmp_path):
    log, _iocs, cases = corpus
    query = "SELECT record_id, user_id, object_id, user_agent FROM events ORDER BY record_id"
    args = ["sql", str(log), "--case", "hostile", "--case-dir", str(cases), query, "--format", "csv"]
    status, text = run(capsys, *args)
    assert status == 0 and "\\x1b[2J" in text and "\\u202e" in text
    assert_inert(text, "csv to a terminal")
    out = tmp_path / "result.csv"
    assert workbench([*args, "-o", str(out)]) == 0
    capsys.readouterr()
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [row["user_id"] for row in rows] == [USER] * 3
    assert rows[1]["object_id"] == RULE
    assert rows[0]["user_agent"] == AGENT


def test_json_keeps_the_data_exactly_with_every_dangerous_character_escaped(corpus, capsys, tmp_path):
    log, _iocs, cases = corpus
    query = "SELECT record_id, user_id, object_id, user_agent FROM events ORDER BY record_id"
    base = ["sql", str(log), "--case", "hostile", "--case-dir", str(cases), query]
    for args in ([*base, "--format", "json"], [*base, "-o", str(tmp_path / "result.json")],
                 [*base, "-o", str(tmp_path / "result.jsonl")]):
        status, text = run(capsys, *args)
        assert status == 0
        assert_inert(text, " ".join(args[-2:]))
    for text in (workbench_json(capsys, [*base, "--format", "json"]),
                 (tmp_path / "result.json").read_text(encoding="utf-8")):
        assert_inert(text, "json")
        rows = json.loads(text)
        assert [row["user_id"] for row in rows] == [USER] * 3 and rows[1]["object_id"] == RULE
        assert rows[0]["user_agent"] == AGENT
    lines = (tmp_path / "result.jsonl").read_text(encoding="utf-8")
    assert_inert(lines, "jsonl")
    assert [json.loads(line)["user_id"] for line in lines.splitlines()] == [USER] * 3


def workbench_json(capsys, args: list[str]) -> str:
    assert workbench(args) == 0
    return capsys.readouterr().out


def test_a_servers_error_text_is_shown_inert(corpus, capsys, fake_services, tmp_path):  # noqa: F811
    log, _iocs, cases = corpus
    abuse, rdap, config = fake_services
    hostile = {"errors": [{"detail": f"bad key {OSC52}{CLEAR}{C1}{BIDI}"}]}
    abuse.default = [Reply(status=401, body=hostile)]
    rdap.default = [Reply(status=500, body=f"oops {CLEAR}")]
    config_file = tmp_path / "config.toml"
    enrich = config["enrich"]
    config_file.write_text("[enrich]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in enrich.items()))
    status, text = run(capsys, "enrich", str(log), "--case", "hostile", "--case-dir", str(cases),
                       "--config", str(config_file))
    assert "bad key" in text and "\\x1b]52" in text
    assert_inert(text, "enrich with failing servers")


#: One of each kind of character a terminal acts on or hides, and a lone surrogate (a file name that is not UTF-8).
EVERY_KIND = "a\x1b[2J\x07\x00\r\n\t\x7f\x9b\u202a\u202e\u2066\u2069\u200b\u200f\u2028\u2029\ufeff\udcff z"


def test_visible_and_json_cover_every_kind_of_hidden_or_acting_character():
    shown = visible(EVERY_KIND)
    assert shown.isprintable() and not RAW.search(shown)
    assert shown == ("a\\x1b[2J\\x07\\x00\\x0d\\n\\t\\x7f\\x9b\\u202a\\u202e\\u2066\\u2069\\u200b\\u200f\\u2028\\u2029"
                     "\\ufeff\\udcff z")
    text = dumps({"value": EVERY_KIND})
    assert text.isprintable() and text.isascii()  # every one escaped, the lone surrogate too (so UTF-8 can hold it)
    assert json.loads(text) == {"value": EVERY_KIND}


#: What the workbench itself writes to a terminal: Rich's colours and styles, progress's erase-line, line ends.
OWN_SEQUENCES = re.compile(r"\x1b\[[0-9;]*[mK]|\r")


def on_a_terminal(*args: str) -> str:
    """The screen output of `workbench ARGS` run on a pseudo-terminal (stdout and stderr both a real TTY)."""
    main_side, terminal_side = pty.openpty()
    environment = {**os.environ, "COLUMNS": "200", "LINES": "50", "TERM": "xterm-256color"}
    environment.pop("NO_COLOR", None)
    process = subprocess.Popen([sys.executable, "-m", "workbench", *args], stdin=terminal_side, stdout=terminal_side,
                               stderr=terminal_side, env=environment, close_fds=True)
    os.close(terminal_side)
    chunks = []
    while True:
        try:
            chunk = os.read(main_side, 65536)
        except OSError:  # the terminal side closed: the process has exited
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main_side)
    assert process.wait(timeout=120) == 0, b"".join(chunks)
    return b"".join(chunks).decode("utf-8")


def test_on_a_real_terminal_tables_progress_and_csv_are_inert(corpus):
    log, _iocs, cases = corpus
    case = ["--case", "hostile", "--case-dir", str(cases)]
    screen = on_a_terminal("info", str(log), *case)  # the first load draws progress naming the hostile file
    assert "loading 1/1: " in screen and "/export\\x1b[2J\\x1b[H\\u202egnp.exe.jsonl (" in screen
    csv_screen = on_a_terminal("sql", *case, "SELECT user_id, object_id FROM events", "--format", "csv")
    assert "\\x1b]52;c;ZXZpbA==\\x07" in csv_screen
    tables = [screen, on_a_terminal("hunt", *case), on_a_terminal("timeline", *case, "--user", USER)]
    assert all("\x1b[1m" in text for text in tables)  # Rich drew in bold and colour: this is a terminal
    for text in (*tables, csv_screen):
        assert_inert(OWN_SEQUENCES.sub("", text), "on a terminal")
