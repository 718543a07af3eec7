"""Loading: every input shape and quirk of DESIGN.md §2 ends in the events frame of §3, every row accounted for."""

import gzip
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from workbench.core.case import Case
from workbench.core.duckjson import lines_match
from workbench.core.formats import NotAnAuditLog, Shape, detect_shape, expand_paths
from workbench.core.load import events_from_records
from workbench.core.normalise import _name_value, normalise
from workbench.core.readers import ENVELOPE, _byte_chunks
from workbench.core.schema import AUDIT_SCHEMA, EVENT_SCHEMA

SHAPES = {
    "jsonl": Shape.MGMT_JSONL, "mgmt-json": Shape.MGMT_JSON, "purview-csv": Shape.PURVIEW_CSV,
    "legacy-csv": Shape.LEGACY_CSV, "graph-json": Shape.GRAPH_JSON,
}


def record(**fields) -> dict:
    base = {
        "Id": "11111111-0000-0000-0000-000000000001", "CreationTime": "2023-02-21T14:03:11",
        "Operation": "UserLoggedIn", "Workload": "AzureActiveDirectory", "RecordType": 15,
        "UserId": "User@Example.com", "UserType": 0, "OrganizationId": "ORG-1", "ResultStatus": "Success",
    }
    base.update(fields)
    return {key: value for key, value in base.items() if value is not None}


def load(tmp_path: Path, *paths: Path, name: str = "t") -> Case:
    case = Case.named(name, tmp_path / "cases")
    case.open(list(paths))
    return case


def write_lines(path: Path, lines: list[str], newline: str = "\n", bom: bool = False) -> Path:
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


@pytest.fixture(scope="module")
def small_case(generator):
    return generator.generate_case("a", background=300)


@pytest.mark.parametrize("fmt", list(SHAPES))
def test_every_shape_loads_the_same_events(tmp_path, generator, small_case, fmt):
    path = tmp_path / f"export.{fmt}"
    generator.write(small_case, fmt, path)
    assert detect_shape(path) is SHAPES[fmt]
    case = load(tmp_path, path)
    events = case.events()
    report = case.load_report()
    assert report.totals()["loaded"] == len(small_case) == events.height
    assert report.totals()["rejected"] == 0
    assert events.schema == {k: v for k, v in EVENT_SCHEMA.items() if k != "audit_data"}
    expected_ids = sorted(r["Id"].lower() for r in small_case)
    assert sorted(events["record_id"].to_list()) == expected_ids
    grant = events.filter(pl.col("operation") == "Add-MailboxPermission", pl.col("object_id") == "TargetUser")
    assert grant.height >= 1
    assert json.loads(grant["parameters"][0])[2] == {"Name": "AccessRights", "Value": "FullAccess"}
    assert events["client_ip"].drop_nulls().str.contains(r"^\d+\.\d+\.\d+\.\d+:|^\[|^::ffff:").sum() == 0


def test_graph_json_lines_and_gzip(tmp_path, generator, small_case):
    lines = [json.dumps(generator.graph_record(r)) for r in small_case[:50]]
    path = write_lines(tmp_path / "graph.ndjson", lines)
    gz = tmp_path / "graph.ndjson.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    path.unlink()
    assert detect_shape(gz) is Shape.GRAPH_JSONL
    events = load(tmp_path, gz).events()
    assert events.height == 50
    assert events["operation"].null_count() == 0


