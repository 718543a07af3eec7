"""Provides what the drill-down screens do with an event's whole record: copy it (OSC 52) or write it to a file."""

import re
from pathlib import Path

from textual.app import App
from textual.screen import Screen

from workbench.core.bounded import human_size
from workbench.core.export import write_atomic
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.widgets.event_detail import ReadRecord

#: Bytes of record sent over OSC 52 at most: terminals and multiplexers drop or choke on much larger ones.
CLIPBOARD_LIMIT = 1_000_000


def copy_record(app: App, record: ReadRecord, write_hint: str = "w writes it to a file") -> str:
    """Copy the whole record to the clipboard when it is small enough; returns what happened, to tell the analyst."""
    if not record.text:
        return "this event's record is not in the case"
    if record.size > CLIPBOARD_LIMIT:
        return (f"the record is {human_size(record.size)}, too large for the clipboard (OSC 52 carries "
                f"{human_size(CLIPBOARD_LIMIT)} at most): {write_hint}")
    app.copy_to_clipboard(record.text)
    return "record copied to the clipboard (OSC 52)"


def default_path(record: ReadRecord) -> Path:
    """`record-<id>.json` in the working folder (the id's characters kept only where safe in a file name)."""
    return Path(f"record-{re.sub(r'[^A-Za-z0-9._-]', '_', record.record_id)[:80]}.json")


def write_record(screen: Screen, record: ReadRecord) -> None:
    """Ask where to write the whole record (as stored), then write it off the UI thread and say where it went."""
    app = screen.app

    def write(path: Path) -> None:
        try:
            write_atomic(path, lambda handle: handle.write(record.text or ""))
        except OSError as error:
            app.call_from_thread(app.notify, f"could not write the record: {error}", severity="error", markup=False)
            return
        app.call_from_thread(app.notify, f"wrote the record ({human_size(record.size)}) to {path}", markup=False)

    def chosen(answer: str | None) -> None:
        if answer and answer.strip():
            path = Path(answer.strip()).expanduser()
            screen.run_worker(lambda: write(path), thread=True, group="write-record", exit_on_error=False)

    app.push_screen(TextPrompt(f"Write the whole record ({human_size(record.size)}) to", str(default_path(record)),
                               suggested=True), chosen)
