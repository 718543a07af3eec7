"""Provides the translation of a Sigma rule's detection (as pySigma parses it) into hunt condition data.

The log source picks the frame and its field names (`sigma_fields.toml`); the condition tree becomes nested
`all` / `any` groups of predicates (hunts/conditions.py), so Polars runs a Sigma rule like a native hunt and a
SQL backend could too. What the engine cannot express raises `Untranslatable` with the reason.

Values: plain strings match case-insensitively as equals; `*` / `?` wildcards become contains, starts_with,
ends_with, or an anchored regex elsewhere; `re` keeps its case unless `|i`; `cidr` tests the address;
`exists` and `null` test presence; numbers and booleans match as text. Keywords (a list under no field) test
the record's text. The modifiers outside `SUPPORTED_MODIFIERS` (base64 and UTF-16 encodings, windash, cased,
numeric and time comparisons, field references, placeholder expansion) are reported, not approximated.
"""

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from sigma.conditions import (ConditionAND, ConditionFieldEqualsValueExpression, ConditionNOT, ConditionOR,
                              ConditionValueExpression)
from sigma.exceptions import SigmaError
from sigma.modifiers import reverse_modifier_mapping
from sigma.rule import SigmaDetection, SigmaRule
from sigma.types import (Placeholder, SigmaBool, SigmaCIDRExpression, SigmaExists, SigmaNull, SigmaNumber,
                         SigmaRegularExpression, SigmaString, SpecialChars)

from hunts.conditions import regex_problem

FIELDS_FILE = Path(__file__).parent / "sigma_fields.toml"
SUPPORTED_MODIFIERS = frozenset({"contains", "startswith", "endswith", "all", "re", "i", "ignorecase", "m",
                                 "multiline", "s", "dotall", "cidr", "exists"})
#: Why some modifiers are not supported, where the name does not say it.
MODIFIER_REASONS = {"expand": "placeholders such as %domains% need values the workbench does not have",
                    "cased": "the engine matches text case-insensitively",
                    "fieldref": "a comparison of two fields of one record"}
#: Where a string's one literal part sits between `*` wildcards (True) -> the test it reads as.
_SHAPES = {(False,): "equals", (True, False, True): "contains", (False, True): "starts_with", (True, False): "ends_with"}
#: Tests that take a list of alternatives, merged when an `or` holds several on one subject.
LIST_TESTS = ("equals", "contains", "starts_with", "ends_with", "cidr")


class Untranslatable(ValueError):
    """A Sigma rule the engine cannot express; the message says why."""


@dataclass(frozen=True)
class LogSource:
    """The frame a Sigma (product, service) reads, and its Sigma field names (lower-cased) to subjects."""

    frame: str
    fields: dict[str, str]
    named: dict[str, str]
    unmapped: dict[str, str]

    def subject(self, field: str) -> dict:
        """The predicate subject of a Sigma field name (`{"field": column}`, `{"parameter": name}`, ...)."""
        key = field.lower()
        if key in self.fields:
            return {"field": self.fields[key]}
        if key in self.unmapped:
            raise Untranslatable(f"field {field}: {self.unmapped[key]}")
        for prefix, kind in self.named.items():
            if key.startswith(prefix) and len(field) > len(prefix):
                return {kind: field[len(prefix):]}
        raise Untranslatable(f"unknown field {field} for the {self.frame.replace('_', ' ')} "
                             f"(no mapping in {FIELDS_FILE.name})")


@cache
def _mappings() -> dict:
    with open(FIELDS_FILE, "rb") as handle:
        return tomllib.load(handle)


def _lowered(table: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in table.items()}


def log_source(product: str | None, service: str | None) -> LogSource:
    """The log source of a rule's (product, service), or Untranslatable naming the ones the workbench reads."""
    data = _mappings()
    for entry in data["logsource"]:
        if product == entry["product"] and service in entry["services"]:
            frame = data["frames"][entry["frame"]]
            return LogSource(entry["frame"], _lowered(frame["fields"]) | _lowered(entry.get("fields", {})),
                             _lowered(frame.get("named", {})), _lowered(entry.get("unmapped", {})))
    read = "; ".join(f"{entry['product']} / {', '.join(entry['services'])}" for entry in data["logsource"])
    raise Untranslatable(f"log source {product} / {service} is not read (the workbench reads {read})")


def _modifiers(detection: SigmaDetection) -> set[str]:
    names = set()
    for item in detection.detection_items:
        if isinstance(item, SigmaDetection):
            names |= _modifiers(item)
        else:
            names |= {reverse_modifier_mapping.get(modifier.__name__, modifier.__name__) for modifier in item.modifiers}
    return names


def _wildcard_regex(value: SigmaString, anchored: bool = True) -> str:
    parts = []
    for part in value.s:
        if part == SpecialChars.WILDCARD_MULTI:
            parts.append(".*")
        elif part == SpecialChars.WILDCARD_SINGLE:
            parts.append(".")
        else:
            parts.append(re.escape(part))
    return "(?s)^" + "".join(parts) + "$" if anchored else "(?s)" + "".join(parts)


