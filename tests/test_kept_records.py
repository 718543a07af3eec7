"""The original records of a JSON Lines input are read back from the case's own copy of the file, by byte span,
byte for byte as in the input, and survive the input being moved, deleted or (with a copy) edited."""

import errno
import gzip
import json
import mmap
import os

import polars as pl
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.core.case import Case
from workbench.core.config import ConfigError
from workbench.core.kept_records import in_page_cache, keep_input
from workbench.core.sql import SqlSession


def record(number: int, **extra) -> dict:
    return {"Id": f"id-{number}", "CreationTime": f"2024-03-01T10:00:{number % 60:02d}", "Operation": "FileAccessed",
            "RecordType": 6, "UserId": "amy@contoso.com", "Workload": "SharePoint", **extra}


def lines_of(path) -> list[bytes]:
    """The input's lines as bytes, without their line ends (and the BOM)."""
    return [line.removesuffix(b"\r") for line in path.read_bytes().removeprefix(b"\xef\xbb\xbf").split(b"\n")]


def stored_texts(case: Case) -> pl.Series:
    """`audit_data` as the case's Parquet holds it (null where a span holds the record)."""
    return pl.read_parquet(case.parts(), glob=False)["audit_data"]


def records_by_row(case: Case) -> dict[int, str]:
    return dict(case.scan(with_audit_data=True).select("source_row", "audit_data").collect().iter_rows())


def test_records_read_back_byte_identical_after_the_input_is_deleted(tmp_path):
    lines = [json.dumps(record(n, Subject=f"Réunion {n} \u2028 \\\"quoted\\\"", Tab="\t")).encode() for n in range(5)]
    lines[2] = b'  {"Id":"id-2","CreationTime":"2024-03-01T10:00:02","Operation":"X","RecordType":6}  '  # spaces kept
    source = tmp_path / "audit.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(lines) + b"\r\n")  # a BOM and Windows line ends
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    report = case.load([source])
    assert report.files[0].kept in ("copy", "reflink") and report.files[0].loaded == 5
    assert stored_texts(case).null_count() == 5  # not re-encoded into the Parquet
    source.unlink()
    texts = records_by_row(case)
    assert {row: text.encode() for row, text in texts.items()} == {n + 1: line for n, line in enumerate(lines)}
    row = case.events().filter(pl.col("record_id") == "id-3").row(0, named=True)
    assert case.record_text(row).encode() == lines[3]
    assert case.audit_data(["id-4"]) == {"id-4": lines[4].decode()}
    assert case.changed_inputs() == [f"{source}: gone since it was loaded (the case keeps its records)"]


def test_the_sql_console_reads_the_kept_records(tmp_path):
    source = tmp_path / "audit.jsonl"
    source.write_text("".join(json.dumps(record(n, Mark="needle" if n == 7 else "hay")) + "\n" for n in range(20)))
    case = Case(tmp_path / "case")
    case.load([source])
    session = SqlSession(case)
    found = session.run("SELECT record_id, audit_data FROM events WHERE audit_data LIKE '%needle%'").frame
    assert found.to_dicts() == [{"record_id": "id-7", "audit_data": source.read_text().splitlines()[7]}]
    assert session.run("SELECT count(*) AS n FROM events WHERE audit_data IS NULL").frame["n"][0] == 0


def test_a_line_not_valid_utf8_keeps_the_records_from_it_on_in_the_parquet(tmp_path):
    good = [json.dumps(record(n)).encode() for n in range(4)]
    broken = json.dumps(record(9, Name="x")).encode().replace(b'"x"', b'"\xff\xfe"')
    source = tmp_path / "audit.jsonl"
    source.write_bytes(b"\n".join([good[0], good[1], broken, good[2], good[3]]) + b"\n")
    case = Case(tmp_path / "case")
    case.load([source])
    texts = records_by_row(case)
    assert texts[1].encode() == good[0] and texts[5].encode() == good[3]
    assert "\ufffd" in texts[3]  # read as before: the bad bytes replaced
    assert stored_texts(case).null_count() < 5