def test_files_made_plain_while_the_file_before_them_loads_load_in_order_and_leave_nothing_behind(
        tmp_path, generator, small_case):
    """Gzipped and UTF-16 inputs, each decompressed or transcoded on a thread while the input before it loads, with
    an empty file and one that is not a log between them: each loads whole, in the files' order, and the case reads
    every record back from its own copies once the inputs are gone."""
    folder = tmp_path / "in"
    folder.mkdir()
    generator.write(small_case[:100], "purview-csv", folder / "a.csv")
    text = (folder / "a.csv").read_text(encoding="utf-8-sig")
    (folder / "a.csv").write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    generator.write(small_case[100:200], "jsonl", tmp_path / "b.jsonl")
    (folder / "b.jsonl.gz").write_bytes(gzip.compress((tmp_path / "b.jsonl").read_bytes()))
    (folder / "c.json").write_bytes(b"")
    (folder / "d.csv").write_text("not,an,audit,log\n1,2,3,4\n")
    generator.write(small_case[200:], "purview-csv", folder / "e.csv")
    (folder / "e.csv").write_bytes(b"\xff\xfe" + (folder / "e.csv").read_text(encoding="utf-8-sig").encode("utf-16-le"))
    case = Case.named("t", tmp_path / "cases", {"keep_inputs": "copy"})
    report = case.load(sorted(folder.iterdir()))
    assert [(Path(f.path).name, f.loaded) for f in report.files] == [
        ("a.csv", 100), ("b.jsonl.gz", 100), ("c.json", 0), ("d.csv", 0), ("e.csv", len(small_case) - 200)]
    assert [(f.format, f.kept) for f in report.files] == [
        ("purview-csv", "plain copy"), ("mgmt-jsonl", "plain copy"), ("empty", None), ("unreadable", None),
        ("purview-csv", "plain copy")]
    assert not list((case.state_dir).glob("scratch*"))
    shutil.rmtree(folder)
    texts = dict(case.scan(with_audit_data=True).select("record_id", "audit_data").collect().iter_rows())
    assert texts.keys() == {record["Id"].lower() for record in small_case}
    assert all(json.loads(text)["Id"].lower() == record_id for record_id, text in texts.items())


def test_folders_recursive_and_dedupe_across_files(tmp_path, generator, small_case):
    (tmp_path / "in" / "sub").mkdir(parents=True)
    generator.write(small_case[:200], "jsonl", tmp_path / "in" / "a.jsonl")
    generator.write(small_case[150:], "purview-csv", tmp_path / "in" / "sub" / "b.csv")
    case = load(tmp_path, tmp_path / "in")
    files = {Path(f.path).name: f for f in case.load_report().files}
    assert files["a.jsonl"].loaded == 200
    assert files["b.csv"].duplicates == 50
    assert files["b.csv"].loaded == len(small_case) - 200
    assert case.events()["record_id"].is_unique().all()


def test_purview_quirks_bom_crlf_quoted_dates_and_seven_digit_fractions(tmp_path):
    audit = record(CreationTime=None, Id="a1")
    row = ["a1", '"2026-01-24T06:54:24.0000000Z "', "AzureActiveDirectoryStsLogon", "UserLoggedIn", "u@x.com",
           json.dumps(audit), "", ""]
    csv_line = ",".join('"' + cell.replace('"', '""') + '"' for cell in row)
    header = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames"
    path = write_lines(tmp_path / "p.csv", [header, csv_line], newline="\r\n", bom=True)
    events = load(tmp_path, path).events()
    assert events["creation_time"].to_list()[0].isoformat() == "2026-01-24T06:54:24+00:00"
    assert events["record_type"][0] == 15


def test_legacy_us_dates_and_plural_columns(tmp_path):
    audit = json.dumps(record(CreationTime=None, Id="b2", RecordType=None, Operation=None, UserId=None))
    header = '"RunspaceId","RecordType","CreationDate","UserIds","Operations","AuditData","ResultIndex"'
    row = f'"r","ExchangeAdmin","9/20/2023 4:05:03 PM","Admin@x.com","Set-Mailbox","{audit.replace(chr(34), chr(34) * 2)}","1"'
    events = load(tmp_path, write_lines(tmp_path / "l.csv", [header, row])).events()
    first = events.row(0, named=True)
    assert first["creation_time"].isoformat() == "2023-09-20T16:05:03+00:00"
    assert (first["operation"], first["user_id"], first["record_type"]) == ("Set-Mailbox", "Admin@x.com", 1)


