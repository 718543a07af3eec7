"""Provides Polars expressions for the row-level parts of hunt conditions (see conditions.py).

The JSON text columns are decoded with declared dtypes and only when a hunt needs them. Records
whose JSON is not a list of objects (a plain-string `Parameters`, the property-name list of an
Exchange `Update`), holds nested values or nests deeper than Polars reads decode to nothing instead
of failing. Group predicates (`all` / `any`) combine their members' expressions; `cidr` decides each
distinct address once (Python's ipaddress), as the loader normalises client IPs.
"""

import ipaddress
import re
from typing import Callable

import polars as pl

from hunts.conditions import GROUPS, TESTS
from hunts.lists import listed_values
from hunts.model import key_values
from workbench.core import decode
from workbench.core.value_index import ValueIndex

PARAMETERS = pl.List(pl.Struct({"Name": pl.String, "Value": pl.String}))
MODIFIED = pl.List(pl.Struct({"Name": pl.String, "NewValue": pl.String, "OldValue": pl.String}))
#: ModifiedProperties as either source writes them: the audit log's Name/NewValue/OldValue, the directory
#: audits' name/new/old (workbench.core.sources.directory_audits); read as the former.
MODIFIED_EITHER = pl.List(pl.Struct({"Name": pl.String, "NewValue": pl.String, "OldValue": pl.String,
                                     "name": pl.String, "new": pl.String, "old": pl.String}))
_FOLDER = pl.Struct({"Path": pl.String})
ITEM = pl.Struct({"Subject": pl.String, "ParentFolder": _FOLDER})
AFFECTED = pl.List(ITEM)
NESTED = r'"(?:Value|NewValue|OldValue|Subject|new|old)"\s*:\s*[\[{]'
#: An odd run of backslashes before a character JSON cannot escape: a literal backslash left
#: unescaped (seen in the loader's text columns, e.g. `"\Sent Items"`); such text is repaired,
#: as are raw control characters (an attacker's rule name with ESC [2J).
BAD_ESCAPE = r'(?:^|[^\\])(?:\\\\)*\\[^"\\/bfnrtu]'
#: Levels of nesting Polars' JSON reader accepts (about 1,020); a record nested deeper is not decoded for hunts.
JSON_DEPTH = 1_000
CONTROL = [chr(code) for code in range(32)]
CONTROL_ESCAPED = [f"\\u{code:04x}" for code in range(32)]

#: Actors that are the platform itself: excluded unless a hunt says `actors = "all"`.
SYSTEM_ACTOR = (
    r"(?i)^(?:nt authority\\|s-1-5-18$|serviceprincipal_|app@sharepoint$|sharepoint\\system$|"
    r"microsoft exchange|office 365 |exchange online|microsoft substrate|microsoft online services|"
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$)"
)
SYSTEM_USER_TYPES = [3, 4, 5, 6, 7, 8]
#: Text columns that say where a row was read, not what the record holds: left out of the record's text.
PROVENANCE = ("case", "source_file")


def _repaired(texts: pl.Series) -> pl.Series:
    """JSON texts made decodable: stray backslashes escaped, raw control characters as \\u escapes (each step over
    the texts once: as one expression, each text was tested and replaced once per use of the step before). The few
    texts needing either are found in one pass, and only they are repaired."""
    broken = texts.str.contains(rf"{BAD_ESCAPE}|[\x00-\x1f]").fill_null(False)
    if not broken.any():
        return texts
    rows = broken.arg_true()
    frame, text = texts.gather(rows).to_frame("t"), pl.col("t")
    frame = frame.select(pl.when(text.str.contains(BAD_ESCAPE)).then(text.str.replace_all(r'\\([^"\\/bfnrtu])', r"\\$1"))
                         .otherwise(text))
    repaired = frame.select(pl.when(text.str.contains(r"[\x00-\x1f]")).then(text.str.replace_many(CONTROL, CONTROL_ESCAPED))
                            .otherwise(text)).to_series()
    return texts.scatter(rows, repaired)


