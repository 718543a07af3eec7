"""Provides `SqlEditor`: the SQL text area (highlighted when Textual's SQL grammar is installed) with query history
and completion of table and column names."""

import re
from dataclasses import dataclass

from textual.binding import Binding
from textual.message import Message
from textual.widgets import TextArea

#: The name being written: the identifier characters before the cursor.
_WORD_BEFORE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*$")
#: A name right after these words is a table's.
_TABLE_CONTEXT = re.compile(r"\b(FROM|JOIN|DESCRIBE|DESC|SUMMARIZE|TABLE)\s+$", re.IGNORECASE)


@dataclass
class _Cycle:
    """Tab pressed again on a completion: the next candidate replaces it."""

    start: tuple[int, int]
    candidates: list[str]
    index: int


class SqlEditor(TextArea):
    """A multi-line SQL editor that steps through the case's past queries (the SQL screen binds the keys) and
    completes table and column names (tab).

    Stepping back from the text being written keeps it as a draft; stepping forward past the newest
    query brings the draft back. Tab after part of a name writes the first known name that starts so (a
    table's after FROM or JOIN, else a column's first); tab again writes the next. Tab with no name to
    complete moves the focus on.
    """

    BINDINGS = [Binding("tab", "complete", "Complete name", id="sql.complete", show=False)]

    class Completed(Message):
        """A name was completed: the candidates, and which one is written."""

        def __init__(self, candidates: list[str], index: int) -> None:
            super().__init__()
            self.candidates, self.index = candidates, index

    def __init__(self, text: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(text, theme="css", soft_wrap=False, tab_behavior="focus", show_line_numbers=True,
                         placeholder=placeholder, id=id)
        self.past_queries: list[str] = []
        self.position = -1  # index into `past_queries`; -1 is the draft
        self.draft = text
        self.tables: list[str] = []
        self.columns: list[str] = []
        self._cycle: _Cycle | None = None

    def on_mount(self) -> None:
        if "sql" in self.available_languages:  # tree-sitter's SQL grammar is an optional extra
            self.language = "sql"

    def set_names(self, tables: list[str], columns: list[str]) -> None:
        """The table and column names that tab completes."""
        self.tables, self.columns = tables, columns

    def action_complete(self) -> None:
        """Complete the name before the cursor, or write the next candidate; with nothing to complete, focus on."""
        cycle = self._cycle
        if cycle is not None and self.selection.is_empty and self.cursor_location == self._end(cycle):
            cycle.index = (cycle.index + 1) % len(cycle.candidates)
            self._write(cycle)
            return
        self._cycle = None
        row, column = self.cursor_location
        before = self.document.get_line(row)[:column]
        word = _WORD_BEFORE.search(before)
        candidates = self._candidates(word.group(), before[: word.start()]) if word and self.selection.is_empty else []
        if not candidates:
            self.screen.focus_next()
            return
        self._cycle = _Cycle((row, word.start()), candidates, 0)
        self._write(self._cycle)

    def _candidates(self, prefix: str, before: str) -> list[str]:
        """Known names starting with `prefix` (any case), shortest first; tables first after FROM or JOIN."""
        groups = (self.tables, self.columns) if _TABLE_CONTEXT.search(before) else (self.columns, self.tables)
        found: dict[str, None] = {}
        for names in groups:
            found |= dict.fromkeys(sorted((name for name in names if name.lower().startswith(prefix.lower())),
                                          key=lambda name: (len(name), name.lower())))
        return list(found)

    def _end(self, cycle: _Cycle) -> tuple[int, int]:
        return cycle.start[0], cycle.start[1] + len(cycle.candidates[cycle.index])

    def _write(self, cycle: _Cycle) -> None:
        """Replace the name being completed by the cycle's current candidate."""
        self.replace(cycle.candidates[cycle.index], cycle.start, self.cursor_location,
                     maintain_selection_offset=False)
        self.post_message(self.Completed(cycle.candidates, cycle.index))

    def set_history(self, queries: list[str]) -> None:
        """The queries to step through, newest first; stepping starts again from the draft."""
        self.past_queries = queries
        self.position = -1

    def load(self, text: str) -> None:
        """Replace the text (from a saved query or the palette), cursor at its start."""
        self.position = -1
        self.draft = text
        self.load_text(text)
        self.move_cursor((0, 0))

    def step_history(self, step: int) -> None:
        """Show the query `step` places older (positive) or newer (negative) than the one shown."""
        position = max(-1, min(len(self.past_queries) - 1, self.position + step))
        if position == self.position:
            self.app.bell()
            return
        if self.position == -1:
            self.draft = self.text
        self.position = position
        self.load_text(self.draft if position == -1 else self.past_queries[position])
        self.move_cursor((0, 0))
