"""Provides the SQL form of hunt conditions: one compiler to sqlglot expression trees, written out for DuckDB and
Spark SQL (`sql_text`), the second implementation of the semantics `hunts.engine` and `hunts.predicates` give them.

Compiled SQL reads the tables `events`, `sign_ins`, `directory_audits` (the frames' columns plus a String `tenant`)
and `enrichment` (`ip`, `hosting`, ...). Every threshold, first-seen and set is taken per `tenant`, so one query over
many tenants gives each the hits it would get alone. What the dialects spell differently (regular expressions, JSON
decoding, epoch microseconds, binding a value once) are the private expression classes below, each written out per
dialect in one place (`_DuckDB`, `_Spark`):

- regular expressions are written in the Rust syntax Polars reads; for DuckDB (RE2) the Unicode classes `\\w \\d \\s`
  are spelled out (RE2's are ASCII); for Spark (java.util.regex) `(?dU)` makes them Unicode and `.` stop only at a
  newline, and `$` becomes `\\z` (Java's `$` also matches before a final newline). `\\b` stays: RE2's is ASCII.
- JSON text columns are repaired and screened exactly as `hunts.predicates` does before decoding; text that is not
  JSON decodes to nothing (Polars stops with an error there).
"""

import ipaddress
import re

import polars as pl
from sqlglot import exp
from sqlglot.dialects.duckdb import DuckDB
from sqlglot.dialects.spark import Spark

from hunts.conditions import GROUPS, TESTS
from hunts.lists import listed_values
from hunts.model import Hunt
from hunts.predicates import BAD_ESCAPE, NESTED, PROVENANCE, SYSTEM_ACTOR, SYSTEM_USER_TYPES
from workbench.core.schema import FRAME_SCHEMAS

#: The frames hunts read, as SQL tables of those names.
SOURCES = ("events", "sign_ins", "directory_audits")
#: Microseconds per duration unit of a condition (`30m`, `7d`).
_MICROS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}
#: Characters Rust's `\\w` matches (Alphabetic, marks, decimal digits, connectors, joiners), for RE2.
_WORD = r"\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\x{200C}\x{200D}"
#: Unicode White_Space: Rust's `\\s` and what Polars' strip_chars removes.
_SPACE = r"\t\n\x{0B}\x{0C}\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
_RE2_CLASSES = {"w": (_WORD, False), "W": (_WORD, True), "d": (r"\p{Nd}", False), "D": (r"\p{Nd}", True),
                "s": (_SPACE, False), "S": (_SPACE, True)}
_UNWRAP = r'(?s)^\s*\[\s*"?(.*?)"?\s*\]\s*$'
#: The White_Space characters themselves (what `_SPACE` matches).
_SPACES = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class UnsupportedHunt(Exception):
    """A hunt (or condition part) the SQL engines cannot express; the message names the hunt and why."""

    def __init__(self, hunt_id: str, reason: str):
        super().__init__(f"{hunt_id}: {reason}" if hunt_id else reason)
        self.hunt_id, self.reason = hunt_id, reason


# --- expressions each dialect writes its own way -------------------------------------------------------------------

class _Matches(exp.Expression, exp.Func):
    """Whether `this` holds a match of regular expression `pattern` (Rust syntax, a string literal)."""
    arg_types = {"this": True, "pattern": True}


class _ReplaceAll(exp.Expression, exp.Func):
    """`this` with every match of `pattern` replaced by `replacement` (literal text; `$1` the first group)."""
    arg_types = {"this": True, "pattern": True, "replacement": True}


class _Extract(exp.Expression, exp.Func):
    """Group `group` of the first match of `pattern` in `this` ('' when none, as both engines answer)."""
    arg_types = {"this": True, "pattern": True, "group": True}


class _EpochMicros(exp.Expression, exp.Func):
    """Microseconds since 1970 of a timestamp."""
    arg_types = {"this": True}


class _JsonPairs(exp.Expression, exp.Func):
    """A JSON list of objects as a list of structs (`n`: the Name, `v`: the `value` member; the modified properties'
    lower-case spelling `name` / `new` / `old` when the other is missing); null when the text is not JSON."""
    arg_types = {"this": True, "value": True}


class _JsonTexts(exp.Expression, exp.Func):
    """The `Subject` (`field` = subject) or `ParentFolder.Path` (folder) of a JSON object (`kind` = item) or of each
    object of a JSON list (affected), as a list of strings; null when the text is not JSON."""
    arg_types = {"this": True, "kind": True, "field": True}


class _Strip(exp.Expression, exp.Func):
    """`this` without Unicode white space at both ends (`leading`: at its start), as Polars' `strip_chars`."""
    arg_types = {"this": True, "leading": False}


class _Let(exp.Expression, exp.Func):
    """The lambda `expression` applied to the value `this` once (so a costly value is computed once)."""
    arg_types = {"this": True, "expression": True}