def test_a_line_whose_bad_bytes_read_as_one_replacement_of_their_length_keeps_its_record_in_the_parquet(tmp_path):
    """Three bytes that are not UTF-8 (a cut four-byte sequence) read as one U+FFFD, three bytes too: the spans stay
    in step, so only the line's own U+FFFD tells that its span would not read back what was loaded."""
    lines = [json.dumps(record(n)).encode() for n in range(6)]
    lines[3] = json.dumps(record(3, Name="x")).encode().replace(b'"x"', b'"\xf0\x9f\x98"')
    lines[4] = json.dumps(record(4, Name="\ufffd"), ensure_ascii=False).encode()  # a real U+FFFD: no span either
    source = tmp_path / "audit.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    case = Case(tmp_path / "case")
    case.load([source])
    stored = dict(pl.read_parquet(case.parts(), glob=False).select("source_row", "audit_data").iter_rows())
    assert [row for row, text in sorted(stored.items()) if text is not None] == [4, 5]
    assert stored[4] == lines[3].decode("utf-8", errors="replace") and "\ufffd" in stored[4]
    source.unlink()
    assert records_by_row(case) == {n + 1: stored[n + 1] if n in (3, 4) else lines[n].decode() for n in range(6)}


def test_a_gzipped_input_is_kept_decompressed(tmp_path):
    text = "".join(json.dumps(record(n)) + "\n" for n in range(3))
    source = tmp_path / "audit.jsonl.gz"
    source.write_bytes(gzip.compress(text.encode()))
    case = Case(tmp_path / "case")
    assert case.load([source]).files[0].kept == "plain copy"
    source.unlink()
    assert list(records_by_row(case).values()) == text.splitlines()
    assert [path.name for path in (case.state_dir / "inputs").iterdir()] == ["00000-audit.jsonl"]


def test_duplicates_are_told_apart_against_the_kept_records(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("".join(json.dumps(record(n)) + "\n" for n in range(3)))
    changed = record(1, Operation="FileDeleted")
    second.write_text(json.dumps(record(0), indent=None, separators=(",", ":")) + "\n" + json.dumps(changed) + "\n")
    case = Case(tmp_path / "case")
    report = case.load([first, second])
    by_name = {os.path.basename(file.path): file for file in report.files}
    assert (by_name["b.jsonl"].duplicates, by_name["b.jsonl"].conflicting) == (1, 1)
    assert report.conflicts[0]["kept"]["operation"] == "FileAccessed"


def test_a_hard_linked_input_edited_in_place_is_reported(tmp_path):
    source = tmp_path / "audit.jsonl"
    source.write_text("".join(json.dumps(record(n)) + "\n" for n in range(3)))
    loaded = source.read_text().splitlines()
    case = Case.named("c", tmp_path / "cases")  # hard links by default
    how = case.load([source]).files[0].kept
    with open(source, "r+") as handle:  # an export rewritten under the same name
        handle.write(json.dumps(record(5)))
    if how == "link":  # the same file: the case can only say so
        assert any("changed in place since it was loaded" in problem for problem in case.changed_inputs())
    else:  # a file system that shares blocks copy-on-write keeps the records as loaded
        assert how == "reflink" and list(records_by_row(case).values()) == loaded


def test_a_config_asking_for_copies_or_something_else(tmp_path):
    source = tmp_path / "audit.jsonl"
    source.write_text(json.dumps(record(1)) + "\n")
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    assert case.load([source]).files[0].kept in ("copy", "reflink")
    assert os.stat(source).st_nlink == 1
    with pytest.raises(ConfigError, match="keep_inputs 'hardlink'"):
        Case.named("c", tmp_path / "cases", {"keep_inputs": "hardlink"})


def test_keeping_copies_where_a_link_is_impossible(tmp_path, monkeypatch):
    source, target = tmp_path / "a", tmp_path / "b"
    source.write_bytes(b"evidence\n")

    def cross_device(*_args):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    assert keep_input(source, target, allow_link=True) in ("copy", "reflink")
    source.unlink()
    assert target.read_bytes() == b"evidence\n"


def test_info_says_how_the_case_keeps_an_input(tmp_path, capsys):
    source = tmp_path / "audit.jsonl"
    source.write_text(json.dumps(record(1)) + "\n")
    assert main(["info", str(source), "--case", "c", "--case-dir", str(tmp_path / "cases")]) == 0
    out = "".join(capsys.readouterr().out.split())  # long paths are folded at the terminal's width
    assert f"originalrecordsreadfromthecase'shardlink(itsurvivesmovingordeletingtheinput,noteditingit)of{source}" in out


line_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x1f"), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(line_text, min_size=1, max_size=12), windows=st.booleans(), bom=st.booleans(),
       blank_every=st.integers(0, 4))
