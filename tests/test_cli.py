"""The command line as a user runs it: `workbench info`, `--version`, exit statuses, no Textual in headless commands."""

import json
import subprocess
import sys

from workbench import __version__
from workbench.cli import main


def run(*args, env_dir):
    return subprocess.run(
        [sys.executable, "-m", "workbench", *args], capture_output=True, text=True,
        env={"WORKBENCH_CASE_DIR": str(env_dir), "PATH": "/usr/bin:/bin", "HOME": str(env_dir)},
    )


def test_info_json_accounts_for_every_sample_row(tmp_path, sample_logs):
    result = run("info", str(sample_logs), "--format", "json", env_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    totals = info["totals"]
    assert totals["rows"] == totals["loaded"] + totals["duplicates"] + totals["rejected"]
    assert totals["duplicates"] == 65 and totals["rejected"] == 4  # 20 audit records, 45 sign-ins in two shapes
    assert {f["format"] for f in info["files"]} == {"purview-csv", "mgmt-jsonl", "graph-json", "entra-download-csv",
                                                    "graph-directory-audits-json", "azure-monitor-jsonl", "sentinel-csv",
                                                    "messagetrace-csv", "eac-summary-csv"}
    assert info["sources"]["ual"] == 8170 and info["sources"]["signin"] > 500 and info["sources"]["audit"] > 100
    assert info["first_event"].startswith("2022-12-01") and info["last_event"].startswith("2023-02-24")
    assert set(info["workloads"]) >= {"Exchange", "AzureActiveDirectory", "SharePoint"}
    assert len(info["tenants"]) == 2 and info["users"] > 40 and info["client_ips"] > 50
    assert sorted(info["tenant_names"].values()) == ["example.com (2ab04f98)", "example.net (e5da9a31)"]
    for key in ("path", "format", "rows", "loaded", "duplicates", "rejected"):
        assert all(key in f for f in info["files"])


def test_info_table_and_reopen_by_case_name(tmp_path, sample_logs):
    first = run("info", str(sample_logs / "case-a"), "--case", "alpha", env_dir=tmp_path)
    assert first.returncode == 0 and "purview-csv" in first.stdout and "4,083" in first.stdout
    again = run("info", "--case", "alpha", "--format", "json", env_dir=tmp_path)
    assert json.loads(again.stdout)["sources"]["ual"] == 4083


def test_not_an_audit_log_exits_2_with_one_line(tmp_path):
    bogus = tmp_path / "contacts.csv"
    bogus.write_text("name,email\nbob,bob@x.com\n")
    result = run("info", str(bogus), env_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "contacts.csv: not a Microsoft 365 audit log" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_path_and_unknown_case_exit_2(tmp_path):
    assert run("info", str(tmp_path / "nope"), env_dir=tmp_path).returncode == 2
    assert run("info", "--case", "never-loaded", env_dir=tmp_path).returncode == 2


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit:
        assert exit.code == 0
    assert __version__ in capsys.readouterr().out


HEADLESS = [
    "workbench.cli", "workbench.commands.info", "workbench.core.case", "workbench.core.load",
    "workbench.core.export", "workbench.core.summary", "hunts", "enrich",
]


def test_headless_modules_never_import_textual():
    code = (
        "import importlib, pkgutil, sys\n"
        f"for name in {HEADLESS!r}:\n"
        "    try: importlib.import_module(name)\n"
        "    except ModuleNotFoundError as e:\n"
        "        if e.name != name: raise\n"
        "import workbench.core\n"
        "for m in pkgutil.iter_modules(workbench.core.__path__): importlib.import_module('workbench.core.' + m.name)\n"
        "import workbench.commands\n"
        "for m in pkgutil.iter_modules(workbench.commands.__path__): importlib.import_module('workbench.commands.' + m.name)\n"
        "print('textual' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_headless_command_run_does_not_load_textual(tmp_path, sample_logs):
    code = (
        "import sys\nfrom workbench.cli import main\n"
        f"main(['info', {str(sample_logs / 'case-a')!r}, '--format', 'json'])\n"
        "sys.stderr.write(str('textual' in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={"WORKBENCH_CASE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert result.stderr.strip().endswith("False")


def test_reopening_a_loaded_case_does_not_import_the_loader(tmp_path, sample_logs):
    """The loader's decoder (DuckDB, pyarrow) costs import time that opening a loaded case does not need."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom workbench.core.case import Case\n"
        f"case = Case.named('a', {str(tmp_path)!r})\n"
        f"report, reused = case.open([Path({str(sample_logs / 'case-a')!r})])\n"
        "print(reused, case.events().height > 0, 'workbench.core.load' in sys.modules, 'duckdb' in sys.modules)\n"
    )
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert first.stdout.split() == ["False", "True", "True", "True"], first.stderr
    assert again.stdout.split() == ["True", "True", "False", "False"], again.stderr


def test_a_case_that_does_not_exist_is_named_as_such(tmp_path):
    for command in ("info", "hunt", "sql"):
        args = [command, "--case", "nosuch"] + (["SELECT 1"] if command == "sql" else [])
        result = run(*args, env_dir=tmp_path)
        assert result.returncode == 2, (command, result.stderr)
        assert result.stderr.startswith("workbench: no case named 'nosuch' in ") and "give PATH... to load one" in result.stderr
        assert "not a Microsoft 365 audit log" not in result.stderr
