"""Provides `SqlEditor`: the SQL text area (highlighted when Textual's SQL grammar is installed) with query history."""

from textual.widgets import TextArea


class SqlEditor(TextArea):
    """A multi-line SQL editor that steps through the case's past queries (the SQL screen binds the keys).

    Stepping back from the text being written keeps it as a draft; stepping forward past the newest
    query brings the draft back.
    """

    def __init__(self, text: str = "", *, placeholder: str = "", id: str | None = None) -> None:
        super().__init__(text, theme="css", soft_wrap=False, tab_behavior="focus", show_line_numbers=True,
                         placeholder=placeholder, id=id)
        self.past_queries: list[str] = []
        self.position = -1  # index into `past_queries`; -1 is the draft
        self.draft = text

    def on_mount(self) -> None:
        if "sql" in self.available_languages:  # tree-sitter's SQL grammar is an optional extra
            self.language = "sql"

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
