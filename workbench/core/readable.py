"""Provides the readable columns of an events export: what each event touched (`summary`), its parameters and its
modified properties, each as one line of text, for a whole case at once.

DuckDB computes them in one vectorised pass over the events' JSON text for the shapes logs have:
`[{Name, Value}]` parameters; `[{Name, OldValue, NewValue}]` modified properties, plain property names, or a
directory audit's `[{name, old, new}]`; mail items with a `Subject`. A value holding a flat JSON list is joined
with `, `. Rows of any other shape (a field that is plain text, entries without a `Name`, a value holding a JSON
object or nested lists) or nesting past `decode.DEPTH_LIMIT` are decoded one by one by `decode.py`, from the
original record, as the drill-down decodes them: both give the same text (a test compares them on the samples).
"""

import polars as pl

from workbench.core import decode
from workbench.core.duck import connect

#: The readable columns, in export order.
READABLE_COLUMNS = ("summary", "parameters_text", "modified_properties_text")
#: Parameters whose value names what an event touched, when it carries no mail subject.
SUMMARY_PARAMETERS = ("Identity", "Name", "User", "Trustee")

_MACROS = r"""
CREATE TEMP MACRO brackets(t) AS length(t) - length(replace(replace(t, '[', ''), '{', ''));
CREATE TEMP MACRO is_array(t) AS CASE WHEN json_valid(t) THEN json_type(t) = 'ARRAY' ELSE false END;
CREATE TEMP MACRO readable(v) AS CASE
    WHEN v IS NULL THEN {'text': '', 'plain': true}
    WHEN NOT regexp_matches(v, '^\s*[\[{]') THEN {'text': v, 'plain': true}
    WHEN brackets(v) = 1 AND is_array(v) THEN {
        'text': array_to_string(list_transform(json_transform(v, '["VARCHAR"]'), lambda x: coalesce(x, '')), ', '),
        'plain': true}
    ELSE {'text': v, 'plain': false} END;
CREATE TEMP MACRO subjects(t) AS CASE
    WHEN NOT coalesce(json_valid(t), false) THEN []::VARCHAR[]
    WHEN json_type(t) = 'ARRAY' THEN list_transform(json_transform(t, '[{"Subject": "VARCHAR"}]'), lambda s: s.Subject)
    WHEN json_type(t) = 'OBJECT' THEN [json_extract_string(t, '$.Subject')]
    ELSE []::VARCHAR[] END;
CREATE TEMP MACRO change(x) AS CASE
    WHEN json_type(x) = 'OBJECT' THEN {'name': readable(coalesce(x ->> '$.Name', x ->> '$.name', '')),
                                       'old': readable(coalesce(x ->> '$.OldValue', x ->> '$.old')),
                                       'new': readable(coalesce(x ->> '$.NewValue', x ->> '$.new')),
                                       'object': true}
    ELSE {'name': readable(x ->> '$'), 'old': readable(NULL), 'new': readable(NULL),
          'object': json_type(x) = 'VARCHAR'} END;
"""

