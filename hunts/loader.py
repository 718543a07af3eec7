"""Provides loading of hunt files: TOML parsed with tomllib (never executed), checked, typed.

Every problem of every file is collected and reported together as `file:line: field: message`.
"""

import re
import tomllib
from pathlib import Path
from typing import Iterable

from hunts import attack
from hunts.conditions import COLUMNS, SOURCES, check_condition
from hunts.model import SEVERITIES, AttackPair, Hunt, InlineTest

RULES_DIR = Path(__file__).parent / "rules"
HUNT_ID = re.compile(r"^[a-z0-9][a-z0-9_]*$")
TOP_KEYS = ("title", "description", "severity", "attack", "runbook", "fields", "references", "condition", "tests")


class HuntFileError(ValueError):
    """One or more hunt files are invalid; `problems` lists each as `file:line: field: message`."""

    def __init__(self, problems: list[str]):
        super().__init__("invalid hunt files:\n" + "\n".join(problems))
        self.problems = problems


def _line_of(text: str, field_path: str) -> int:
    """The line where a field is written (best effort: its last key after its section), else 1."""
    lines = text.splitlines()
    names = [part for part in re.split(r"[.\[\]]", field_path) if part and not part.isdigit()]
    start = 0
    for index, line in enumerate(lines):
        if re.match(rf"^\s*(\[+\s*{re.escape(names[0])}\b|{re.escape(names[0])}\s*=)", line):
            start = index
            break
    for index in range(start, len(lines)):
        if re.search(rf"(^|[\s{{,]){re.escape(names[-1])}\s*=", lines[index]):
            return index + 1
    return start + 1


def _attack_pairs(values: object, problems: list[tuple[str, str]]) -> tuple[AttackPair, ...]:
    if not (isinstance(values, list) and values and all(isinstance(v, str) for v in values)):
        problems.append(("attack", "expected a non-empty list of 'Tactic:Txxxx' strings"))
        return ()
    pairs = []
    for index, value in enumerate(values):
        tactic_name, _, technique_id = value.partition(":")
        tactic = attack.tactic(tactic_name)
        if tactic is None or not technique_id:
            problems.append((f"attack[{index}]", f"{value!r}: expected 'Tactic:Txxxx' with an ATT&CK v{attack.ATTACK_VERSION} tactic"))
            continue
        technique_id = technique_id.strip().upper()
        cell = attack.matrix_technique_id(tactic.name, technique_id)
        if cell is None:
            problems.append((f"attack[{index}]", f"{technique_id} is not under {tactic.name} in the {attack.PLATFORM} matrix v{attack.ATTACK_VERSION}"))
            continue
        pairs.append(AttackPair(tactic.id, tactic.name, technique_id, attack.technique_name(tactic.name, technique_id), cell))
    return tuple(pairs)


#: The id and time keys of a test record per source, filled in when a record leaves them out.
_RECORD_KEYS = {"events": ("Id", "CreationTime"), "sign_ins": ("id", "createdDateTime"),
                "directory_audits": ("id", "activityDateTime")}


def _filled(records: list[dict], source: str, prefix: str = "r") -> tuple[dict, ...]:
    id_key, time_key = _RECORD_KEYS[source]
    return tuple({id_key: f"{prefix}{n}", time_key: f"2023-02-20T10:{n:02d}:00Z" if source != "events" else
                  f"2023-02-20T10:{n:02d}:00", **record} for n, record in enumerate(records, 1))


