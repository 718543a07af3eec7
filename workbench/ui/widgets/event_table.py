"""Provides `EventTable`: a Line-API view over the events frame that renders only the visible rows.

No widget and no Python object per event: each repaint reads only the visible rows of the view
(cached per scroll position), so a million rows scroll as fast as a hundred.
"""

from dataclasses import dataclass

import polars as pl
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core.decode import summary
from workbench.ui.widgets.cells import cell, fit
from workbench.ui.view_state import EventsView


@dataclass(frozen=True)
class Column:
    """One table column: the frame column it shows (and sorts by), title, width bounds, flex weight."""

    key: str
    title: str
    width: int
    flex: int = 0
    min_total: int = 0  # shown only when the table is at least this wide
    several_cases: bool = False  # shown only when the view holds several cases


COLUMNS = (
    Column("flags", "flag", 6),
    Column("creation_time", "time (UTC)", 19),
    Column("source", "src", 6),
    Column("user_id", "user", 12, flex=3),
    Column("operation", "operation", 12, flex=3),
    Column("client_ip", "client IP", 15),
    Column("workload", "workload", 14, min_total=110),
    Column("object_id", "object / target", 8, flex=4),
    Column("case", "case", 8, flex=1, several_cases=True),
)
#: Columns a sort key (1..n) may choose, in order (the source column, added last, takes the last key).
SORTABLE = tuple(sorted((column for column in COLUMNS if column.key != "flags"), key=lambda column: column.key == "source"))
#: Characters of a text column read for a cell (the widest cell is narrower), and bytes of a JSON column
#: decoded for the object cell (a longer one, up to 50 MB in hostile logs, is not: the object id shows instead).
CELL_SOURCE = 1_000
SUMMARY_SOURCE = 64_000


def _cut(name: str) -> pl.Expr:
    return pl.col(name).cast(pl.String).str.slice(0, CELL_SOURCE)


def _small_json(name: str) -> pl.Expr:
    return pl.when(pl.col(name).str.len_bytes() <= SUMMARY_SOURCE).then(pl.col(name)).alias(name)


#: The frame columns a row of the table is made of, cut to what a cell can use before they reach Python.
FRAME_COLUMNS = (pl.col("record_id"), pl.col("creation_time"), pl.col("source"), _cut("user_id"), _cut("operation"), _cut("client_ip"),
                 _cut("workload"), _cut("object_id"), _small_json("item"), _small_json("affected_items"),
                 _small_json("parameters"), _cut("case"))


def layout(width: int, several_cases: bool = False) -> list[tuple[Column, int]]:
    """The columns shown at `width` cells and the width of each (one space between columns)."""
    shown = [column for column in COLUMNS
             if width >= column.min_total and (several_cases or not column.several_cases)]
    narrow_time = width < 100
    fixed = {column.key: (14 if narrow_time and column.key == "creation_time" else column.width) for column in shown}
    spare = width - sum(fixed.values()) - (len(shown) - 1)
    flexible = [column for column in shown if column.flex]
    weights = sum(column.flex for column in flexible)
    widths = dict(fixed)
    if spare > 0 and weights:
        for column in flexible:
            widths[column.key] += spare * column.flex // weights
    return [(column, max(1, widths[column.key])) for column in shown]


