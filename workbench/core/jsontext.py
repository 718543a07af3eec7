"""Provides native decoding of AuditData JSON text into the declared fields, nested values as valid JSON.

Polars' `read_ndjson` reads a nested value declared as text back out without escaping backslashes
and control characters (`{"Path": "\\\\Sent Items"}` comes out as `{"Path": "\\Sent Items"}`). So,
before decoding, every escaped backslash is swapped for a Unicode noncharacter that nothing else
uses, and swapped back afterwards (as `\\\\` inside nested JSON, as `\\` in plain values). The rare
nested value that still holds a raw control character (or any backslash, when the input itself
contains the stand-in) is taken again from the record text with `json_path_match`.
"""

import re

import polars as pl

from workbench.core.schema import AUDIT_SCHEMA

#: AuditData fields that hold objects or lists, kept as JSON text.
NESTED_FIELDS = ("Target", "Parameters", "ModifiedProperties", "AffectedItems", "Item", "ExtendedProperties",
                 "DeviceProperties", "Actor", "AppAccessContext")
STAND_IN = "\ufdd0"
_STAND_IN_ESCAPED = re.compile(rb"\\u[fF][dD][dD]0")  # a literal prefix keeps this search fast
_STAND_IN_UTF8 = STAND_IN.encode()
_CONTROL = r"[\x00-\x1f]"


def decode_records(data: bytes, texts: pl.Series) -> pl.DataFrame:
    """The fields of the JSON Lines `data`, whose lines are `texts` (one record each, no blank lines).

    Raises `polars.exceptions.PolarsError` when `data` is not clean JSON Lines of that many records.
    """
    if texts.len() == 0:
        return pl.DataFrame(schema=AUDIT_SCHEMA)
    swapped = _STAND_IN_UTF8 not in data and not _STAND_IN_ESCAPED.search(data)
    if swapped:
        data = data.replace(b"\\\\", b"\\ufdd0")
    fields = pl.read_ndjson(data, schema=AUDIT_SCHEMA)
    if fields.height != texts.len():
        raise pl.exceptions.ComputeError(f"decoded {fields.height} records from {texts.len()} lines")
    if swapped:
        fields = fields.with_columns(
            pl.col(name).str.replace_all(STAND_IN, "\\\\" if name in NESTED_FIELDS else "\\", literal=True)
            for name in AUDIT_SCHEMA
        )
    return _retake_broken_nested(fields, texts, _CONTROL if swapped else r"[\\\x00-\x1f]")


def _retake_broken_nested(fields: pl.DataFrame, texts: pl.Series, broken_pattern: str) -> pl.DataFrame:
    columns = {}
    for name in NESTED_FIELDS:
        broken = fields[name].str.contains(broken_pattern).fill_null(False)
        if broken.any():
            rows = broken.arg_true()
            columns[name] = fields[name].scatter(rows, texts.gather(rows).str.json_path_match(f"$.{name}"))
    return fields.with_columns(**columns) if columns else fields
