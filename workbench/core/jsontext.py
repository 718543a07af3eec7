"""Provides native decoding of AuditData JSON text into the declared fields, nested values as valid JSON.

Polars' `read_ndjson` reads a nested value declared as text back out escaping only quotes, `\\n`
and `\\r`: backslashes and other control characters come out raw (`{"Path": "\\\\Inbox"}` comes
out as `{"Path": "\\Inbox"}`); plain values, strings included, come out right. So in records whose
text holds an escaped backslash or control character, a nested object or list with a raw backslash
is repaired: by doubling its backslashes when it holds no escape Polars wrote and the record has
that key once (so the object is the field's own), else by taking it again with `json_path_match`.
"""

import polars as pl

from workbench.core.schema import AUDIT_SCHEMA

#: AuditData fields that hold objects or lists, kept as JSON text.
NESTED_FIELDS = ("Target", "Parameters", "ModifiedProperties", "AffectedItems", "Item", "ExtendedProperties",
                 "DeviceProperties", "Actor")
_WRITTEN_RAW = r"\\[\\bft]|\\u00[01]|\\u005[cC]"  # escapes whose character Polars writes back out raw
_RAW = r"[\\\x00-\x1f]"
_AMBIGUOUS = r'\\["nr]|[\x00-\x1f]'  # an escape Polars wrote, or a raw control character


def decode_records(data: bytes, texts: pl.Series) -> pl.DataFrame:
    """The fields of the JSON Lines `data`, whose lines are `texts` (one record each, no blank lines).

    Raises `polars.exceptions.PolarsError` when `data` is not clean JSON Lines of that many records.
    """
    if texts.len() == 0:
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    try:
        fields = pl.read_ndjson(data, schema=AUDIT_SCHEMA)
    except pl.exceptions.PolarsError:  # perhaps an AppAccessContext that is not an object
        fields = pl.read_ndjson(data, schema=AUDIT_SCHEMA | {"AppAccessContext": pl.String}).with_columns(
            pl.struct(texts.str.json_path_match("$.AppAccessContext.AADSessionId").alias("AADSessionId"))
            .alias("AppAccessContext")
        )
    if fields.height != texts.len():
        raise pl.exceptions.ComputeError(f"decoded {fields.height} records from {texts.len()} lines")
    return _repair_nested(fields, texts)


def _repair_nested(fields: pl.DataFrame, texts: pl.Series) -> pl.DataFrame:
    """Nested values that Polars wrote out with raw backslashes or control characters, made valid JSON."""
    rows = texts.str.contains(_WRITTEN_RAW).arg_true()
    columns = {}
    for name in NESTED_FIELDS:
        values = fields[name].gather(rows)
        broken = values.str.contains(_RAW).fill_null(False)
        if broken.any():
            where, values = rows.filter(broken), values.filter(broken)
            lines = texts.gather(where)
            doubling = ~values.str.contains(_AMBIGUOUS) & _holds_object_once(lines, name)
            repaired = values.str.replace_all("\\", "\\\\", literal=True)
            if not doubling.all():
                retaken = lines.filter(~doubling).str.json_path_match(f"$.{name}")
                repaired = repaired.scatter((~doubling).arg_true(), retaken)
            columns[name] = fields[name].scatter(where, repaired)
    return fields.with_columns(**columns)


def _holds_object_once(lines: pl.Series, name: str) -> pl.Series:
    """Whether each record names `name` once (so as the top-level key), holding an object or list."""
    once = lines.str.count_matches(f'"{name}"', literal=True) == 1
    return once & (lines.str.contains(f'"{name}":{{', literal=True) | lines.str.contains(f'"{name}":[', literal=True))
