"""Provides `TenantGrid`: a sweep's tenants x tactics grid of hits, drawn line by line with a cell cursor.

The first column names the tenant, the second counts all its hits, then one column per tactic (and
`IOC` for indicator hits); each count is the distinct records hit, coloured by the highest severity
among them as the ATT&CK matrix colours its cells. The header line and the `all tenants` line stay
put while the tenants scroll; the tactic columns share the width, so all of them stay on screen at 80
columns, with their names cut to fit as the matrix cuts them.
"""

from dataclasses import dataclass

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from workbench.core.inert import visible
from workbench.core.sweep_output import GridColumn

LABEL_MAX = 38  # cells of the tenant column: a tenant id (36) and a margin
LABEL_MIN = 12
COUNT_MIN = 4  # cells of a count column, without its separator
COUNT_MAX = 14
PINNED = 2  # the header line and the `all tenants` line


@dataclass(frozen=True)
class GridRow:
    """One line of the grid: a tenant (None: all tenants together), its label, and per column key its distinct
    records hit and highest severity (key None: the total)."""

    tenant: str | None
    label: str
    cells: dict[str | None, tuple[int, str]]


def grid_widths(width: int, counts: int) -> tuple[int, int]:
    """(label, count) widths, each including its one-cell separator, of a grid with `counts` count columns."""
    count = max(COUNT_MIN, min(COUNT_MAX, (width - LABEL_MAX) // max(1, counts) - 1)) + 1
    return max(LABEL_MIN, min(LABEL_MAX, width - count * counts)), count


def count_text(hits: int, width: int) -> str:
    """A count right-aligned in `width` cells, `·` for none and thousands as `k` when it does not fit."""
    if not hits:
        return "·".rjust(width)
    text = f"{hits:,}"
    if len(text) > width:
        text = f"{hits / 1000:.0f}k" if hits < 999_500 else f"{hits / 1_000_000:.0f}M"
    return text.rjust(width)


class TenantGrid(ScrollView, can_focus=True):
    """The grid of a sweep's hits. Arrows move the cursor: column 0 is the tenant, 1 its total, then the tactics.

    | Key | Action |
    | --- | --- |
    | ←/→ | previous / next column |
    | ↑/↓, PgUp/PgDn | previous / next tenant, a page at a time |
    | Home/End | first / last column |
    """

    BINDINGS = [
        Binding("left", "move(0, -1)", "Previous column", show=False),
        Binding("right", "move(0, 1)", "Next column", show=False),
        Binding("up", "move(-1, 0)", "Previous tenant", show=False),
        Binding("down", "move(1, 0)", "Next tenant", show=False),
        Binding("pageup", "move(-10, 0)", "Page up", show=False),
        Binding("pagedown", "move(10, 0)", "Page down", show=False),
        Binding("home", "move(0, -1000)", "Tenant column", show=False),
        Binding("end", "move(0, 1000)", "Last column", show=False),
    ]
    COMPONENT_CLASSES = {
        "tenant-grid--header", "tenant-grid--header-focus", "tenant-grid--separator", "tenant-grid--cursor",
        "tenant-grid--all", "tenant-grid--critical", "tenant-grid--high", "tenant-grid--medium", "tenant-grid--low",
        "tenant-grid--informational", "tenant-grid--quiet",
    }
    DEFAULT_CSS = """
    TenantGrid { height: 1fr; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    TenantGrid > .tenant-grid--header { background: $primary-background; color: $text; }
    TenantGrid > .tenant-grid--header-focus { background: $primary; color: $text; text-style: bold; }
    TenantGrid > .tenant-grid--separator { color: $primary-muted; }
    TenantGrid > .tenant-grid--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    TenantGrid > .tenant-grid--all { text-style: bold; }
    TenantGrid > .tenant-grid--critical { color: $text; background: $error; text-style: bold; }
    TenantGrid > .tenant-grid--high { color: $error; text-style: bold; }
    TenantGrid > .tenant-grid--medium { color: $warning; text-style: bold; }
    TenantGrid > .tenant-grid--low { color: $accent; }
    TenantGrid > .tenant-grid--informational { color: $secondary; }
    TenantGrid > .tenant-grid--quiet { color: $text-muted; }
    """

    class Highlighted(Message):
        """The cursor moved to `column` (None: the tenant or its total) of `row`."""

        def __init__(self, row: GridRow, column: GridColumn | None) -> None:
            self.row, self.column = row, column
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[GridColumn] = []
        self.rows: list[GridRow] = []  # the `all tenants` row first
        self.cursor = (0, 0)  # (row, column): column 0 the tenant, 1 the total, 2... the grid columns

    def show(self, columns: list[GridColumn], rows: list[GridRow], cursor: tuple[int, int] = (0, 0)) -> None:
        """Draw these rows (the `all tenants` row first) under these columns, the cursor at `cursor`."""
        self.columns, self.rows = columns, rows
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        self.move_to(*cursor)

    @property
    def current(self) -> tuple[GridRow, GridColumn | None] | None:
        """The row under the cursor and its grid column (None on the tenant or its total)."""
        if not self.rows:
            return None
        row, column = self.cursor
        return self.rows[row], self.columns[column - 2] if column >= 2 else None

    def current_hits(self) -> tuple[int, str | None]:
        """The distinct records hit in the cell under the cursor (the row's total on the tenant) and their highest
        severity."""
        if self.current is None:
            return 0, None
        row, column = self.current
        return row.cells.get(column.key if column else None, (0, None))

    def move_to(self, row: int, column: int) -> None:
        """Put the cursor on (row, column), clamped; keep it in view and say so."""
        if not self.rows:
            return
        row = max(0, min(row, len(self.rows) - 1))
        column = max(0, min(column, len(self.columns) + 1))
        self.cursor = (row, column)
        visible_rows = max(1, self.scrollable_content_region.height - PINNED)
        if row == 0:  # all tenants: the first tenants under it
            self.scroll_to(y=0, animate=False, immediate=True)
        elif row - 1 < self.scroll_y:  # tenants scroll under the pinned lines
            self.scroll_to(y=row - 1, animate=False, immediate=True)
        elif row - 1 >= self.scroll_y + visible_rows:
            self.scroll_to(y=row - visible_rows, animate=False, immediate=True)
        self.refresh()
        self.post_message(self.Highlighted(*self.current))

    def action_move(self, rows: int, columns: int) -> None:
        self.move_to(self.cursor[0] + rows, self.cursor[1] + columns)

    def on_resize(self) -> None:
        if self.rows:
            self.show(self.columns, self.rows, self.cursor)

    # -- drawing ----------------------------------------------------------------------------------
    def _style(self, name: str):
        return self.get_component_rich_style(f"tenant-grid--{name}")

    def legend(self) -> Text:
        """What the cell styles mean, each word in its own style."""
        legend = Text("legend:")
        for kind, label in (("critical", "critical"), ("high", "high"), ("medium", "medium"), ("low", "low"),
                            ("informational", "info"), ("quiet", "no hits")):
            legend.append(" ")
            legend.append(label, self._style(kind))
        return legend

    def _header(self, label_width: int, count_width: int) -> list[Segment]:
        focus = self.cursor[1]
        names = [f"tenants ({len(self.rows) - 1})", "all", *(column.name for column in self.columns)]
        segments = []
        for index, name in enumerate(names):
            inner = (label_width if index == 0 else count_width) - 1
            style = self._style("header-focus" if index == focus else "header")
            segments.append(Segment(set_cell_size(name, inner), style))
            segments.append(Segment("│", self._style("separator")))
        return segments

    def _row(self, index: int, label_width: int, count_width: int) -> list[Segment]:
        row = self.rows[index]
        keys = [None, *(column.key for column in self.columns)]
        name = visible(row.label)
        label = name if len(name) < label_width else name[:label_width - 2] + "…"
        texts = [(set_cell_size(label, label_width - 1), row.cells.get(None, (0, None))[1] or "quiet")]
        for key in keys:
            hits, severity = row.cells.get(key, (0, None))
            texts.append((count_text(hits, count_width - 1), severity or "quiet"))
        segments = []
        for column, (text, kind) in enumerate(texts):
            style = self._style(kind)
            if row.tenant is None:
                style += self._style("all")
            if (index, column) == self.cursor:
                style = self._style("cursor")
            segments.append(Segment(text, style))
            segments.append(Segment("│", self._style("separator")))
        return segments

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self.rows or width <= 0:
            return Strip.blank(width, self.rich_style)
        label_width, count_width = grid_widths(width, len(self.columns) + 1)
        if y == 0:
            segments = self._header(label_width, count_width)
        else:
            index = 0 if y == 1 else y - 1 + self.scroll_offset.y
            if index >= len(self.rows):
                return Strip.blank(width, self.rich_style)
            segments = self._row(index, label_width, count_width)
        return Strip(segments).crop(0, width).extend_cell_length(width, self.rich_style)

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked cell."""
        if not self.rows or event.y < 1:
            return
        label_width, count_width = grid_widths(self.scrollable_content_region.width, len(self.columns) + 1)
        column = 0 if event.x < label_width else 1 + (event.x - label_width) // count_width
        row = 0 if event.y == 1 else event.y - 1 + self.scroll_offset.y
        self.move_to(row, column)
