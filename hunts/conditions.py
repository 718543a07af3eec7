"""Provides the schema of hunt conditions and its checker (errors as (field path, message) pairs).

A condition is plain data, so that a SQL backend can express every hunt as well as Polars:

    operations = ["New-InboxRule"]   # case-insensitive, exact (trailing dot kept); empty: any
    workloads  = ["Exchange"]        # optional
    actors     = "people"            # default: system actors and service principals excluded; "all"
    where = [predicate, ...]         # all must hold
    any   = [predicate, ...]         # at least one must hold
    none  = [predicate, ...]         # none may hold
    source     = "events"            # default; "sign_ins" or "directory_audits": columns of that frame,
                                     # matched with where / any / none (no operations, workloads); for a
                                     # sequence, the default source of its steps
    threshold  = {by = [column], window = "30m", min = 10, distinct = "client_ip"}
    first_seen = {by = [column], baseline = "7d", within = "1d"}
    sequence   = [step, ...]         # instead of the above: ordered steps joined on a key
    flag       = "first" | "last" | "all"   # which sequence step's records are hits
    travel     = {by = [column], speed_kmh = 900, min_km = 300, mobile_as_orgs = [S]}
                                     # rows reached too fast from the previous place of their key (travel.py)

A predicate has one subject and one or more tests:
    subject: field = COLUMN | parameter = NAME | modified = NAME or [NAMES] (value = "new"|"old")
             | subject = true (Item / AffectedItems subject) | folder = true (their parent folder)
             | enrichment = "hosting" | record = true (the row's text: its text columns but case and source
               file, with a sign-in's or directory audit's original record; Sigma keywords)
             | in_set = {key, from, source, operations, where, any, none, actors, threshold, first_seen}:
               the row's `key` is among the `from` values of the rows that filter selects in `source`
               (default "events"; "sign_ins" or "directory_audits" join another source: `from` and the
               filter are that source's columns, `key` the hunt's)
    tests:   equals = S or [S] | contains = [S] | starts_with = [S] | ends_with = [S] | words = [S]
             | regex = S (case-insensitive; `(?-i:...)` for a case-sensitive part) | present = bool
             | cidr = [NETWORK] (an IPv4 or IPv6 address inside one of the networks)
             | same_as = COLUMN | differs_from = COLUMN
             | other_users_personal_site = true (a OneDrive URL /personal/<owner>/ of someone else)
             | listed = NAME (holds one value of hunts/data/lists/NAME.tsv as a whole word)
             | fewer_than_old = true (modified only: the new value lists fewer JSON objects than the old)
             ; not = true negates the predicate. Lists are alternatives: any value may match.
A predicate can instead group predicates: all = [predicate, ...] (every one holds) or any = [predicate, ...]
(at least one holds), nested to any depth, with not = true negating the group: the nested and / or / not
of Sigma conditions (hunts/sigma.py).
A sequence step is a condition (operations, where, ...) plus key = COLUMN (joined lower-cased),
within = duration after the previous step, after = minimum gap after it, first_activity = true
(the key's first event as an actor after the previous step), source = the step's frame (default: the
hunt's `source`; steps of different sources join on a key column of each, e.g. `user_key`). The flagged
steps' rows are hits of their own source.
"""

import ipaddress
import re

import polars as pl

from hunts.lists import list_names
from hunts.travel import check_travel
from workbench.core.schema import EVENT_SCHEMA, FRAME_SCHEMAS

COLUMNS = tuple(EVENT_SCHEMA)
#: The frames a hunt can read (`source`), each with its columns; only the audit log has operations and workloads.
SOURCES = {frame: tuple(schema) for frame, schema in FRAME_SCHEMAS.items()}
EVENTS_ONLY_SUBJECTS = ("parameter", "subject", "folder")
#: Subjects some other sources have too: the directory audits' modified properties.
SOURCE_SUBJECTS = {"modified": ("events", "directory_audits")}
DURATION = re.compile(r"^[0-9]+[smhd]$")
SUBJECTS = ("field", "parameter", "modified", "subject", "folder", "enrichment", "in_set", "record")
#: Predicates that group predicates instead of testing a subject.
GROUPS = ("all", "any")
TESTS = ("equals", "contains", "starts_with", "ends_with", "words", "regex", "present", "cidr", "same_as",
         "differs_from", "other_users_personal_site", "fewer_than_old", "listed")
