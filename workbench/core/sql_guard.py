"""Provides the read-only check of a query: one SELECT over the case's tables, nothing that writes,
reads files or URLs, loads extensions or changes settings.

This is the first of two walls: the engine itself is also locked (see `workbench.core.sql`), so a
construct this check does not know still cannot reach the disk or the network.
"""

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError
from sqlglot.tokens import Token, TokenType

from workbench.core.sql_repair import Repaired, tokenize

_READ_ONLY = "SQL in the workbench is read-only: one SELECT (or WITH ... SELECT) over the case's tables"
_REFUSED_STATEMENTS = {
    "COPY": "COPY is refused: SQL cannot write files; export the result instead (--output FILE, or the export key)",
    "EXPORT": "EXPORT is refused: SQL cannot write files; export the result instead (--output FILE, or the export key)",
    "IMPORT": "IMPORT is refused: SQL cannot read files",
    "ATTACH": "ATTACH is refused: SQL can read only the case's tables, no other database",
    "DETACH": "DETACH is refused: SQL can read only the case's tables, no other database",
    "USE": "USE is refused: SQL can read only the case's tables, no other database",
    "INSTALL": "INSTALL is refused: extensions cannot be installed or loaded",
    "LOAD": "LOAD is refused: extensions cannot be installed or loaded",
    "FORCE": "FORCE INSTALL is refused: extensions cannot be installed or loaded",
    "PRAGMA": "PRAGMA is refused: engine settings cannot be changed",
    "SET": "SET is refused: engine settings cannot be changed",
    "RESET": "RESET is refused: engine settings cannot be changed",
    "CALL": "CALL is refused: " + _READ_ONLY,
}
_QUERY_STARTS = {TokenType.SELECT, TokenType.WITH, TokenType.FROM, TokenType.L_PAREN}
#: information_schema tables a query may read: the tables' and columns' names and types (not the views'
#: definitions, which hold paths).
_SCHEMA_TABLES = {"tables", "columns"}
#: Table functions that only compute: allowed in FROM. Everything else there (read_csv, glob, query...) is refused.
_TABLE_FUNCTIONS = {"range", "generate_series", "unnest", "json_each", "json_tree"}
#: Functions that reach files, URLs, other databases or the engine's internals (settings, which hold paths; SQL
#: given as a string, which the engine would read past this check), wherever they appear.
_REFUSED_FUNCTION = re.compile(
    r"^(read_\w+|sniff_csv|glob|query|query_table|\w+_scan|parquet_\w+|iceberg_\w+|delta_\w+|duckdb_\w+|pragma_\w+"
    r"|getenv|which_secret|load_aws_credentials|sqlite_\w+|postgres_\w+|mysql_\w+"
    r"|current_setting|\w*_logging|write_log|truncate_duckdb_logs|\w+_grammar_extension"
    r"|json_serialize_\w+|json_deserialize_sql|json_execute_serialized_sql)$",
    re.IGNORECASE,
)


def parse_read_only(repaired: Repaired, tables: list[str]) -> exp.Query:
    """The query's syntax tree, or a `SqlError` saying at which position what is refused or malformed."""
    tokens = _statement_tokens(repaired)
    try:
        statements = [s for s in sqlglot.parse(repaired.text, read="duckdb") if s is not None]
    except ParseError as error:
        first = error.errors[0] if error.errors else {}
        raise _parse_error(repaired, tokens, first) from None
    if not statements:
        raise repaired.error("no SQL statement given", None)
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        raise repaired.error(f"{type(tree).__name__.upper()} is refused: {_READ_ONLY}", _offset(tree, 0))
    _check_nodes(repaired, tree, tables)
    return tree


def _statement_tokens(repaired: Repaired) -> list[Token]:
    """Tokens of the one statement; refuses a second statement and refused statement kinds by their first word."""
    tokens = tokenize(repaired)
    statements: list[list[Token]] = [[]]
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            statements.append([])
        else:
            statements[-1].append(token)
    statements = [statement for statement in statements if statement]
    for statement in statements:
        first = statement[0]
        word = first.text.upper()
        if word in _REFUSED_STATEMENTS:
            raise repaired.error(_REFUSED_STATEMENTS[word], first.start)
        if first.token_type == TokenType.VAR:
            raise repaired.error(f"a query starts with SELECT, WITH or FROM, not {first.text}", first.start)
        if first.token_type not in _QUERY_STARTS:
            raise repaired.error(f"{word} is refused: {_READ_ONLY}", first.start)
    if len(statements) > 1:
        raise repaired.error("one statement at a time: a second statement starts here", statements[1][0].start)
    return statements[0] if statements else []


def _parse_error(repaired: Repaired, tokens: list[Token], error: dict) -> Exception:
    description = error.get("description", "syntax error")
    required = re.match(r"Required keyword: '(\w+)' missing for <class '[\w.]+\.(\w+)'>", description)
    if required:
        description = f"incomplete {required.group(2).upper()}: something is missing here"
    line, column = error.get("line"), error.get("col")
    offset = None
    if line is not None and column is not None:
        # sqlglot reports the line and the last column of the token it stopped at
        starts = [t for t in tokens if t.line == line and t.col == column]
        offset = starts[0].start if starts else _offset_of(repaired.text, line, column)
    return repaired.error(description, offset)


def _offset_of(text: str, line: int, column: int) -> int:
    lines = text.split("\n")
    return sum(len(part) + 1 for part in lines[: line - 1]) + max(column - 1, 0)


def _offset(node: exp.Expression, default: int | None = None) -> int | None:
    """Where a node starts in the repaired text, from the first position sqlglot kept in it or below."""
    starts = [child.meta["start"] for child in node.walk() if child.meta and "start" in child.meta]
    return min(starts, default=default)


def _function_name(node: exp.Expression) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name
    return node.sql_name().lower()


def _check_nodes(repaired: Repaired, tree: exp.Query, tables: list[str]) -> None:
    known = {name.lower() for name in tables}
    known |= {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    listing = ", ".join(tables)
    for node in tree.walk():
        if isinstance(node, (exp.Into, exp.DML, exp.DDL, exp.Command, exp.Copy, exp.Pragma, exp.Set)):
            raise repaired.error(f"{type(node).__name__.upper()} is refused: {_READ_ONLY}", _offset(node))
        if isinstance(node, exp.Func):
            name = _function_name(node)
            in_from = isinstance(node.parent, (exp.Table, exp.Lateral))
            if _REFUSED_FUNCTION.match(name) or (in_from and name.lower() not in _TABLE_FUNCTIONS):
                raise repaired.error(
                    f"{name}(...) is refused: SQL reads only the case's tables (no files, URLs, settings or engine "
                    f"internals): {listing}",
                    _offset(node))
        if isinstance(node, exp.Table) and isinstance(node.this, exp.Identifier):
            name = node.name
            if node.args.get("db") and node.db.lower() == "information_schema" and name.lower() in _SCHEMA_TABLES \
                    and not node.args.get("catalog"):
                continue  # names and types of the tables, nothing else of the engine
            if node.args.get("db") or node.args.get("catalog") or name.lower() not in known:
                path_like = node.this.quoted and re.search(r"[/\\:.]", name)
                what = "reading files or URLs is refused" if path_like else "no such table"
                raise repaired.error(f"{what}: {node.sql('duckdb')}; the tables are: {listing}", _offset(node))
