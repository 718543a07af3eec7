"""Provides `ResultTable`: a Line-API view over any query result frame that renders only the visible cells.

Like the events table it keeps no widget or Python object per row: each repaint slices the visible
rows out of the Polars frame. Columns get a width from their longest value (capped), the header
stays on top, and the view scrolls sideways when the columns are wider than the screen.
"""

import json
from datetime import date, datetime, time

import polars as pl
from rich.segment import Segment
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core.inert import visible
from workbench.ui.widgets.cells import fit

MAX_WIDTH = 40  # cells a column may take
WIDTH_SAMPLE = 200  # leading rows measured as shown (escapes make text longer than stored)
NULL = "∅"
SIDE_STEP = 8  # cells one left/right key scrolls


def cell_text(value: object) -> str:
    """One value as inert text on one line, as much as a cell shows: times in ISO form, nested values as JSON, NULL as ∅."""
    if value is None:
        return NULL
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S" + (".%f" if value.microsecond else ""))
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        value = json.dumps(value, default=str, ensure_ascii=False)
    return visible(str(value)[: MAX_WIDTH + 1])  # no cell is wider: a 50 MB value is not escaped whole


def cells_of(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with its text cut to what a cell can show, before it reaches Python (a value may be 50 MB)."""
    return frame.with_columns(pl.col(pl.String).str.slice(0, MAX_WIDTH + 1))


def column_widths(frame: pl.DataFrame) -> list[int]:
    """The width of each column: its title or its longest value as shown, whichever is longer, at most MAX_WIDTH.

    Plain columns are measured whole as stored; the leading rows are measured as shown, since escapes
    make text longer and times and nested values are shown differently from their stored form.
    """
    plain = [name for name, dtype in frame.schema.items() if not (dtype.is_nested() or dtype.is_temporal())]
    stored = frame.select(pl.col(plain).cast(pl.String, strict=False).str.len_chars().max()).row(0, named=True) \
        if plain and frame.height else {}
    sample = cells_of(frame.head(WIDTH_SAMPLE))
    widths = []
    for name in frame.columns:
        shown = max((len(cell_text(value)) for value in sample.get_column(name).to_list()), default=1)
        longest = max(shown, stored.get(name) or 1)
        widths.append(max(1, min(MAX_WIDTH, max(len(visible(name)), longest))))
    return widths


class ResultTable(ScrollView, can_focus=True):
    """A query's rows, one line each, with a cursor; the header line stays on top.

    | Key | Action |
    | :- | :- |
    | up/down, k/j | move the cursor |
    | pgup/pgdn, home/end | move by a page / to the ends |
    | left/right, h/l | scroll sideways |
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="results.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="results.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="results.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="results.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="results.first"),
        Binding("end", "edge(1)", "Last", show=False, id="results.last"),
        Binding("left,h", "side(-1)", "Scroll left", show=False, id="results.left"),
        Binding("right,l", "side(1)", "Scroll right", show=False, id="results.right"),
    ]
    COMPONENT_CLASSES = {"result-table--header", "result-table--cursor", "result-table--null"}
    DEFAULT_CSS = """
    ResultTable { background: $surface; scrollbar-size: 1 1; }
    ResultTable > .result-table--header { text-style: bold; background: $panel; color: $text; }
    ResultTable > .result-table--cursor { background: $accent 60%; color: $text; }
    ResultTable:blur > .result-table--cursor { background: $accent 30%; }
    ResultTable > .result-table--null { color: $text-muted; }
    """

    cursor = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another row."""

        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.frame = pl.DataFrame()
        self.widths: list[int] = []
        self._page_key: tuple | None = None
        self._page: list[list[tuple[str, bool]]] = []

    # -- data ---------------------------------------------------------------------------------
    def show(self, frame: pl.DataFrame) -> None:
        """Show a new result, cursor on its first row."""
        self.frame = frame
        self.widths = column_widths(frame)
        self._page_key = None
        self._resize_virtual()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.cursor = 0
        self.refresh()

    @property
    def row_count(self) -> int:
        return self.frame.height

    @property
    def line_width(self) -> int:
        return sum(self.widths) + max(0, len(self.widths) - 1)

    @property
    def page_height(self) -> int:
        """Rows visible below the header."""
        return max(1, self.scrollable_content_region.height - 1)

    def _resize_virtual(self) -> None:
        self.virtual_size = Size(self.line_width, self.row_count + 1)

    # -- cursor -------------------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        """Put the cursor on row `index` (clamped) and scroll it into view."""
        index = max(0, min(index, self.row_count - 1))
        top = int(self.scroll_y)
        if index < top:
            self.scroll_to(y=index, animate=False, immediate=True)
        elif index >= top + self.page_height:
            self.scroll_to(y=index - self.page_height + 1, animate=False, immediate=True)
        self.cursor = index

    def watch_cursor(self, index: int) -> None:
        self.refresh()
        self.post_message(self.Highlighted(index))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * self.page_height)

    def action_edge(self, end: int) -> None:
        self.move_to(self.row_count - 1 if end else 0)

    def action_side(self, direction: int) -> None:
        self.scroll_to(x=self.scroll_x + direction * SIDE_STEP, animate=False, immediate=True)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_to(int(self.scroll_y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._page_key = None
        self._resize_virtual()

    # -- rendering ----------------------------------------------------------------------------
    def _visible_rows(self, top: int, count: int) -> list[list[tuple[str, bool]]]:
        """(text, is NULL) of the cells of rows top..top+count, made inert and fitted to the column widths."""
        key = (id(self.frame), top, count)
        if key != self._page_key:
            page = cells_of(self.frame.slice(top, count)).rows()
            self._page = [[(fit(cell_text(value), w), value is None) for value, w in zip(row, self.widths)]
                          for row in page]
            self._page_key = key
        return self._page

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        left = int(self.scroll_x)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("result-table--header")
            titles = " ".join(fit(visible(name), w) for name, w in zip(self.frame.columns, self.widths))
            return Strip([Segment(titles, style)]).extend_cell_length(left + width, style).crop(left, left + width)
        top = int(self.scroll_y)
        rows = self._visible_rows(top, self.page_height)
        offset = y - 1
        if offset >= len(rows):
            return Strip.blank(width, base)
        style = base
        if top + offset == self.cursor:
            style += self.get_component_rich_style("result-table--cursor")
        null_style = style + self.get_component_rich_style("result-table--null")
        segments = []
        for index, (text, is_null) in enumerate(rows[offset]):
            if index:
                segments.append(Segment(" ", style))
            segments.append(Segment(text, null_style if is_null else style))
        return Strip(segments).extend_cell_length(left + width, style).crop(left, left + width)