def _pattern(node: exp.Expression, translate) -> exp.Literal:
    return exp.Literal.string(translate(node.args["pattern"].name))


def _groups(replacement: str, group_mark: str) -> str:
    return re.sub(r"\$(\d)", lambda match: group_mark + match[1], replacement.replace("\\", "\\\\"))


_PARAMS = {"Value": None, "NewValue": "new", "OldValue": "old"}


def _duck_pairs(self, node: _JsonPairs) -> str:
    text, value = self.sql(node, "this"), node.args["value"].name

    def member(name: str, other: str | None) -> str:
        first = f"JSON_EXTRACT_STRING(_j, '$.{name}')"
        return f"COALESCE({first}, JSON_EXTRACT_STRING(_j, '$.{other}'))" if other else first

    name_of = member("Name", "name" if value != "Value" else None)
    return (f"CASE WHEN JSON_VALID({text}) THEN LIST_TRANSFORM(JSON_EXTRACT({text}, '$[*]'), LAMBDA _j : "
            f"STRUCT_PACK(n := {name_of}, v := {member(value, _PARAMS[value])})) END")


def _spark_pairs(self, node: _JsonPairs) -> str:
    text, value = self.sql(node, "this"), node.args["value"].name
    if value == "Value":
        return (f"TRANSFORM(FROM_JSON({text}, 'array<struct<Name:string,Value:string>>'), _j -> "
                f"NAMED_STRUCT('n', _j.Name, 'v', _j.Value))")
    other = _PARAMS[value]
    return (f"ZIP_WITH(FROM_JSON({text}, 'array<struct<Name:string,{value}:string>>'), "
            f"FROM_JSON({text}, 'array<struct<name:string,{other}:string>>'), (_a, _b) -> "
            f"NAMED_STRUCT('n', COALESCE(_a.Name, _b.name), 'v', COALESCE(_a.{value}, _b.{other})))")


_TEXT_PATH = {"subject": "Subject", "folder": "ParentFolder.Path"}
_ITEM_TYPE = "struct<Subject:string,ParentFolder:struct<Path:string>>"


def _duck_texts(self, node: _JsonTexts) -> str:
    text, path = self.sql(node, "this"), _TEXT_PATH[node.args["field"].name]
    if node.args["kind"].name == "item":
        return f"CASE WHEN JSON_VALID({text}) THEN [JSON_EXTRACT_STRING({text}, '$.{path}')] END"
    return (f"CASE WHEN JSON_VALID({text}) THEN LIST_TRANSFORM(JSON_EXTRACT({text}, '$[*]'), LAMBDA _j : "
            f"JSON_EXTRACT_STRING(_j, '$.{path}')) END")


def _spark_texts(self, node: _JsonTexts) -> str:
    text, path = self.sql(node, "this"), _TEXT_PATH[node.args["field"].name]
    if node.args["kind"].name == "item":
        return f"ARRAY(FROM_JSON({text}, '{_ITEM_TYPE}').{path})"
    return f"TRANSFORM(FROM_JSON({text}, 'array<{_ITEM_TYPE}>'), _j -> _j.{path})"


class _DuckDB(DuckDB):
    class Generator(DuckDB.Generator):
        TRANSFORMS = {
            **DuckDB.Generator.TRANSFORMS,
            _Matches: lambda self, e: self.func("REGEXP_MATCHES", e.this, _pattern(e, re2_pattern)),
            _ReplaceAll: lambda self, e: self.func("REGEXP_REPLACE", e.this, _pattern(e, re2_pattern), exp.Literal.string(
                _groups(e.args["replacement"].name, "\\")), exp.Literal.string("g")),
            _Extract: lambda self, e: self.func("REGEXP_EXTRACT", e.this, _pattern(e, re2_pattern), e.args["group"]),
            _EpochMicros: lambda self, e: self.func("EPOCH_US", e.this),
            _JsonPairs: _duck_pairs,
            _JsonTexts: _duck_texts,
            _Strip: lambda self, e: self.func("LTRIM" if e.args.get("leading") else "TRIM", e.this, exp.Literal.string(_SPACES)),
            _Let: lambda self, e: f"LIST_TRANSFORM([{self.sql(e, 'this')}], {self.sql(e, 'expression')})[1]",
        }