_QUERY = """
WITH fields AS (
    SELECT
        row,
        object_id,
        CASE WHEN is_array(parameters) THEN list_transform(
            json_transform(parameters, '[{"Name": "VARCHAR", "Value": "VARCHAR"}]'),
            lambda p: {'name': p.Name, 'value': readable(p.Value)}) END AS pairs,
        CASE WHEN is_array(modified_properties)
            THEN list_transform(json_transform(modified_properties, '["JSON"]'), lambda x: change(x)) END AS changes,
        readable(list_filter(list_concat(subjects(affected_items), subjects(item)), lambda s: s <> '')[1]) AS subject,
        (parameters IS NULL OR is_array(parameters) AND brackets(parameters) <= {depth})
            AND (modified_properties IS NULL OR is_array(modified_properties) AND brackets(modified_properties) <= {depth})
            AS shaped
    FROM rows
)
SELECT
    row,
    coalesce(
        nullif(subject.text, ''),
        list_transform(
            list_filter(pairs, lambda p: p.name IN {summary_names} AND p.value.text <> ''),
            lambda p: p.name || '=' || p.value.text)[1],
        object_id,
        '') AS summary,
    coalesce(array_to_string(
        list_transform(pairs, lambda p: CASE WHEN p.name = '' THEN p.value.text ELSE p.name || '=' || p.value.text END),
        '; '), '') AS parameters_text,
    coalesce(array_to_string(list_transform(changes, lambda c: CASE
        WHEN c.old.text <> '' OR c.new.text <> '' THEN c.name.text || ': ' || c.old.text || ' -> ' || c.new.text
        ELSE c.name.text END), '; '), '') AS modified_properties_text,
    shaped AND subject.plain
        AND coalesce(list_bool_and(list_transform(pairs, lambda p: p.name IS NOT NULL AND p.value.plain)), true)
        AND coalesce(list_bool_and(list_transform(changes, lambda c: c.object AND c.name.plain AND c.old.plain
                                                                   AND c.new.plain)), true)
        AS native
FROM fields
""".replace("{depth}", str(decode.DEPTH_LIMIT)).replace(
    "{summary_names}", "(" + ", ".join(f"'{name}'" for name in SUMMARY_PARAMETERS) + ")")

_INPUT_COLUMNS = ("object_id", "parameters", "modified_properties", "affected_items", "item")
_SCHEMA = {name: pl.String for name in READABLE_COLUMNS}


def readable_columns(events: pl.DataFrame, audit_data: pl.Series) -> pl.DataFrame:
    """`summary`, `parameters_text` and `modified_properties_text` of every row of `events` (any frame in the
    activity shape), row for row; `audit_data` holds each row's original record, read for the rows decoded one
    by one."""
    if not events.height:
        return pl.DataFrame(schema=_SCHEMA)
    rows = events.select(*_INPUT_COLUMNS).with_row_index("row")
    connection = connect()
    try:
        connection.execute(_MACROS)
        connection.register("rows", rows.to_arrow())
        table = pl.from_arrow(connection.sql(_QUERY).to_arrow_table()).sort("row")
    finally:
        connection.close()
    others = ~table["native"]
    text = table.select(READABLE_COLUMNS)
    if others.any():
        decoded = _decoded(events.filter(others), audit_data.filter(others))
        positions = others.arg_true()
        text = text.with_columns(text[name].scatter(positions, decoded[name]) for name in READABLE_COLUMNS)
    return text


def _decoded(events: pl.DataFrame, audit_data: pl.Series) -> pl.DataFrame:
    """The readable columns by `decode.py`, one event at a time (for the rows of shapes DuckDB leaves aside)."""
    summaries, parameters, changes = [], [], []
    rows = events.select(_INPUT_COLUMNS).iter_rows(named=True)
    for row, text in zip(rows, audit_data.to_list()):
        record = decode.loads(text)
        field = {column: decode.nested(row, record, column) for column in _INPUT_COLUMNS[1:]}
        summaries.append(decode.summary(row["object_id"], field["item"], field["affected_items"], field["parameters"]))
        parameters.append(decode.readable(decode.name_values(field["parameters"])))
        changes.append(decode.readable_changes(decode.modified_properties(_audit_log_spelling(field["modified_properties"]))))
    return pl.DataFrame({"summary": summaries, "parameters_text": parameters, "modified_properties_text": changes},
                        schema=_SCHEMA)


def _audit_log_spelling(changes: object) -> object:
    """Modified properties with a directory audit's `{name, old, new}` entries renamed to the audit log's
    `{Name, OldValue, NewValue}`, which `decode.modified_properties` reads."""
    data = decode.loads(changes)
    if not isinstance(data, list):
        return data
    return [{"Name": entry["name"], "OldValue": entry.get("old"), "NewValue": entry.get("new")}
            if isinstance(entry, dict) and "Name" not in entry and "name" in entry else entry for entry in data]
