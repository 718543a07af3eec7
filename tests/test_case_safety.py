"""A case is evidence: loads killed at any instant, or run at the same time, leave a complete case.

Complete means: the load report's counts equal what the Parquet parts, the rejects file and the
conflicting duplicates hold, the counts add up to the input rows, and the inputs are exactly those of
one load (the old one or the new one), never a mix.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest

from workbench.core.case import Case
from workbench.core.case_lock import writer_lock


def write_lines(path: Path, records: list, extra_lines: tuple[str, ...] = ()) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "".join(line + "\n" for line in extra_lines))
    return path


def record(number: int, operation: str = "Send") -> dict:
    return {"Id": f"id-{number}", "CreationTime": f"2023-02-21T14:{number // 60 % 60:02d}:{number % 60:02d}",
            "Operation": operation, "UserId": "u@example.com", "RecordType": 2, "Workload": "Exchange",
            "ClientIP": "104.161.20.102"}


@pytest.fixture
def inputs(tmp_path):
    """Old inputs (A: 30 events) and new inputs (B: two files with an exact duplicate, a conflicting
    duplicate and a broken line), with the counts each load must show."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    a = [write_lines(folder / "a.jsonl", [record(n) for n in range(30)])]
    b = [write_lines(folder / "b1.jsonl", [record(n) for n in range(100, 140)], ('{"Id": "broken", ',)),
         write_lines(folder / "b2.jsonl", [record(100), record(101, "HardDelete"), record(140)])]
    expected = {
        "A": {"paths": [str(p.resolve()) for p in a], "rows": 30, "loaded": 30, "duplicates": 0, "conflicting": 0,
              "rejected": 0},
        "B": {"paths": [str(p.resolve()) for p in b], "rows": 44, "loaded": 41, "duplicates": 1, "conflicting": 1,
              "rejected": 1},
    }
    return a, b, expected


def state_of(root: Path, expected: dict) -> str | None:
    """Which expected load the case at `root` holds (None: no case yet), after checking it is complete."""
    case = Case(root)
    try:
        if not case.exists:
            return None
        totals = case.load_report().totals()
        events = case.scan().select(pl.len()).collect().item()
        conflicts = pl.scan_parquet(case.conflict_parts()).select(pl.len()).collect().item() if case.conflict_parts() else 0
        assert totals["loaded"] == events
        assert totals["rejected"] == case.rejects().height
        assert totals["conflicting"] == conflicts
        assert totals["rows"] == totals["loaded"] + totals["duplicates"] + totals["conflicting"] + totals["rejected"]
        assert case.events()["record_id"].n_unique() == events
        inputs = [str(path) for path in case.inputs()]
        matches = [name for name, want in expected.items()
                   if want["paths"] == inputs and all(totals[key] == want[key] for key in want if key != "paths")]
        assert matches, f"the case holds neither load: {inputs} {totals}"
        return matches[0]
    finally:
        case.close()


def assert_clean(root: Path) -> None:
    """After a successful load: one state, nothing half-written left over."""
    names = sorted(path.name for path in root.iterdir())
    assert [name for name in names if name.startswith("state-")] == [(root / "current").read_text().strip()]
    assert not [name for name in names if name.startswith(".staging")]


class Crash(BaseException):
    """The process dies here: raised at the chosen filesystem call and at every one after it."""


#: The filesystem calls a load makes through Python; killing the process between any two is simulated.
FS_CALLS = ("open", "replace", "rename", "fsync", "unlink", "rmdir", "mkdir", "link", "ftruncate", "pwrite")


@contextmanager
def dies_at_call(number: int, monkeypatch):
    """Make the `number`-th filesystem call (and every later one) fail, as if the process was killed there."""
    state = {"calls": 0, "dead": False}

    def wrap(function):
        def call(*args, **kwargs):
            state["calls"] += 1
            if state["dead"] or state["calls"] == number:
                state["dead"] = True
                raise Crash(f"killed at filesystem call {number}")
            return function(*args, **kwargs)
        return call

    with monkeypatch.context() as patch:
        for name in FS_CALLS:
            patch.setattr(os, name, wrap(getattr(os, name)))
        patch.setattr(shutil, "rmtree", wrap(shutil.rmtree))
        yield state