class _Spark(Spark):
    class Generator(Spark.Generator):
        TRANSFORMS = {
            **Spark.Generator.TRANSFORMS,
            _Matches: lambda self, e: f"({self.sql(e, 'this')} RLIKE {self.sql(_pattern(e, java_pattern))})",
            _ReplaceAll: lambda self, e: self.func("REGEXP_REPLACE", e.this, _pattern(e, java_pattern), exp.Literal.string(
                _groups(e.args["replacement"].name, "$"))),
            _Extract: lambda self, e: self.func("REGEXP_EXTRACT", e.this, _pattern(e, java_pattern), e.args["group"]),
            _EpochMicros: lambda self, e: self.func("UNIX_MICROS", e.this),
            _JsonPairs: _spark_pairs,
            _JsonTexts: _spark_texts,
            _Strip: lambda self, e: (f"TRIM({'LEADING' if e.args.get('leading') else 'BOTH'} "
                                     f"{self.sql(exp.Literal.string(_SPACES))} FROM {self.sql(e, 'this')})"),
            _Let: lambda self, e: f"TRANSFORM(ARRAY({self.sql(e, 'this')}), {self.sql(e, 'expression')})[0]",
        }


_DIALECTS = {"duckdb": _DuckDB, "spark": _Spark}


def sql_text(query: exp.Expression, dialect: str) -> str:
    """The SQL text of a compiled query (or expression) for `dialect`: "duckdb" or "spark"."""
    if dialect not in _DIALECTS:
        raise ValueError(f"unknown SQL dialect {dialect!r}; expected duckdb or spark")
    return query.sql(dialect=_DIALECTS[dialect], unsupported_level="raise")


# --- regular expressions: Rust syntax to RE2 and to java.util.regex --------------------------------------------------

def _escape_at(pattern: str, index: int) -> tuple[str, int]:
    """The escape sequence starting at `index` (a backslash) and the index after it."""
    match = re.compile(r"\\(?:[xpP]\{[^}]*\}|[pP][A-Za-z]|x[0-9A-Fa-f]{2}|.)", re.S).match(pattern, index)
    if not match:
        raise UnsupportedHunt("", f"regular expression {pattern!r} ends with a lone backslash")
    return match[0], match.end()


def _class_at(pattern: str, index: int) -> tuple[bool, list[str], int]:
    """The character class starting at `index` (a `[`): whether negated, its items (escapes as one item), the end."""
    position = index + 1
    negated = pattern.startswith("^", position)
    position += negated
    items = []
    if pattern.startswith("]", position):
        items.append("]")
        position += 1
    while position < len(pattern) and pattern[position] != "]":
        if pattern[position] == "\\":
            item, position = _escape_at(pattern, position)
        elif pattern[position] == "[" or pattern.startswith(("&&", "--", "~~"), position):
            raise UnsupportedHunt("", f"regular expression {pattern!r}: nested classes and class set operations are "
                                      "read differently by the SQL engines")
        else:
            item, position = pattern[position], position + 1
        items.append(item)
    if position >= len(pattern):
        raise UnsupportedHunt("", f"regular expression {pattern!r}: unclosed character class")
    return negated, items, position + 1


def _tokens(pattern: str):
    """(kind, text) pieces of a pattern: ("escape", ...), ("class", (negated, items)), ("char", c)."""
    if re.search(r"\(\?[a-zA-Z-]*[mxRU]", pattern):
        raise UnsupportedHunt("", f"regular expression {pattern!r}: the flags m, x, R and U are not compiled to SQL")
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            text, position = _escape_at(pattern, position)
            yield "escape", text
        elif char == "[":
            negated, items, position = _class_at(pattern, position)
            yield "class", (negated, items)
        else:
            position += 1
            yield "char", char


def re2_pattern(pattern: str) -> str:
    """A Rust-syntax regular expression as RE2 (DuckDB) reads it the same way: Unicode `\\w \\d \\s`."""
    out = []
    for kind, text in _tokens(pattern):
        if kind == "escape" and text[1:] in _RE2_CLASSES:
            members, negated = _RE2_CLASSES[text[1:]]
            out.append(f"[{'^' if negated else ''}{members}]")
        elif kind == "class":
            negated, items = text
            plain = [_RE2_CLASSES[item[1:]][0] if item[1:] in _RE2_CLASSES and not _RE2_CLASSES[item[1:]][1] else item
                     for item in items if not (item[1:] in _RE2_CLASSES and _RE2_CLASSES[item[1:]][1])]
            complements = [_RE2_CLASSES[item[1:]][0] for item in items
                           if item[1:] in _RE2_CLASSES and _RE2_CLASSES[item[1:]][1]]
            if complements and negated:
                raise UnsupportedHunt("", f"regular expression {pattern!r}: a negated class holding \\W, \\D or \\S")
            alternatives = [f"[^{members}]" for members in complements]
            if plain or not complements:
                alternatives.append(f"[{'^' if negated else ''}{''.join(plain)}]")
            out.append(alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})")
        else:
            out.append(text)
    return "".join(out)


def java_pattern(pattern: str) -> str:
    """A Rust-syntax regular expression as java.util.regex (Spark) reads it the same way: Unicode classes and case,
    `.` stopping only at a newline, `$` only at the very end."""
    out = []
    for kind, text in _tokens(pattern):
        if kind == "class":
            negated, items = text
            out.append(f"[{'^' if negated else ''}{''.join(items)}]")
        else:
            out.append("\\z" if kind == "char" and text == "$" else text)
    return "(?dU)" + "".join(out)


