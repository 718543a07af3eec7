"""`workbench cases`: listing, finding a case by its folder's stem, renaming and removing, as a user runs them."""

import json
import subprocess
import sys
from pathlib import Path

from workbench.core.case import Case, case_name_for

BROKEN_ROWS = 8


def run(*args, home: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, input=stdin,
                          env={"WORKBENCH_CASE_DIR": str(home / "cases"), "PATH": "/usr/bin:/bin", "HOME": str(home)})


def test_list_find_by_stem_rename_and_remove(tmp_path, sample_logs):
    broken = sample_logs / "broken"
    assert run("info", str(broken), home=tmp_path).returncode == 0
    assert run("info", str(sample_logs / "case-b"), home=tmp_path).returncode == 0
    listed = run("cases", "--format", "json", home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    cases = {row["name"]: row for row in json.loads(listed.stdout)}
    name = case_name_for([broken])
    assert set(cases) == {name, case_name_for([sample_logs / "case-b"])}
    assert cases[name]["events"] == 4 and cases[name]["rejected"] == 4 and cases[name]["inputs"] == [str(broken.resolve())]
    assert cases[name]["created"] and cases[name]["last_opened"] and cases[name]["size_bytes"] > 0
    assert cases[case_name_for([sample_logs / "case-b"])]["sign_ins"] > 300
    assert cases[case_name_for([sample_logs / "case-b"])]["tenants"] == ["example.net (e5da9a31)"]  # by domain

    by_stem = run("info", "--case", "broken", "--format", "json", home=tmp_path)  # the folder's name, without the hash
    assert by_stem.returncode == 0, by_stem.stderr
    assert json.loads(by_stem.stdout)["totals"]["rows"] == BROKEN_ROWS

    assert run("cases", "rename", "broken", "bad-rows", home=tmp_path).returncode == 0
    assert run("info", "--case", "bad-rows", home=tmp_path).returncode == 0
    gone = run("info", "--case", name, home=tmp_path)
    assert gone.returncode == 2 and "no case named" in gone.stderr

    refused = run("cases", "remove", "bad-rows", home=tmp_path, stdin="y\n")  # not a terminal: asks for --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert run("cases", "remove", "bad-rows", "--yes", home=tmp_path).returncode == 0
    assert [row["name"] for row in json.loads(run("cases", "--format", "json", home=tmp_path).stdout)] == [
        case_name_for([sample_logs / "case-b"])]


def test_a_stem_naming_several_cases_lists_them(tmp_path, sample_logs):
    for folder in ("one", "two"):
        target = tmp_path / folder / "logs"
        target.mkdir(parents=True)
        (target / "x.csv").write_bytes((sample_logs / "broken" / "broken_rows.csv").read_bytes())
        assert run("info", str(target), home=tmp_path).returncode == 0
    result = run("report", "--case", "logs", "-o", str(tmp_path / "r.md"), home=tmp_path)
    assert result.returncode == 2
    assert "names several cases" in result.stderr
    for folder in ("one", "two"):
        assert case_name_for([tmp_path / folder / "logs"]) in result.stderr


def test_a_case_open_elsewhere_is_neither_renamed_nor_removed(tmp_path, sample_logs):
    assert run("info", str(sample_logs / "broken"), "--case", "held", home=tmp_path).returncode == 0
    reader = Case.named("held", tmp_path / "cases")
    assert reader.exists  # this process now reads (pins) the case's state
    try:
        for args in (("rename", "held", "other"), ("remove", "held", "--yes")):
            result = run("cases", *args, home=tmp_path)
            assert result.returncode == 2 and "open in another workbench process" in result.stderr
    finally:
        reader.close()
    assert run("cases", "remove", "held", "--yes", home=tmp_path).returncode == 0