FILTER_KEYS = ("operations", "workloads", "actors", "where", "any", "none")
TOP_KEYS = (*FILTER_KEYS, "threshold", "first_seen", "sequence", "flag", "source", "travel")
STEP_KEYS = (*FILTER_KEYS, "key", "within", "after", "first_activity", "source")
ENRICHMENT_FLAGS = ("hosting",)

Problems = list[tuple[str, str]]


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _column(value: object, path: str, problems: Problems, columns: tuple[str, ...] = COLUMNS) -> None:
    if value not in columns:
        problems.append((path, f"unknown column {value!r}; expected one of the {_frame_of(columns)} columns"))


def _frame_of(columns: tuple[str, ...]) -> str:
    return next((frame for frame, names in SOURCES.items() if names == columns), "events").replace("_", " ")


def _source_columns(source: object, path: str, problems: Problems) -> tuple[str, ...]:
    """The columns of a named source (the events' when the name is not a source, which is a problem)."""
    if source not in SOURCES:
        problems.append((path, f"expected one of {', '.join(SOURCES)}"))
        return COLUMNS
    return SOURCES[source]


def _duration(value: object, path: str, problems: Problems) -> None:
    if not (isinstance(value, str) and DURATION.match(value)):
        problems.append((path, f"expected a duration such as '30m', '1h' or '7d', got {value!r}"))


def regex_problem(value: object) -> str | None:
    """Why `value` is not a regular expression both Python and Polars (Rust syntax: no look-around or
    back-references) read, or None."""
    if not isinstance(value, str):
        return "expected a string"
    try:
        re.compile(value)
        pl.select(pl.lit("").str.contains(value))
    except re.error as error:
        return f"bad regular expression: {error}"
    except pl.exceptions.ComputeError as error:
        detail = " ".join(str(error).split())[:200]
        return f"regular expression not supported by the engine (no look-around or back-references): {detail}"
    return None


def networks_problem(value: object) -> str | None:
    """Why `value` is not a non-empty list of IP networks (`10.0.0.0/8`, `2001:db8::/32`, an address), or None."""
    if not (_strings(value) and value):
        return "expected a non-empty list of networks such as '10.0.0.0/8'"
    for network in value:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            return f"{network!r} is not an IP network"
    return None


def _check_tests(predicate: dict, path: str, problems: Problems, columns: tuple[str, ...]) -> None:
    tests = [key for key in TESTS if key in predicate]
    subject = next(key for key in SUBJECTS if key in predicate)
    if not tests and subject not in ("enrichment", "in_set"):
        problems.append((path, f"needs one of {', '.join(TESTS)}"))
    for key in tests:
        value = predicate[key]
        if key == "equals" and not (isinstance(value, str) or _strings(value)):
            problems.append((f"{path}.{key}", "expected a string or a list of strings"))
        elif key in ("contains", "starts_with", "ends_with", "words") and not (_strings(value) and value):
            problems.append((f"{path}.{key}", "expected a non-empty list of strings"))
        elif key == "regex":
            problem = regex_problem(value)
            if problem:
                problems.append((f"{path}.regex", problem))
        elif key == "cidr":
            problem = networks_problem(value)
            if problem:
                problems.append((f"{path}.cidr", problem))
        elif key in ("present", "other_users_personal_site", "fewer_than_old") and not isinstance(value, bool):
            problems.append((f"{path}.{key}", "expected true or false"))
        elif key == "fewer_than_old" and subject != "modified":
            problems.append((f"{path}.{key}", "only for modified (the new value lists fewer entries than the old)"))
        elif key in ("same_as", "differs_from"):
            _column(value, f"{path}.{key}", problems, columns)
        elif key == "listed" and value not in list_names():
            problems.append((f"{path}.listed", f"no list {value!r}; expected one of {', '.join(list_names())}"))


