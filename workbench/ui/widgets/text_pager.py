"""Provides `TextPager`: a text of any length shown a screen at a time, without a widget or a string per line.

The text is held once; an index of where each wrapped line starts (built off the UI thread) lets a
repaint cut out just the lines in view. A 50 MB one-line record is 300,000 lines of 160 characters,
paged as fast as a short one.
"""

from array import array

from rich.segment import Segment
from textual import work
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.worker import get_current_worker

from workbench.core.bounded import PIECE
from workbench.core.inert import visible


def inert_lines(text: str) -> str:
    """`text` with every control, format and zero-width character escaped visibly, newlines kept; a `PIECE` at a
    time, so that the thread doing it never holds up the UI thread for long.

    `text` itself when nothing needed escaping (the usual case): a 100 MB copy holds the interpreter
    for about 0.1 s, time a key would wait, and the pieces are only kept when they are needed.
    """
    starts = range(0, len(text), PIECE)
    if all(len(_inert(text[start:start + PIECE])) == min(PIECE, len(text) - start) for start in starts):
        return text  # escapes only ever lengthen a piece
    return "".join(_inert(text[start:start + PIECE]) for start in starts)


def _inert(piece: str) -> str:
    return "\n".join(visible(line) for line in piece.split("\n"))


def line_starts(text: str, width: int) -> array:
    """Where each line of `text` starts once lines longer than `width` characters are wrapped."""
    starts = array("q")
    position = 0
    while True:
        end = text.find("\n", position)
        stop = len(text) if end < 0 else end
        starts.extend(range(position, max(stop, position + 1), width))
        if end < 0:
            return starts
        position = end + 1


class TextPager(ScrollView, can_focus=True):
    """A long inert text, wrapped at the widget's width, scrolled and paged by line.

    The scrollbar is always there, so that the width the lines are wrapped at never changes under them.

    | Key | Action |
    | :- | :- |
    | up/down | a line |
    | pgup/pgdn | a page |
    | home/end | the start / the end |
    """

    BINDINGS = [
        Binding("up", "scroll_by(-1)", "Up", show=False, id="pager.up"),
        Binding("down", "scroll_by(1)", "Down", show=False, id="pager.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="pager.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="pager.page_down"),
        Binding("home", "scroll_by(-1e12)", "Start", show=False, id="pager.start"),
        Binding("end", "scroll_by(1e12)", "End", show=False, id="pager.end"),
    ]
    DEFAULT_CSS = """
    TextPager {
        background: $surface; overflow-x: hidden; overflow-y: scroll; scrollbar-size-vertical: 1; padding: 0 1;
    }
    """

    class Moved(Message):
        """The lines in view changed (scrolled, or the text indexed anew)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = ""
        self.starts = array("q", [0])
        self.chars = 1  # characters per line of the index in use
        self._wanted = ""  # the text asked for, shown once indexed

    @property
    def line_count(self) -> int:
        """Lines of the text as wrapped now."""
        return len(self.starts)

    def show(self, text: str) -> None:
        """Show `text` (already made inert, e.g. by `inert_lines`) once its lines are indexed, off the UI thread."""
        self._wanted = text
        self.reindex(text, self.scrollable_content_region.width)

    def on_resize(self) -> None:
        if self._wanted:
            self.reindex(self._wanted, self.scrollable_content_region.width)

    @work(thread=True, exclusive=True, group="pager-index", exit_on_error=False, description="index the lines")
    def reindex(self, text: str, width: int) -> None:
        """Index the lines of `text` wrapped at `width` cells."""
        chars = max(1, width if text.isascii() else width // 2)  # a wide character takes two cells
        starts = line_starts(text, chars)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._indexed, text, chars, starts)

    def _indexed(self, text: str, chars: int, starts: array) -> None:
        if text is not self._wanted:
            return
        self.text, self.chars, self.starts = text, chars, starts
        self.virtual_size = Size(self.scrollable_content_region.width, len(starts))
        self.refresh()
        self.post_message(self.Moved())

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if round(old_value) != round(new_value):
            self.post_message(self.Moved())

    @property
    def lines_in_view(self) -> tuple[int, int]:
        """The first and last line in view, counted from 1."""
        top = int(self.scroll_y)
        return top + 1, min(self.line_count, top + self.scrollable_content_region.height)

    def action_scroll_by(self, lines: float) -> None:
        self.scroll_to(y=max(0, min(self.max_scroll_y, self.scroll_y + lines)), animate=False)

    def action_page(self, direction: int) -> None:
        self.action_scroll_by(direction * max(1, self.scrollable_content_region.height - 1))

    def line(self, index: int) -> str:
        """Line `index` of the text as wrapped."""
        start = self.starts[index]
        return self.text[start:start + self.chars].split("\n", 1)[0]

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_y) + y
        if index >= len(self.starts):
            return Strip.blank(width, self.rich_style)
        style = self.rich_style
        return Strip([Segment(self.line(index), style)]).extend_cell_length(width, style).crop(0, width)