# --- building blocks --------------------------------------------------------------------------------------------

def _and(*parts: exp.Expression) -> exp.Expression:
    return exp.and_(*parts, copy=False)


def _or(*parts: exp.Expression) -> exp.Expression:
    return exp.or_(*parts, copy=False)


def _not(part: exp.Expression) -> exp.Expression:
    return exp.not_(part, copy=False)


def _call(name: str, *args: exp.Expression) -> exp.Expression:
    """A function both dialects name and read alike."""
    return exp.Anonymous(this=name, expressions=list(args))


def _col(name: str, table: str | None = None) -> exp.Column:
    return exp.column(name, table=table, quoted=True)


def _lit(value: str) -> exp.Literal:
    return exp.Literal.string(value)


def _var(name: str) -> exp.Column:
    return exp.column(name)


def _field(var: str, name: str) -> exp.Column:
    return exp.Column(this=exp.to_identifier(name), table=exp.to_identifier(var))


def _lambda(var: str, body: exp.Expression) -> exp.Lambda:
    return exp.Lambda(this=body, expressions=[exp.to_identifier(var)])


def _matches(text: exp.Expression, pattern: str) -> exp.Expression:
    """Whether `text` holds a match of a Rust-syntax `pattern` (checked now for what the SQL engines read alike)."""
    re2_pattern(pattern)
    java_pattern(pattern)
    return _Matches(this=text, pattern=_lit(pattern))


def _replace_all(text: exp.Expression, pattern: str, replacement: str) -> exp.Expression:
    return _ReplaceAll(this=text, pattern=_lit(pattern), replacement=_lit(replacement))


def _extract(text: exp.Expression, pattern: str, group: int = 1) -> exp.Expression:
    """The group's text, null when the pattern does not match (Polars' `str.extract`)."""
    return _case(_matches(text, pattern), _Extract(this=text, pattern=_lit(pattern), group=exp.Literal.number(group)))


def _case(condition: exp.Expression, then: exp.Expression, otherwise: exp.Expression | None = None) -> exp.Case:
    return exp.Case(ifs=[exp.If(this=condition, true=then)], default=otherwise)


def _strip(text: exp.Expression, leading: bool = False) -> exp.Expression:
    """Unicode white space removed from both ends (Polars' `str.strip_chars()`), or from the start."""
    return _Strip(this=text, leading=exp.true() if leading else None)


def _lower(text: exp.Expression) -> exp.Expression:
    return exp.Lower(this=text)


def _string(column: str) -> exp.Expression:
    return exp.Cast(this=_col(column), to=exp.DataType.build("text"))


def _false_if_null(condition: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=exp.Paren(this=condition), expressions=[exp.false()])


def _all(parts: list[exp.Expression]) -> exp.Expression:
    return _and(*parts) if parts else exp.true()


def _any(parts: list[exp.Expression]) -> exp.Expression:
    return _or(*parts) if parts else exp.false()


def _in(value: exp.Expression, items: list[str]) -> exp.Expression:
    return exp.In(this=value, expressions=[_lit(item) for item in items])


def _micros(duration: str) -> int:
    return int(duration[:-1]) * _MICROS[duration[-1]]


def _let(value: exp.Expression, var: str, body: exp.Expression) -> exp.Expression:
    return _Let(this=value, expression=_lambda(var, body))


# --- JSON text columns, as hunts.predicates decodes them -------------------------------------------------------------

def _repaired(text: exp.Expression, var: str, body) -> exp.Expression:
    """`body(repaired)`, the repaired JSON text bound once: start stripped, stray backslashes escaped, raw control
    characters as \\u escapes (hunts.predicates)."""
    escaped = _case(_matches(_var(f"{var}0"), BAD_ESCAPE),
                    _replace_all(_var(f"{var}0"), r'\\([^"\\/bfnrtu])', "\\\\$1"), _var(f"{var}0"))
    controls = _var(f"{var}1")
    for code in range(32):
        controls = _call("REPLACE", controls, exp.Chr(expressions=[exp.Literal.number(code)]), _lit(f"\\u{code:04x}"))
    controlled = _case(_matches(_var(f"{var}1"), r"[\x00-\x1f]"), controls, _var(f"{var}1"))
    return _let(_strip(text, leading=True), f"{var}0", _let(escaped, f"{var}1", _let(controlled, var, body(_var(var)))))


def _decodable(text: exp.Expression, prefix: str) -> exp.Expression:
    return _and(exp.StartsWith(this=text, expression=_lit(prefix)), _not(_matches(text, NESTED)))