def check_predicate(predicate: object, path: str, problems: Problems, columns: tuple[str, ...] = COLUMNS) -> None:
    """Append the problems of one predicate over a frame of these `columns` (default: the events')."""
    if not isinstance(predicate, dict):
        problems.append((path, "expected a table (a predicate)"))
        return
    if any(key in predicate for key in GROUPS):
        _check_group(predicate, path, problems, columns)
        return
    subjects = [key for key in SUBJECTS if key in predicate]
    if len(subjects) != 1:
        problems.append((path, f"needs exactly one of {', '.join(SUBJECTS)}"))
        return
    allowed = {*SUBJECTS, *TESTS, "not", "value"}
    for key in predicate:
        if key not in allowed:
            problems.append((f"{path}.{key}", "unknown key"))
    subject = subjects[0]
    value = predicate[subject]
    if subject in EVENTS_ONLY_SUBJECTS and columns != COLUMNS:
        problems.append((f"{path}.{subject}", "only for audit log events (source = \"events\")"))
    if subject in SOURCE_SUBJECTS and _frame_of(columns).replace(" ", "_") not in SOURCE_SUBJECTS[subject]:
        problems.append((f"{path}.{subject}", "only for audit log events and directory audits"))
    if subject == "field":
        _column(value, f"{path}.field", problems, columns)
    elif subject == "parameter" and not isinstance(value, str):
        problems.append((f"{path}.parameter", "expected a parameter name"))
    elif subject == "modified" and not (isinstance(value, str) or _strings(value)):
        problems.append((f"{path}.modified", "expected a property name or a list of names"))
    elif subject in ("subject", "folder", "record") and value is not True:
        problems.append((f"{path}.{subject}", "expected true"))
    elif subject == "enrichment" and value not in ENRICHMENT_FLAGS:
        problems.append((f"{path}.enrichment", f"expected one of {', '.join(ENRICHMENT_FLAGS)}"))
    elif subject == "in_set":
        if not isinstance(value, dict):
            problems.append((f"{path}.in_set", "expected a table"))
        else:
            _column(value.get("key"), f"{path}.in_set.key", problems, columns)
            set_columns = _source_columns(value.get("source", "events"), f"{path}.in_set.source", problems)
            _column(value.get("from"), f"{path}.in_set.from", problems, set_columns)
            rest = {k: v for k, v in value.items() if k not in ("key", "from", "threshold", "first_seen", "source")}
            check_filter(rest, f"{path}.in_set", problems, FILTER_KEYS, set_columns)
            for kind in ("threshold", "first_seen"):
                if kind in value:
                    _check_aggregate(value[kind], f"{path}.in_set.{kind}", problems, kind, set_columns)
    if predicate.get("value", "new") not in ("new", "old") or ("value" in predicate and subject != "modified"):
        problems.append((f"{path}.value", "only for modified, and 'new' or 'old'"))
    if "not" in predicate and not isinstance(predicate["not"], bool):
        problems.append((f"{path}.not", "expected true or false"))
    _check_tests(predicate, path, problems, columns)


def _check_group(predicate: dict, path: str, problems: Problems, columns: tuple[str, ...]) -> None:
    """Append the problems of a group predicate (all / any of nested predicates, optionally negated)."""
    kinds = [key for key in GROUPS if key in predicate]
    for key in predicate:
        if key not in (*GROUPS, "not"):
            problems.append((f"{path}.{key}", "unknown key beside a group (all / any, not)"))
    if len(kinds) != 1:
        problems.append((path, "needs exactly one of all, any"))
        return
    members = predicate[kinds[0]]
    if not (isinstance(members, list) and members):
        problems.append((f"{path}.{kinds[0]}", "expected a non-empty list of predicates"))
        return
    if "not" in predicate and not isinstance(predicate["not"], bool):
        problems.append((f"{path}.not", "expected true or false"))
    for index, member in enumerate(members):
        check_predicate(member, f"{path}.{kinds[0]}[{index}]", problems, columns)


