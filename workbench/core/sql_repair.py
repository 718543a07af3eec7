"""Provides the reading of pasted SQL: typographic quotes, print damage, and positioned `SqlError`s.

Queries copied from articles arrive with ‘ ’ “ ” instead of ASCII quotes, a closing quote lost in
print, or a stray space inside a quoted value. `repair` fixes what has one sensible reading and
says what it changed; where the intent is unclear it raises a `SqlError` pointing at the spot.
Positions in every message refer to the text as the analyst typed it.
"""

import re
from dataclasses import dataclass, field

from sqlglot.dialects.duckdb import DuckDB
from sqlglot.errors import TokenError
from sqlglot.tokens import Token, TokenType

_SINGLE_QUOTES = "‘’‚‛"
_DOUBLE_QUOTES = "“”„‟"
#: ’ between two letters is an apostrophe inside a value (‘Don’t’), not a quote.
_APOSTROPHE = re.compile(r"(?<=[^\W\d_])’(?=[^\W\d_])")
#: What may follow an unterminated value on its line for the missing closing quote to be obvious.
_OBVIOUS_END = re.compile(r"([^\s'\"(),;]+)(\s*[),;]*\s*)$")
_COMPARISONS = {TokenType.EQ, TokenType.NEQ, TokenType.LIKE, TokenType.ILIKE}


class SqlError(Exception):
    """A query that cannot run: the message, and where (1-based line and column) when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None, query: str | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.query = query

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        return f"line {self.line}, column {self.column}: {self.message}"

    def render(self) -> str:
        """The message, then the query line it points at with a caret under the column."""
        if self.line is None or self.query is None:
            return str(self)
        lines = self.query.split("\n")
        source = lines[self.line - 1] if self.line <= len(lines) else ""
        pointer = "".join("\t" if ch == "\t" else " " for ch in source[: self.column - 1]) + "^"
        return f"{self}\n  {source}\n  {pointer}"


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset in `text`."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


@dataclass
class Repaired:
    """The query as it will be read, what was changed, and a map back to the typed text."""

    original: str
    text: str
    notes: list[str] = field(default_factory=list)
    origin: list[int] = field(default_factory=list)  # origin[i]: offset in `original` of text[i]

    def original_offset(self, offset: int) -> int:
        """Where a character of the repaired text came from in the typed text."""
        if offset < len(self.origin):
            return self.origin[offset]
        return len(self.original)

    def error(self, message: str, offset: int | None) -> SqlError:
        """A `SqlError` at an offset of the repaired text, positioned in the typed text."""
        if offset is None:
            return SqlError(message, query=self.original)
        line, column = line_column(self.original, self.original_offset(offset))
        return SqlError(message, line, column, self.original)

    def where(self, offset: int) -> str:
        """'line L, column C' of an offset of the repaired text, in the typed text."""
        line, column = line_column(self.original, self.original_offset(offset))
        return f"line {line}, column {column}"

    def replace(self, start: int, end: int, new: str) -> None:
        """Replace text[start:end] by `new`; new characters map to the start of the replaced span."""
        anchor = self.original_offset(start)
        self.text = self.text[:start] + new + self.text[end:]
        self.origin[start:end] = [anchor] * len(new)


def repair(query: str) -> Repaired:
    """Read `query` as printed: ASCII quotes, lost closing quotes restored, stray spaces removed."""
    repaired = Repaired(query, query, origin=list(range(len(query))))
    count = _ascii_single_quotes(repaired)
    _close_open_strings(repaired)
    count += _ascii_double_quotes(repaired)
    if count:
        plural = "s" if count > 1 else ""
        repaired.notes.insert(0, f"read {count} typographic quote{plural} (‘ ’ “ ”) as ASCII quotes")
    _strip_padded_values(repaired)
    return repaired


def _translate(repaired: Repaired, offsets: list[int], ascii_quote: str) -> int:
    """Put `ascii_quote` at each offset (one character for one: positions stay valid)."""
    text = list(repaired.text)
    for offset in offsets:
        text[offset] = ascii_quote
    repaired.text = "".join(text)
    return len(offsets)


def _ascii_single_quotes(repaired: Repaired) -> int:
    """‘ ’ become ', except an apostrophe between letters (‘Don’t’ is the value Don’t)."""
    apostrophes = {match.start() for match in _APOSTROPHE.finditer(repaired.text)}
    offsets = [i for i, ch in enumerate(repaired.text) if ch in _SINGLE_QUOTES and i not in apostrophes]
    return _translate(repaired, offsets, "'")