def _named_values(column: str, names: list[str], value: str) -> exp.Expression:
    """The values of the named entries of a Name/Value JSON list, joined by newlines; null when none."""
    wanted = [name.lower() for name in names]

    def values(text: exp.Expression) -> exp.Expression:
        pairs = _case(_decodable(text, "[{"), _JsonPairs(this=text, value=_lit(value)))
        picked = exp.ArrayFilter(this=pairs, expression=_lambda("_e", _false_if_null(_in(_lower(_field("_e", "n")), wanted))))
        texts = exp.Transform(this=picked, expression=_lambda("_e", _field("_e", "v")))
        texts = exp.ArrayFilter(this=texts, expression=_lambda("_v", exp.Not(this=exp.Is(this=_var("_v"), expression=exp.null()))))
        if column == "modified_properties":
            texts = exp.Transform(this=texts, expression=_lambda("_v", _case(
                _matches(_var("_v"), _UNWRAP), _Extract(this=_var("_v"), pattern=_lit(_UNWRAP), group=exp.Literal.number(1)),
                _var("_v"))))
        return _let(texts, "_l", _case(exp.GT(this=exp.ArraySize(this=_var("_l")), expression=exp.Literal.number(0)),
                                       exp.ArrayToString(this=_var("_l"), expression=_lit("\n"))))

    return _repaired(_col(column), "_t", values)


def _item_texts(field: str) -> exp.Expression:
    """The Item's and AffectedItems' subjects (or parent folder paths), joined by newlines; null when none."""
    def decoded(column: str, kind: str, prefix: str) -> exp.Expression:
        return _repaired(_col(column), f"_{kind[0]}", lambda text: _case(
            _decodable(text, prefix), _JsonTexts(this=text, kind=_lit(kind), field=_lit(field))))

    none = exp.Cast(this=exp.Array(expressions=[]), to=exp.DataType.build("ARRAY<TEXT>"))
    item = exp.Coalesce(this=decoded("item", "item", "{"), expressions=[none])
    affected = exp.Coalesce(this=decoded("affected_items", "affected", "[{"), expressions=[none.copy()])
    texts = exp.ArrayFilter(this=exp.ArrayConcat(this=item, expressions=[affected]),
                            expression=_lambda("_v", exp.Not(this=exp.Is(this=_var("_v"), expression=exp.null()))))
    return _let(texts, "_l", _case(exp.GT(this=exp.ArraySize(this=_var("_l")), expression=exp.Literal.number(0)),
                                   exp.ArrayToString(this=_var("_l"), expression=_lit("\n"))))


# --- predicates ---------------------------------------------------------------------------------------------------

def _subject(predicate: dict, source: str) -> exp.Expression:
    """The text a predicate tests (hunts.predicates.subject_expr)."""
    if "field" in predicate:
        return _string(predicate["field"])
    if "parameter" in predicate:
        return _named_values("parameters", [predicate["parameter"]], "Value")
    if "modified" in predicate:
        names = predicate["modified"]
        return _named_values("modified_properties", [names] if isinstance(names, str) else names,
                             "OldValue" if predicate.get("value") == "old" else "NewValue")
    if "record" in predicate:
        texts = [_col(name) for name, kind in FRAME_SCHEMAS[source].items() if kind == pl.String and name not in PROVENANCE]
        return _call("CONCAT_WS", _lit("\n"), *texts)
    return _item_texts("subject" if "subject" in predicate else "folder")


def _words(words: list[str]) -> str:
    return r"(?i)(?:^|\W)(?:" + "|".join(re.escape(word) for word in words) + r")(?:$|\W)"


def _address_in(text: exp.Expression, networks: list[str]) -> exp.Expression:
    """Whether a text is an IPv4 address inside one of the IPv4 networks, or an IPv6 one (an IPv4-mapped IPv6 address
    as IPv4) inside one of the IPv6 networks: the address as a fixed-width hex string, compared with each network's
    first and last."""
    parsed = [ipaddress.ip_network(network, strict=False) for network in networks]
    address = _strip(text)
    v4 = _ipv4_hex(address)
    mapped = _extract(_lower(address), r"^::ffff:([0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3})$")
    v4 = exp.Coalesce(this=v4, expressions=[_ipv4_hex(mapped)])
    v6 = _ipv6_hex(address)
    tests = []
    for network in parsed:
        first, last = (f"{int(edge):0{network.max_prefixlen // 4}x}" for edge in (network.network_address, network.broadcast_address))
        value = v4 if network.version == 4 else v6
        tests.append(exp.Between(this=value, low=_lit(first), high=_lit(last)))
    return _any(tests)


def _ipv4_hex(text: exp.Expression) -> exp.Expression:
    """A dotted IPv4 address (no leading zeros, as Python reads it) as 8 hex digits; null for anything else."""
    octet = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    pattern = rf"^{octet}\.{octet}\.{octet}\.{octet}$"
    parts = [_call("LPAD", _call("HEX", exp.Cast(this=_Extract(this=text, pattern=_lit(pattern), group=exp.Literal.number(group)),
                                                       to=exp.DataType.build("bigint"))), exp.Literal.number(2), _lit("0"))
             for group in range(1, 5)]
    return _case(_matches(text, pattern), _lower(_call("CONCAT", *parts)))


