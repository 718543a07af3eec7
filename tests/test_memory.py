"""A case too big for the memory available is said in words, by the command line and the TUI, instead of ending in
the kernel's out-of-memory kill; `workbench sql` still works on it."""

import json

import polars as pl
import pytest

from tests.ui.conftest import settle
from workbench.cli import main
from workbench.core import memory
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.core.memory import NotEnoughMemory, available_bytes, frame_bytes
from workbench.ui.app import WorkbenchApp


def write_log(path, count=2000):
    path.write_text("".join(json.dumps({"Id": f"id-{n}", "CreationTime": "2024-03-01T10:00:00", "Operation": "Send",
                                        "RecordType": 2, "UserId": f"user{n % 7}@contoso.com",
                                        "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}) + "\n"
                        for n in range(count)))
    return path


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 64 KB of memory available."""
    monkeypatch.setattr(memory, "available_bytes", lambda: 64 << 10)


def test_the_machine_says_how_much_memory_is_available():
    available = available_bytes()
    assert available is None or available > 0


def test_the_estimate_is_close_to_the_frame_read(tmp_path):
    case = Case(tmp_path / "case")
    case.load([write_log(tmp_path / "a.jsonl")])
    frame = case.events()
    estimate = frame_bytes(case.parts(), frame.columns)
    assert 0.5 < estimate / frame.estimated_size() < 2


def test_a_case_too_big_is_not_read(tmp_path, small_machine, monkeypatch):
    case = Case(tmp_path / "case")
    case.load([write_log(tmp_path / "a.jsonl")])
    with pytest.raises(NotEnoughMemory, match=r"the events of case case needs about .* GB of memory and 0.0 GB is av"):
        case.events()
    monkeypatch.setenv("WORKBENCH_IGNORE_MEMORY", "1")
    assert case.events().height == 2000


def test_the_command_line_says_so_and_what_reads_the_scan_still_works(tmp_path, small_machine, capsys):
    log = write_log(tmp_path / "a.jsonl")
    args = ["--case", "c", "--case-dir", str(tmp_path / "cases")]
    assert main(["info", str(log), *args, "--format", "json"]) == 0  # counted over the case's scan
    assert json.loads(capsys.readouterr().out)["sources"] == {"ual": 2000}
    assert main(["hunt", *args]) == 2  # the hunted columns of every event are held in memory
    assert "workbench: the events of case c needs about" in capsys.readouterr().err
    assert main(["report", *args, "-o", str(tmp_path / "report.md")]) == 0  # the scan; hunts in a process apart
    assert "wrote the report of 0 marked events" in capsys.readouterr().err
    assert main(["sql", *args, "SELECT count(*) AS n FROM events", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["n"] == 2000


async def test_the_tui_says_so(tmp_path, small_machine):
    app = WorkbenchApp(CaseSet([(Case.named("c", tmp_path / "cases"), [write_log(tmp_path / "a.jsonl")])]))
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(app, pilot)
        assert app.load_error.startswith("NotEnoughMemory: the events of case c needs about")
        assert any(note.title == "could not open the case" and "workbench sql` works on any size" in note.message
                   for note in app._notifications)


def test_the_estimate_of_the_events_views_frame_counts_its_categoricals(tmp_path):
    """The view holds repeated texts as categoricals: its estimate is below that of the same columns as text, and
    still near what the frame takes."""
    from workbench.core.activity import view_rows

    case = Case(tmp_path / "case")
    case.load([write_log(tmp_path / "a.jsonl")])
    frame = case.activity(view=True)
    categorical = [name for name, dtype in frame.schema.items() if dtype == pl.Categorical]
    columns = [name for name in frame.columns if name in case.scan().collect_schema()]
    assert {"user_id", "operation"} <= set(categorical) and view_rows(case.activity_scan()).collect_schema() == frame.schema
    as_text = frame_bytes(case.parts(), columns)
    estimate = frame_bytes(case.parts(), columns, categorical)
    assert estimate < 0.8 * as_text
    held = sum(frame[name].estimated_size() for name in columns) + sum(
        frame[name].unique().cast(pl.String).estimated_size() for name in categorical)
    assert 0.5 < estimate / held < 2