def _tests(values: object, problems: list[tuple[str, str]], source: str) -> tuple[InlineTest, ...]:
    if not isinstance(values, list):
        problems.append(("tests", "expected an array of tables [[tests]]"))
        return ()
    tests = []
    for index, value in enumerate(values):
        path = f"tests[{index}]"
        if not isinstance(value, dict):
            problems.append((path, "expected a table"))
            continue
        records, expect = value.get("records"), value.get("expect")
        if not (isinstance(records, list) and records and all(isinstance(r, dict) for r in records)):
            problems.append((f"{path}.records", "expected a non-empty list of raw audit records"))
            continue
        if not (isinstance(expect, list) and all(isinstance(e, str) for e in expect)):
            problems.append((f"{path}.expect", "expected a list of record ids ([] for a negative test)"))
            continue
        filled = _filled(records, source)
        others = []
        for other in _RECORD_KEYS:
            rows = value.get(other, [])
            if other == source or not (isinstance(rows, list) and all(isinstance(record, dict) for record in rows)):
                if other in value:
                    problems.append((f"{path}.{other}", f"expected a list of raw records of another source than {source}"))
                continue
            if rows:
                others.append((other, _filled(rows, other, other[0])))
        ids = {record[_RECORD_KEYS[kind][0]] for kind, rows in [(source, filled), *others] for record in rows}
        unknown = sorted(set(expect) - ids)
        if unknown:
            problems.append((f"{path}.expect", f"no record with Id {', '.join(unknown)}"))
        enrichment = value.get("enrichment", [])
        if not (isinstance(enrichment, list) and all(isinstance(row, dict) and "ip" in row for row in enrichment)):
            problems.append((f"{path}.enrichment", "expected a list of tables with ip, hosting, reasons"))
            continue
        tests.append(InlineTest(str(value.get("name", f"test {index + 1}")), filled, tuple(expect), tuple(enrichment),
                                tuple(others)))
    return tuple(tests)


def _text(data: dict, key: str, problems: list[tuple[str, str]], required: bool = True) -> str:
    value = data.get(key, "" if not required else None)
    if not isinstance(value, str) or (required and not value.strip()):
        problems.append((key, "expected a non-empty string" if required else "expected a string"))
        return ""
    return value.strip()


def _strings(data: dict, key: str, problems: list[tuple[str, str]]) -> tuple[str, ...]:
    value = data.get(key, [])
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        problems.append((key, "expected a list of strings"))
        return ()
    return tuple(value)


def parse_hunt(path: Path, text: str) -> tuple[Hunt | None, list[tuple[str, str]]]:
    """A hunt from its file text, or None with the problems as (field path, message)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        return None, [("(syntax)", str(error))]
    problems: list[tuple[str, str]] = []
    if not HUNT_ID.match(path.stem):
        problems.append(("(file name)", "the hunt id is the file stem: lower-case letters, digits and _"))
    problems += [(key, "unknown key") for key in data if key not in TOP_KEYS]
    title, description, runbook = (_text(data, key, problems) for key in ("title", "description", "runbook"))
    severity = data.get("severity")
    if severity not in SEVERITIES:
        problems.append(("severity", f"expected one of {', '.join(SEVERITIES)}"))
    condition = data.get("condition")
    source = condition.get("source", "events") if isinstance(condition, dict) else "events"
    columns = SOURCES.get(source, COLUMNS)
    fields = _strings(data, "fields", problems)
    problems += [(f"fields[{i}]", f"unknown column {name!r}") for i, name in enumerate(fields) if name not in columns]
    references = _strings(data, "references", problems)
    pairs = _attack_pairs(data.get("attack"), problems)
    problems += check_condition(condition)
    tests = _tests(data.get("tests", []), problems, source if source in SOURCES else "events")
    if problems:
        return None, problems
    return Hunt(path.stem, title, description, severity, pairs, runbook, fields, references, data["condition"], tests, path), []


def _files(directories: Iterable[Path]) -> list[Path]:
    found = []
    for directory in directories:
        if directory.is_file():
            found.append(directory)
        else:
            found += sorted(directory.glob("*.toml"))
    return found


def load_hunts(extra_dirs: Iterable[str | Path] = ()) -> list[Hunt]:
    """The bundled hunts plus those in `extra_dirs`; raises HuntFileError listing every bad file."""
    extra = [Path(directory) for directory in extra_dirs]
    problems = [f"{directory}: no such folder" for directory in extra if not directory.exists()]
    hunts: dict[str, Hunt] = {}
    for path in _files([RULES_DIR, *(d for d in extra if d.exists())]):
        text = path.read_text(encoding="utf-8")
        hunt, found = parse_hunt(path, text)
        for field_path, message in found:
            line = re.search(r"line (\d+)", message) if field_path == "(syntax)" else None
            number = int(line.group(1)) if line else _line_of(text, field_path) if not field_path.startswith("(") else 1
            problems.append(f"{path}:{number}: {field_path}: {message}")
        if hunt is not None:
            if hunt.id in hunts:
                problems.append(f"{path}:1: (file name): hunt id {hunt.id!r} also defined in {hunts[hunt.id].path}")
            else:
                hunts[hunt.id] = hunt
    if problems:
        raise HuntFileError(problems)
    return list(hunts.values())
