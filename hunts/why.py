"""Provides `why`: per matched row, what made a hunt fire, as one line of text (the values that matched).

Each `where` / `any` predicate that holds says its subject and value (`ForwardTo=x@evil.example`,
`StrongAuthenticationMethod: [..] -> []`, `client_ip 20.232.202.245 flagged hosting`), a set which row of which
source it was joined with (`session_id=.. among the session_id of sign_ins: first SignIn <id> at <time>`); a
threshold says how many within which window for which key; first-seen which key was new; a sequence which step of
how many on which key, joined with which rows of the other steps (the engine's `_why` column).
"""

from typing import TYPE_CHECKING

import polars as pl

from hunts.model import has_key
from hunts.predicates import decoded_columns, needed_columns, predicate_expr, subject_expr

if TYPE_CHECKING:
    from hunts.engine import Context

#: Characters kept of one matched value.
VALUE_CHARS = 120
#: Matched rows from which a text that reads only plain columns is written per distinct value rather than per row.
DISTINCT_FROM = 10_000


def _text(*parts: str | pl.Expr) -> pl.Expr:
    """Literal text and column values joined (concat_str: pl.format nested in pl.format panics on filtered rows)."""
    return pl.concat_str([pl.lit(part) if isinstance(part, str) else part for part in parts])


def _keys(columns: list[str]) -> pl.Expr:
    parts: list[str | pl.Expr] = []
    for index, column in enumerate(columns):
        parts += [f"{' ' if index else ''}{column}=", pl.col(column).cast(pl.String)]
    return _text(*parts)


def _short(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.len_chars() > VALUE_CHARS).then(text.str.slice(0, VALUE_CHARS - 1) + "…").otherwise(text)


def _label(predicate: dict) -> str:
    for key in ("field", "parameter"):
        if key in predicate:
            return predicate[key]
    if "modified" in predicate:
        names = predicate["modified"]
        return names if isinstance(names, str) else "/".join(names)
    return "subject" if "subject" in predicate else "folder"


def _joined(matched: pl.DataFrame, spec: dict, context: "Context") -> pl.Series:
    """Per matched row, the first row of the set's source its key was found among (text; null when none)."""
    rows = context.set_rows(spec)
    keys = matched.select(pl.col(spec["key"]).cast(pl.String).str.to_lowercase().alias("value"))
    joined = keys.join(rows, on="value", how="left", maintain_order="left")
    return joined.select(pl.when(pl.col("record_id").is_not_null()).then(_text(
        "first ", pl.col("operation").fill_null(""), " ", pl.col("record_id"), " at ",
        pl.col("creation_time").dt.strftime("%Y-%m-%d %H:%M:%S"))).alias("joined"))["joined"]


def _said(predicate: dict, context: "Context", index: int) -> pl.Expr:
    """The text one predicate (the `index`th said) contributes where it holds (null elsewhere)."""
    holds = predicate_expr(predicate, context.in_set, context.hosting_ips)
    if "all" in predicate or "any" in predicate:  # a group says what its members that hold say
        members = predicate.get("all", predicate.get("any"))
        text = pl.concat_str([_said(member, context, index) for member in members], separator="; ", ignore_nulls=True)
    elif "record" in predicate:
        tests = [f"{key} {value if isinstance(value, str) else ', '.join(map(str, value))}"
                 for key, value in predicate.items() if key not in ("record", "not")]
        text = _text(f"record text: {'; '.join(tests)}")
    elif "enrichment" in predicate:
        text = _text("client_ip ", pl.col("client_ip"), f" flagged {predicate['enrichment']}")
    elif "in_set" in predicate:
        spec = predicate["in_set"]
        source = spec.get("source", "events")
        label = ", ".join(spec.get("operations", [])) or source
        label += f" in {source}" if spec.get("operations") and source != "events" else ""
        text = _text(f"{spec['key']}=", pl.col(spec["key"]).cast(pl.String), f" among the {spec['from']} of {label}: ",
                     pl.col(f"_joined{index}"))
    elif "modified" in predicate and predicate.get("value") != "old":
        new = subject_expr(predicate)
        old = subject_expr({**predicate, "value": "old"})
        text = _text(f"{_label(predicate)}: ", _short(old.fill_null("")), " -> ", _short(new.fill_null("")))
    else:
        text = _text(f"{_label(predicate)}=", _short(subject_expr(predicate).cast(pl.String).fill_null("")))
    return pl.when(holds & ~pl.lit(bool(predicate.get("not")))).then(text)


def _aggregate_said(condition: dict) -> list[pl.Expr]:
    parts = []
    if "threshold" in condition:
        spec = condition["threshold"]
        counted = f"distinct {spec['distinct']}" if "distinct" in spec else "events"
        window = f" within {spec['window']}" if "window" in spec else ""
        parts.append(_text(f"{spec['min']}+ {counted}{window} for ", _keys(spec["by"])))
    if "first_seen" in condition:
        spec = condition["first_seen"]
        parts.append(_text(f"first seen after the {spec['baseline']} baseline: ", _keys(spec["by"])))
    if "travel" in condition:  # both places and times, distance and speed (hunts/travel.py)
        parts.append(pl.col("_why"))
    return parts


def _plain_columns(condition: dict, predicates: list[dict], parts: list[pl.Expr]) -> list[str] | None:
    """The columns of the matched rows the text reads, when it reads only their values (no decoded JSON, no record
    text, no per-row travel or sequence text); None otherwise."""
    if any(needed_columns(predicate) for predicate in predicates) or has_key(predicates, "record") or "travel" in condition:
        return None
    names = {name for part in parts for name in part.meta.root_names() if not name.startswith("_joined")}
    keys = {predicate["in_set"]["key"] for predicate in predicates if "in_set" in predicate}
    return sorted(names | keys) or None


def _said_rows(predicates: list[dict], parts: list[pl.Expr], rows: pl.DataFrame, context: "Context") -> pl.Series:
    """Per row of `rows`, the text of the parts (with the set joins and decoded columns they read)."""
    needs = set().union(*(needed_columns(predicate) for predicate in predicates))
    joined = [_joined(rows, p["in_set"], context).alias(f"_joined{i}") for i, p in enumerate(predicates) if "in_set" in p]
    return rows.with_columns(*joined, *decoded_columns(needs)).select(
        pl.concat_str(parts, separator="; ", ignore_nulls=True).alias("why"))["why"]


def why(condition: dict, matched: pl.DataFrame, context: "Context") -> pl.Series:
    """Per row of `matched` (rows of the context's source the condition selected), what matched, as text.

    When the text depends only on a few columns' values, it is written once per distinct combination of them and
    joined back to the rows (a rule that flags half a million sign-ins says the same few things)."""
    if matched.height == 0:
        return pl.Series("why", [], dtype=pl.String)
    if "sequence" in condition:
        return matched["_why"].alias("why")
    predicates = [*condition.get("where", []), *condition.get("any", [])]
    parts = [_said(predicate, context, index) for index, predicate in enumerate(predicates)] + _aggregate_said(condition)
    if not parts:  # operations alone
        parts = [_text("operation=", pl.col("operation"))] if "operation" in matched.columns else [pl.lit(None)]
    columns = _plain_columns(condition, predicates, parts)
    if columns is None or matched.height < DISTINCT_FROM:
        return _said_rows(predicates, parts, matched, context)
    rows = matched.select(columns)
    distinct = rows.unique()
    said = distinct.with_columns(_said_rows(predicates, parts, distinct, context))
    return rows.join(said, on=columns, how="left", maintain_order="left", nulls_equal=True)["why"]