def test_any_lines_read_back_byte_identical(tmp_path_factory, values, windows, bom, blank_every):
    folder = tmp_path_factory.mktemp("lines")
    lines = [json.dumps(record(n, Value=value), ensure_ascii=n % 2 == 0).encode() for n, value in enumerate(values)]
    if blank_every:
        lines = [line for n, one in enumerate(lines) for line in ((one, b"") if n % blank_every == 0 else (one,))]
    end = b"\r\n" if windows else b"\n"
    source = folder / "audit.jsonl"
    source.write_bytes((b"\xef\xbb\xbf" if bom else b"") + end.join(lines) + end)
    case = Case(folder / "case")
    case.load([source])
    source.unlink()
    texts = records_by_row(case)
    assert {row: text.encode() for row, text in texts.items()} == {
        n + 1: line for n, line in enumerate(lines) if line}


def test_an_input_given_through_a_symbolic_link_is_kept_as_the_file_itself(tmp_path):
    real = tmp_path / "exports" / "audit.jsonl"
    real.parent.mkdir()
    real.write_text("".join(json.dumps(record(n)) + "\n" for n in range(3)))
    loaded = real.read_text().splitlines()
    (tmp_path / "link.jsonl").symlink_to(real)
    case = Case(tmp_path / "case")
    case.load([tmp_path / "link.jsonl"])
    real.unlink()
    assert list(records_by_row(case).values()) == loaded


def test_a_renamed_case_still_reads_its_kept_records_in_sql(tmp_path):
    from workbench.core.case_index import rename

    source = tmp_path / "audit.jsonl"
    source.write_text("".join(json.dumps(record(n)) + "\n" for n in range(3)))
    case = Case.named("before", tmp_path / "cases")
    case.load([source])
    case.close()
    renamed = rename(case, "after")
    frame = SqlSession(renamed).run("SELECT audit_data FROM events ORDER BY source_row").frame
    assert frame["audit_data"].to_list() == source.read_text().splitlines()


def test_an_event_opened_reads_only_the_span_part_that_holds_it(tmp_path, monkeypatch):
    from workbench.core import readers

    monkeypatch.setattr(readers, "CHUNK_BYTES", 4000)  # blocks of a few lines: a span part each
    source = tmp_path / "audit.jsonl"
    source.write_text("".join(json.dumps(record(n)) + "\n" for n in range(300)))
    lines = source.read_text().splitlines()
    case = Case(tmp_path / "case")
    case.load([source])
    assert list(records_by_row(case).values()) == lines  # every part read for all of them
    listed = case.kept_records.files[str(source)]["spans"]
    assert len(listed) > 5 and listed[0][1] == 1 and listed[-1][2] == 300
    holding = next(name for name, first, last in listed if first <= 151 <= last)
    for name, *_rows in listed:  # only the part holding row 151 is left
        if name != holding:
            (case.state_dir / "spans" / name).unlink()
    reopened = Case(tmp_path / "case")
    row = reopened.events().filter(pl.col("source_row") == 151).row(0, named=True)
    assert reopened.record_text(row) == lines[150]  # read from that part alone: the others are gone


@pytest.mark.parametrize("cached", [True, False])
def test_records_read_a_few_spans_at_a_time_come_back_in_the_order_asked(tmp_path, monkeypatch, cached):
    """Spans are read a few at a time, mapped (their pages then unmapped) or, lying close together and not in the
    page cache, read at once (`DENSE_SPREAD`): any order asked, repeats included, gives each row its own record."""
    lines = [json.dumps(record(n, Body="x" * (n * 37 % 500))) for n in range(50)]
    source = tmp_path / "audit.jsonl"
    source.write_text("\n".join(lines) + "\n")
    case = Case.named("c", tmp_path / "cases")
    case.load([source])
    monkeypatch.setattr("workbench.core.kept_records.SPANS_AT_ONCE", 3)
    monkeypatch.setattr("workbench.core.kept_records.DENSE_SPREAD", 1_000)
    monkeypatch.setattr("workbench.core.kept_records.in_page_cache", lambda address, length: cached)
    asked = [49, 1, 17, 17, 2, 33, 48, 5, 1]
    rows = pl.DataFrame({"case": ["c"] * len(asked), "source_file": [str(source)] * len(asked), "source_row": asked,
                         "audit_data": [None] * len(asked)}, schema_overrides={"audit_data": pl.String})
    assert case.kept_records.fill(rows).to_list() == [lines[row - 1] for row in asked]


