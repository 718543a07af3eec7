"""Provides `extract`: the values at given key paths of JSON record texts, as text columns, in one query.

DuckDB's `json_transform` reads the declared keys of each record on its own threads. A value that is an
object or a list comes back as its JSON text. A path goes on into a nested object in the same parse, or,
where the value may be JSON inside a string (as Log Analytics writes its `dynamic` columns), in one nested
`json_transform` of that value, all in one query. Keys match exactly (as they are spelt).
"""

import json

import polars as pl

from workbench.core.duck import ERRORS, connect, quiet

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


def _inner(node: dict) -> bool:
    """Whether the node has keys below it."""
    return len(node) > (_SELF in node)


def _as_struct(node: dict, objects: bool) -> bool:
    """Whether a node with keys below it is read in its parent's parse (an object, not JSON inside a string)."""
    return objects and _inner(node) and _SELF not in node


def _shape(node: dict, objects: bool) -> dict:
    return {key: _shape(child, objects) if _as_struct(child, objects) else "VARCHAR"
            for key, child in node.items() if key != _SELF}


def _structure(node: dict, objects: bool) -> str:
    """A SQL literal of the `json_transform` structure of a tree node's keys."""
    return "'" + json.dumps(_shape(node, objects)).replace("'", "''") + "'"


def _key(key: str) -> str:
    return "'" + key.replace("'", "''") + "'"


def _nested(levels: list[str], value: str, node: dict, objects: bool) -> str:
    """Add a level that reads `value` as JSON by the node's structure; returns its alias."""
    alias = f"n{len(levels)}"
    levels.append(f"SELECT *, try(json_transform({value}, {_structure(node, objects)})) AS {alias} FROM ({levels[-1]})")
    return alias


def _select(levels: list[str], pending: list[tuple[str, dict, Path]], objects: bool) -> tuple[str, list[str]]:
    """The SQL selecting every leaf below the pending nodes (alias, node, path), and the path of each column
    (`c0`, `c1`, ...).

    With `objects`, nested values are read as objects in their parent's parse; otherwise (and for a node that
    is asked for itself too) each nested value is read as JSON text in a parse of its own, which also reads
    JSON held in a string."""
    leaves: list[tuple[str, str]] = []  # (expression, column name)
    while pending:
        alias, node, prefix = pending.pop(0)
        for key, child in node.items():
            if key == _SELF:
                continue
            value = f"{alias}[{_key(key)}]"
            if _SELF in child:
                leaves.append((value, column_name((*prefix, key))))
            if _as_struct(child, objects):
                pending.append((value, child, (*prefix, key)))
            elif _inner(child):  # keys below it: read the value as JSON in turn
                pending.append((_nested(levels, value, child, objects), child, (*prefix, key)))
    columns = ", ".join(f"{value} AS c{index}" for index, (value, _name) in enumerate(leaves))
    return f"SELECT {columns or 'NULL AS c'} FROM ({levels[-1]})", [name for _value, name in leaves]


def _run(query: str, names: list[str], chunk: pl.DataFrame) -> pl.DataFrame:
    """The query's columns renamed to their paths; `try` only after a failure (a fifth faster until then)."""
    con = quiet(_DATABASE.cursor())  # one per call: chunks are decoded on several threads
    try:
        con.register("chunk", chunk.to_arrow())
        try:
            values = pl.from_arrow(con.sql(query.replace("try(json_transform(text,", "(json_transform(text,")).to_arrow_table())
        except ERRORS:
            values = pl.from_arrow(con.sql(query).to_arrow_table())
    finally:
        con.close()
    return values.rename({f"c{index}": name for index, name in enumerate(names)})


def extract(texts: pl.Series, paths: list[Path], objects: bool = False) -> pl.DataFrame:
    """One text column per path (named `column_name(path)`), row for row with `texts`, null where absent; and
    `is_record`: whether the text is one JSON object (`record_problems` says why not). `objects`: the nested
    values are objects (as Graph writes them), read in one parse; else any of them may be JSON in a string."""
    tree = _tree(paths)
    levels = [f"SELECT text, try(json_transform(text, {_structure(tree, objects)})) AS n0 FROM chunk"]
    query, names = _select(levels, [("n0", tree, ())], objects)
    values = _run(query.replace("SELECT ", "SELECT n0 IS NOT NULL AS is_json, ", 1), names, texts.alias("text").to_frame())
    is_object = texts.str.contains(r"^[ \t\r\n\ufeff]*\{").fill_null(False)
    return values.select(*(column_name(path) for path in dict.fromkeys(paths)),
                         (pl.col("is_json") & pl.lit(is_object)).alias("is_record"))


def extract_cells(cells: pl.DataFrame, paths: list[Path]) -> pl.DataFrame:
    """`extract` of rows already split into their top-level fields (a CSV's cells, as text): a cell is read as
    JSON only where a path goes on into it, by Polars where every cell of the column has the shape the paths
    ask for (an object of objects and values), else by DuckDB (which also reads JSON inside a string)."""
    tree = _tree(paths)
    decoded: dict[str, pl.Series] = {}
    levels, pending = ["SELECT * FROM chunk"], []
    for key, child in tree.items():
        if not (_inner(child) and key in cells.columns):
            continue
        found = _decoded(cells[key], child, (key,))
        if found is not None:
            decoded.update(found)
        else:
            pending.append((_nested(levels, '"' + key.replace('"', '""') + '"', child, False), child, (key,)))
    unusual = sorted({path[0] for _alias, _node, path in pending})
    nested = _run(*_select(levels, pending, False), cells.select(unusual)) if pending else pl.DataFrame()
    columns = []
    for path in dict.fromkeys(paths):
        name = column_name(path)
        if len(path) == 1 and path[0] in cells.columns:
            columns.append(cells[path[0]].alias(name))
        elif name in decoded:
            columns.append(decoded[name])
        elif name in nested.columns:
            columns.append(nested[name])
        else:
            columns.append(pl.Series(name, dtype=pl.String).clear(cells.height))
    return pl.DataFrame(columns).with_columns(pl.lit(True).alias("is_record"))


def _dtype(node: dict) -> pl.Struct:
    """The struct Polars decodes a node's keys into: text at the leaves, structs for the objects on the way."""
    return pl.Struct({key: _dtype(child) if _as_struct(child, True) else pl.String
                      for key, child in node.items() if key != _SELF})


def _decoded(texts: pl.Series, node: dict, prefix: Path) -> dict[str, pl.Series] | None:
    """The leaves below `node` of a column of JSON texts (empty cells as null), decoded by Polars, one series per
    path; None when a cell is not JSON of that shape (broken, a list, an object where text is asked, JSON held in
    a string)."""
    try:
        values = texts.to_frame("v").select(
            pl.when(pl.col("v").str.len_bytes() > 0).then(pl.col("v")).str.json_decode(_dtype(node)))["v"]
    except pl.exceptions.PolarsError:
        return None
    found: dict[str, pl.Series] = {}
    pending = [(values, node, prefix)]
    while pending:
        struct, at, path = pending.pop()
        for key, child in at.items():
            if key == _SELF:
                continue
            field = struct.struct.field(key)
            if _as_struct(child, True):
                pending.append((field, child, (*path, key)))
            else:
                found[column_name((*path, key))] = field.alias(column_name((*path, key)))
    return found


def record_problems(texts: pl.Series) -> list[str]:
    """Why each of these texts (that `extract` did not read as a record) is not one JSON object."""
    return [_problem(text) for text in texts]


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