@pytest.mark.parametrize("raw, expected", [
    ("1.2.3.4", "1.2.3.4"), ("1.2.3.4:19823", "1.2.3.4"), ("[2001:db8::1]:443", "2001:db8::1"),
    ("::ffff:1.2.3.4", "1.2.3.4"), ("2001:DB8:0:0::1", "2001:db8::1"), ("", None), ("<null>", None),
])
def test_client_ip_shapes_from_every_ip_field(raw, expected):
    for field in ("ClientIP", "ClientIPAddress", "ActorIpAddress"):
        events = events_from_records([record(**{field: raw})])
        assert events["client_ip"][0] == expected
        assert events["client_ip_raw"][0] == (raw or None)


def test_result_status_kept_user_key_and_operation_names_kept():
    events = events_from_records([
        record(Id="1", UserId="TargetUser@Example.com", Operation="Add user.", ResultStatus="True"),
        record(Id="2", UserId="targetuser@example.com", Operation="Add User.", ResultStatus="failed"),
    ])
    assert events["operation"].to_list() == ["Add user.", "Add User."]
    assert events["result_status"].to_list() == ["True", "failed"]
    assert events["user_key"].n_unique() == 1


def test_nested_fields_are_json_text_whatever_their_shape():
    events = events_from_records([
        record(Id="1", Parameters="plain text parameters", ModifiedProperties=["Subject", "Body"]),
        record(Id="2", Parameters=[{"Name": "Identity", "Value": "x"}],
               ModifiedProperties=[{"Name": "StrongAuthenticationUserDetails", "NewValue": "[\r\n  true\r\n]", "OldValue": ""}]),
    ])
    assert events["parameters"][0] == "plain text parameters"
    assert json.loads(events["modified_properties"][0]) == ["Subject", "Body"]
    assert json.loads(events["modified_properties"][1])[0]["NewValue"] == "[\r\n  true\r\n]"
    assert json.loads(events["parameters"][1]) == [{"Name": "Identity", "Value": "x"}]


def test_user_agent_and_session_id_come_from_their_several_homes():
    events = events_from_records([
        record(Id="1", ExtendedProperties=[{"Name": "UserAgent", "Value": "UA-ext"}],
               DeviceProperties=[{"Name": "SessionId", "Value": "S-dev"}]),
        record(Id="2", ClientInfoString="Client=OWA;Action=ViaProxy", AppAccessContext={"AADSessionId": "S-aad"},
               SessionId="exchange-session"),
        record(Id="3", UserAgent="UA-sp", SessionId="S-own"),
    ])
    assert events["user_agent"].to_list() == ["UA-ext", "Client=OWA;Action=ViaProxy", "UA-sp"]
    assert events["session_id"].to_list() == ["S-dev", "S-aad", "S-own"]


def test_fields_that_first_appear_late_are_kept(tmp_path):
    records = [record(Id=str(i)) for i in range(3000)]
    records.append(record(Id="late", MailboxOwnerUPN="Owner@x.com", Item={"Subject": "late subject"}))
    path = write_lines(tmp_path / "late.jsonl", [json.dumps(r) for r in records])
    events = load(tmp_path, path).events()
    late = events.filter(pl.col("record_id") == "late").row(0, named=True)
    assert late["mailbox_owner_upn"] == "Owner@x.com"
    assert json.loads(late["item"]) == {"Subject": "late subject"}


def test_missing_id_gets_a_stable_hash():
    first = events_from_records([record(Id=None)])["record_id"][0]
    again = events_from_records([record(Id=None)])["record_id"][0]
    assert first == again and first.startswith("sha256:")


