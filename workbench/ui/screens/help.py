"""Provides `HelpScreen`: every key of the screen underneath and of the app, with what it does."""

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from workbench.ui.attribution_marks import LEGEND

FILTER_HELP = (
    "Filter syntax: op:HardDelete,SoftDelete  user:admin  ip:104.161.20.*  after:2023-02-20  "
    "before:2023-02-21T08:00  session:ID  workload:Exchange  type:ExchangeAdmin  status:failed  "
    "object:...  agent:...  app:\"outlook mobile\" (name or id)  source:signin  code:50126 (logon error code)  "
    "-op:UserLoggedIn (negation)  \"free text\" (subjects, parameters, object ids)"
)


def key_table(bindings: list[tuple[str, str]]) -> Table:
    """A two-column table of keys and descriptions."""
    table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("action", ratio=1)
    for key, description in bindings:
        table.add_row(Text(key), Text(description))
    return table


class HelpScreen(ModalScreen[None]):
    """The keys, in a scrollable dialog; Esc or ? closes it."""

    BINDINGS = [Binding("escape,question_mark,q", "close", "Close", id="help.close")]

    def __init__(self, bindings: list[tuple[str, str]]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-dialog"):
            yield Static(Text("Keys", style="bold"))
            yield Static(key_table(self.bindings))
            yield Static(Text("\n" + FILTER_HELP))
            yield Static(Text(f"\nAttacker's IPs, sessions and user agents (A marks, X says not theirs): {LEGEND}. "
                              "F8 shows what the attacker read, searched, downloaded, sent and deleted."))

    def action_close(self) -> None:
        self.dismiss(None)
