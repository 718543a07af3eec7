"""Entra ID and Log Analytics exports, loaded from files written from each format's public documentation
(tests/entra_corpus, see its README): the counts and decoded values its manifest expects."""

import json
import math
import tomllib
from datetime import datetime, timezone
from pathlib import Path

import polars as pl
import pytest

from workbench.core.case import Case
from workbench.core.formats import NotAnAuditLog

CORPUS = Path(__file__).parent / "entra_corpus"
MANIFEST = tomllib.loads((CORPUS / "expected.toml").read_text(encoding="utf-8"))["file"]
COUNTED = [entry for entry in MANIFEST if not entry.get("mixed")]
#: Values the manifest gives as the source writes them: compared case-insensitively.
ENUMS = {"status_kind", "ca_status", "mfa_requirement", "risk_level", "risk_state", "sign_in_type", "result",
         "client_app", "auth_protocol", "transfer_method", "mfa_result"}


@pytest.fixture(scope="module")
def corpus_case(tmp_path_factory) -> tuple[Case, dict]:
    """One case of every counted corpus file, loaded in one go, and its load report by file name."""
    case = Case(tmp_path_factory.mktemp("entra") / "corpus")
    report = case.load([CORPUS / entry["name"] for entry in COUNTED])
    return case, {Path(file.path).name: file for file in report.files}


@pytest.mark.parametrize("entry", COUNTED, ids=[entry["name"] for entry in COUNTED])
def test_every_row_of_each_shape_is_accounted_as_documented(corpus_case, entry):
    case, files = corpus_case
    file = files[entry["name"]]
    assert file.format != "unreadable", file.note
    assert (file.rows, file.duplicates + file.conflicting, file.rejected) == (entry["rows"], entry["duplicates"], entry["rejected"])
    assert file.frames == entry["loaded"]
    rejects = case.rejects().filter(pl.col("file").str.ends_with(entry["name"]))
    assert rejects.height == entry["rejected"] and rejects["reason"].null_count() == 0
    assert rejects["text"].null_count() == 0  # a CSV row kept by span has its record made for the rejects file too


def test_a_rejected_download_row_keeps_its_text(corpus_case):
    case, _files = corpus_case
    rejected = case.rejects().filter(pl.col("file").str.ends_with("entra_download_interactive.csv")).row(0, named=True)
    line = (CORPUS / "entra_download_interactive.csv").read_text(encoding="utf-8-sig").splitlines()[rejected["row"] - 1]
    assert rejected["reason"].startswith("unreadable sign-in time")
    cells = json.loads(rejected["text"])
    assert cells["Date (UTC)"] in line and cells["Request ID"] and cells["Request ID"] in line


def _same(column: str, got, want) -> bool:
    if isinstance(want, float):
        return got is not None and math.isclose(got, want, abs_tol=1e-6)
    if column == "creation_time":
        return got.replace(microsecond=0) == datetime.fromisoformat(want.replace("Z", "+00:00")).astimezone(timezone.utc)
    if isinstance(want, str) and isinstance(got, str):
        got, want = got.strip(), want.strip()
        return got.lower() == want.lower() if column in ENUMS else got == want
    return got == want


RECORDS = [(entry["name"], record) for entry in COUNTED for record in entry.get("record", [])]


@pytest.mark.parametrize(("name", "expected"), RECORDS, ids=[f"{name}:{record['record_id'][:12]}" for name, record in RECORDS])
def test_decoded_values_are_what_the_documentation_says(corpus_case, name, expected):
    case, _files = corpus_case
    expected = dict(expected)
    frame = expected.pop("frame")
    change = expected.pop("modified_property", None)
    rows = case.scan(frame=frame).filter(pl.col("record_id") == expected["record_id"]).collect()
    assert rows.height == 1, f"{expected['record_id']} not loaded into {frame}"
    row = rows.row(0, named=True)
    wrong = {column: (row.get(column, "<no column>"), want) for column, want in expected.items()
             if not _same(column, row.get(column), want)}
    assert not wrong
    if change is not None:
        changes = json.loads(row["modified_properties"])
        assert {"name": change["name"], "old": change["old"], "new": change["new"]} in [
            {key: item[key] for key in ("name", "old", "new")} for item in changes]


def test_a_file_mixing_shapes_is_one_clear_message_naming_it(tmp_path):
    mixed = CORPUS / "mixed_shapes.jsonl"
    with pytest.raises(NotAnAuditLog) as error:
        Case(tmp_path / "mixed").load([mixed])
    assert str(mixed) in str(error.value) and "mixes shapes" in str(error.value)