@pytest.mark.parametrize("first_load", [True, False], ids=["first-load", "reload"])
def test_a_load_killed_between_any_two_filesystem_steps_leaves_the_old_or_the_new_case(tmp_path, inputs, monkeypatch,
                                                                                          first_load):
    a, b, expected = inputs
    template = tmp_path / "template"
    if not first_load:
        Case(template).load(a)
        assert state_of(template, expected) == "A"
    seen, step = set(), 0
    while True:
        step += 1
        root = tmp_path / f"case-{step}"
        if template.exists():
            shutil.copytree(template, root)
        case = Case(root)
        with dies_at_call(step, monkeypatch) as calls:
            try:
                case.load(b)
                crashed = False
            except Crash:
                crashed = True
        case.close()  # a killed process lets go of its locks and pins
        held = state_of(root, expected)
        assert held == ("B" if not crashed else held)
        assert held in ({None, "B"} if first_load else {"A", "B"}), f"step {step}"
        seen.add(held)
        Case(root).load(b)  # the next load recovers whatever the crash left
        assert state_of(root, expected) == "B"
        assert_clean(root)
        shutil.rmtree(root)
        if not crashed:
            break
    assert step > 10 and calls["calls"] < step  # every step of a whole load was a crash point
    assert seen == ({None, "B"} if first_load else {"A", "B"})  # crashes before and after the swap both happened


def test_a_case_read_while_another_load_swaps_keeps_reading_its_state(tmp_path, inputs):
    a, b, expected = inputs
    root = tmp_path / "case"
    reader = Case(root)
    reader.open(a)
    old_events = reader.events()
    Case(root).load(b)  # another writer swaps B in while the reader still reads A
    assert reader.events().equals(old_events) and reader.load_report().totals()["loaded"] == 30
    assert state_of(root, expected) == "B"
    assert len(list(root.glob("state-*"))) == 2  # the reader's state is kept while pinned
    reader.refresh()
    assert reader.load_report().totals()["loaded"] == 41
    Case(root).load(b)
    assert len(list(root.glob("state-*"))) == 2  # B read by the reader, and the newer load
    reader.close()
    Case(root).load(b)
    assert_clean(root)  # unpinned states go with the next load


def test_a_second_opener_waits_for_the_loader_and_reuses_its_load(tmp_path, inputs):
    a, _b, expected = inputs
    root = tmp_path / "case"
    said, result = [], {}
    with writer_lock(root):  # another process is loading
        opener = threading.Thread(target=lambda: result.update(zip(("report", "reused"),
                                                                   Case(root).open(a, waiting=said.append))))
        opener.start()
        deadline = time.monotonic() + 10
        while not said and time.monotonic() < deadline:
            time.sleep(0.01)
        assert said and "being loaded by another workbench process" in said[0] and str(os.getpid()) in said[0]
        assert opener.is_alive()  # it waits; it does not read a half-written case
        Case(root)._load_locked(a, None)  # the holder finishes its load
    opener.join(10)
    assert result["reused"] is True and result["report"].totals()["loaded"] == 30
    assert state_of(root, expected) == "A"


def _workbench(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "workbench", *args], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_commands_loading_different_inputs_into_one_case_at_once(tmp_path, inputs):
    _a, b, expected = inputs
    big = write_lines(tmp_path / "inputs" / "big.jsonl", [record(n) for n in range(1000, 61000)])
    expected["BIG"] = {"paths": [str(big.resolve())], "rows": 60000, "loaded": 60000, "duplicates": 0,
                       "conflicting": 0, "rejected": 0}
    env = {**os.environ, "WORKBENCH_CASE_DIR": str(tmp_path / "cases")}
    root = tmp_path / "cases" / "shared"
    with writer_lock(root):  # both start while the case is busy, so that they contend for it
        processes = [_workbench("info", *paths, "--case", "shared", "--format", "json", env=env)
                     for paths in ([str(big)], list(map(str, b)))]
        for process in processes:
            assert "waiting for it" in process.stderr.readline()
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert json.loads(outputs[0][0])["totals"]["loaded"] == 60000
    assert json.loads(outputs[1][0])["totals"]["loaded"] == 41
    assert state_of(root, expected) in ("BIG", "B")  # whichever loaded last, complete; never a mix
    assert_clean(root)


