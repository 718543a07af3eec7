"""The workbench's DuckDB connections print nothing (no progress bar on stdout) and never spill into the cwd."""

from workbench.core.duck import connect, quiet

SLOW = "SELECT count(*) FROM range(3000000) a, range(20) b WHERE (a.range * b.range) % 7 = 3"


def test_the_progress_bar_is_off_on_every_connection(capfd):
    database = connect()
    for connection in (database, quiet(database.cursor())):  # a cursor is a connection of its own
        assert connection.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
        connection.execute(SLOW).fetchall()
    assert capfd.readouterr().out == ""


def test_spills_go_to_a_folder_of_the_process_not_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = connect().execute("SELECT current_setting('temp_directory')").fetchone()[0]
    assert folder.startswith("/") and "workbench-duckdb-" in folder
    assert connect(tmp_path / "spill").execute("SELECT current_setting('temp_directory')").fetchone()[0] == str(
        tmp_path / "spill")
