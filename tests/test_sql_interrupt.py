"""SQL stops when asked: Ctrl-C, a time limit, spill files in the case, no paths through introspection."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import polars as pl
import pytest

from workbench.core.case import Case
from workbench.core.config import ConfigError
from workbench.core.sql import SqlCancelled, SqlError, SqlSession, SqlTimeout, sql_limits

#: A query that runs for minutes: a cross join of ten billion rows.
LONG = "SELECT sum(a.range * b.range) AS s FROM range(100000) a, range(100000) b"


@pytest.fixture
def case_dir(tmp_path, sample_logs):
    Case.named("small", tmp_path / "cases").open([sample_logs / "case-b"])
    return tmp_path / "cases"


def _sql(case_dir, *args):
    return subprocess.Popen([sys.executable, "-m", "workbench", "sql", "--case", "small", "--case-dir", str(case_dir),
                             *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until_running(case_dir, query: str) -> None:
    """Until the query is in the case's history: it is written there just before the engine runs it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(case_dir / "small" / "case.sqlite") as db:
            if db.execute("SELECT 1 FROM query_history WHERE sql = ?", (query,)).fetchone():
                return
        time.sleep(0.05)
    raise AssertionError("the query never started")


def test_ctrl_c_stops_a_cli_query_within_a_second_and_exits_130(case_dir):
    process = _sql(case_dir, LONG, "--timeout", "0")
    _wait_until_running(case_dir, LONG)
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    sent = time.monotonic()
    out, err = process.communicate(timeout=30)
    assert time.monotonic() - sent < 1.5
    assert process.returncode == 130 and err.strip() == "workbench: query interrupted" and out == ""


def test_a_query_past_the_time_limit_stops_with_a_clear_message(case_dir, tmp_path):
    started = time.monotonic()
    process = _sql(case_dir, LONG, "--timeout", "1")
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and out == ""
    assert "query stopped after 1 s, the SQL time limit" in err and "--timeout SECONDS" in err
    assert time.monotonic() - started < 20
    config = tmp_path / "config.toml"
    config.write_text("sql_timeout = 0.5\n")
    process = _sql(case_dir, LONG, "--config", str(config))
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 1 and "query stopped after 0.5 s" in err


def test_the_session_stops_at_its_deadline_and_says_so():
    session = SqlSession(pl.DataFrame({"a": [1]}), timeout=0.3)
    with pytest.raises(SqlTimeout, match="stopped after 0.3 s"):
        session.run(LONG)
    assert session.run("SELECT 1 AS one").frame["one"][0] == 1  # the next query runs as usual
    unlimited = SqlSession(pl.DataFrame({"a": [1]}))
    threading.Timer(0.3, unlimited.cancel).start()
    with pytest.raises(SqlCancelled) as cancelled:
        unlimited.run(LONG)
    assert not isinstance(cancelled.value, SqlTimeout)


def test_limits_from_the_config_are_checked():
    assert sql_limits({}) == {"timeout": 300.0, "memory_limit": None}
    assert sql_limits({"sql_timeout": 0, "sql_memory_limit": "2GB"}) == {"timeout": None, "memory_limit": "2GB"}
    assert sql_limits({"sql_timeout": 10}, timeout=2)["timeout"] == 2
    for bad in ({"sql_timeout": "soon"}, {"sql_timeout": -1}, {"sql_memory_limit": "lots"}):
        with pytest.raises(ConfigError):
            sql_limits(bad)


def test_spill_files_go_to_the_cases_folder_never_the_current_directory(case_dir, tmp_path, monkeypatch):
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    case = Case.named("small", case_dir)
    session = SqlSession(case, memory_limit="40MB")
    spill = session._spill
    assert spill.parent == case.root
    seen, running = set(), True

    def watch():
        while running:
            seen.update(os.listdir(spill))
            time.sleep(0.005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = session.run("SELECT count(*) AS n FROM (SELECT range % 4000000 AS k, max(range) AS m "
                             "FROM range(8000000) GROUP BY k)")
    finally:
        running = False
        watcher.join()
    assert result.frame["n"][0] == 4000000
    assert any(name.startswith("duckdb_temp") for name in seen)  # it did spill, there
    session.close()
    assert not spill.exists() and list(work.iterdir()) == []


def test_a_killed_sessions_spill_folder_is_removed_by_the_next_session_and_a_living_ones_kept(case_dir):
    root = case_dir / "small"
    process = _sql(case_dir, LONG, "--timeout", "0")
    _wait_until_running(case_dir, LONG)
    abandoned = list(root.glob(".sql-spill-*"))
    (abandoned[0] / "duckdb_temp_storage_0.tmp").write_bytes(b"spilled")  # as if the engine had spilled
    living = SqlSession(Case.named("small", case_dir))
    assert len(abandoned) == 1 and abandoned[0].exists()  # the running query's folder is left alone
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert abandoned[0].exists()  # a kill removes nothing
    following = SqlSession(Case.named("small", case_dir))
    assert not abandoned[0].exists() and living._spill.exists() and following._spill.exists()
    living.close()
    following.close()
    assert list(root.glob(".sql-spill-*")) == []


@pytest.mark.parametrize("query", [
    "SELECT current_setting('temp_directory')",
    "SELECT current_setting('home_directory') AS h FROM events",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_databases()",
    "SELECT * FROM duckdb_temporary_files()",
    "SELECT * FROM duckdb_extensions()",
    "SELECT * FROM pragma_database_list()",
    "SELECT getenv('HOME')",
    "SELECT write_log('x')",
    "SELECT * FROM enable_logging()",
    "SELECT json_serialize_plan('SELECT current_setting(''temp_directory'')')",
    "SELECT json_serialize_sql('SELECT 1')",
    "SELECT json_deserialize_sql(NULL)",
    "SELECT * FROM json_execute_serialized_sql(NULL)",
])
def test_introspection_that_could_reveal_paths_is_refused(query):
    with pytest.raises(SqlError, match="is refused"):
        SqlSession(pl.DataFrame({"a": [1]})).run(query)
