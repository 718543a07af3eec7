"""Provides `ExportDialog`: asks where to export and whether the marked events or all in view."""

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, RadioButton, RadioSet

from workbench.core.export import event_format_for_path


@dataclass(frozen=True)
class ExportRequest:
    """Where to write and what: only marked events, or all events in view."""

    path: Path
    marked_only: bool


class ExportDialog(ModalScreen[ExportRequest | None]):
    """The export modal: a path (its ending picks CSV, JSON, JSON Lines, Excel or Timesketch) and the scope."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="export.cancel")]

    def __init__(self, default_path: Path, marked: int, in_view: int) -> None:
        super().__init__()
        self.default_path, self.marked, self.in_view = default_path, marked, in_view

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="export-dialog"):
            yield Label(Text("Export events"), classes="dialog-title")
            with RadioSet(id="export-scope"):
                yield RadioButton(f"marked events ({self.marked:,})", value=self.marked > 0, id="scope-marked")
                yield RadioButton(f"all events in view ({self.in_view:,})", value=self.marked == 0, id="scope-view")
            yield Label(Text("File (.csv .json .jsonl .xlsx .timesketch.csv .timesketch.jsonl):"))
            yield Input(str(self.default_path), id="export-path", select_on_focus=False)
            yield Label(Text("Enter writes the file, Esc cancels."), id="export-hint", classes="dialog-hint")

    def on_mount(self) -> None:
        self.query_one("#export-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = Path(event.value.strip()).expanduser()
        try:
            event_format_for_path(path)
        except ValueError as error:
            self.query_one("#export-hint", Label).update(Text(str(error), style="bold"))
            return
        marked_only = self.query_one("#scope-marked", RadioButton).value
        self.dismiss(ExportRequest(path, marked_only))

    def action_cancel(self) -> None:
        self.dismiss(None)
