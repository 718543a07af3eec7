"""The original records of Entra ID and Log Analytics exports are read back from the case's own copy of the input by
byte span, like the audit log's: a JSON Lines record byte for byte as its line, a CSV row as the JSON object of its
cells the loader made of it; none is stored again in the Parquet."""

import csv
import hashlib
import json

import polars as pl

from workbench.core.case import Case
from workbench.core.sql import SqlSession

SENTINEL_HEADER = ("TenantId,TimeGenerated [UTC],OperationName,ResultType,AppDisplayName,ClientAppUsed,Id,IPAddress,"
                   "LocationDetails,Status,UserPrincipalName,UserAgent,Type")


def sentinel_row(number: int, sign_in: str, result: str = "0", city: str = "Zürich", agent: str = "Mozilla/5.0") -> str:
    """One row of the Log Analytics portal's CSV export of SigninLogs (dynamic columns as JSON text)."""
    location = json.dumps({"city": city, "countryOrRegion": "CH", "geoCoordinates": {"latitude": 47.37}},
                          ensure_ascii=False)
    status = json.dumps({"errorCode": int(result), "additionalDetails": 'MFA "completed", in app'})
    cells = ["72f988bf-86f1-41af-91ab-2d7cd011db47", f"3/1/2024, 10:{number:02d}:02.123 AM", "Sign-in activity", result,
             "Office 365 Exchange Online", "Browser", sign_in, "104.161.20.102", location, status,
             "amy@contoso.com", agent, "SigninLogs"]
    return ",".join('"' + cell.replace('"', '""') + '"' if any(c in cell for c in ',"\n') else cell for cell in cells)