LOADER = """
import sys
from pathlib import Path
from workbench.core.case import Case
print("ready", flush=True)
sys.stdin.readline()
Case(Path(sys.argv[1])).load([Path(p) for p in sys.argv[2:]])
print("done", flush=True)
"""


def test_a_loader_killed_at_any_moment_leaves_the_old_or_the_new_case(tmp_path, inputs):
    a, _b, expected = inputs
    big = [write_lines(tmp_path / "inputs" / f"big{n}.jsonl", [record(m) for m in range(n * 40000, n * 40000 + 40000)])
           for n in range(1, 3)]
    expected["BIG"] = {"paths": [str(p.resolve()) for p in big], "rows": 80000, "loaded": 80000, "duplicates": 0,
                       "conflicting": 0, "rejected": 0}
    template = tmp_path / "template"
    Case(template).load(a)

    def run(root: Path, kill_after: float | None) -> float:
        shutil.copytree(template, root)
        process = subprocess.Popen([sys.executable, "-c", LOADER, str(root), *map(str, big)], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        assert process.stdout.readline().strip() == "ready"
        started = time.monotonic()
        process.stdin.write("go\n")
        process.stdin.flush()
        if kill_after is not None:
            time.sleep(kill_after)
            process.send_signal(signal.SIGKILL)
        process.wait(60)
        return time.monotonic() - started

    whole = run(tmp_path / "whole", None)
    assert state_of(tmp_path / "whole", expected) == "BIG"
    seen = set()
    for number, fraction in enumerate((0.05, 0.2, 0.35, 0.5, 0.65, 0.8, 0.9, 0.97, 1.0)):
        root = tmp_path / f"killed-{number}"
        run(root, whole * fraction)
        seen.add(state_of(root, expected))
        Case(root).load(big)
        assert_clean(root)
    assert seen <= {"A", "BIG"} and "A" in seen


def test_a_case_of_the_first_layout_is_adopted_with_every_file(tmp_path, inputs):
    a, _b, expected = inputs
    root = tmp_path / "case"
    Case(root).load(a)
    Case(root).store.set_marks(["id-3"], True)
    state = root / (root / "current").read_text().strip()  # rebuild the first layout: state files at the top
    for name in ("inputs.json", "load_report.json", "rejects.jsonl", "events"):
        os.rename(state / name, root / name)
    shutil.rmtree(state)
    (root / "current").unlink()
    assert state_of(root, expected) == "A"
    assert Case(root).store.marks() == {"id-3"}
    assert not (root / "events").exists() and not (root / "inputs.json").exists()
    assert_clean(root)


def test_conflicting_duplicates_are_queryable_in_sql_with_both_versions(tmp_path, inputs):
    from workbench.core.sql import SqlSession

    _a, b, _expected = inputs
    case = Case(tmp_path / "case")
    case.open(b)
    session = SqlSession(case)
    rows = session.run("SELECT c.record_id, c.operation, c.source_row, c.kept_row, e.operation AS loaded "
                       "FROM conflicting_duplicates c JOIN events e USING (record_id)").frame.to_dicts()
    assert rows == [{"record_id": "id-101", "operation": "HardDelete", "source_row": 2, "kept_row": 2, "loaded": "Send"}]
    assert session.run("SELECT count(*) AS n FROM conflicting_duplicates WHERE source_file LIKE '%b2.jsonl'").frame["n"][0] == 1
    session.close()
    empty = Case(tmp_path / "other")
    empty.open(b[:1])
    assert SqlSession(empty).run("SELECT count(*) AS n FROM conflicting_duplicates").frame["n"][0] == 0


def test_reopening_with_an_input_gone_names_it_and_keeps_the_case(tmp_path, inputs):
    from workbench.core.formats import NotAnAuditLog

    a, _b, expected = inputs
    root = tmp_path / "case"
    Case(root).open(a)
    gone = a[0].rename(a[0].with_name("moved.jsonl"))
    with pytest.raises(NotAnAuditLog, match="a.jsonl: .*no such file"):
        Case(root).open(a)
    gone.rename(a[0])
    assert state_of(root, expected) == "A"
