"""Provides `FilterBar`: the one-line filter input with history (Up/Down) and a line for a bad term."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from workbench.core.inert import visible


class FilterBar(Vertical):
    """Type a filter, Enter applies it, Esc closes; Up/Down walk the case's filter history."""

    BINDINGS = [
        Binding("up", "history(1)", "Older filter", show=False, id="filter.older"),
        Binding("down", "history(-1)", "Newer filter", show=False, id="filter.newer"),
        Binding("escape", "cancel", "Close filter", id="filter.cancel"),
    ]
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > #filter-problem { color: $error; height: auto; }
    """

    class Applied(Message):
        """The analyst pressed Enter on a filter."""

        def __init__(self, text: str) -> None:
            self.text = text
            super().__init__()

    class Cancelled(Message):
        """The analyst closed the bar without applying."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.history: list[str] = []
        self.position = -1

    def compose(self) -> ComposeResult:
        yield Input(placeholder='op:HardDelete user:admin ip:1.2.3.4 after:2023-02-20 -op:UserLoggedIn "text"',
                    id="filter-input", select_on_focus=False)
        yield Static(Text(""), id="filter-problem")

    @property
    def input(self) -> Input:
        return self.query_one("#filter-input", Input)

    def open(self, text: str, history: list[str]) -> None:
        """Show the bar with the current filter and the history to walk."""
        self.history, self.position = history, -1
        self.remove_class("hidden")
        self.input.value = text
        self.input.cursor_position = len(text)
        self.show_problem("")
        self.screen.set_focus(self.input)  # at once, not after the keys already queued

    def close(self) -> None:
        """Hide the bar."""
        self.add_class("hidden")

    def show_problem(self, problem: str) -> None:
        """Say what is wrong with the filter (made inert)."""
        self.query_one("#filter-problem", Static).update(Text(visible(problem)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(self.Applied(event.value))

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.position = max(-1, min(len(self.history) - 1, self.position + step))
        value = self.history[self.position] if self.position >= 0 else ""
        self.input.value = value
        self.input.cursor_position = len(value)

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())