def _within_depth(texts: pl.Series) -> pl.Series:
    """Whether each JSON text nests within `JSON_DEPTH` levels; only texts with that many brackets are walked."""
    within = (texts.str.count_matches(r"[\[{]") <= JSON_DEPTH).fill_null(True)
    suspects = within.not_().arg_true().to_list()  # the rare texts with that many brackets
    if not suspects:
        return within
    walked = [decode.nesting_depth(text) <= JSON_DEPTH for text in texts.gather(suspects).to_list()]
    return within.scatter(suspects, walked)


def _decoded(texts: pl.Series, dtype: pl.DataType, prefix: str, naming: list[str] | None) -> pl.Series:
    """The JSON `texts` decoded as `dtype` where they are decodable (null elsewhere); with `naming`, only the texts
    that hold one of those words (ignoring ASCII case). Step by step over the texts: as one expression, the steps
    were computed again for each use (6 s for the `Update user.` of 1M directory events, now 2 s)."""
    if naming is not None:
        texts = texts.to_frame("t").select(pl.when(pl.col("t").str.contains_any(naming, ascii_case_insensitive=True))
                                           .then(pl.col("t"))).to_series()
    texts = _repaired(texts.str.strip_chars_start())
    usable = texts.str.starts_with(prefix) & ~texts.str.contains(NESTED) & _within_depth(texts)
    return texts.to_frame("t").select(pl.when(usable).then(pl.col("t")).str.json_decode(dtype)).to_series()


def _decode(column: str, dtype: pl.DataType, prefix: str, naming: list[str] | None = None) -> pl.Expr:
    """`column` decoded as JSON of `dtype` where it is decodable (null elsewhere); with `naming`, only the texts that
    hold one of those words (ignoring ASCII case) are read at all."""
    return pl.col(column).map_batches(lambda texts: _decoded(texts, dtype, prefix, naming), return_dtype=dtype)


def _unwrap_json(value: pl.Expr) -> pl.Expr:
    """`[\\r\\n  "x"\\r\\n]` -> `x`: the scalar inside a JSON-in-string one-element array (its brackets, the
    whitespace inside them and one quote each side taken off; by slicing, which a lazy regex took 20 times as long
    for on long values)."""
    text = value.str.strip_chars()
    inner = text.str.slice(1).str.head(-1).str.strip_chars().str.strip_prefix('"').str.strip_suffix('"')
    return pl.when(text.str.starts_with("[") & text.str.ends_with("]")).then(inner).otherwise(value)


def decoded_columns(needs: set[str], modified: list[str] | None = None) -> list[pl.Expr]:
    """The helper columns a hunt needs: `_params`, `_modified`, `_subjects`, `_folders`. `modified`: the only
    property names the hunt's tests read from `_modified` (`modified_names`), when known: the texts naming none of
    them are not decoded (their entries would give those tests no value): 14 in 15 `Update user.` of the directory mix."""
    exprs = []
    if "_params" in needs:
        exprs.append(_decode("parameters", PARAMETERS, "[{").alias("_params"))
    if "_modified" in needs:
        either = pl.element().struct
        exprs.append(_decode("modified_properties", MODIFIED_EITHER, "[{", property_words(modified)).list.eval(pl.struct(
            Name=pl.coalesce(either.field("Name"), either.field("name")),
            NewValue=pl.coalesce(either.field("NewValue"), either.field("new")),
            OldValue=pl.coalesce(either.field("OldValue"), either.field("old")))).alias("_modified"))
    if needs & {"_subjects", "_folders"}:
        item = _decode("item", ITEM, "{")
        affected = _decode("affected_items", AFFECTED, "[{")
        none = pl.lit([], dtype=pl.List(pl.String))
        for name, field in (("_subjects", lambda x: x.struct.field("Subject")),
                            ("_folders", lambda x: x.struct.field("ParentFolder").struct.field("Path"))):
            if name in needs:
                texts = pl.concat_list(field(item), affected.list.eval(field(pl.element())).fill_null(none)).list.drop_nulls()
                exprs.append(pl.when(texts.list.len() > 0).then(texts.list.join("\n")).alias(name))
    return exprs


def modified_names(data: object) -> list[str]:
    """The property names the `modified` tests in `data` (predicates, a condition; nested ones too) read."""
    return [name for names in key_values(data, "modified", (str, list)) for name in ([names] if isinstance(names, str) else names)]