def test_the_pages_of_a_file_just_read_are_said_to_be_in_the_page_cache(tmp_path):
    path = tmp_path / "read.jsonl"
    path.write_bytes(b"x" * (mmap.PAGESIZE * 8))
    assert path.read_bytes()
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        whole = pa.py_buffer(mapped)
        assert in_page_cache(whole.address, mmap.PAGESIZE * 8)
        del whole


def test_a_kept_input_cut_short_is_said_not_read_past_its_end(tmp_path):
    lines = [json.dumps(record(n)) for n in range(5)]
    source = tmp_path / "audit.jsonl"
    source.write_text("\n".join(lines) + "\n")
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    case.load([source])
    kept = case.state_dir / case.kept_records.files[str(source)]["file"]
    kept.write_text("\n".join(lines[:2]) + "\n")
    rows = pl.DataFrame({"case": ["c"], "source_file": [str(source)], "source_row": [5], "audit_data": [None]},
                        schema_overrides={"audit_data": pl.String})
    with pytest.raises(ValueError, match="shorter than the records the case noted in it"):
        case.kept_records.fill(rows)


def csv_export(path, texts: list[str], legacy: bool = False, line_end: str = "\r\n") -> list[str]:
    """A Purview (or legacy) CSV export of these AuditData texts, with a BOM, every field quoted as Purview does;
    returns the texts."""
    header = "CreationDate,UserIds,Operations,AuditData" if legacy else "RecordId,CreationDate,RecordType,Operation,UserId,AuditData,AssociatedAdminUnits"
    rows = []
    for text in texts:
        fields = json.loads(text)
        cells = ([fields["CreationTime"], fields["UserId"], fields["Operation"], text] if legacy else
                 [fields["Id"], fields["CreationTime"], "6", fields["Operation"], fields["UserId"], text, ""])
        rows.append(",".join('"' + cell.replace('"', '""') + '"' for cell in cells))
    path.write_bytes(b"\xef\xbb\xbf" + line_end.join([header, *rows, ""]).encode())
    return texts


@pytest.mark.parametrize("legacy", [False, True])
def test_csv_records_read_back_from_their_rows_as_the_loader_parsed_them(tmp_path, legacy):
    texts = [json.dumps(record(n, Subject=f'Réunion, "{n}"; =SUM(A1)', Path="\\\\Inbox"), ensure_ascii=False)
             for n in range(6)]
    source = tmp_path / "audit.csv"
    csv_export(source, texts, legacy)
    case = Case.named("c", tmp_path / "cases", {"keep_inputs": "copy"})
    assert case.load([source]).files[0].loaded == 6
    assert stored_texts(case).null_count() == 6  # the AuditData cells are not stored again
    source.unlink()
    assert records_by_row(case) == {n + 2: text for n, text in enumerate(texts)}  # the header is row 1
    assert case.audit_data(["id-5"]) == {"id-5": texts[5]}
    assert SqlSession(case).run("SELECT count(*) FROM events WHERE audit_data LIKE '%\"id-3\"%Réunion, %'").frame.item() == 1


def test_csv_rows_the_loader_cannot_span_keep_their_records_in_the_parquet(tmp_path):
    """From a block of rows holding bytes that are not UTF-8 (read as U+FFFD), or with mixed line ends, the records
    are stored in the Parquet, as the loader read them."""
    texts = [json.dumps(record(n)) for n in range(4)]
    source = tmp_path / "audit.csv"
    csv_export(source, texts)
    source.write_bytes(source.read_bytes().replace(b"id-2", b"id-2\xff"))
    case = Case.named("c", tmp_path / "cases")
    case.load([source])
    assert stored_texts(case).null_count() == 0
    assert records_by_row(case) == {n + 2: text.replace("id-2", "id-2\ufffd") for n, text in enumerate(texts)}
    mixed = tmp_path / "mixed.csv"
    csv_export(mixed, texts, line_end="\n")
    mixed.write_bytes(mixed.read_bytes().replace(b"\n", b"\r\n", 1))
    other = Case.named("m", tmp_path / "cases")
    other.load([mixed])
    assert stored_texts(other).null_count() == 0
    assert records_by_row(other) == {n + 2: text for n, text in enumerate(texts)}
