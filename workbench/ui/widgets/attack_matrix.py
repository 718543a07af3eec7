"""Provides `AttackMatrix`: the ATT&CK tactic x technique grid of hunt hits, drawn line by line with a cell cursor.

The column under the cursor is shown wide with technique names; the others share the rest of the
width, with names when there is room and only their counts when there is not, so all eleven tactics
stay on screen at 80 columns. The tactic header stays put while the cells scroll.
"""

from rich.cells import set_cell_size
from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from hunts import MatrixCell, MatrixColumn

WIDE_MIN = 28  # cells of the column under the cursor
NARROW_MAX = 16  # cells of any other column
NARROW_MIN = 4


def column_widths(width: int, count: int, focus: int) -> list[int]:
    """Widths (each including its one-cell separator) of `count` columns in `width` cells, `focus` widest."""
    if count <= 1:
        return [width] * count
    narrow = max(NARROW_MIN, min(NARROW_MAX, (width - WIDE_MIN) // (count - 1)))
    widths = [narrow] * count
    widths[focus] = max(WIDE_MIN, width - narrow * (count - 1))
    return widths


def cell_label(cell: MatrixCell) -> str:
    """The technique's name as shown in a cell: a sub-technique by its own name under its parent."""
    parent, _, sub = cell.technique.partition(": ")
    return f"› {sub}" if sub else parent


class AttackMatrix(ScrollView, can_focus=True):
    """The matrix of hits. Arrows move the cursor; `coverage` shows hunts per technique instead of hits.

    | Key | Action |
    | --- | --- |
    | ←/→ | previous / next tactic |
    | ↑/↓, PgUp/PgDn, Home/End | move within the tactic |
    """

    BINDINGS = [
        Binding("left", "move(-1, 0)", "Previous tactic", show=False),
        Binding("right", "move(1, 0)", "Next tactic", show=False),
        Binding("up", "move(0, -1)", "Up", show=False),
        Binding("down", "move(0, 1)", "Down", show=False),
        Binding("pageup", "move(0, -10)", "Page up", show=False),
        Binding("pagedown", "move(0, 10)", "Page down", show=False),
        Binding("home", "move(0, -1000)", "First technique", show=False),
        Binding("end", "move(0, 1000)", "Last technique", show=False),
    ]
    COMPONENT_CLASSES = {
        "attack-matrix--header", "attack-matrix--header-focus", "attack-matrix--separator", "attack-matrix--cursor",
        "attack-matrix--critical", "attack-matrix--high", "attack-matrix--medium", "attack-matrix--low",
        "attack-matrix--informational", "attack-matrix--quiet", "attack-matrix--no-hunt",
        "attack-matrix--covered", "attack-matrix--uncovered",
    }
    DEFAULT_CSS = """
    AttackMatrix { height: 1fr; overflow-x: hidden; overflow-y: auto; scrollbar-size-vertical: 1; }
    AttackMatrix > .attack-matrix--header { background: $primary-background; color: $text; }
    AttackMatrix > .attack-matrix--header-focus { background: $primary; color: $text; text-style: bold; }
    AttackMatrix > .attack-matrix--separator { color: $primary-muted; }
    AttackMatrix > .attack-matrix--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    AttackMatrix > .attack-matrix--critical { color: $text; background: $error; text-style: bold; }
    AttackMatrix > .attack-matrix--high { color: $error; text-style: bold; }
    AttackMatrix > .attack-matrix--medium { color: $warning; text-style: bold; }
    AttackMatrix > .attack-matrix--low { color: $accent; }
    AttackMatrix > .attack-matrix--informational { color: $secondary; }
    AttackMatrix > .attack-matrix--quiet { color: $text; }
    AttackMatrix > .attack-matrix--no-hunt { color: $text-disabled; }
    AttackMatrix > .attack-matrix--covered { color: $success; }
    AttackMatrix > .attack-matrix--uncovered { color: $text-disabled; }
    """

    class Highlighted(Message):
        """The cursor moved to `cell` under `column`."""

        def __init__(self, column: MatrixColumn, cell: MatrixCell) -> None:
            self.column, self.cell = column, cell
            super().__init__()

    coverage: reactive[bool] = reactive(False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[MatrixColumn] = []
        self.cursor = (0, 0)  # (column, row)

    def show(self, columns: list[MatrixColumn]) -> None:
        """Draw these columns, keeping the cursor where it was when it still fits."""
        self.columns = columns
        self.virtual_size = Size(self.size.width, max((len(c.cells) for c in columns), default=0) + 1)
        self.move_to(*self.cursor)

    @property
    def current(self) -> tuple[MatrixColumn, MatrixCell] | None:
        """The tactic and technique cell under the cursor."""
        if not self.columns or not self.columns[self.cursor[0]].cells:
            return None
        column = self.columns[self.cursor[0]]
        return column, column.cells[self.cursor[1]]

    def move_to(self, column: int, row: int) -> None:
        """Put the cursor on (column, row), clamped; keep it in view and say so."""
        if not self.columns:
            return
        column = max(0, min(column, len(self.columns) - 1))
        row = max(0, min(row, len(self.columns[column].cells) - 1))
        self.cursor = (column, row)
        visible_rows = max(1, self.scrollable_content_region.height - 1)
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= self.scroll_y + visible_rows:
            self.scroll_to(y=row - visible_rows + 1, animate=False, immediate=True)
        self.refresh()
        if self.current is not None:
            self.post_message(self.Highlighted(*self.current))

    def action_move(self, columns: int, rows: int) -> None:
        self.move_to(self.cursor[0] + columns, self.cursor[1] + rows)

    def watch_coverage(self) -> None:
        self.refresh()

    def on_resize(self) -> None:
        if self.columns:
            self.show(self.columns)

    # -- drawing ----------------------------------------------------------------------------------
    def _style(self, name: str):
        return self.get_component_rich_style(f"attack-matrix--{name}")

    def _cell_text(self, cell: MatrixCell, width: int) -> tuple[str, str]:
        """(text, style name) of one cell at `width` cells."""
        if self.coverage:
            count = len(cell.hunt_ids)
            number = f"{count:>3}" if count else "  –"
            kind = "covered" if count else "uncovered"
        else:
            number = f"{cell.hits:>3}" if cell.hits else "  ·"
            kind = cell.severity or ("quiet" if cell.has_hunt else "no-hunt")
        text = number if width < 9 else f"{number} {cell_label(cell)}"
        return set_cell_size(text, width), kind

    def legend(self) -> Text:
        """What the cell styles mean, each word in its own style."""
        kinds = (("covered", "has hunts"), ("uncovered", "no hunt")) if self.coverage else (
            ("critical", "critical"), ("high", "high"), ("medium", "medium"), ("low", "low"),
            ("informational", "info"), ("quiet", "hunted, no hits"), ("no-hunt", "no hunt"))
        legend = Text("legend:")
        for kind, label in kinds:
            legend.append(" ")
            legend.append(label, self._style(kind))
        return legend

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if not self.columns or width <= 0:
            return Strip.blank(width, self.rich_style)
        widths = column_widths(width, len(self.columns), self.cursor[0])
        separator = Segment("│", self._style("separator"))
        segments: list[Segment] = []
        row = y - 1 + self.scroll_offset.y
        for index, (column, column_width) in enumerate(zip(self.columns, widths)):
            inner = column_width - 1
            if y == 0:
                title = column.tactic.name if inner >= 8 else column.tactic.name[:inner]
                hits = sum(cell.hits for cell in column.cells)
                label = f"{title} ({hits})" if inner >= 20 and not self.coverage else title
                name = "header-focus" if index == self.cursor[0] else "header"
                segments.append(Segment(set_cell_size(label, inner), self._style(name)))
            elif row < len(column.cells):
                text, kind = self._cell_text(column.cells[row], inner)
                style = self._style(kind)
                if (index, row) == self.cursor:
                    style = self._style("cursor")
                segments.append(Segment(text, style))
            else:
                segments.append(Segment(" " * inner, self.rich_style))
            segments.append(separator)
        return Strip(segments).crop(0, width).extend_cell_length(width, self.rich_style)

    def on_click(self, event: events.Click) -> None:
        """Put the cursor on the clicked cell."""
        if not self.columns or event.y < 1:
            return
        widths = column_widths(self.scrollable_content_region.width, len(self.columns), self.cursor[0])
        left = 0
        for index, column_width in enumerate(widths):
            if event.x < left + column_width:
                self.move_to(index, event.y - 1 + self.scroll_offset.y)
                return
            left += column_width