def property_words(names: list[str] | None) -> list[str] | None:
    """Words a JSON text holding one of `names` as a property's name must contain: the names themselves, and `\\u`
    for a name written with escapes; None (no such words) when a name is not plain ASCII, which JSON may escape
    otherwise or which ignoring ASCII case would not match as the tests compare it."""
    if names is None or not all(name.isascii() and name.isprintable() and not set(name) & set('"\\/') for name in names):
        return None
    return [*names, "\\u"]


def needed_columns(predicate: dict) -> set[str]:
    """The decoded helper columns one predicate (or group) reads."""
    members = next((predicate[key] for key in GROUPS if key in predicate), None)
    if members is not None:
        return set().union(*(needed_columns(member) for member in members))
    if "parameter" in predicate:
        return {"_params"}
    if "modified" in predicate:
        return {"_modified"}
    if "subject" in predicate:
        return {"_subjects"}
    if "folder" in predicate:
        return {"_folders"}
    return set()


def _named_values(column: str, names: list[str], value_field: str) -> pl.Expr:
    """The values of the named entries of a decoded Name/Value list, joined by newlines (null when none)."""
    wanted = [name.lower() for name in names]
    element = pl.element()
    picked = pl.col(column).list.eval(
        pl.when(element.struct.field("Name").str.to_lowercase().is_in(wanted)).then(element.struct.field(value_field))
    )
    values = picked.list.drop_nulls()
    if column == "_modified":
        values = values.list.eval(_unwrap_json(pl.element()))
    return pl.when(values.list.len() > 0).then(values.list.join("\n")).otherwise(None)


def subject_expr(predicate: dict) -> pl.Expr:
    """The text a predicate tests."""
    if "field" in predicate:
        return pl.col(predicate["field"]).cast(pl.String)
    if "parameter" in predicate:
        return _named_values("_params", [predicate["parameter"]], "Value")
    if "modified" in predicate:
        names = predicate["modified"]
        names = [names] if isinstance(names, str) else names
        return _named_values("_modified", names, "OldValue" if predicate.get("value") == "old" else "NewValue")
    if "record" in predicate:
        return pl.concat_str(pl.col(pl.String).exclude(r"^_.*$", *PROVENANCE), separator="\n", ignore_nulls=True)
    return pl.col("_subjects" if "subject" in predicate else "_folders")


def _words_regex(words: list[str]) -> str:
    return r"(?i)(?:^|\W)(?:" + "|".join(re.escape(word) for word in words) + r")(?:$|\W)"


def _test(text: pl.Expr, key: str, value: object) -> pl.Expr:
    lower = text.str.to_lowercase()
    if key == "equals":
        values = [value] if isinstance(value, str) else value
        return lower.str.strip_chars().is_in([item.lower() for item in values])
    if key == "contains":
        return pl.any_horizontal(lower.str.contains(item.lower(), literal=True) for item in value)
    if key == "starts_with":
        return pl.any_horizontal(lower.str.starts_with(item.lower()) for item in value)
    if key == "ends_with":
        return pl.any_horizontal(lower.str.ends_with(item.lower()) for item in value)
    if key == "cidr":
        return text.map_batches(_inside_networks(value), return_dtype=pl.Boolean)
    if key == "words":
        return text.str.contains(_words_regex(value))
    if key == "listed":
        return text.str.contains(_words_regex(list(listed_values(value))))
    if key == "regex":
        return text.str.contains("(?i)" + value)
    if key == "present":
        filled = text.is_not_null() & (text.str.strip_chars() != "")
        return filled if value else ~filled
    if key == "other_users_personal_site":
        owner = lower.str.extract(r"/personal/([^/]+)", 1)
        other = owner.is_not_null() & (owner != pl.col("user_id").str.to_lowercase().str.replace_all(r"[@.]", "_"))
        return other if value else ~other
    other = pl.col(value).cast(pl.String).str.to_lowercase()
    same = lower.str.strip_chars() == other.str.strip_chars()
    return same if key == "same_as" else (~same & (other.str.strip_chars() != ""))