def test_not_an_audit_log_is_one_clear_error(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("name,phone\nbob,123\n")
    with pytest.raises(NotAnAuditLog, match="notes.csv: not a Microsoft 365 audit log.*Purview"):
        load(tmp_path, path)


@pytest.mark.parametrize("creation_time, creation_date, expected", [
    ("2023-02-21T14:03:11", None, "2023-02-21T14:03:11+00:00"),
    ("2023-02-21T14:03:11.1234567", None, "2023-02-21T14:03:11.123456+00:00"),
    ("2023-02-21T14:03:11Z", None, "2023-02-21T14:03:11+00:00"),
    (None, "9/20/2023 4:05:03 AM", "2023-09-20T04:05:03+00:00"),
    (None, "12/1/2022 11:59:59 PM", "2022-12-01T23:59:59+00:00"),
    (None, '"2026-01-24T06:54:24.0000000Z "', "2026-01-24T06:54:24+00:00"),
    (None, "2023-02-21T15:03:11+01:00", "2023-02-21T14:03:11+00:00"),
    ("2023-02-21T14:03:11", "1/1/2020 1:00:00 AM", "2023-02-21T14:03:11+00:00"),  # CreationTime wins
])
def test_timestamps_in_every_observed_form(creation_time, creation_date, expected):
    rows = [{"source_row": 1, "audit_data": json.dumps(record(CreationTime=creation_time)), "env_time": creation_date}]
    raw = pl.DataFrame(rows).with_columns(pl.lit(None, pl.String).alias(c) for c in ENVELOPE if c != "env_time")
    result = normalise(raw.select("source_row", "audit_data", *ENVELOPE).cast({"env_time": pl.String}), "c", "f")
    assert result.rejects.height == 0
    assert result.events["creation_time"][0].isoformat() == expected


def test_nested_values_with_backslashes_stay_valid_json(tmp_path):
    item = {"Subject": 'Re: "wire" C:\\temp\\n \x1b[2J', "ParentFolder": {"Path": "\\Sent Items"}}
    rows = [record(Id=str(i), Item=item, AffectedItems=[item], Parameters=[{"Name": "Path", "Value": "a\\b"}])
            for i in range(3)]
    path = write_lines(tmp_path / "bs.jsonl", [json.dumps(r) for r in rows])
    events = load(tmp_path, path).events()
    assert json.loads(events["item"][0]) == item
    assert json.loads(events["affected_items"][1]) == [item]
    assert json.loads(events["parameters"][2])[0]["Value"] == "a\\b"
    assert json.loads(events_from_records(rows)["item"][0]) == item


def test_folders_skip_hidden_cache_and_documentation_files(tmp_path):
    root = tmp_path / "logs"
    for name in ("__pycache__/generate.cpython-311.pyc", ".git/config", "README.md", "generate.py", "sub/a.jsonl"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(json.dumps(record()) + "\n")
    assert expand_paths([root]) == [root / "sub" / "a.jsonl"]


@pytest.mark.parametrize("extra", ["", "\ufdd0 stand-in already in the input"])
def test_backslashes_and_the_decoders_stand_in_survive_decoding(tmp_path, extra):
    item = {"Subject": f"C:\\\\share\\x {extra}", "ParentFolder": {"Path": "\\Inbox\\\\Sub"}}
    rows = [record(Id=str(i), Item=item, UserId="NT AUTHORITY\\SYSTEM (w3wp)") for i in range(2)]
    events = load(tmp_path, write_lines(tmp_path / "s.jsonl", [json.dumps(r) for r in rows])).events()
    assert [json.loads(text) for text in events["item"]] == [item, item]
    assert events["user_id"].to_list() == ["NT AUTHORITY\\SYSTEM (w3wp)"] * 2


NAME_VALUE_TEXTS = [
    None, "", "[]", " [ ] ", "{}", "null", '"x"', "[1,2]",
    '[{"Name": "UserAgent", "Value": "Mozilla/5.0"}]',
    '[{"Name":"UserAgent","Value":"A"},{"Name":"UserAgent","Value":"B"}]',
    '[{"Name":"X","Value":"A"},{"Name":"UserAgent","Value":""}]',
    '[{"Value":"A","Name":"UserAgent"}]', '[{"Name":"UserAgent","Value":5}]', '[{"Name":"UserAgent","Value":null}]',
    '[{"Name":"UserAgent","Value":"a\\"b"}]', '[{"Name":"UserAgent","Value":"a\\\\b"}]',
    '[{"Name":"UserAgent","Value":"a\\u00e9\\/b"}]', '[{"Name":"User\\u0041gent","Value":"escaped name"}]',
    '[{"Name":"X","Value":[{"Name":"UserAgent","Value":"deeper"}]}]',
    '[{"Name":"X","Value":"{\\"Name\\":\\"UserAgent\\",\\"Value\\":\\"inside a string\\"}"}]',
    '[{"a\\"Name":"UserAgent","Value":"key ends in Name"}]', '[{"Name":"UserAgent","Value":"x","Extra":1}]',
    '[{"Name":"UserAgent","Value":"x"}', '[{"Name":"UserAgent","Value":"x"}]]', '[{"Name":"UserAgent","Value":"x"},]',
    '[{"Name":"UserAgent","Value":"raw\ttab"}]', '[{"Name":"UserAgent","Value":"ünï ✓"}]',
    '\n[\t{ "Name" : "UserAgent" , "Value" : "spaced" }\r\n]\n', '{"Name":"UserAgent","Value":"an object"}',
    '[{"Name":"userAgent","Value":"other case"}]', '[{"Name":"UserAgent","Value":"x"}][{"Name":"UserAgent","Value":"y"}]',
]


def test_name_value_lookup_matches_json_path_on_tricky_texts():
    texts = pl.Series(NAME_VALUE_TEXTS, dtype=pl.String)
    expected = texts.str.json_path_match("$[?(@.Name=='UserAgent')].Value")
    assert _name_value(texts, "UserAgent").to_list() == expected.to_list()
    assert _name_value(texts.head(0), "UserAgent").to_list() == []


TRICKY_RECORDS = [
    record(Id="t1", Item={"Subject": 'Re: "wire" C:\\temp \x1b[2J \x07 ünï ✓ \u200b', "ParentFolder": {"Path": "\\Inbox"}},
           Parameters=[{"Name": "Identity", "Value": "a\\b"}, {"Name": "Count", "Value": 5}],
           ExtendedProperties=[{"Name": "UserAgent", "Value": "Mozilla/5.0 \"quoted\""}]),
    record(Id="t2", UserType=True, ResultStatus={"code": 1}, ObjectId=["a", "b"], ClientIP="[2001:db8::1]:443",
           AppAccessContext={"AADSessionId": "s-1", "Other": [1, 2]}, DeviceProperties=[{"Name": "SessionId", "Value": "d"}]),
    record(Id="t3", ModifiedProperties=[{"Name": "StrongAuthenticationPhoneAppDetail", "OldValue": "[]",
                                         "NewValue": "[{\"PhoneNumber\":\"+1 555\"}]"}], Target=None, Actor=[]),
    record(Id="t4", CreationTime="2023-02-21T14:03:11.1234567Z", RecordType="ExchangeAdmin", UserId=None,
           AffectedItems=[], Item=None),
    record(Id="t5", Parameters='plain C:\\x "q" \x07 é', Target=5, Actor=True, Item="", OrganizationId=1.5),
]


def polars_decoded(records: list) -> pl.DataFrame:
    """The events of `records` decoded by Polars alone (as when DuckDB cannot read a chunk)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("workbench.core.normalise.decode_texts", lambda texts: None)
        return events_from_records(records)


def equal_events(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """The same events: every column equal, JSON text (nested fields, an object in a text field) as JSON values."""
    def value(text):
        try:
            return json.loads(text) if isinstance(text, str) and text[:1] in "[{" else text
        except ValueError:  # e.g. "[2001:db8::1]:443"
            return text

    def values(frame: pl.DataFrame, column: str) -> list:
        return [value(text) for text in frame[column].to_list()]

    for column in EVENT_SCHEMA:
        if column not in ("case", "source_file", "source_row", "audit_data"):
            assert values(left, column) == values(right, column), column


@pytest.mark.parametrize("name", ["tricky.jsonl", "export [1]*.jsonl"])  # DuckDB would read the second as a glob
def test_json_lines_decoded_by_duckdb_equal_the_line_by_line_decode(tmp_path, name):
    path = write_lines(tmp_path / name, [json.dumps(r, ensure_ascii=False) for r in TRICKY_RECORDS], "\r\n")
    equal_events(load(tmp_path, path).events().sort("record_id"), polars_decoded(TRICKY_RECORDS).sort("record_id"))
    assert events_from_records(TRICKY_RECORDS).filter(pl.col("record_id") == "t5")["parameters"][0].startswith("plain")


def purview_csv(path: Path, audit_texts: list[str]) -> Path:
    header = "RecordId,CreationDate,RecordType,Operation,UserId,AuditData"
    rows = [",".join('"' + cell.replace('"', '""') + '"' for cell in ["", "", "", "", "", text]) for text in audit_texts]
    return write_lines(path, [header, *rows], newline="\r\n", bom=True)


def test_csv_audit_data_decoded_by_duckdb_equals_the_polars_decode(tmp_path):
    path = purview_csv(tmp_path / "tricky.csv", [json.dumps(r, ensure_ascii=False) for r in TRICKY_RECORDS])
    equal_events(load(tmp_path, path).events().sort("record_id"), polars_decoded(TRICKY_RECORDS).sort("record_id"))


def test_csv_rows_duckdb_would_read_are_rejected_as_before(tmp_path):
    texts = [json.dumps(record(Id=f"r{n}")) for n in range(6)]
    texts[1:1] = ["null", "[1]", json.dumps(record(Id="c"))[:-1] + ", }", json.dumps(record(Id="n"))[:-1] + ', "S": NaN}']
    case = load(tmp_path, purview_csv(tmp_path / "bad.csv", texts))
    reasons = dict(zip(case.rejects()["row"].to_list(), case.rejects()["reason"].to_list()))
    assert reasons == {3: "AuditData is a JSON NoneType, not an object", 4: "AuditData is a JSON list, not an object",
                       5: reasons[5], 6: "broken JSON in AuditData: NaN is not a JSON value"}
    assert reasons[5].startswith("broken JSON in AuditData")
    assert sorted(case.events()["record_id"].to_list()) == [f"r{n}" for n in range(6)]


def test_bad_lines_are_explained_whichever_reader_decodes_the_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr("workbench.core.readers.CHUNK_BYTES", 600)  # chunks of a few lines
    rows = [record(Id=f"r{n}", Parameters=[{"Name": "N", "Value": f"v\\{n}"}],
                   ExtendedProperties=[{"Name": "UserAgent", "Value": "ua"}]) for n in range(40)]
    lines = [json.dumps(r) for r in rows]
    lines[25:25] = ["{broken", "   ", '{"Id": "n", "CreationTime": "2023-02-21T14:03:11", "Operation": "X", "S": NaN}']
    lines[10:10] = ["null"]
    lines[5:5] = [json.dumps(record(Id="c"))[:-1] + ",}"]  # a trailing comma
    case = load(tmp_path, write_lines(tmp_path / "mid.jsonl", lines))
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.rejected) == (45, 40, 5)
    reasons = dict(zip(case.rejects()["row"].to_list(), case.rejects()["reason"].to_list()))
    assert reasons == {6: reasons[6], 12: "AuditData is a JSON NoneType, not an object", 28: reasons[28],
                       29: "empty AuditData", 30: "broken JSON in AuditData: NaN is not a JSON value"}
    assert reasons[6].startswith("broken JSON in AuditData") and reasons[28].startswith("broken JSON in AuditData")
    events = case.events().sort("source_row")
    assert events["source_row"].to_list() == [*range(1, 6), *range(7, 12), *range(13, 28), *range(31, 46)]
    equal_events(events.sort("record_id"), events_from_records(rows).sort("record_id"))


def test_a_line_polars_cannot_split_hands_the_rest_of_the_file_to_the_byte_reader(tmp_path, monkeypatch):
    """A raw 0x1f byte (the separator Polars splits lines on) in line 31: Polars stops, the lines from where
    it stopped are read in blocks of bytes; every line keeps its number and the bad one its whole text."""
    monkeypatch.setattr("workbench.core.readers.CHUNK_BYTES", 600)  # blocks of a few lines
    rows = [record(Id=f"r{n}") for n in range(60)]
    lines = [json.dumps(r) for r in rows]
    lines[30] = lines[30][:-1] + ', "Note": "a\x1fb"}'
    case = load(tmp_path, write_lines(tmp_path / "separator.jsonl", lines))
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.rejected) == (60, 59, 1)
    rejected = case.rejects().row(0, named=True)
    assert rejected["row"] == 31 and rejected["text"] == lines[30] and rejected["reason"].startswith("broken JSON")
    events = case.events().sort("source_row")
    assert events["source_row"].to_list() == [*range(1, 31), *range(32, 61)]
    assert events["record_id"].to_list() == [f"r{n}" for n in range(60) if n != 30]


@pytest.mark.parametrize("after_line", [0, 1, 4, 7, 9])
def test_byte_blocks_resume_after_the_lines_already_read(tmp_path, monkeypatch, after_line):
    monkeypatch.setattr("workbench.core.readers.CHUNK_BYTES", 8)
    lines = ["{}", "", "  ", '{"a":"\x1f"}', "{}", "\u00e9", "x", "{}", "last"]
    path = write_lines(tmp_path / "lines.jsonl", lines, "\r\n", bom=True)
    rest = b"".join(_byte_chunks(path, after_line)).decode().split("\r\n")
    assert rest[:-1] == lines[after_line:]


@pytest.mark.parametrize("name", ["export.csv", "export [1]*.csv"])  # Polars would read the second as a glob
def test_purview_csv_named_like_a_glob_pattern_loads(tmp_path, name):
    path = purview_csv(tmp_path / name, [json.dumps(record(Id=f"g{n}")) for n in range(3)])
    assert sorted(load(tmp_path, path).events()["record_id"].to_list()) == ["g0", "g1", "g2"]


def test_a_bad_line_deep_in_a_big_file_leaves_only_the_rest_to_the_line_reader(tmp_path, monkeypatch):
    """DuckDB decodes the first 24 MB block; it stops at the broken line, and the second block is read here."""
    monkeypatch.setattr("workbench.core.readers.CHUNK_BYTES", 24 << 20)  # a 30 MB file in two blocks
    rows = [record(Id=f"r{n}", ExtendedProperties=[{"Name": "UserAgent", "Value": "ua " + "x" * 200}])
            for n in range(100_000)]
    lines = [json.dumps(r) for r in rows]
    lines[99_000] = "{broken"
    case = load(tmp_path, write_lines(tmp_path / "big.jsonl", lines))
    report = case.load_report().files[0]
    assert (report.rows, report.loaded, report.rejected) == (100_000, 99_999, 1)
    assert case.rejects()["row"].to_list() == [99_001]
    events = case.events().sort("source_row")
    assert events["extended_properties"][0].startswith('[{"Name":"UserAgent","Value":"ua x')  # DuckDB: minified
    assert events["extended_properties"][-1].startswith('[{"Name": "UserAgent", "Value": "ua x')  # Polars
    kept = [*range(0, 100), *range(98_900, 99_000), *range(99_001, 100_000)]
    sample = events.filter(pl.col("source_row").is_in([n + 1 for n in kept]))
    equal_events(sample, events_from_records([rows[n] for n in kept]))


def test_records_are_matched_to_their_lines_or_not_used():
    texts = pl.Series([json.dumps(record(Id=f"r{n}")) for n in range(40)])
    fields = pl.read_ndjson(texts.str.join("\n").item().encode(), schema=AUDIT_SCHEMA)
    assert lines_match(texts, fields)
    assert not lines_match(texts.slice(1).append(texts.slice(0, 1)), fields)  # shifted by one line
    assert not lines_match(texts.slice(0, 39), fields.slice(0, 39).vstack(fields.slice(0, 1)))  # heights differ
    assert not lines_match(texts.scatter(5, texts[5].replace("}", ', "X": -Infinity}')), fields)
    empty = fields.with_columns(pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col(c)).alias(c)
                                for c in ("Id", "CreationTime", "Operation"))
    assert not lines_match(texts, empty)  # a `null` line