def _string_test(value: SigmaString) -> dict:
    """The test of a Sigma string: equals, contains, starts_with, ends_with, or an anchored regex."""
    if any(isinstance(part, Placeholder) for part in value.s):
        raise Untranslatable("placeholder values (%name%) need a value the workbench does not have")
    parts = value.s
    if not parts:
        return {"equals": [""]}
    literal = [part for part in parts if isinstance(part, str)]
    if len(literal) == 1 and SpecialChars.WILDCARD_SINGLE not in parts:
        kind = _SHAPES.get(tuple(part == SpecialChars.WILDCARD_MULTI for part in parts))
        if kind:
            return {kind: literal}
    return {"regex": _wildcard_regex(value)}


def _regex_test(value: SigmaRegularExpression) -> dict:
    flags = {flag.name.lower() for flag in value.flags}
    pattern = str(value.regexp)
    inline = ("m" if "multiline" in flags else "") + ("s" if "dotall" in flags else "")
    pattern = f"(?{inline}:{pattern})" if inline else pattern
    if "ignorecase" not in flags:
        pattern = f"(?-i:{pattern})"  # Sigma regular expressions are case-sensitive unless |i
    problem = regex_problem(pattern)
    if problem:
        raise Untranslatable(f"regular expression {str(value.regexp)!r}: {problem}")
    return {"regex": pattern}


def _keyword_test(value: object) -> dict:
    """A keyword's test on the record's text: a substring, wildcards inside it as a regex."""
    if not isinstance(value, SigmaString):
        raise Untranslatable(f"keyword {value!r} of type {type(value).__name__} is not supported")
    _string_test(value)  # placeholders are reported as for fields
    literal = [part for part in value.s if isinstance(part, str)]
    if len(literal) == 1 and SpecialChars.WILDCARD_SINGLE not in value.s:
        return {"contains": literal}
    return {"regex": _wildcard_regex(value, anchored=False)}


def _value_test(value: object) -> dict:
    if isinstance(value, SigmaString):
        return _string_test(value)
    if isinstance(value, SigmaRegularExpression):
        return _regex_test(value)
    if isinstance(value, SigmaCIDRExpression):
        return {"cidr": [value.cidr]}
    if isinstance(value, SigmaNull):
        return {"present": False}
    if isinstance(value, SigmaExists):
        return {"present": bool(value.exists)}
    if isinstance(value, SigmaNumber):
        return {"equals": [str(value.number)]}
    if isinstance(value, SigmaBool):
        return {"equals": ["true" if value.boolean else "false"]}
    raise Untranslatable(f"value {value!r} of type {type(value).__name__} is not supported")


def _merged(members: list[dict]) -> list[dict]:
    """An `or`'s members with the single-test predicates on one subject merged into one list of alternatives."""
    merged: list[dict] = []
    slots: dict[tuple, dict] = {}
    for member in members:
        tests = [key for key in LIST_TESTS if key in member]
        subject = {key: value for key, value in member.items() if key not in LIST_TESTS}
        if len(tests) == 1 and "not" not in member and not ({"all", "any"} & set(member)):
            slot = (tests[0], repr(sorted(subject.items())))
            if slot in slots:
                slots[slot][tests[0]] = [*slots[slot][tests[0]], *member[tests[0]]]
                continue
            slots[slot] = member = {**subject, tests[0]: list(member[tests[0]])}
        merged.append(member)
    return merged


def _predicate(node: object, source: LogSource) -> dict:
    if isinstance(node, (ConditionAND, ConditionOR)):
        kind = "all" if isinstance(node, ConditionAND) else "any"
        members = []
        for member in (_predicate(arg, source) for arg in node.args):
            same = kind in member and "not" not in member  # a nested group of the same kind: its members
            members += member[kind] if same else [member]
        if isinstance(node, ConditionOR):
            members = _merged(members)
        if len(members) == 1:
            return members[0]
        return {kind: members}
    if isinstance(node, ConditionNOT):
        inner = _predicate(node.args[0], source)
        return inner if inner.pop("not", False) else {**inner, "not": True}
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return {**source.subject(node.field), **_value_test(node.value)}
    if isinstance(node, ConditionValueExpression):
        return {"record": True, **_keyword_test(node.value)}
    raise Untranslatable(f"condition element {type(node).__name__} is not supported")


def rule_condition(rule: SigmaRule) -> dict:
    """The hunt condition of a Sigma rule (its `source` and one `where` predicate), or Untranslatable."""
    if rule.errors:
        raise Untranslatable(str(rule.errors[0]))
    source = log_source(rule.logsource.product, rule.logsource.service)
    unsupported = sorted(set().union(*(_modifiers(detection) for detection in rule.detection.detections.values()))
                         - SUPPORTED_MODIFIERS)
    if unsupported:
        why = "; ".join(f"{name}: {MODIFIER_REASONS[name]}" for name in unsupported if name in MODIFIER_REASONS)
        raise Untranslatable(f"modifier {', '.join(unsupported)} is not supported" + (f" ({why})" if why else ""))
    if any("|" in condition for condition in rule.detection.condition):
        raise Untranslatable("aggregation (`| count()` ...) is not supported: hunts from Sigma rules run per-record "
                             "conditions")
    try:
        trees = [condition.parse() for condition in rule.detection.parsed_condition]
    except SigmaError as error:
        raise Untranslatable(f"condition: {error}") from error
    predicates = [_predicate(tree, source) for tree in trees]
    where = predicates[0] if len(predicates) == 1 else {"any": predicates}
    condition = {"where": [where], "actors": "all"}
    return condition if source.frame == "events" else {"source": source.frame, **condition}

