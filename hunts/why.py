"""Provides `why`: per matched row, what made a hunt fire, as one line of text (the values that matched).

Each `where` / `any` predicate that holds says its subject and value (`ForwardTo=x@evil.example`,
`StrongAuthenticationMethod: [..] -> []`, `client_ip 20.232.202.245 flagged hosting`); a threshold says how many
within which window for which key; first-seen which key was new; a sequence which step of how many on which key.
"""

from collections.abc import Callable

import polars as pl

from hunts.predicates import decoded_columns, needed_columns, predicate_expr, subject_expr

#: Characters kept of one matched value.
VALUE_CHARS = 120


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


def _said(predicate: dict, in_set: Callable[[dict], pl.Series], hosting_ips: pl.Series | None) -> pl.Expr:
    """The text one predicate contributes where it holds (null elsewhere)."""
    holds = predicate_expr(predicate, in_set, hosting_ips)
    if "enrichment" in predicate:
        text = _text("client_ip ", pl.col("client_ip"), f" flagged {predicate['enrichment']}")
    elif "in_set" in predicate:
        spec = predicate["in_set"]
        text = _text(f"{spec['key']} ", pl.col(spec["key"]),
                     f" among the {spec['from']} of {', '.join(spec.get('operations', [])) or 'events'}")
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
    return parts


def why(condition: dict, matched: pl.DataFrame, in_set: Callable[[dict], pl.Series],
        hosting_ips: pl.Series | None) -> pl.Series:
    """Per row of `matched` (rows the condition selected), what matched, as text."""
    if matched.height == 0:
        return pl.Series("why", [], dtype=pl.String)
    if "sequence" in condition:
        steps = condition["sequence"]
        text = f"sequence of {len(steps)} steps on {steps[0]['key']}, {condition.get('flag', 'last')} step"
        return pl.Series("why", [text] * matched.height, dtype=pl.String)
    predicates = [*condition.get("where", []), *condition.get("any", [])]
    needs = set().union(*(needed_columns(predicate) for predicate in predicates))
    parts = [_said(predicate, in_set, hosting_ips) for predicate in predicates] + _aggregate_said(condition)
    if not parts:  # operations alone
        parts = [_text("operation=", pl.col("operation"))] if "operation" in matched.columns else [pl.lit(None)]
    return matched.with_columns(decoded_columns(needs)).select(
        pl.concat_str(parts, separator="; ", ignore_nulls=True).alias("why"))["why"]
