"""Loading hunt files: data only, every bad file listed with file, line and field, user folders added."""

from pathlib import Path

import pytest

import hunts
from hunts.loader import parse_hunt

GOOD = '''
title = "Forwarding rule"
description = "d"
severity = "high"
attack = ["Collection:T1114.003"]
runbook = "r"
fields = ["user_id"]
references = ["https://example.org"]

[condition]
operations = ["New-InboxRule"]
where = [{ parameter = "ForwardTo", present = true }]

[[tests]]
name = "hit"
expect = ["a"]
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com", Parameters = [{ Name = "ForwardTo", Value = "y@evil.example" }] }]

[[tests]]
name = "miss"
expect = []
records = [{ Id = "a", Operation = "New-InboxRule", UserId = "x@example.com" }]
'''


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_user_folder_adds_hunts_to_the_bundled_pack(tmp_path):
    _write(tmp_path, "my_forwarding.toml", GOOD)
    loaded = hunts.load_hunts([tmp_path])
    assert "my_forwarding" in {hunt.id for hunt in loaded}
    assert len(loaded) == len(hunts.load_hunts()) + 1


def test_all_bad_files_are_listed_with_file_line_and_field(tmp_path):
    _write(tmp_path, "bad_severity.toml", GOOD.replace('severity = "high"', 'severity = "urgent"'))
    _write(tmp_path, "bad_tactic.toml", GOOD.replace("Collection:T1114.003", "Initial Access:T1114.003"))
    _write(tmp_path, "bad_syntax.toml", GOOD.replace('runbook = "r"', 'runbook = "r'))
    _write(tmp_path, "bad_regex.toml", GOOD.replace("present = true", 'regex = "(unclosed"'))
    with pytest.raises(hunts.HuntFileError) as raised:
        hunts.load_hunts([tmp_path])
    problems = raised.value.problems
    by_file = {Path(problem.split(":")[0]).name: problem for problem in problems}
    assert set(by_file) == {"bad_severity.toml", "bad_tactic.toml", "bad_syntax.toml", "bad_regex.toml"}
    assert by_file["bad_severity.toml"].split(":")[1:3] == ["4", " severity"]
    assert "T1114.003 is not under Initial Access" in by_file["bad_tactic.toml"]
    assert by_file["bad_tactic.toml"].split(":")[1] == "5"
    assert by_file["bad_syntax.toml"].split(":")[1] == "6"
    assert "condition.where[0].regex" in by_file["bad_regex.toml"]
    assert by_file["bad_regex.toml"].split(":")[1] == "12"


def test_a_missing_user_folder_and_a_duplicate_id_are_errors(tmp_path):
    _write(tmp_path / "one", "dup.toml", GOOD)
    _write(tmp_path / "two", "dup.toml", GOOD)
    with pytest.raises(hunts.HuntFileError) as raised:
        hunts.load_hunts([tmp_path / "one", tmp_path / "two", tmp_path / "absent"])
    text = "\n".join(raised.value.problems)
    assert "hunt id 'dup' also defined in" in text
    assert f"{tmp_path / 'absent'}: no such folder" in text


@pytest.mark.parametrize(("replace", "by", "field"), [
    ('operations = ["New-InboxRule"]', 'operations = ["New-InboxRule"]\nthreshold = { by = ["nope"], min = 2 }', "condition.threshold.by[0]"),
    ('operations = ["New-InboxRule"]', 'operations = ["New-InboxRule"]\nfirst_seen = { by = ["user_key"], baseline = "a week" }', "condition.first_seen.baseline"),
    ('where = [{ parameter = "ForwardTo", present = true }]', 'where = [{ parameter = "ForwardTo", field = "user_id", present = true }]', "condition.where[0]"),
    ('expect = ["a"]', 'expect = ["zz"]', "tests[0].expect"),
    ('fields = ["user_id"]', 'fields = ["user"]', "fields[0]"),
    ('operations = ["New-InboxRule"]', 'source = "sign_ins"\noperations = ["New-InboxRule"]', "condition.operations"),
    ('operations = ["New-InboxRule"]', 'source = "sign_ins"', "condition.where[0].parameter"),  # audit log only
    ('operations = ["New-InboxRule"]', 'source = "mail"', "condition.source"),
    ('present = true }]', 'present = true, fewer_than_old = true }]', "condition.where[0].fewer_than_old"),
])
def test_condition_and_test_problems_name_the_field(replace, by, field):
    hunt, problems = parse_hunt(Path("x.toml"), GOOD.replace(replace, by))
    assert hunt is None
    assert field in [path for path, _ in problems]


def test_loading_reads_data_and_never_runs_it(tmp_path):
    marker = tmp_path / "ran"
    payload = GOOD.replace('title = "Forwarding rule"', f'title = "__import__(\'os\').mkdir(\'{marker}\')"')
    _write(tmp_path / "rules", "payload.toml", payload)
    loaded = {hunt.id: hunt for hunt in hunts.load_hunts([tmp_path / "rules"])}
    assert loaded["payload"].title.startswith("__import__")
    assert not marker.exists()


def test_a_sign_in_hunt_checks_columns_against_the_sign_ins_frame():
    sign_in = (GOOD.replace('fields = ["user_id"]', 'fields = ["user_principal_name"]')
               .split("[condition]")[0] + '[condition]\nsource = "sign_ins"\nwhere = [{ field = "client_app", equals = "IMAP4" }]\n')
    hunt, problems = parse_hunt(Path("x.toml"), sign_in)
    assert problems == [] and hunt.condition["source"] == "sign_ins"
    _hunt, problems = parse_hunt(Path("x.toml"), sign_in.replace('"client_app"', '"operation"'))
    assert problems == [("condition.where[0].field", "unknown column 'operation'; expected one of the sign ins columns")]