def _ipv6_hex(text: exp.Expression) -> exp.Expression:
    """A plain IPv6 address (hex groups, one `::` at most, no zone or dotted tail) as 32 hex digits; null otherwise."""
    group = "[0-9a-f]{1,4}"
    full = rf"^({group}:){{7}}{group}$"
    compressed = rf"^(({group}:){{0,6}}{group})?::(({group}:){{0,6}}{group})?$"
    lowered = _lower(text)

    def groups(part: exp.Expression) -> exp.Expression:
        return exp.Split(this=part, expression=_lit(":"))

    head = _call("SPLIT_PART", lowered, _lit("::"), exp.Literal.number(1))
    tail = _call("SPLIT_PART", lowered, _lit("::"), exp.Literal.number(2))

    def padded(part: exp.Expression) -> exp.Expression:
        listed = exp.Transform(this=groups(part), expression=_lambda("_g", _call("LPAD", _var("_g"), exp.Literal.number(4), _lit("0"))))
        return exp.ArrayToString(this=listed, expression=_lit(""))

    head_hex = _case(exp.EQ(this=head, expression=_lit("")), _lit(""), padded(head))
    tail_hex = _case(exp.EQ(this=tail, expression=_lit("")), _lit(""), padded(tail))
    gap = exp.Sub(this=exp.Literal.number(32), expression=exp.Add(this=exp.Length(this=head_hex), expression=exp.Length(this=tail_hex)))
    middle = _call("REPEAT", _lit("0"), gap)
    return exp.Case(ifs=[
        exp.If(this=_matches(lowered, full), true=padded(lowered)),
        exp.If(this=_and(_matches(lowered, compressed), exp.GT(this=exp.Paren(this=gap), expression=exp.Literal.number(0))),
               true=_call("CONCAT", head_hex, middle, tail_hex)),
    ])


def _test(text: exp.Expression, key: str, value: object) -> exp.Expression:
    """One test of a predicate's text (hunts.predicates._test)."""
    lower = _lower(text)
    if key == "equals":
        return _in(_strip(lower), [item.lower() for item in ([value] if isinstance(value, str) else value)])
    if key == "contains":
        return _any([exp.GT(this=exp.StrPosition(this=lower, substr=_lit(item.lower())), expression=exp.Literal.number(0))
                     for item in value])
    if key == "starts_with":
        return _any([exp.StartsWith(this=lower, expression=_lit(item.lower())) for item in value])
    if key == "ends_with":
        return _any([exp.EndsWith(this=lower, expression=_lit(item.lower())) for item in value])
    if key == "cidr":
        return _address_in(text, value)
    if key == "words":
        return _matches(text, _words(value))
    if key == "listed":
        return _matches(text, _words(list(listed_values(value))))
    if key == "regex":
        return _matches(text, "(?i)" + value)
    if key == "present":
        filled = _and(exp.Not(this=exp.Is(this=text, expression=exp.null())), exp.NEQ(this=_strip(text), expression=_lit("")))
        return filled if value else _not(exp.Paren(this=filled))
    if key == "other_users_personal_site":
        owner = _extract(lower, r"/personal/([^/]+)")
        other = _and(exp.Not(this=exp.Is(this=owner, expression=exp.null())),
                         exp.NEQ(this=owner, expression=_replace_all(_lower(_col("user_id")), r"[@.]", "_")))
        return other if value else _not(exp.Paren(this=other))
    other = _lower(_string(value))
    same = exp.EQ(this=_strip(lower), expression=_strip(other))
    if key == "same_as":
        return same
    return _and(_not(exp.Paren(this=same)), exp.NEQ(this=_strip(other), expression=_lit("")))


def _fewer_than_old(predicate: dict) -> exp.Expression:
    names = predicate["modified"]
    names = [names] if isinstance(names, str) else names

    def braces(field: str) -> exp.Expression:
        text = exp.Coalesce(this=_named_values("modified_properties", names, field), expressions=[_lit("")])
        return exp.Sub(this=exp.Length(this=text), expression=exp.Length(this=_call("REPLACE", text, _lit("{"), _lit(""))))

    return exp.LT(this=braces("NewValue"), expression=braces("OldValue"))


