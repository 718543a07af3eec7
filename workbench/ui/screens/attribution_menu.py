"""Provides `AttributionMenu`: a modal asking which of the IP, session or user agent under the cursor to attribute."""

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from workbench.core.attribution import ATTACKER
from workbench.ui.attribution_marks import KIND_NAMES, LEGEND, PROPOSED, STATE_NAMES, Choice, Marks


class AttributionMenu(ModalScreen[Choice | None]):
    """The choices, each with its flag and state; Enter picks one, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="attribution_menu.cancel")]

    def __init__(self, choices: list[Choice], marks: Marks, verdict: str) -> None:
        super().__init__()
        self.choices, self.marks, self.verdict = choices, marks, verdict

    def compose(self) -> ComposeResult:
        title = ("Mark as the attacker's (or unmark)" if self.verdict == ATTACKER
                 else "Say it is not the attacker's (or forget that)")
        with Vertical(classes="dialog", id="attribution-menu"):
            yield Label(Text(title), classes="dialog-title")
            yield OptionList(*(Option(self._prompt(chosen), id=str(index))
                               for index, chosen in enumerate(self.choices)), id="attribution-choices")
            yield Static(Text(f"Enter picks · Esc cancels · {LEGEND}"), classes="dialog-hint")

    def _prompt(self, chosen: Choice) -> Text:
        state = self.marks.state(chosen.kind, chosen.values)
        text = self.marks.flag(chosen.kind, chosen.values)
        text.append(f" {KIND_NAMES[chosen.kind]:<10} ")
        text.append(chosen.shown)
        if state is not None:
            text.append(f"  ({'proposed' if state == PROPOSED else STATE_NAMES[state]})", style="dim")
        return text

    def on_option_list_option_selected(self, message: OptionList.OptionSelected) -> None:
        message.stop()
        self.dismiss(self.choices[int(message.option_id)])

    def action_cancel(self) -> None:
        self.dismiss(None)
