"""Chain of custody: each input's SHA-256, size and time as loaded, shown by info (as `sha256sum -c` lines) and
in the report; inputs changed or gone since are said on reopen, in info, the report and the TUI."""

import gzip
import hashlib
import json
import re

from tests.ui.conftest import settle
from workbench.cli import main
from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.ui.app import WorkbenchApp

RECORD = {"CreationTime": "2023-02-21T14:03:11", "Operation": "Send", "UserId": "u@example.com", "RecordType": 2,
          "Workload": "Exchange"}


def write_inputs(folder):
    folder.mkdir()
    plain = folder / "a.jsonl"
    plain.write_text("".join(json.dumps({**RECORD, "Id": f"a{n}"}) + "\n" for n in range(3)))
    packed = folder / "b.jsonl.gz"
    packed.write_bytes(gzip.compress("".join(json.dumps({**RECORD, "Id": f"b{n}"}) + "\n" for n in range(2)).encode()))
    return plain, packed


def test_the_load_report_keeps_each_files_sha256_size_and_time(tmp_path):
    plain, packed = write_inputs(tmp_path / "in")
    case = Case.named("c", tmp_path / "cases")
    case.open([tmp_path / "in"])
    files = {file.path.rsplit("/", 1)[1]: file for file in case.load_report().files}
    for name, path in (("a.jsonl", plain), ("b.jsonl.gz", packed)):  # the .gz as received, compressed
        assert files[name].sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert files[name].size == path.stat().st_size
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", files[name].modified)
    assert case.changed_inputs() == []


def test_info_prints_lines_sha256sum_checks_and_says_which_inputs_changed(tmp_path, capsys):
    plain, packed = write_inputs(tmp_path / "in")
    args = ["--case", "c", "--case-dir", str(tmp_path / "cases")]
    assert main(["info", str(tmp_path / "in"), *args]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if re.match(r"[0-9a-f]{64}  ", line)]
    assert sorted(lines) == sorted(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p}" for p in (plain, packed))

    loaded_digest = hashlib.sha256(plain.read_bytes()).hexdigest()
    plain.write_text(plain.read_text() + json.dumps({**RECORD, "Id": "late"}) + "\n")
    packed.unlink()
    assert main(["info", *args]) == 0  # reopened by name: the case is kept as loaded
    out = "".join(capsys.readouterr().out.split())  # long paths are folded at the terminal's width
    assert f"warning:{plain}:changedsinceitwasloaded" in out and f"warning:{packed}:gonesinceitwasloaded" in out
    report = tmp_path / "r.md"
    assert main(["report", *args, "-o", str(report)]) == 0
    text = report.read_text()
    assert "## Evidence: the input files as loaded" in text and loaded_digest in text  # as loaded, not as now
    assert text.count("gone since it was loaded") == 1 and "changed since it was loaded" in text


async def test_the_tui_warns_when_an_input_changed_since_the_case_loaded_it(tmp_path):
    plain, _packed = write_inputs(tmp_path / "in")
    Case.named("c", tmp_path / "cases").open([tmp_path / "in"])
    plain.write_text("")
    app = WorkbenchApp(CaseSet([(Case.named("c", tmp_path / "cases"), [])]))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        assert any(note.title == "the case and its inputs" and f"{plain}: changed" in note.message
                   for note in app._notifications)


def test_a_case_loaded_by_an_earlier_version_whose_input_is_gone_opens_and_says_so(tmp_path, capsys):
    import polars as pl

    _plain, packed = write_inputs(tmp_path / "in")
    case = Case.named("old", tmp_path / "cases")
    case.open([tmp_path / "in"])
    for part in case.parts("events"):  # as an earlier version wrote it: without the application columns
        pl.read_parquet(part).drop("app_id", "app_name").write_parquet(part)
    case.refresh()
    packed.unlink()  # it cannot be loaded again
    assert case.missing_columns() == ["app_id", "app_name"]
    assert case.events()["app_id"].null_count() == 5  # still opens: the new columns read as empty
    assert main(["info", "--case", "old", "--case-dir", str(tmp_path / "cases")]) == 0
    out = "".join(capsys.readouterr().out.split())
    assert "oldwasloadedbyanearlierversionoftheworkbench:app_id,app_namereadasempty" in out
    assert "gonesinceitwasloaded" in out


def test_an_earlier_versions_case_reopened_by_name_loads_again_when_its_inputs_are_unchanged(tmp_path):
    import polars as pl

    plain, _packed = write_inputs(tmp_path / "in")
    case = Case.named("old", tmp_path / "cases")
    case.open([tmp_path / "in"])

    def age() -> None:  # as an earlier version wrote it: without the application columns
        for part in case.parts("events"):
            pl.read_parquet(part).drop("app_id").write_parquet(part)
        case.refresh()

    age()
    _report, reused = case.open([])
    assert not reused and case.missing_columns() == []
    age()
    plain.write_text(plain.read_text() + json.dumps({**RECORD, "Id": "late"}) + "\n")  # changed: keep the case
    _report, reused = case.open([])
    assert reused and case.missing_columns() == ["app_id"] and case.events().height == 5
