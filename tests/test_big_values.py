"""Any depth, any size: deeply nested and huge log values decode, export, report and query without a crash,
and what is cut for display says how much it left out."""

import json
import re

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.cli import main
from workbench.core import bounded, decode
from workbench.core.case import Case
from workbench.core.export import export_case_events
from workbench.core.report import DETAIL_LIMIT, case_report
from workbench.core.report_format import to_html, to_markdown

BIG = 2_000_000


def nested(depth: int, leaf: str = '"x"') -> str:
    """JSON text of `depth` arrays around `leaf` (written as text: Python's own encoder stops near 1,000)."""
    return "[" * depth + leaf + "]" * depth


def record_line(number: int, **fields: str) -> str:
    """One JSON Lines record; `fields` are raw JSON texts (they replace the defaults of the same name)."""
    head = {"Id": f"rec-{number}", "CreationTime": f"2023-02-20T08:{number:02d}:00", "Operation": "Set-Mailbox",
            "Workload": "Exchange", "RecordType": 1, "UserId": "admin@example.com", "ClientIP": "203.0.113.9"}
    head = {name: value for name, value in head.items() if name not in fields}
    return json.dumps(head)[:-1] + "".join(f', "{name}": {text}' for name, text in fields.items()) + "}"


def parameters(*pairs: tuple[str, str]) -> str:
    return "[" + ", ".join(f'{{"Name": "{name}", "Value": {value}}}' for name, value in pairs) + "]"


#: Record ids of the case below and what each holds.
LINES = [
    record_line(1, Parameters=parameters(("Identity", '"small"'))),
    record_line(2, Parameters=parameters(("Identity", '"big"'), ("Body", json.dumps("b" * BIG))),
                ObjectId=json.dumps("o" * BIG)),
    record_line(3, Parameters=parameters(("Identity", '"deep"'), ("Nest", nested(1_000)))),
    record_line(4, Parameters=parameters(("Nest", nested(5_000))),
                ModifiedProperties=f'[{{"Name": "Deep", "OldValue": "", "NewValue": {json.dumps(nested(3_000))}}}]',
                AffectedItems=f'[{{"Subject": "deep mail", "Attachments": {nested(2_000)}}}]'),
]


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> Case:
    folder = tmp_path_factory.mktemp("big-values")
    source = folder / "records.jsonl"
    source.write_text("\n".join(LINES) + "\n")
    case = Case.named("big-values", folder / "cases")
    report, _ = case.open([source])
    assert report.totals()["loaded"] == len(LINES)
    return case


# Depth

@pytest.mark.parametrize("depth", [65, 500, 1_000, 5_000, 100_000])
def test_parameters_nested_at_any_depth_decode_to_a_notice(depth):
    pairs = decode.name_values(parameters(("Identity", '"x"'), ("Nest", nested(depth))))
    assert pairs[0] == ("Identity", "x")
    # levels 1-64 (the list of parameters, the parameter, 62 of the value's arrays) are decoded, the rest is told
    assert re.fullmatch(rf"… nested {depth - 62:,} levels deeper \([\d.]+ (bytes|KB)\)", pairs[1][1]), pairs[1][1]


def test_every_reader_of_nested_fields_survives_depth():
    deep_change = f'[{{"Name": "Deep", "OldValue": "", "NewValue": {json.dumps(nested(3_000))}}}]'
    assert "levels deeper" in decode.modified_properties(deep_change)[0][2]
    items = decode.mail_items(f'[{{"Subject": "s", "Attachments": {nested(2_000)}}}]', nested(1_500))
    assert items == [[("Subject", "s"), ("Attachments", items[0][1][1])]] and "levels deeper" in items[0][1][1]
    assert decode.summary("object", nested(1_500), nested(1_500), nested(1_500)) == "object"
    assert decode.loads("[" * 5_000) == "[" * 5_000  # not JSON: the text itself


def test_json_nested_inside_strings_cannot_recurse_past_the_limit():
    value = '"x"'
    for _ in range(12):  # twelve strings each holding JSON 60 arrays deep: 720 levels in all
        value = json.dumps(nested(60, value))
    text = decode.readable(decode.name_values(parameters(("Nest", value))))
    assert text.startswith("Nest=") and "[" in text  # decoded down to the limit, the rest left as text


_LEAVES = st.text(alphabet='ab"\\[]{}é\n', max_size=6)
_TREES = st.recursive(_LEAVES | st.integers() | st.booleans() | st.none(),
                      lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_LEAVES, inner, max_size=3),
                      max_leaves=30)


@settings(max_examples=60, deadline=None)
@given(tree=_TREES, depth=st.integers(min_value=0, max_value=120))
def test_text_and_decoded_capping_agree(tree, depth):
    """Past Python's limit the cap is applied to the text; below it to the decoded value: both give the same."""
    text = nested(depth, json.dumps(tree, ensure_ascii=False, separators=(",", ":")))
    assert json.loads(decode._flattened(text)) == decode._capped(json.loads(text), 0)


# Size

def test_human_sizes():
    assert [bounded.human_size(n) for n in (1, 999, 1_000, 49_800_000, 2_500_000_000)] == [
        "1 byte", "999 bytes", "1.0 KB", "49.8 MB", "2.5 GB"]


