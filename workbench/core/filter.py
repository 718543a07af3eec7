"""Provides the filter-bar syntax, parsed into one Polars expression over the events frame.

    op:Add-MailboxPermission user:admin ip:104.161.20.102 after:2023-02-20 -op:UserLoggedIn "passcode"

Terms are ANDed. `field:value` matches one column (case-insensitive; `*` is a wildcard; commas
give alternatives: `op:HardDelete,SoftDelete`), `app:` the application or client application by id
or name (`app:"outlook mobile"`, `app:27922004`), `code:` a logon's error code, a failed audit-log logon's
`ErrorNumber` or a sign-in's status code (`code:50126,50053`), a leading `-` negates a term, `after:`/`before:`
bound the time (UTC; a date or `2023-02-20T08:00`), and bare or quoted words are free text searched
in subjects, parameters, modified properties, targets and object ids. Every bad term is reported.

Given a `ValueIndex` of the frame, field and free-text terms are evaluated on each column's distinct
values only and mapped back to the rows by code, which is what keeps a filter fast at a million rows.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import polars as pl

from workbench.core.value_index import ValueIndex

#: field name (and aliases) -> (column, how): "exact" equality, "prefix" start, "contains" substring.
FIELDS: dict[str, tuple[str, str]] = {
    "op": ("operation", "exact"),
    "operation": ("operation", "exact"),
    "user": ("user_id", "contains"),
    "ip": ("client_ip", "exact"),
    "workload": ("workload", "exact"),
    "wl": ("workload", "exact"),
    "type": ("record_type_name", "exact"),
    "session": ("session_id", "exact"),
    "id": ("record_id", "exact"),
    "status": ("result_status", "exact"),
    "object": ("object_id", "contains"),
    "obj": ("object_id", "contains"),
    "mailbox": ("mailbox_owner_upn", "contains"),
    "agent": ("user_agent", "contains"),
    "ua": ("user_agent", "contains"),
    "case": ("case", "prefix"),  # case:case-b finds case-b-70056ecf
    "tenant": ("organization_id", "exact"),
    "source": ("source", "exact"),  # ual, signin, audit (activity.py)
    "src": ("source", "exact"),
}
#: field name -> (how, the columns it searches): a value matching any of them matches.
GROUP_FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "app": ("contains", ("app_id", "app_name", "client_app_id", "client_app_name")),
    "code": ("exact", ("error_number", "status_code")),  # the audit log's ErrorNumber, a sign-in's status code
}
TIME_FIELDS = ("after", "before")
#: Columns searched by free text.
TEXT_COLUMNS = ("object_id", "item", "affected_items", "parameters", "modified_properties", "target")

#: Columns a term can search.
INDEXED = tuple(dict.fromkeys([column for column, _how in FIELDS.values()] + list(TEXT_COLUMNS)
                               + [column for _how, columns in GROUP_FIELDS.values() for column in columns]))

_TOKEN = re.compile(r'\s*(-?)(?:([A-Za-z_]+):)?("(?:[^"\\]|\\.)*"?|\S*)')


class FilterError(ValueError):
    """One or more terms of a filter could not be understood; `problems` lists each."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Term:
    """One parsed term: `field` is None for free text."""

    field: str | None
    value: str
    negated: bool


def tokenize(text: str) -> tuple[list[Term], list[str]]:
    """The terms of `text` and the problems found while splitting it."""
    terms, problems = [], []
    for match in _TOKEN.finditer(text):
        negated, field, raw = match.group(1) == "-", match.group(2), match.group(3)
        if not match.group().strip():
            continue
        if raw.startswith('"'):
            if len(raw) < 2 or not raw.endswith('"') or raw.endswith('\\"'):
                problems.append(f"unterminated quote in {match.group().strip()!r}")
                continue
            value = re.sub(r"\\(.)", r"\1", raw[1:-1])
        else:
            value = raw
        if not value:
            problems.append(f"{field}: needs a value" if field else f"{match.group().strip()!r} needs a term after it")
            continue
        terms.append(Term(field.lower() if field else None, value, negated))
    return terms, problems