class EventTable(ScrollView, can_focus=True):
    """The events in view, one line each, with a cursor; the header line stays on top.

    | Key | Action |
    | :- | :- |
    | up/down, k/j | move the cursor |
    | pgup/pgdn, home/end | move by a page / to the ends |

    Flags: `*` marked, `N` note, `T` tags, `H` hunt hit, `$` client IP flagged as hosting by enrichment, `A` an IP,
    session or user agent marked as the attacker's (`a`: proposed, not accepted yet).
    """

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False, id="table.up"),
        Binding("down,j", "cursor(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "edge(0)", "First", show=False, id="table.first"),
        Binding("end", "edge(1)", "Last", show=False, id="table.last"),
    ]
    COMPONENT_CLASSES = {"event-table--header", "event-table--cursor", "event-table--marked", "event-table--flags"}
    DEFAULT_CSS = """
    EventTable { background: $surface; overflow-x: hidden; scrollbar-size-vertical: 1; }
    EventTable > .event-table--header { text-style: bold; background: $panel; color: $text; }
    EventTable > .event-table--cursor { background: $accent 60%; color: $text; }
    EventTable:blur > .event-table--cursor { background: $accent 30%; }
    EventTable > .event-table--marked { color: $warning; text-style: bold; }
    EventTable > .event-table--flags { color: $warning; }
    """

    cursor = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        """The cursor moved to another event (or the view changed under it)."""

        def __init__(self, index: int, record_id: str | None) -> None:
            self.index = index
            self.record_id = record_id
            super().__init__()

        @property
        def control(self) -> "EventTable":
            return self._sender  # type: ignore[return-value]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: EventsView | None = None
        self._page_key: tuple | None = None
        self._page: list[tuple[str, list[str]]] = []
        self._last_highlight: tuple[int, str | None] | None = None

    # -- data ---------------------------------------------------------------------------------
    def show(self, view: EventsView, keep_record: str | None = None) -> None:
        """Show `view` (after any change of it); the cursor stays on `keep_record` when it is still in view."""
        self.view = view
        self._page_key = None
        self.virtual_size = Size(self.scrollable_content_region.width, view.height + 1)
        index = self.cursor
        if keep_record is not None:
            found = view.index_of(keep_record, self._last_highlight[0] if self._last_highlight else None)
            index = found if found is not None else index
        self.move_to(index)
        self.refresh()

    @property
    def cursor_record(self) -> str | None:
        """The record id the cursor was last put on (kept across changes of the view)."""
        return self._last_highlight[1] if self._last_highlight else None

    @property
    def row_count(self) -> int:
        return 0 if self.view is None else self.view.height

    @property
    def page_height(self) -> int:
        """Rows visible below the header."""
        return max(1, self.scrollable_content_region.height - 1)

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
        record_id = None
        if self.view is not None and 0 <= index < self.row_count:
            record_id = self.view.page(index, 1)["record_id"][0]  # not `row`: its other fields may be 50 MB
        if self._last_highlight != (index, record_id):
            self._last_highlight = (index, record_id)
            self.post_message(self.Highlighted(index, record_id))

    def action_cursor(self, delta: int) -> None:
        self.move_to(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * self.page_height)

    def action_edge(self, end: int) -> None:
        self.move_to(self.row_count - 1 if end else 0)

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self.move_to(int(self.scroll_y) + event.y - 1)

    def on_resize(self, event: events.Resize) -> None:
        self._page_key = None
        self.virtual_size = Size(self.scrollable_content_region.width, self.row_count + 1)

    # -- rendering ----------------------------------------------------------------------------
    def _visible_rows(self, top: int, count: int, width: int) -> list[tuple[str, list[str]]]:
        """(record_id, cell texts) of rows top..top+count, made inert and fitted to the layout."""
        view = self.view
        key = (view.generation if view else -1, top, count, width)
        if key == self._page_key:
            return self._page
        columns = layout(width, view is not None and view.several_cases)
        narrow_time = columns[1][1] < 19
        rows = []
        if view is not None:
            page = view.page(top, count).select(FRAME_COLUMNS).rows()
            for record_id, time, source, user, operation, ip, workload, object_id, item, affected, parameters, case in page:
                values = {
                    "flags": view.flags(record_id, ip),
                    "creation_time": "" if time is None else time.strftime("%m-%d %H:%M:%S" if narrow_time else "%Y-%m-%d %H:%M:%S"),
                    "source": source or "",
                    "user_id": user or "",
                    "operation": operation or "",
                    "client_ip": ip or "",
                    "workload": workload or "",
                    "object_id": summary(object_id, item, affected, parameters),
                    "case": case or "",
                }
                rows.append((record_id, [cell(values[column.key], w) for column, w in columns]))
        self._page_key, self._page = key, rows
        return rows

    def _header(self, width: int) -> list[str]:
        sort = self.view.sort if self.view else None
        cells = []
        for column, w in layout(width, self.view is not None and self.view.several_cases):
            title = column.title
            if column.key != "flags":
                title = f"{SORTABLE.index(column) + 1}:{title}"
            if sort and sort[0] == column.key:
                title += " ▼" if sort[1] else " ▲"
            elif sort is None and column.key == "creation_time":
                title += " ▲"
            cells.append(fit(title, w))
        return cells

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("event-table--header")
            return Strip([Segment(" ".join(self._header(width)).ljust(width), style)], width)
        top = int(self.scroll_y)
        rows = self._visible_rows(top, self.page_height, width)
        offset = y - 1
        if offset >= len(rows):
            return Strip.blank(width, base)
        record_id, cells = rows[offset]
        style = base
        if self.view is not None and record_id in self.view.marks:
            style += self.get_component_rich_style("event-table--marked")
        if top + offset == self.cursor:
            style += self.get_component_rich_style("event-table--cursor")
        flag_style = style + self.get_component_rich_style("event-table--flags") + Style(bold=True)
        segments = [Segment(cells[0], flag_style), Segment(" " + " ".join(cells[1:]), style)]
        return Strip(segments).extend_cell_length(width, style).crop(0, width)
