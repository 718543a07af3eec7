"""Provides `extract`: the values at given key paths of JSON record texts, as text columns, in one pass per level.

DuckDB's `json_transform` reads the declared keys of each record on its own threads (keys match
case-insensitively, so exporters that lower-case keys read the same). A value that is an object or a
list comes back as its JSON text, and a path goes on into it, or into a string that holds JSON (as
Log Analytics writes its `dynamic` columns), level by level: each text is parsed once per level.
"""

import json

import polars as pl

from workbench.core.duck import connect, quiet

_DATABASE = connect()
#: The marker of a tree node that is itself asked for (and may have children too).
_SELF = ""

Path = tuple[str, ...]


def column_name(path: Path) -> str:
    """The name of the column holding the value at `path`."""
    return ".".join(path)


def _tree(paths: list[Path]) -> dict:
    tree: dict = {}
    for path in paths:
        node = tree
        for key in path:
            node = node.setdefault(key, {})
        node[_SELF] = {}
    return tree


def _level(texts: pl.Series, keys: list[str]) -> pl.DataFrame:
    """The values of `keys` in each text that is a JSON object, as text (null elsewhere)."""
    structure = json.dumps({key: "VARCHAR" for key in keys}).replace("'", "''")
    con = quiet(_DATABASE.cursor())  # one per call: chunks are decoded on several threads
    try:
        table = con.from_arrow(pl.DataFrame([texts.alias("text")]).to_arrow()).select(
            "CASE WHEN json_valid(text) AND starts_with(ltrim(text), '{') "
            f"THEN json_transform(text, '{structure}') END AS fields").to_arrow_table()
    finally:
        con.close()
    fields = pl.from_arrow(table).to_series().struct.unnest()
    return fields.rename(dict(zip(fields.columns, keys)))


def _walk(texts: pl.Series, tree: dict, prefix: Path, out: dict[str, pl.Series]) -> None:
    keys = [key for key in tree if key != _SELF]
    if not keys:
        return
    values = _level(texts, keys)
    for key in keys:
        path = (*prefix, key)
        if _SELF in tree[key]:
            out[column_name(path)] = values[key].alias(column_name(path))
        _walk(values[key], tree[key], path, out)


def extract(texts: pl.Series, paths: list[Path]) -> pl.DataFrame:
    """One text column per path (named `column_name(path)`), row for row with `texts`; null where absent."""
    out: dict[str, pl.Series] = {}
    _walk(texts, _tree(paths), (), out)
    return pl.DataFrame([out[column_name(path)] for path in dict.fromkeys(paths)])


def object_problems(texts: pl.Series) -> pl.Series:
    """Why each text is not one JSON object (null where it is); in Python, for the few rows DuckDB refused."""
    con = quiet(_DATABASE.cursor())
    try:
        valid = pl.from_arrow(con.from_arrow(pl.DataFrame([texts.alias("text")]).to_arrow()).select(
            "json_valid(text) AND starts_with(ltrim(text), '{') AS ok").to_arrow_table()).to_series()
    finally:
        con.close()
    bad = ~valid.fill_null(False)
    problems = pl.Series("reason", [None] * texts.len(), dtype=pl.String)
    if bad.any():  # Python only for the rows DuckDB refused, to say why
        problems = problems.scatter(bad.arg_true(), [_problem(text) for text in texts.filter(bad)])
    return problems


def _problem(text: str | None) -> str:
    if text is None or not text.strip():
        return "empty record"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return f"broken JSON: {error.msg} at character {error.pos}"
    except (ValueError, RecursionError):
        return "JSON that cannot be read (nested too deep or not standard JSON)"
    if isinstance(value, dict):
        return "JSON with a value that is not standard JSON (NaN or Infinity)"
    kind = {list: "list", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
    return f"a JSON {kind}, not a record"