def _pattern(value: str) -> str:
    """A case-insensitive regex for one value; `*` matches anything."""
    return "(?i)" + ".*".join(re.escape(part) for part in value.split("*"))


def _over(column: str, expression: pl.Expr, index: ValueIndex | None) -> pl.Expr:
    return expression if index is None else index.match(column, expression)


def _field_expr(column: str, how: str, value: str, index: ValueIndex | None) -> pl.Expr:
    alternatives, text = [], pl.col(column).cast(pl.String)  # a number (a sign-in's status code) as its digits
    for option in (v for v in value.split(",") if v):
        if "*" in option or how == "exact":  # an anchored case-insensitive regex: no lower-cased copy of the column
            alternatives.append(text.str.contains("^" + _pattern(option) + "$"))
        elif how == "prefix":
            alternatives.append(text.str.contains("^" + _pattern(option)))
        else:
            alternatives.append(text.str.contains(_pattern(option)))
    return _over(column, pl.any_horizontal(alternatives), index)


def _contains(column: str, value: str) -> pl.Expr:
    """Whether `column` holds `value` ignoring case: a plain ASCII word by Aho-Corasick (several times faster than a
    case-insensitive regex over the long texts free text searches), anything else by `_pattern`."""
    if value.isascii() and "*" not in value:
        return pl.col(column).str.contains_any([value], ascii_case_insensitive=True)
    return pl.col(column).str.contains(_pattern(value))


def _text_expr(value: str, index: ValueIndex | None) -> pl.Expr:
    return pl.any_horizontal(_over(column, _contains(column, value), index).fill_null(False) for column in TEXT_COLUMNS)


def parse_time(value: str) -> datetime:
    """A UTC time from `2023-02-20`, `2023-02-20T08:00`, `2023-02-20 08:00:05` (a trailing Z allowed)."""
    text = value.strip().rstrip("Zz").replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not a time (use 2023-02-20 or 2023-02-20T08:00)") from None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _term_expr(term: Term, index: ValueIndex | None) -> pl.Expr:
    if term.field is None:
        return _text_expr(term.value, index)
    if term.field in TIME_FIELDS:
        try:
            moment = parse_time(term.value)
        except ValueError as error:
            raise ValueError(f"{term.field}: {error}") from None
        column = pl.col("creation_time")
        return column >= moment if term.field == "after" else column < moment
    if term.field in GROUP_FIELDS:
        how, columns = GROUP_FIELDS[term.field]
        return pl.any_horizontal(_field_expr(column, how, term.value, index).fill_null(False) for column in columns)
    if term.field not in FIELDS:
        known = ", ".join(sorted([*FIELDS, *GROUP_FIELDS]) + list(TIME_FIELDS))
        raise ValueError(f"unknown field {term.field!r} in {term.field}:{term.value} (fields: {known})")
    column, how = FIELDS[term.field]
    return _field_expr(column, how, term.value, index)


def parse_filter(text: str, index: ValueIndex | None = None) -> pl.Expr | None:
    """The expression selecting the events that match `text` (None for an empty filter).

    With `index`, the expression holds the matching rows of `index.events` and applies to that frame only.
    """
    terms, problems = tokenize(text)
    expressions = []
    for term in terms:
        try:
            expression = _term_expr(term, index).fill_null(False)
        except ValueError as error:
            problems.append(str(error))
            continue
        expressions.append(~expression if term.negated else expression)
    if problems:
        raise FilterError(problems)
    return pl.all_horizontal(expressions) if expressions else None


def quote(value: str) -> str:
    """`value` as a filter value (quoted when it holds spaces, quotes or commas)."""
    if value and re.fullmatch(r"[^\s\",]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
