"""Provides `DetailScreen`: one event's drill-down full screen, searchable; the whole record copied, paged or saved."""

import re

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input, Static

from workbench.core.bounded import human_size
from workbench.core.inert import visible
from workbench.ui.record_actions import copy_record, write_record
from workbench.ui.screens.raw_record import RawRecordScreen
from workbench.ui.widgets.event_detail import EventDetail, ReadRecord


def find_all(text: str, needle: str) -> list[int]:
    """Start offsets of every case-insensitive occurrence of `needle` in `text`."""
    if not needle:
        return []
    return [match.start() for match in re.finditer(re.escape(needle), text, re.IGNORECASE)]


class DetailScreen(Screen[None]):
    """The drill-down of one event over the whole terminal.

    | Key | Action |
    | :- | :- |
    | / | search the record |
    | n / N | next / previous match |
    | c | copy the record (JSON) to the clipboard (OSC 52), when small enough |
    | r | the whole record, nothing cut, paged |
    | w | write the whole record to a file |
    | Esc | back to the events |
    """

    BINDINGS = [
        Binding("escape", "close", "Back", id="detail.close"),
        Binding("slash", "search", "Search", id="detail.search"),
        Binding("n", "next_match(1)", "Next match", id="detail.next"),
        Binding("N", "next_match(-1)", "Prev match", id="detail.previous", show=False),
        Binding("c", "copy", "Copy", id="detail.copy"),
        Binding("r", "raw", "Raw", id="detail.raw"),
        Binding("w", "write", "Save", id="detail.write"),
    ]

    def __init__(self, text: Text, record: ReadRecord) -> None:
        super().__init__()
        self.text, self.record = text, record
        self.matches: list[int] = []
        self.current = -1

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="detail-title")
        yield EventDetail(id="detail-full")
        yield Input(placeholder="search the record (Enter: find, Esc: close)", id="detail-search", classes="hidden")
        yield Footer(show_command_palette=False)

    def _title(self, extra: str = "") -> Text:
        if self.record.cut:
            extra += f" · record of {human_size(self.record.size)}, long values cut: r shows it whole"
        return Text(f"Event{extra}", style="bold")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in {"copy", "raw", "write"} and not self.record.text:
            return None
        return True

    def on_mount(self) -> None:
        detail = self.query_one(EventDetail)
        detail.show_text(self.text)
        detail.focus()

    def action_close(self) -> None:
        search = self.query_one("#detail-search", Input)
        if not search.has_class("hidden"):
            search.add_class("hidden")
            self.query_one(EventDetail).focus()
            return
        self.dismiss(None)

    def action_search(self) -> None:
        search = self.query_one("#detail-search", Input)
        search.remove_class("hidden")
        search.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.search(event.value)
        event.input.add_class("hidden")
        self.query_one(EventDetail).focus()

    def search(self, needle: str) -> int:
        """Highlight every match of `needle`, scroll to the first; returns the number of matches."""
        self.matches = find_all(self.text.plain, needle)
        highlighted = self.text.copy()
        for start in self.matches:
            highlighted.stylize("reverse", start, start + len(needle))
        self.query_one(EventDetail).show_text(highlighted)
        self.current = -1
        if self.matches:
            self.action_next_match(1)
        title = self._title(f" · {len(self.matches)} matches for {visible(needle)}")
        self.query_one("#detail-title", Static).update(title)
        return len(self.matches)

    def action_next_match(self, step: int) -> None:
        if not self.matches:
            return
        self.current = (self.current + step) % len(self.matches)
        line = self.text.plain.count("\n", 0, self.matches[self.current])
        self.query_one(EventDetail).scroll_to(y=max(0, line - 2), animate=False)

    def action_copy(self) -> None:
        self.notify(copy_record(self.app, self.record), markup=False)

    def action_raw(self) -> None:
        self.app.push_screen(RawRecordScreen(self.record))

    def action_write(self) -> None:
        write_record(self, self.record)