def _inside_networks(networks: list[str]) -> Callable[[pl.Series], pl.Series]:
    """A batch function: whether each text is an IP address inside one of `networks`, decided once per distinct
    value (as client IPs are normalised in workbench.core.ipaddr), an IPv4-mapped IPv6 address as IPv4."""
    parsed = [ipaddress.ip_network(network, strict=False) for network in networks]

    def inside(texts: pl.Series) -> pl.Series:
        verdicts = {}
        for text in texts.drop_nulls().unique().to_list():
            try:
                address = ipaddress.ip_address(text.strip())
            except ValueError:
                continue
            if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
                address = address.ipv4_mapped
            verdicts[text] = any(address.version == network.version and address in network for network in parsed)
        return texts.replace_strict(verdicts, default=False, return_dtype=pl.Boolean)

    return inside


def _fewer_than_old(predicate: dict) -> pl.Expr:
    """Whether the named ModifiedProperties' new value lists fewer entries (JSON objects) than the old one, as
    when MFA methods are removed from StrongAuthenticationMethod without emptying it."""
    names = predicate["modified"]
    names = [names] if isinstance(names, str) else names
    new, old = (_named_values("_modified", names, field).fill_null("").str.count_matches(r"\{")
                for field in ("NewValue", "OldValue"))
    return new < old


#: Tests that read another column than their subject: not decided by the subject's value alone.
ROW_TESTS = ("same_as", "differs_from", "other_users_personal_site")


def value_column(predicate: dict) -> str | None:
    """The one plain column whose value alone decides a (leaf) predicate, if there is one: a field tested on its own
    value, the key of a set, the address of an enrichment test."""
    if "enrichment" in predicate:
        return "client_ip"
    if "in_set" in predicate:
        return predicate["in_set"]["key"]
    if "field" in predicate and not any(key in predicate for key in ROW_TESTS):
        return predicate["field"]
    return None


def by_value(predicate: dict, index: ValueIndex) -> bool:
    """Whether a predicate (or every member of a group) is decided by the values of columns the index covers."""
    members = next((predicate[key] for key in GROUPS if key in predicate), None)
    if members is not None:
        return all(by_value(member, index) for member in members)
    column = value_column(predicate)
    return column is not None and index.covers(column)


def predicate_expr(predicate: dict, in_set: Callable[[dict], pl.Series], hosting_ips: pl.Series | None,
                   index: ValueIndex | None = None) -> pl.Expr:
    """A boolean expression (nulls as false) for one predicate. With an `index` of the frame, a predicate decided by
    one column's value that it covers is decided once per distinct value (a literal of the frame's height)."""
    if index is not None and by_value(predicate, index) and value_column(predicate) is not None:
        return index.match(value_column(predicate), predicate_expr(predicate, in_set, hosting_ips))
    if "enrichment" in predicate:
        result = pl.col("client_ip").is_in(hosting_ips.implode()) if hosting_ips is not None else pl.lit(False)
    elif "in_set" in predicate:
        spec = predicate["in_set"]
        values = in_set(spec)  # an empty set holds no row's key: no need to lower-case a million of them
        result = pl.col(spec["key"]).str.to_lowercase().is_in(values.implode()) if values.len() else pl.lit(False)
    elif "all" in predicate or "any" in predicate:
        combine = pl.all_horizontal if "all" in predicate else pl.any_horizontal
        result = combine(predicate_expr(member, in_set, hosting_ips, index) for member in predicate.get("all", predicate.get("any")))
    else:
        text = subject_expr(predicate)
        tests = [_test(text, key, predicate[key]) for key in TESTS if key in predicate and key != "fewer_than_old"]
        if "fewer_than_old" in predicate:
            tests.append(_fewer_than_old(predicate) == predicate["fewer_than_old"])
        result = pl.all_horizontal(tests)
    result = result.fill_null(False)
    return ~result if predicate.get("not") else result


def people_expr(index: ValueIndex | None = None) -> pl.Expr:
    """True for events whose actor is a person, not the platform or a service principal (with an `index` of the
    frame, each column's test decided once per distinct value)."""
    platform = pl.col("user_id").fill_null("").str.contains(SYSTEM_ACTOR)
    system_type = pl.col("user_type").cast(pl.String).is_in([str(kind) for kind in SYSTEM_USER_TYPES]).fill_null(False)
    if index is not None:
        platform, system_type = index.match("user_id", platform), index.match("user_type", system_type)
    return ~(platform | system_type)