def test_a_long_value_is_cut_with_the_size_of_the_rest():
    assert bounded.shorten("a" * 10) == "a" * 10
    assert bounded.shorten("a" * 5_000, 1_000) == "a" * 1_000 + " … 4.0 KB more"
    assert bounded.shorten("a" * 1_030, 1_000) == "a" * 1_030  # a little over: shown whole
    assert bounded.cut("é" * 1_500, 1_000) == ("é" * 1_000, 1_000)  # the rest in UTF-8 bytes


_STRING_TEXT = st.text(alphabet=st.sampled_from('ab"\\/\n\té€😀\u2028'), max_size=80)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(_STRING_TEXT, min_size=1, max_size=5), limit=st.integers(min_value=0, max_value=40),
       ascii_only=st.booleans())
def test_cutting_long_strings_in_json_text_keeps_it_json(values, limit, ascii_only):
    text = json.dumps(values, ensure_ascii=ascii_only)
    cut, any_cut = bounded.cut_json_strings(text, limit)
    decoded = json.loads(cut)
    for original, shown in zip(values, decoded, strict=True):
        stored = json.dumps(original, ensure_ascii=ascii_only)[1:-1]
        if len(stored) <= limit:
            assert shown == original
            continue
        prefix, notice = shown.rsplit(" … ", 1)
        assert original.startswith(prefix) and len(prefix) <= limit
        rest = stored[len(json.dumps(prefix, ensure_ascii=ascii_only)) - 2:]
        assert notice == f"{bounded.human_size(len(rest.encode()))} more"
    assert any_cut == any(len(json.dumps(v, ensure_ascii=ascii_only)) - 2 > limit for v in values)


def test_shrinking_a_record_cuts_strings_and_lists_and_says_so():
    shrunk = bounded.shrink({"body": "b" * 5_000, "items": list(range(500)), "small": "ok"}, limit=100, items=10)
    assert shrunk.cut and shrunk.data["small"] == "ok"
    assert shrunk.data["body"] == "b" * 100 + " … 4.9 KB more"
    assert shrunk.data["items"] == [*range(10), "… 490 more items"]
    assert not bounded.shrink({"a": [1, 2], "b": "c"}).cut


# Export, report, SQL

def test_export_keeps_whole_values_and_survives_depth(case, tmp_path):
    events = case.events()
    for suffix in ("csv", "json"):
        path = tmp_path / f"all.{suffix}"
        assert export_case_events(case, path, events) == len(LINES)
        table = pl.read_csv(path, infer_schema=False) if suffix == "csv" else pl.read_json(path)
        rows = {row["record_id"]: row for row in table.iter_rows(named=True)}
        assert rows["rec-2"]["audit_data"] == case.audit_data(["rec-2"])["rec-2"]  # the whole record, 4 MB
        assert f"Body={'b' * BIG}" in rows["rec-2"]["parameters_text"]
        assert "Nest=… nested 939 levels deeper" in rows["rec-3"]["parameters_text"]  # counted from the record
        assert "Deep:  -> … nested" in rows["rec-4"]["modified_properties_text"]


def test_cli_export_of_deep_records(case, tmp_path):
    out = tmp_path / "out.jsonl"
    assert main(["export", "--case", case.name, "--case-dir", str(case.root.parent), "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == len(LINES)


def test_report_of_huge_and_deep_events(case):
    case.store.set_marks([f"rec-{n}" for n in range(1, len(LINES) + 1)], True)
    report = case_report(case, {})
    events = {event.record_id: event for event in report.other}
    assert set(events) == {f"rec-{n}" for n in range(1, len(LINES) + 1)}
    assert all(len(event.object) <= DETAIL_LIMIT and len(event.detail) <= DETAIL_LIMIT for event in events.values())
    assert events["rec-2"].detail.startswith("Identity=big; Body=bbb") and events["rec-2"].detail.endswith("b…")
    assert events["rec-3"].detail == "Identity=deep; Nest=… nested 938 levels deeper (1.9 KB)"
    assert events["rec-4"].object == "deep mail"
    assert "nested 938 levels deeper" in to_markdown(report) and "nested 938 levels deeper" in to_html(report)


def test_sql_reads_deep_and_huge_fields(case, capsys):
    query = ("SELECT record_id, length(json_extract_string(parameters, '$[1].Value')) AS body, "
             "json_extract(parameters, '$[0].Value') AS first FROM events ORDER BY record_id")
    assert main(["sql", "--case", case.name, "--case-dir", str(case.root.parent), "--format", "json", query]) == 0
    rows = {row["record_id"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["rec-2"]["body"] == BIG
    assert rows["rec-3"]["body"] > 1_000 and rows["rec-4"]["first"].startswith("[[[")


def test_hunts_run_over_records_nested_past_polars_limit(tmp_path, capsys):
    """A deleted mail nested past Polars' JSON limit is not decoded for hunts; the other deletions still hit."""
    def deletion(number: int, attachments: str) -> str:
        subject = '"Microsoft 365 security: messages in quarantine"'
        return record_line(number, MailboxOwnerUPN='"targetuser@example.com"', Operation='"HardDelete"',
                           AffectedItems=f'[{{"Subject": {subject}, "Attachments": {attachments}}}]')

    source = tmp_path / "deletions.jsonl"
    source.write_text(deletion(2, "[]") + "\n" + deletion(1, nested(2_000)) + "\n")  # shapes are told by line 1
    assert main(["hunt", "--case-dir", str(tmp_path / "cases"), "--format", "json", str(source)]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert {hit["record_id"] for hit in hits if hit["hunt_id"] == "defense_exo_security_notice_deleted_other_mailbox"} == {
        "rec-2"}