def _ascii_double_quotes(repaired: Repaired) -> int:
    """“ ” become " outside values: inside one ('Re: “Invoice”') they are part of the text searched for."""
    spans, _unclosed = _string_spans(repaired)
    offsets = [i for i, ch in enumerate(repaired.text)
               if ch in _DOUBLE_QUOTES and not any(opening < i < closing for opening, closing in spans)]
    return _translate(repaired, offsets, '"')


def _string_spans(repaired: Repaired) -> tuple[list[tuple[int, int]], int | None]:
    """Closed single-quoted values as (opening, closing) offsets, and the opening of an unclosed one.

    An unclosed quoted name or comment is an error at its opening: it has no obvious end.
    """
    text = repaired.text
    spans, i, n = [], 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            i = text.find("\n", i) if "\n" in text[i:] else n
        elif text.startswith("/*", i) or ch == '"':
            closing = "*/" if ch == "/" else '"'
            end = text.find(closing, i + len(closing))
            if end < 0:
                what = "comment" if ch == "/" else "quoted name"
                raise repaired.error(f"this {what} is never closed: add {closing}", i)
            i = end + len(closing)
        elif ch == "'":
            j = i + 1
            while True:
                j = text.find("'", j)
                if j < 0:
                    return spans, i
                if text.startswith("''", j):
                    j += 2
                    continue
                break
            spans.append((i, j))
            i = j + 1
        else:
            i += 1
    return spans, None


def _close_open_strings(repaired: Repaired) -> None:
    """Insert a closing quote lost in print where exactly one place makes sense, else point at it."""
    for _ in range(repaired.text.count("'") + 1):
        spans, unclosed = _string_spans(repaired)
        if unclosed is None:
            return
        text = repaired.text
        across = [opening for opening, closing in spans if "\n" in text[opening:closing]]
        opening = across[0] if across else unclosed
        end_of_line = text.find("\n", opening)
        rest = text[opening + 1 : len(text) if end_of_line < 0 else end_of_line]
        match = _OBVIOUS_END.fullmatch(rest)
        if match is None:
            raise repaired.error(
                "this quote opens a value that is never closed, and where it should end is unclear: "
                "add the closing quote", opening)
        value = match.group(1)
        insert_at = opening + 1 + len(value)
        repaired.notes.append(f"{repaired.where(opening)}: added the closing quote missing after '{value}'")
        repaired.replace(insert_at, insert_at, "'")


def tokenize(repaired: Repaired) -> list[Token]:
    """The repaired text as DuckDB tokens (with offsets), or a `SqlError`."""
    try:
        return DuckDB().tokenize(repaired.text)
    except TokenError as error:  # sqlglot quotes the text up to where it stopped
        context = re.search(r"Error tokenizing '(.*)'$", str(error), re.DOTALL)
        found = repaired.text.rfind(context.group(1)) if context and context.group(1) else -1
        offset = found + len(context.group(1)) - 1 if found >= 0 else None
        raise repaired.error("cannot read the query from here on", offset) from None


def _strip_padded_values(repaired: Repaired) -> None:
    """A compared value with spaces around one word (`' SiteCollectionAdminAdded'`) loses the spaces."""
    in_list: list[bool] = []
    previous: Token | None = None
    edits = []
    for token in tokenize(repaired):
        kind = token.token_type
        if kind == TokenType.L_PAREN:
            in_list.append(previous is not None and previous.token_type == TokenType.IN)
        elif kind == TokenType.R_PAREN and in_list:
            in_list.pop()
        elif kind == TokenType.STRING:
            listed = previous is not None and previous.token_type in (TokenType.L_PAREN, TokenType.COMMA)
            compared = (previous is not None and previous.token_type in _COMPARISONS) or (
                listed and bool(in_list) and in_list[-1])
            value = token.text
            word = value.strip()
            if compared and word != value and word and not any(ch.isspace() for ch in word):
                edits.append((token.start, token.end + 1, value, word))
        previous = token
    for start, _end, value, word in edits:
        repaired.notes.append(f"{repaired.where(start)}: removed the stray space in '{value}' (read as '{word}')")
    for start, end, _value, word in reversed(edits):
        repaired.replace(start, end, "'" + word.replace("'", "''") + "'")