def test_the_original_record_is_kept_for_each_source(corpus_case):
    case, _files = corpus_case
    for frame in ("sign_ins", "directory_audits"):
        raw = case.scan(with_audit_data=True, frame=frame).select("raw").collect()["raw"]
        assert raw.null_count() == 0 and all(isinstance(json.loads(text), dict) for text in raw.head(50))


def test_gzipped_and_utf16_exports_load_the_same_rows(tmp_path):
    import gzip

    (tmp_path / "PT1H.json.gz").write_bytes(gzip.compress((CORPUS / "PT1H.json").read_bytes()))
    text = (CORPUS / "sentinel_signinlogs.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "sentinel.csv").write_bytes(text.encode("utf-16"))  # as Excel saves "Unicode text"
    report = Case(tmp_path / "case").load([tmp_path])
    files = {Path(file.path).name: file for file in report.files}
    expected = {entry["name"]: entry for entry in COUNTED}
    for name, original in (("PT1H.json.gz", "PT1H.json"), ("sentinel.csv", "sentinel_signinlogs.csv")):
        assert files[name].frames == expected[original]["loaded"]
        assert files[name].duplicates == expected[original]["duplicates"]


def test_a_sign_in_without_an_id_gets_a_stable_hash_and_a_list_is_rejected_with_its_kind(tmp_path):
    sign_in = {"createdDateTime": "2024-03-01T10:00:00Z", "userPrincipalName": "a@example.org", "ipAddress": "192.0.2.1",
               "status": {"errorCode": 0}}
    lines = [json.dumps(sign_in), "[1, 2]", json.dumps(sign_in | {"ipAddress": "192.0.2.2"})]
    (tmp_path / "signins.jsonl").write_text("\n".join(lines) + "\n")
    ids = []
    for name in ("one", "two"):
        case = Case(tmp_path / name)
        case.load([tmp_path / "signins.jsonl"])
        ids.append(case.frame("sign_ins")["record_id"].to_list())
        assert case.rejects().select("row", "reason").rows() == [(2, "a JSON list, not a record")]
    assert ids[0] == ids[1] and len(set(ids[0])) == 2 and all(rid.startswith("sha256:") for rid in ids[0])


def test_sentinel_refills_fold_into_one_sign_in_and_the_fold_is_reported(tmp_path):
    header = "TimeGenerated [UTC],Id,UserPrincipalName,IPAddress,ResultType,ConditionalAccessStatus,RiskState,Type\n"
    rows = ('"3/1/2024, 10:15:02.000 AM",s-1,a@example.org,192.0.2.7,0,,,SigninLogs\n'
            '"3/1/2024, 10:15:02.000 AM",s-1,a@example.org,192.0.2.7,0,success,,SigninLogs\n'
            '"3/1/2024, 10:15:02.000 AM",s-1,a@example.org,192.0.2.7,0,success,atRisk,SigninLogs\n')
    (tmp_path / "signins.csv").write_text(header + rows)
    case = Case(tmp_path / "case")
    report = case.load([tmp_path / "signins.csv"])
    file = report.files[0]
    assert (file.loaded, file.duplicates, file.folded) == (1, 2, 2)
    assert case.frame("sign_ins").select("ca_status", "risk_state").rows() == [("success", "atRisk")]
    assert "2 repeated rows" in report.frame_line() and "1 sign-ins" in report.frame_line()


def test_an_azure_monitor_category_that_is_no_sign_in_or_audit_log_is_rejected_with_it(tmp_path):
    first = json.loads((CORPUS / "PT1H.json").read_text().splitlines()[0])
    other = first | {"category": "ProvisioningLogs", "properties": first["properties"] | {"id": "other"}}
    (tmp_path / "PT1H.json").write_text(json.dumps(first) + "\n" + json.dumps(other) + "\n")
    case = Case(tmp_path / "case")
    file = case.load([tmp_path / "PT1H.json"]).files[0]
    assert (file.frames, file.rejected) == ({"sign_ins": 1}, 1)
    assert case.rejects().select("row", "reason").rows() == [
        (2, "category ProvisioningLogs is neither sign-ins, the audit log nor OfficeActivity")]


def test_sentinel_dynamic_cells_of_any_shape_are_read_or_left_empty_never_rejected(tmp_path):
    """Dynamic cells as Log Analytics writes them are decoded by Polars; a chunk with a broken one, or with an
    object held as JSON inside a string, is read the slower way with the same values, and its row still loads."""
    def location(coordinates: object) -> str:
        cell = json.dumps({"city": "Dublin", "state": "Dublin", "countryOrRegion": "IE", "geoCoordinates": coordinates})
        return '"' + cell.replace('"', '""') + '"'

    header = "TimeGenerated [UTC],Id,UserPrincipalName,IPAddress,ResultType,LocationDetails,Status,Type\n"
    status = '"{""errorCode"":50140,""failureReason"":""Keep me signed in interrupt""}"'
    regular = [f'"3/1/2024, 10:15:0{n}.000 AM",s-{n},a@example.org,192.0.2.7,50140,{location({"latitude": 53.35})},{status},SigninLogs\n'
               for n in range(3)]
    odd = [f'"3/1/2024, 10:16:00.000 AM",s-3,a@example.org,192.0.2.7,50140,"{{""city"":",{status},SigninLogs\n',
           f'"3/1/2024, 10:16:01.000 AM",s-4,a@example.org,192.0.2.7,50140,{location(json.dumps({"latitude": 53.35}))},{status},SigninLogs\n']
    for name, rows in (("regular", regular), ("odd", regular + odd)):
        (tmp_path / f"{name}.csv").write_text(header + "".join(rows))
        case = Case(tmp_path / name)
        file = case.load([tmp_path / f"{name}.csv"]).files[0]
        assert (file.loaded, file.rejected) == (len(rows), 0)
        found = {row[0]: row[1:] for row in case.frame("sign_ins").select(
            "record_id", "city", "latitude", "failure_reason", "status_kind").rows()}
        for n in range(3):
            assert found[f"s-{n}"] == ("Dublin", 53.35, "Keep me signed in interrupt", "interrupt")
    assert found["s-3"] == (None, None, "Keep me signed in interrupt", "interrupt")
    assert found["s-4"] == ("Dublin", 53.35, "Keep me signed in interrupt", "interrupt")


def test_the_sign_ins_frame_is_in_time_order_ties_in_input_order_whatever_the_file_order(tmp_path):
    def sign_in(number: int, minute: int) -> str:
        return json.dumps({"id": f"s-{number}", "createdDateTime": f"2024-03-01T10:{minute:02d}:00Z",
                           "userPrincipalName": "a@example.org", "ipAddress": "192.0.2.1", "status": {"errorCode": 0}})

    for name, minutes in (("newest_first", [30, 20, 20, 10]), ("oldest_first", [10, 20, 20, 30])):
        (tmp_path / f"{name}.jsonl").write_text("\n".join(sign_in(n, m) for n, m in enumerate(minutes)) + "\n")
        case = Case(tmp_path / name)
        case.load([tmp_path / f"{name}.jsonl"])
        frame = case.frame("sign_ins")
        order = {"newest_first": ["s-3", "s-1", "s-2", "s-0"], "oldest_first": ["s-0", "s-1", "s-2", "s-3"]}[name]
        assert frame["record_id"].to_list() == order and frame["creation_time"].is_sorted()


def test_export_times_read_in_every_form_the_exports_write_as_utc_instants():
    """The forms read first (ISO 8601 in UTC, the admin center's) and the others, each to the instant it names; a
    text that names none is a reject, with its reason."""
    from workbench.core.sources.fields import split_untimed

    texts = {"2024-03-01T10:00:02.1234567Z": "2024-03-01T10:00:02.123456",
             "2024-03-01 10:00:02Z": "2024-03-01T10:00:02", "2024-03-01T12:00:02+02:00": "2024-03-01T10:00:02",
             "2024-03-01T10:00:02": "2024-03-01T10:00:02", "3/1/2024, 10:00:02 AM": "2024-03-01T10:00:02",
             "03/01/2024 10:00:02 PM": "2024-03-01T22:00:02", "2024-03-01T10:00:02-05:00Z": None, "yesterday": None}
    frame = pl.DataFrame({"source_row": range(len(texts)), "time": list(texts), "record": list(texts)})
    read, rejects = split_untimed(frame, "test")
    got = dict(zip(read["time"], read["creation_time"].dt.replace_time_zone(None).dt.to_string("%Y-%m-%dT%H:%M:%S%.f")))
    assert got == {text: want.removesuffix(".000000") for text, want in texts.items() if want}
    assert read["creation_time"].dtype == pl.Datetime("us", "UTC")
    assert rejects["reason"].to_list() == ["unreadable test time 2024-03-01T10:00:02-05:00Z",
                                           "unreadable test time yesterday"]