def cells_by_row(path, skip_lines: int = 0) -> dict[int, dict]:
    """Each data row's non-empty cells under their headers, as Python's csv module reads them, by row number (the
    header row is 1 after `skip_lines` lines)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for _ in range(skip_lines):
            handle.readline()
        reader = csv.DictReader(handle.read().splitlines(keepends=True))
        return {number: {name.strip(): value for name, value in row.items() if value}
                for number, row in enumerate(reader, start=2 + skip_lines)}


def raw_by_row(case: Case, frame: str = "sign_ins") -> dict[int, str]:
    return dict(case.scan(with_audit_data=True, frame=frame).select("source_row", "raw").collect().iter_rows())


def stored_raw(case: Case, frame: str = "sign_ins") -> pl.Series:
    return pl.read_parquet(case.parts(frame), glob=False)["raw"]


def test_sentinel_csv_rows_read_back_as_the_loader_made_them_after_the_input_is_deleted(tmp_path):
    rows = [sentinel_row(1, "s-1", "50140"), sentinel_row(2, "s-2", agent="=HYPERLINK(\"http://x\")"),
            sentinel_row(3, "s-1", "0"),  # Log Analytics keeps another row of sign-in s-1: folded into its first
            sentinel_row(4, "s-3", city="")]
    source = tmp_path / "SigninLogs.csv"
    source.write_bytes(b"\xef\xbb\xbf" + "\r\n".join([SENTINEL_HEADER, *rows, ""]).encode())
    expected = cells_by_row(source)
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    report = case.load([source])
    assert report.files[0].format == "sentinel-csv" and report.files[0].loaded == 3 and report.files[0].folded == 1
    assert stored_raw(case).null_count() == 3  # not encoded into the Parquet
    source.unlink()
    records = raw_by_row(case)
    assert sorted(records) == [2, 3, 5]  # the first row of each sign-in; the header is row 1
    for row, text in records.items():
        assert {name: value for name, value in json.loads(text).items() if value not in (None, "")} == expected[row]
    sign_in = case.activity().filter(pl.col("record_id") == "s-3").row(0, named=True)  # as the drill-down opens it
    assert json.loads(case.record_text(sign_in))["UserAgent"] == "Mozilla/5.0"
    session = SqlSession(case)
    assert session.run("SELECT Id FROM sign_ins s, SigninLogs l WHERE s.raw LIKE '%HYPERLINK%' "
                       "AND l.Id = s.record_id").frame.to_series().to_list() == ["s-2"]


def test_a_csv_after_a_powershell_type_line_and_a_row_over_several_lines(tmp_path):
    """Windows PowerShell's Export-Csv writes `#TYPE` before the header; a row whose cell holds a line break is
    stored in the Parquet, as are the rows after it, and every record reads back."""
    rows = [sentinel_row(1, "s-1"), sentinel_row(2, "s-2", agent="two\nlines"), sentinel_row(3, "s-3")]
    source = tmp_path / "signins.csv"
    source.write_text("\n".join(["#TYPE System.Management.Automation.PSCustomObject", SENTINEL_HEADER, *rows, ""]),
                      encoding="utf-8")
    expected = cells_by_row(source, skip_lines=1)
    case = Case.named("c", tmp_path / "cases")
    assert case.load([source]).files[0].loaded == 3
    assert stored_raw(case).null_count() == 1
    records = raw_by_row(case)
    assert sorted(records) == [3, 4, 5]  # CSV rows, the header row 2
    for row, text in records.items():
        assert {name: value for name, value in json.loads(text).items() if value not in (None, "")} == expected[row]


def test_graph_and_azure_monitor_lines_read_back_byte_identical(tmp_path):
    sign_ins = [json.dumps({"id": f"g-{n}", "createdDateTime": f"2024-03-01T10:00:0{n}Z", "userPrincipalName":
                            "amy@contoso.com", "appDisplayName": "Azure Portal", "ipAddress": "185.241.149.122",
                            "status": {"errorCode": 0}, "location": {"city": "Kraków"}}, ensure_ascii=False)
                for n in range(3)]
    graph = tmp_path / "graph-signins.jsonl"
    graph.write_bytes(("\n".join(sign_ins) + "\n").encode())
    audits = [json.dumps({"time": "2024-03-01T10:05:00Z", "Category": "AuditLogs", "operationName": "Add user",
                          "properties": {"id": f"d-{n}", "activityDateTime": "2024-03-01T10:05:00Z",
                                         "activityDisplayName": "Add user", "category": "UserManagement",
                                         "result": "success"}}) for n in range(2)]
    azure = tmp_path / "PT1H.json"  # top-level keys as some exporters spell them: read, but kept as written
    azure.write_bytes(("\r\n".join(audits) + "\r\n").encode())
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    report = case.load([graph, azure])
    assert [file.loaded for file in report.files] == [3, 2]
    assert stored_raw(case).null_count() == 3 and stored_raw(case, "directory_audits").null_count() == 2
    graph.unlink()
    azure.unlink()
    assert raw_by_row(case) == {n + 1: line for n, line in enumerate(sign_ins)}
    assert raw_by_row(case, "directory_audits") == {n + 1: line for n, line in enumerate(audits)}
    assert SqlSession(case).run("SELECT raw FROM directory_audits WHERE raw LIKE '%d-1%'").frame.item() == audits[1]


def test_a_sign_in_without_an_id_is_named_by_the_hash_of_the_record_read_back(tmp_path):
    """A row without `Id` gets the SHA-256 of its record as its id, though the loader stores no record for it: the
    record it reads back by span is the one hashed."""
    source = tmp_path / "SigninLogs.csv"
    source.write_text("\n".join([SENTINEL_HEADER, sentinel_row(1, ""), sentinel_row(2, "s-2"), ""]), encoding="utf-8")
    case = Case.named("c", tmp_path / "cases")
    assert case.load([source]).files[0].loaded == 2
    assert stored_raw(case).null_count() == 2
    unnamed = case.activity().filter(pl.col("record_id").str.starts_with("sha256:")).row(0, named=True)
    text = case.record_text(unnamed)
    assert json.loads(text)["TimeGenerated [UTC]"] == "3/1/2024, 10:01:02.123 AM"
    assert unnamed["record_id"] == "sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32]