def check_filter(condition: dict, path: str, problems: Problems, allowed: tuple[str, ...],
                 columns: tuple[str, ...] = COLUMNS) -> None:
    """Append the problems of a row filter (operations, workloads, actors, where, any, none) over a frame of
    these `columns` (default: the events')."""
    for key in condition:
        if key not in allowed:
            problems.append((f"{path}.{key}", f"unknown key; expected one of {', '.join(allowed)}"))
    for key in ("operations", "workloads"):
        if key in condition and not _strings(condition[key]):
            problems.append((f"{path}.{key}", "expected a list of strings"))
        elif key in condition and columns != COLUMNS:
            problems.append((f"{path}.{key}", "only for audit log events; match other sources with where"))
    if condition.get("actors", "people") not in ("people", "all"):
        problems.append((f"{path}.actors", "expected 'people' or 'all'"))
    for key in ("where", "any", "none"):
        if key in condition:
            if not isinstance(condition[key], list):
                problems.append((f"{path}.{key}", "expected a list of predicates"))
                continue
            for index, predicate in enumerate(condition[key]):
                check_predicate(predicate, f"{path}.{key}[{index}]", problems, columns)


def _check_aggregate(value: object, path: str, problems: Problems, kind: str, columns: tuple[str, ...] = COLUMNS) -> None:
    if not isinstance(value, dict):
        problems.append((path, "expected a table"))
        return
    keys = ("by", "window", "min", "distinct") if kind == "threshold" else ("by", "baseline", "within")
    for key in value:
        if key not in keys:
            problems.append((f"{path}.{key}", f"unknown key; expected one of {', '.join(keys)}"))
    if not (_strings(value.get("by")) and value["by"]):
        problems.append((f"{path}.by", "expected a non-empty list of columns"))
    else:
        for index, column in enumerate(value["by"]):
            _column(column, f"{path}.by[{index}]", problems, columns)
    if kind == "threshold":
        if not (isinstance(value.get("min"), int) and value["min"] >= 1):
            problems.append((f"{path}.min", "expected a whole number >= 1"))
        if "distinct" in value:
            _column(value["distinct"], f"{path}.distinct", problems, columns)
        if "window" in value:
            _duration(value["window"], f"{path}.window", problems)
    else:
        _duration(value.get("baseline"), f"{path}.baseline", problems)
        if "within" in value:
            _duration(value["within"], f"{path}.within", problems)


def check_condition(condition: object, path: str = "condition") -> Problems:
    """All problems of a hunt condition, each as (field path, message)."""
    problems: Problems = []
    if not isinstance(condition, dict):
        return [(path, "expected a table")]
    source = condition.get("source", "events")
    if source not in SOURCES:
        return [(f"{path}.source", f"expected one of {', '.join(SOURCES)}")]
    columns = SOURCES[source]
    if "sequence" in condition:
        extra = [key for key in condition if key not in ("sequence", "flag", "source")]
        for key in extra:
            problems.append((f"{path}.{key}", "not allowed beside a sequence (put it in a step)"))
        steps = condition["sequence"]
        if not (isinstance(steps, list) and len(steps) >= 2):
            problems.append((f"{path}.sequence", "expected at least two steps"))
            return problems
        for index, step in enumerate(steps):
            step_path = f"{path}.sequence[{index}]"
            if not isinstance(step, dict):
                problems.append((step_path, "expected a table"))
                continue
            step_columns = _source_columns(step.get("source", source), f"{step_path}.source", problems)
            check_filter({k: v for k, v in step.items() if k not in ("key", "within", "after", "first_activity", "source")},
                         step_path, problems, STEP_KEYS, step_columns)
            _column(step.get("key"), f"{step_path}.key", problems, step_columns)
            for key in ("within", "after"):
                if key in step:
                    _duration(step[key], f"{step_path}.{key}", problems)
            if index == 0 and ({"within", "after", "first_activity"} & set(step)):
                problems.append((step_path, "the first step has no within / after / first_activity"))
        if condition.get("flag", "last") not in ("first", "last", "all"):
            problems.append((f"{path}.flag", "expected 'first', 'last' or 'all'"))
        return problems
    check_filter({k: v for k, v in condition.items() if k in FILTER_KEYS or k not in TOP_KEYS}, path, problems,
                 FILTER_KEYS, columns)
    for kind in ("threshold", "first_seen"):
        if kind in condition:
            _check_aggregate(condition[kind], f"{path}.{kind}", problems, kind, columns)
    if "travel" in condition:
        problems += check_travel(condition["travel"], f"{path}.travel", columns)
    if "flag" in condition:
        problems.append((f"{path}.flag", "only with a sequence"))
    return problems