def _predicate(predicate: dict, source: str) -> exp.Expression:
    """A boolean expression, nulls as false, for one predicate or group (hunts.predicates.predicate_expr)."""
    if "enrichment" in predicate:
        hosting = exp.select(_col("ip")).from_("enrichment").where(
            _and(_false_if_null(_col("hosting")), exp.Not(this=exp.Is(this=_col("ip"), expression=exp.null()))), copy=False)
        result = _and(exp.Not(this=exp.Is(this=_col("client_ip"), expression=exp.null())),
                          exp.In(this=_col("client_ip"), query=hosting.subquery(copy=False)))
    elif "in_set" in predicate:
        result = _in_set(predicate["in_set"])
    elif any(key in predicate for key in GROUPS):
        combine = _all if "all" in predicate else _any
        result = _false_if_null(combine([_predicate(member, source) for member in predicate.get("all", predicate.get("any"))]))
    else:
        text = _subject(predicate, source)
        tests = [_test(text, key, predicate[key]) for key in TESTS if key in predicate and key != "fewer_than_old"]
        if "fewer_than_old" in predicate:
            fewer = _fewer_than_old(predicate)
            tests.append(fewer if predicate["fewer_than_old"] else _not(exp.Paren(this=fewer)))
        result = _false_if_null(_all(tests))
    return _not(exp.Paren(this=result)) if predicate.get("not") else exp.Paren(this=result)


def _in_set(spec: dict) -> exp.Expression:
    """The row's lower-cased `key` is among the lower-cased `from` values of the set's rows of the same tenant."""
    source = spec.get("source", "events")
    value = _lower(_string(spec["from"]))
    rows = _matched_rows(spec, source).subquery("_set", copy=False)
    values = exp.select(_col("tenant"), value.as_("_value")).from_(rows, copy=False).where(
        exp.Not(this=exp.Is(this=value.copy(), expression=exp.null())), copy=False)
    key = _lower(_col(spec["key"]))
    return _and(exp.Not(this=exp.Is(this=key, expression=exp.null())),
                    exp.In(this=exp.Tuple(expressions=[_col("tenant"), key]), query=values.subquery(copy=False)))


def _people(source: str) -> exp.Expression:
    """Whether the row's actor is a person (hunts.engine: not the platform, a service principal or an app)."""
    if source == "sign_ins":
        return _and(exp.Is(this=_col("service_principal"), expression=exp.null()),
                        exp.Not(this=exp.Is(this=_col("user_principal_name"), expression=exp.null())))
    if source == "directory_audits":
        return exp.Not(this=exp.Is(this=_col("initiator_user"), expression=exp.null()))
    system = _or(_matches(exp.Coalesce(this=_col("user_id"), expressions=[_lit("")]), SYSTEM_ACTOR),
                     _false_if_null(exp.In(this=_col("user_type"), expressions=[exp.Literal.number(n) for n in SYSTEM_USER_TYPES])))
    return _not(exp.Paren(this=system))


def row_filter(condition: dict, source: str) -> exp.Expression:
    """The boolean row filter of a condition (operations, workloads, actors, where / any / none) over the table of
    `source`, whose columns are that frame's (plus `tenant`); raises UnsupportedHunt for what SQL cannot express."""
    parts = []
    if condition.get("operations"):
        parts.append(_false_if_null(_in(_lower(_col("operation")), [name.lower() for name in condition["operations"]])))
    if condition.get("workloads"):
        parts.append(_false_if_null(_in(_lower(_col("workload")), [name.lower() for name in condition["workloads"]])))
    if condition.get("actors", "people") == "people":
        parts.append(_false_if_null(_people(source)))
    parts += [_predicate(predicate, source) for predicate in condition.get("where", [])]
    parts += [_not(_predicate(predicate, source)) for predicate in condition.get("none", [])]
    if condition.get("any"):
        parts.append(exp.Paren(this=_any([_predicate(predicate, source) for predicate in condition["any"]])))
    return _all(parts)


# --- aggregates and whole hunts ---------------------------------------------------------------------------------------

def _keys_present(by: list[str]) -> exp.Expression:
    return _all([_and(exp.Not(this=exp.Is(this=_col(name), expression=exp.null())),
                          exp.NEQ(this=_string(name), expression=_lit(""))) for name in by])


def _window(function: exp.Expression, by: list[str], order: exp.Expression | None = None,
            frame: tuple | None = None) -> exp.Window:
    spec = None
    if frame is not None:
        (start, start_side), (end, end_side) = frame
        spec = exp.WindowSpec(kind="RANGE", start=start, start_side=start_side, end=end, end_side=end_side)
    return exp.Window(this=function, partition_by=[_col("tenant"), *(_col(name) for name in by)],
                      order=exp.Order(expressions=[exp.Ordered(this=order)]) if order is not None else None, spec=spec)


def _counted(spec: dict, order: exp.Expression | None = None, frame: tuple | None = None) -> exp.Expression:
    """COUNT(*) of the key's rows, or the number of distinct non-null values of the `distinct` column, in a window."""
    if "distinct" not in spec:
        return _window(exp.Count(this=exp.Star()), spec["by"], order, frame)
    collected = _window(exp.ArrayAgg(this=_col(spec["distinct"])), spec["by"], order, frame)
    return exp.ArraySize(this=exp.ArrayDistinct(this=collected))


