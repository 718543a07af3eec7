"""Salvage what can be read: other encodings, damaged gzip, damaged starts, bad files among good ones,
unterminated CSV quotes, and the smaller reasons and messages. Every row is still accounted for."""

import csv
import gzip
import io
import json
import subprocess
import sys

import pytest

from workbench.cli import main as workbench
from workbench.core.case import Case
from workbench.core.formats import NotAnAuditLog, Shape, detect_shape

HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData", "AssociatedAdminUnits",
          "AssociatedAdminUnitsNames"]


def record(number: int, operation: str = "UserLoggedIn", **extra) -> dict:
    return {"Id": f"id-{number}", "CreationTime": f"2023-02-21T14:03:{number % 60:02d}", "Operation": operation,
            "RecordType": 15, "UserId": "u@example.com", "Workload": "AzureActiveDirectory", **extra}


def jsonl(count: int) -> str:
    return "".join(json.dumps(record(n)) + "\n" for n in range(1, count + 1))


def purview_csv(count: int, newline: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(HEADER)
    for n in range(1, count + 1):
        writer.writerow([f"id-{n}", "2/21/2023 2:03:11 PM", "15", "UserLoggedIn", "u@example.com",
                         json.dumps(record(n)), "", ""])
    return out.getvalue()


def load(tmp_path, *paths):
    case = Case.named("salvage", tmp_path / "cases")
    case.open(list(paths))
    return case


def reasons(case) -> dict[int, str]:
    rejects = case.rejects()
    return dict(zip(rejects["row"].to_list(), rejects["reason"].to_list()))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
@pytest.mark.parametrize("shape", ["csv", "jsonl"])
def test_utf16_and_bom_exports_load_like_utf8(tmp_path, encoding, shape):
    text = purview_csv(5) if shape == "csv" else jsonl(5)
    path = tmp_path / f"export.{shape}"
    path.write_bytes(text.encode(encoding))  # "utf-16" writes a BOM, the -le/-be forms none, as Excel may
    case = load(tmp_path, path)
    files = case.load_report().files
    assert (files[0].rows, files[0].loaded, files[0].rejected) == (5, 5, 0)
    assert sorted(case.events()["record_id"]) == [f"id-{n}" for n in range(1, 6)]
    assert case.events()["source_row"].to_list() == ([2, 3, 4, 5, 6] if shape == "csv" else [1, 2, 3, 4, 5])


def test_utf32_is_named_in_the_message(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(purview_csv(2).encode("utf-32"))
    with pytest.raises(NotAnAuditLog, match="UTF-32"):
        detect_shape(path)


@pytest.mark.parametrize("shape", ["jsonl", "csv"])
def test_a_truncated_gzip_loads_the_records_before_the_damage(tmp_path, shape):
    text = jsonl(2000) if shape == "jsonl" else purview_csv(2000)
    packed = gzip.compress(text.encode(), compresslevel=1)
    path = tmp_path / f"cut.{shape}.gz"
    path.write_bytes(packed[: len(packed) * 2 // 3])  # a download cut off two thirds in
    case = load(tmp_path, path)
    file = case.load_report().files[0]
    assert file.note.startswith("gzip stream ends early after ") and "records before the damage were read" in file.note
    assert 1000 < file.loaded < 2000 and file.rejected == 1
    assert file.rows == file.loaded + file.rejected
    (row, reason), = reasons(case).items()
    assert reason.startswith("incomplete record: gzip stream ends early")
    assert row == file.loaded + (2 if shape == "csv" else 1)  # right after the last whole record


@pytest.mark.parametrize("damaged", [25, 300])
def test_json_lines_whose_first_lines_are_damaged_are_still_read(tmp_path, damaged):
    path = tmp_path / "damaged.jsonl"
    broken = "".join('{"Id": "x' + str(n) + '", "CreationTi\n' for n in range(damaged))
    path.write_text(broken + jsonl(10))
    assert detect_shape(path) is Shape.MGMT_JSONL
    case = load(tmp_path, path)
    file = case.load_report().files[0]
    assert (file.rows, file.loaded, file.rejected) == (damaged + 10, 10, damaged)
    assert all(reason.startswith("broken JSON in AuditData") for reason in reasons(case).values())


@pytest.mark.parametrize("depth", [1000, 100_000])
def test_a_record_nested_deeper_than_python_reads_is_no_crash_even_first(tmp_path, depth):
    deep = json.dumps(record(0))[:-1] + ', "Item": ' + "[" * depth + "]" * depth + "}"
    path = tmp_path / "deep.jsonl"
    path.write_text(deep + "\n" + jsonl(3))
    assert detect_shape(path) is Shape.MGMT_JSONL
    case = load(tmp_path, path)
    file = case.load_report().files[0]
    assert file.rows == 4 and file.loaded + file.rejected == 4 and file.loaded >= 3


def test_one_unreadable_file_in_a_folder_is_reported_and_the_rest_load(tmp_path, capsys):
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.jsonl").write_text(jsonl(3))
    (folder / "contacts.csv").write_text("name,phone\nAlice,123\n")
    (folder / "z.csv").write_text(purview_csv(2))
    case = load(tmp_path, folder)
    files = {file.path.rsplit("/", 1)[1]: file for file in case.load_report().files}
    assert files["contacts.csv"].format == "unreadable" and "first line is 'name,phone'" in files["contacts.csv"].note
    assert files["a.jsonl"].loaded == 3 and (files["z.csv"].rows, files["z.csv"].duplicates) == (2, 2)  # ids 1, 2 again
    assert workbench(["info", str(folder), "--case-dir", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out.replace("\n", "")  # long paths are folded at the terminal's width
    assert "unreadable" in out and "contacts.csv: not a Microsoft 365 audit log (first line is 'name,phone')" in out
    assert out.count("contacts.csv:") == 1


def test_a_single_file_that_is_not_a_log_is_still_an_error(tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_text("name,phone\n")
    with pytest.raises(NotAnAuditLog, match="contacts.csv: not a Microsoft 365 audit log"):
        load(tmp_path, path)


@pytest.mark.parametrize("newline", ["\r\n", "\n"])
def test_an_unterminated_quote_costs_only_its_own_row(tmp_path, newline):
    lines = purview_csv(6, newline).split(newline)
    lines[3] = lines[3][: lines[3].index('""CreationTime')] + '""CreationTime'  # row 4: its AuditData never closes
    path = tmp_path / "quote.csv"
    path.write_text(newline.join(lines), newline="")
    case = load(tmp_path, path)
    file = case.load_report().files[0]
    assert (file.rows, file.loaded, file.rejected) == (6, 5, 1)
    assert sorted(case.events()["record_id"]) == ["id-1", "id-2", "id-4", "id-5", "id-6"]
    assert reasons(case) == {4: "unterminated quote: a quoted field of this row never closes (the row ends where "
                                "the next whole row starts)"}
    assert case.rejects()["text"][0].startswith("id-3,")


def test_reasons_read_well_and_graph_entries_that_are_not_records_are_named(tmp_path):
    lines = tmp_path / "a.jsonl"
    lines.write_text(json.dumps(record(1)) + '\n{"Id": "x", "Operation": "unterminated\n')
    page = tmp_path / "page.json"
    entry = {"id": "g1", "createdDateTime": "2023-02-21T14:03:11Z", "auditLogRecordType": "x", "operation": "x",
             "auditData": record(2)}
    page.write_text(json.dumps({"value": [entry, 5, "text", None, [1]]}))
    case = load(tmp_path, lines, page)
    rejects = case.rejects()
    by_file = {(file.rsplit("/", 1)[1], row): reason for file, row, reason in rejects.select("file", "row", "reason").rows()}
    assert by_file[("a.jsonl", 2)] == "broken JSON in AuditData: Unterminated string starting at character 25"
    assert by_file[("page.json", 2)] == "Graph value entry 2 is a JSON number, not a record"
    assert by_file[("page.json", 3)] == "Graph value entry 3 is a JSON string, not a record"
    assert by_file[("page.json", 4)] == "Graph value entry 4 is a JSON null, not a record"
    assert by_file[("page.json", 5)] == "Graph value entry 5 is a JSON list, not a record"
    assert case.events().height == 2


def test_the_generator_makes_the_folder_it_writes_into(tmp_path, sample_logs):
    out = tmp_path / "new" / "folder" / "bench.jsonl"
    result = subprocess.run([sys.executable, str(sample_logs / "generate.py"), "--events", "5", "--format", "jsonl",
                             "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert out.read_text().count("\n") == 89  # 5 + the 52 planted steps + the owners' 32 scripted mail records
