"""Provides query parameters: `:user`, `:ip`, `:since` (or DuckDB's own `$user`) in a query, and the values bound
to them. A value is always bound by the engine as a value, never pasted into the SQL text.

`:name` is read from the query's tokens, so a colon inside text (`':x'`), a cast (`x::int`), a slice (`l[1:n]`,
`l[:n]`) or a struct (`{'k':v}`) is not a parameter.
"""

from datetime import UTC, datetime

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import TokenType

from workbench.core.sql_repair import Repaired, SqlError, repair, tokenize

#: Parameters whose values are times (a date such as 2023-02-20, or an ISO time; UTC unless the time says otherwise).
TIME_PARAMETERS = ("since", "until")
#: Tokens after which a colon belongs to a slice, a struct or an alias, not to a parameter.
_OPERAND_ENDS = {TokenType.VAR, TokenType.NUMBER, TokenType.STRING, TokenType.IDENTIFIER, TokenType.R_PAREN,
                 TokenType.R_BRACKET, TokenType.R_BRACE, TokenType.L_BRACKET, TokenType.COLON}


def as_dollar_parameters(repaired: Repaired) -> None:
    """Rewrite each `:name` parameter of the repaired query as DuckDB's `$name`, in place (offsets unchanged)."""
    tokens = tokenize(repaired)
    for before, colon, word in zip([None, *tokens], tokens, tokens[1:]):
        if (colon.token_type == TokenType.COLON and word.start == colon.end + 1 and word.text.isidentifier()
                and word.end - word.start + 1 == len(word.text)
                and (before is None or before.token_type not in _OPERAND_ENDS)):
            repaired.replace(colon.start, colon.start + 1, "$")


def query_parameters(query: str) -> list[str]:
    """The names of the query's parameters in the order they appear; none when the query cannot be read
    (running it says why)."""
    try:
        repaired = repair(query)
        as_dollar_parameters(repaired)
        trees = sqlglot.parse(repaired.text, read="duckdb")
    except (SqlError, SqlglotError):
        return []
    return list(dict.fromkeys(node.name for tree in trees if tree is not None for node in tree.walk(bfs=False)
                              if isinstance(node, exp.Placeholder) and node.name.isidentifier()))


def parameter_value(name: str, text: str) -> str | datetime:
    """The value bound to parameter `name` from the text given for it: a UTC time for the TIME_PARAMETERS
    (`2023-02-20` or `2023-02-20T08:00:00Z`), the text itself otherwise; a `SqlError` for a time that is not one."""
    if name not in TIME_PARAMETERS:
        return text
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        problem = f":{name} {text.strip()!r} is not a date or time: give 2023-02-20 or 2023-02-20T08:00:00Z"
        raise SqlError(problem) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def bound_values(tree: exp.Expression, params: dict[str, str], repaired: Repaired) -> dict[str, str | datetime]:
    """The values of the parameters of a parsed query, by name, or a `SqlError` naming a parameter without a
    value (or a parameter without a name, `?` or `$1`)."""
    placeholders = [node for node in tree.walk(bfs=False) if isinstance(node, exp.Placeholder)]
    if any(not node.name.isidentifier() for node in placeholders):
        raise repaired.error("parameters need names, such as :user or :since (not ? or $1)", None)
    names = list(dict.fromkeys(node.name for node in placeholders))
    missing = [name for name in names if name not in params]
    if missing:
        raise repaired.error("no value given for " + ", ".join(f":{name}" for name in missing), None)
    return {name: parameter_value(name, params[name]) for name in names}