def _with_distinct_count(rows: exp.Select, spec: dict) -> exp.Select:
    """`rows` with `_n`, the number of distinct non-null values of the `distinct` column among the rows of their key
    (rows without a key are left out: no threshold counts them)."""
    keys = ["tenant", *spec["by"]]
    counts = (exp.select(*(_col(name) for name in keys),
                         exp.Count(this=exp.Distinct(expressions=[_col(spec["distinct"])])).as_("_n"))
              .from_(rows.subquery("_d")).group_by(*(_col(name) for name in keys)))
    return exp.select(exp.Star()).from_(rows.subquery("_t"), copy=False).join(
        counts.subquery("_k", copy=False), using=keys, copy=False)


def _matched_rows(condition: dict, source: str) -> exp.Select:
    """The rows of `source` a condition selects: its row filter, then threshold (in sliding windows) and first-seen
    over the filtered rows of each tenant (hunts.engine._aggregates)."""
    rows = exp.select(exp.Star()).from_(exp.to_table(source)).where(row_filter(condition, source), copy=False)
    if "threshold" not in condition and "first_seen" not in condition:
        return rows
    time = _EpochMicros(this=_col("creation_time"))
    columns: list[exp.Expression] = [exp.Star()]
    tests = []
    threshold, first_seen = condition.get("threshold"), condition.get("first_seen")
    if threshold:
        tests.append(_keys_present(threshold["by"]))
        if "window" in threshold:
            width = exp.Literal.number(_micros(threshold["window"]))
            columns.append(_counted(threshold, time, ((width, "PRECEDING"), ("CURRENT ROW", None))).as_("_n"))
        elif "distinct" in threshold:  # counted once per key and joined on: a window would list the values in every row
            rows = _with_distinct_count(rows, threshold)
        else:
            columns.append(_counted(threshold).as_("_n"))
    if first_seen:
        columns.append(_window(exp.Min(this=time), first_seen["by"]).as_("_first"))
        starts = exp.select(_col("tenant"), exp.Min(this=time).as_("_start")).from_(exp.to_table(source)).group_by(_col("tenant"))
        rows = exp.select(exp.Star()).from_(rows.subquery("_f", copy=False), copy=False).join(
            starts.subquery("_s", copy=False), using=["tenant"], copy=False)
        tests.append(_keys_present(first_seen["by"]))
        tests.append(exp.GTE(this=_col("_first"), expression=exp.Add(this=_col("_start"), expression=exp.Literal.number(_micros(first_seen["baseline"])))))
        if "within" in first_seen:
            tests.append(exp.LTE(this=time, expression=exp.Add(this=_col("_first"), expression=exp.Literal.number(_micros(first_seen["within"])))))
    counted = exp.select(*columns).from_(rows.subquery("_r", copy=False), copy=False)
    if threshold and "window" in threshold:
        width = exp.Literal.number(_micros(threshold["window"]))
        qualifying = _case(exp.GTE(this=_col("_n"), expression=exp.Literal.number(threshold["min"])), time)
        counted = exp.select(exp.Star(), _window(exp.Min(this=qualifying), threshold["by"], time,
                                                 (("CURRENT ROW", None), (width, "FOLLOWING"))).as_("_end")
                             ).from_(counted.subquery("_c", copy=False), copy=False)
        tests.append(exp.Not(this=exp.Is(this=_col("_end"), expression=exp.null())))
    elif threshold:
        tests.append(exp.GTE(this=_col("_n"), expression=exp.Literal.number(threshold["min"])))
    return exp.select(exp.Star()).from_(counted.subquery("_a", copy=False), copy=False).where(_all(tests), copy=False)


def hunt_queries(hunt: Hunt) -> dict[str, exp.Select]:
    """Per source frame a hunt hits, a SELECT of `tenant`, `record_id` of its hit rows (a row twice when the frame
    holds two versions of a record: conflicting duplicates); raises
    UnsupportedHunt naming the hunt when SQL cannot express it."""
    condition = hunt.condition
    source = condition.get("source", "events")
    try:
        if "sequence" in condition:
            from hunts import sql_sequence
            return sql_sequence.sequence_queries(hunt, row_filter)
        if "travel" in condition:
            from hunts import sql_travel
            return {source: sql_travel.travel_query(hunt, row_filter)}
        rows = _matched_rows(condition, source).subquery("_m", copy=False)
        return {source: exp.select(_col("tenant"), _col("record_id")).from_(rows, copy=False)}
    except UnsupportedHunt as error:
        raise UnsupportedHunt(hunt.id, error.reason) from None
    except ImportError as error:
        raise UnsupportedHunt(hunt.id, f"its {'sequence' if 'sequence' in condition else 'travel'} is not compiled "
                                       f"to SQL here ({error})") from None
