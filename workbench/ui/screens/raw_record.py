"""Provides `RawRecordScreen`: an event's whole original record, pretty-printed, paged through a screen at a time."""

import json
import re
import secrets

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from workbench.core.bounded import human_size, json_strings
from workbench.ui.record_actions import copy_record, write_record
from workbench.ui.widgets.event_detail import ReadRecord
from workbench.ui.widgets.text_pager import TextPager, inert_lines


#: Strings longer than this are left out of the re-indenting and put back as stored.
SPLICED = 4_096


def whole_text(text: str) -> tuple[str, str]:
    """The record as indented JSON, or as stored when it is not JSON or nested too deep to re-indent; and which.

    Long strings stand aside while the rest is decoded and re-indented, then go back as stored (JSON escapes
    and all): a 50 MB value is copied, never decoded or re-encoded, so the thread doing it keeps letting the
    UI thread run.
    """
    marker = f"\ue000{secrets.token_hex(8)}-"
    long = [span for span in json_strings(text) if span[1] - span[0] > SPLICED]
    if marker in text:
        long = []
    parts, done = [], 0
    for index, (start, end) in enumerate(long):
        parts += [text[done:start], f'"{marker}{index}"']
        done = end
    try:
        pretty = json.dumps(json.loads("".join(parts) + text[done:]), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return text, "as stored"
    pieces = re.split(f'"{re.escape(marker)}(\\d+)"', pretty)
    for position in range(1, len(pieces), 2):
        start, end = long[int(pieces[position])]
        pieces[position] = text[start:end]
    return "".join(pieces), "pretty-printed JSON"


class RawRecordScreen(Screen[None]):
    """The whole record, nothing cut: prepared off the UI thread, then shown a screen of lines at a time.

    | Key | Action |
    | :- | :- |
    | up/down, pgup/pgdn, home/end | scroll and page |
    | c | copy the record to the clipboard (OSC 52), when small enough |
    | w | write the record to a file |
    | Esc | back |
    """

    BINDINGS = [
        Binding("escape", "close", "Back", id="raw.close"),
        Binding("c", "copy", "Copy", id="raw.copy"),
        Binding("w", "write", "Save", id="raw.write"),
    ]
    DEFAULT_CSS = """
    RawRecordScreen #raw-title { height: 1; background: $primary-background; padding: 0 1; }
    RawRecordScreen TextPager { height: 1fr; }
    """

    def __init__(self, record: ReadRecord) -> None:
        super().__init__()
        self.record = record
        self.form = "preparing…"

    def compose(self) -> ComposeResult:
        yield Static(self._title(), id="raw-title")
        yield TextPager(id="raw-text")
        yield Footer(show_command_palette=False)

    def _title(self) -> Text:
        title = f"Whole record · {human_size(self.record.size)} · {self.form}"
        pagers = self.query(TextPager)  # none while composing
        if pagers and pagers.first().text:
            pager = pagers.first()
            first, last = pager.lines_in_view
            title += f" · lines {first:,}-{last:,} of {pager.line_count:,}"
        return Text(title, style="bold")

    def on_mount(self) -> None:
        self.query_one(TextPager).focus()
        self.prepare(self.record.text or "")

    @work(thread=True, exclusive=True, group="raw-record", exit_on_error=False, description="prepare the record")
    def prepare(self, text: str) -> None:
        """Indent the record and make it inert, off the UI thread."""
        whole, form = whole_text(text)
        inert = inert_lines(whole)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._prepared, inert, form)

    def _prepared(self, inert: str, form: str) -> None:
        self.form = form
        self.query_one(TextPager).show(inert)

    def on_text_pager_moved(self) -> None:
        self.query_one("#raw-title", Static).update(self._title())

    def action_close(self) -> None:
        self.dismiss(None)

    def action_copy(self) -> None:
        self.notify(copy_record(self.app, self.record), markup=False)

    def action_write(self) -> None:
        write_record(self, self.record)
