"""Provides bounded forms of huge log values for display: text cut with its full size stated, records shrunk.

Log values can be tens of megabytes (a mail body in a parameter, a hostile object name). What is shown
is cut to a display limit and says how much more there is (`… 49.8 MB more`); the whole value stays
where it came from (the case's Parquet, exports, the raw view).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: Characters of one value shown before it is cut.
VALUE_LIMIT = 2_000
#: Characters over a limit that a text may have and still be shown whole (more than a notice takes).
SLACK = 40
#: Items of one list (or keys of one object) shown before the rest is summarised.
ITEMS_LIMIT = 100
#: Characters of one shrunk record: its strings, and `ITEM_COST` for each value (about a line of pretty JSON).
RECORD_BUDGET = 50_000
ITEM_COST = 10
#: Characters handled per call in long loops over huge texts.
PIECE = 1 << 20
_HIGH_SURROGATE = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}")


def human_size(count: int) -> str:
    """A byte count for people: `512 bytes`, `1.2 KB`, `49.8 MB` (decimal units)."""
    if count < 1_000:
        return f"{count:,} byte{'' if count == 1 else 's'}"
    for unit, scale in (("KB", 1e3), ("MB", 1e6)):
        if count < scale * 999.95:  # 999,949 bytes: 999.9 KB; 999,950: 1.0 MB
            return f"{count / scale:.1f} {unit}"
    return f"{count / 1e9:.1f} GB"


def text_size(text: str) -> int:
    """The size of `text` in UTF-8 bytes (lone surrogates count as three), encoded a megabyte at a time so that
    a thread measuring 100 MB keeps letting the UI thread run."""
    if text.isascii():
        return len(text)
    return sum(len(text[start:start + PIECE].encode("utf-8", "surrogatepass")) for start in range(0, len(text), PIECE))


def more(size: int) -> str:
    """The notice appended to a cut value: ` … 49.8 MB more`."""
    return f" … {human_size(size)} more"


def cut(text: str, limit: int = VALUE_LIMIT) -> tuple[str, int]:
    """`text`'s first `limit` characters and the size in bytes of the rest (0 when nothing was cut).

    A text at most `SLACK` characters over the limit is kept whole: a value cut once, notice and all,
    is never cut again.
    """
    if len(text) <= limit + SLACK:
        return text, 0
    return text[:limit], _stored_size(text, limit, len(text))


def shorten(text: str, limit: int = VALUE_LIMIT) -> str:
    """`text` cut to `limit` characters, followed by ` … N MB more` when it was longer."""
    shown, rest = cut(text, limit)
    return shown + more(rest) if rest else shown


def _more_items(count: int, kind: str) -> str:
    return f"… {count:,} more {kind}{'' if count == 1 else 's'}"


class _Shrinker:
    """Walks a decoded record, cutting strings and lists, and summarising whatever is past the budget."""

    def __init__(self, limit: int, items: int, budget: int) -> None:
        self.limit, self.items, self.budget = limit, items, budget
        self.cut = False

    def value(self, value: Any) -> Any:
        self.budget -= ITEM_COST
        if isinstance(value, str):
            shown, rest = cut(value, max(0, min(self.limit, self.budget)))
            self.budget -= len(shown)
            if not rest:
                return shown
            self.cut = True
            return shown + more(rest)
        if isinstance(value, list):
            kept = [self.value(item) for item in value[: self._room(len(value))]]
            if len(kept) < len(value):
                kept.append(_more_items(len(value) - len(kept), "item"))
            return kept
        if isinstance(value, dict):
            keys = list(value)[: self._room(len(value))]
            kept = {key: self.value(value[key]) for key in keys}
            if len(kept) < len(value):
                kept["…"] = _more_items(len(value) - len(kept), "key")
            return kept
        return value

    def _room(self, count: int) -> int:
        """How many of `count` items to keep: up to the item limit, none once the budget is spent."""
        room = min(count, self.items) if self.budget > 0 else 0
        self.cut |= room < count
        return room


@dataclass(frozen=True)
class ShrunkRecord:
    """A decoded record made small enough to show, and whether anything of it was left out."""

    data: Any
    cut: bool


def shrink(value: Any, limit: int = VALUE_LIMIT, items: int = ITEMS_LIMIT, budget: int = RECORD_BUDGET) -> ShrunkRecord:
    """`value` (decoded JSON of bounded depth) with strings over `limit` cut, lists over `items` shortened,
    and everything past a total of `budget` characters of strings summarised; each cut says what it left out."""
    shrinker = _Shrinker(limit, items, budget)
    data = shrinker.value(value)
    return ShrunkRecord(data, shrinker.cut)


def _stored_size(text: str, start: int, end: int) -> int:
    """UTF-8 bytes of `text[start:end]` (no copy when the text is ASCII: `str.isascii` is a flag check)."""
    return end - start if text.isascii() else text_size(text[start:end])


def _unescaped(text: str, start: int, position: int) -> bool:
    """Whether the character at `position` of a string whose content starts at `start` is not escaped (an even
    number of backslashes before it): a quote that closes the string, a backslash that begins an escape."""
    run = position
    while run > start and text[run - 1] == "\\":
        run -= 1
    return (position - run) % 2 == 0


def _closing_quote(text: str, start: int) -> int:
    """The position of the quote closing a JSON string whose content starts at `start` (-1 when none does)."""
    end = text.find('"', start)
    while end >= 0 and not _unescaped(text, start, end):
        end = text.find('"', end + 1)
    return end


def _whole_escapes_end(text: str, start: int, end: int) -> int:
    """`end` moved back so that `text[start:end]` stops neither inside a JSON escape (`\\"`, `\\u00e9`) nor
    between the two halves of a surrogate pair (`\\ud83d\\ude00`)."""
    last = text.rfind("\\", max(start, end - 6), end)
    if last >= 0:
        escape = last if _unescaped(text, start, last) else last - 1
        if escape + (6 if text[escape + 1: escape + 2] == "u" else 2) > end:
            end = escape
    if end - 6 >= start and _HIGH_SURROGATE.fullmatch(text, end - 6, end) and _unescaped(text, start, end - 6):
        end -= 6
    return end


def json_strings(text: str) -> Iterator[tuple[int, int]]:
    """Where each string of JSON `text` starts and ends (quotes included), found with `str.find`: one C call per
    quote, so a 50 MB value never holds the interpreter in one long call (threads stay responsive)."""
    position = 0
    while (opening := text.find('"', position)) >= 0:
        closing = _closing_quote(text, opening + 1)
        if closing < 0:
            return
        yield opening, closing + 1
        position = closing + 1


def cut_json_strings(text: str, limit: int = VALUE_LIMIT) -> tuple[str, bool]:
    """JSON `text` with every string (keys too) longer than `limit` characters as stored cut, ending `… N MB more`;
    and whether any was. Nothing is decoded, so a 50 MB value costs a search for its closing quote."""
    parts, done = [], 0
    for start, end in json_strings(text):
        if end - start - 2 > limit:
            kept = _whole_escapes_end(text, start + 1, start + 1 + limit)
            parts += [text[done:kept], more(_stored_size(text, kept, end - 1))]
            done = end - 1
    return "".join(parts) + text[done:], bool(parts)
