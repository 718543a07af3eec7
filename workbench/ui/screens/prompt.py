"""Provides `TextPrompt`: a modal asking for one line of text (note, tags, a time)."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line; Enter returns it, Esc returns None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "",
                 suggested: bool = False) -> None:
        """A `suggested` value is selected, so that typing replaces it; otherwise typing adds to it."""
        super().__init__()
        self.title_text, self.value, self.placeholder, self.hint = title, value, placeholder, hint
        self.suggested = suggested

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input", select_on_focus=self.suggested)
            yield Label(Text(self.hint), id="prompt-hint", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def show_problem(self, problem: str) -> None:
        """Keep the dialog open and say what is wrong."""
        self.query_one("#prompt-hint", Label).update(Text(problem, style="bold"))

    def action_cancel(self) -> None:
        self.dismiss(None)
