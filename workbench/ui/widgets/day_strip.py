"""Provides `DayStrip`: a timeline's per-day activity strip with hunt hits, the dormant gap, the lanes of sign-ins
and directory audits, and the log coverage per workload, one column per day, with a cursor day; it scrolls sideways when the range is wider than the screen."""

from datetime import date

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widget import Widget

from workbench.core.inert import visible
from workbench.core.timeline import Timeline, intensity_strip, month_labels

SEVERITY_MARK = {"critical": ("!", "bold red"), "high": ("!", "red"), "medium": ("+", "yellow"),
                 "low": ("+", "cyan"), "informational": ("·", "dim")}
DORMANT_STYLE = "on dark_red"
NARROW_LABEL, WIDE_LABEL = 18, 30
#: Shorter workload names for the labels of narrow screens.
SHORT_NAMES = {"AzureActiveDirectory": "AzureAD", " / ": "/"}


class DayStrip(Widget, can_focus=True):
    """The strip of one timeline.

    | Key | Action |
    | :- | :- |
    | left / right | previous / next day |
    | shift+left / shift+right | previous / next day with events |
    | home / end | first / last day |
    | enter | select the day (the screen opens its events) |
    """

    DEFAULT_CSS = "DayStrip { height: auto; padding: 0 1; } DayStrip:focus { background: $boost; }"
    BINDINGS = [
        Binding("left", "move(-1)", "Day before", id="strip.left", show=False),
        Binding("right", "move(1)", "Day after", id="strip.right", show=False),
        Binding("shift+left", "jump(-1)", "Active day before", id="strip.active_left", show=False),
        Binding("shift+right", "jump(1)", "Active day after", id="strip.active_right", show=False),
        Binding("home", "move_to(0)", "First day", id="strip.home", show=False),
        Binding("end", "move_to(-1)", "Last day", id="strip.end", show=False),
        Binding("enter", "select", "Day's events", id="strip.select"),
    ]

    class Moved(Message):
        """The cursor is on day `index` of the strip."""

        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    class Selected(Message):
        """Enter on day `index`."""

        def __init__(self, index: int) -> None:
            self.index = index
            super().__init__()

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.timeline: Timeline | None = None
        self.cursor = 0
        self.first_shown = 0

    def show(self, timeline: Timeline, cursor: int = 0) -> None:
        """Draw `timeline` with the cursor on day `cursor`."""
        self.timeline, self.first_shown = timeline, 0
        self.refresh(layout=True)
        self.move_to(cursor)

    @property
    def days(self) -> int:
        return 0 if self.timeline is None else self.timeline.days.height

    @property
    def label_width(self) -> int:
        names = ["hunt hits", *self._sources(), *(self.timeline.lanes if self.timeline is not None else ())]
        return min(WIDE_LABEL if self.size.width >= 120 else NARROW_LABEL, max(len(name) for name in names) + 1)

    @property
    def days_shown(self) -> int:
        """Days shown at once."""
        return max(10, self.content_size.width - self.label_width)

    def _sources(self) -> list[str]:
        """The coverage rows' labels (case and workload), shortened on narrow screens."""
        if self.timeline is None:
            return []
        names = [visible(source) for source in self.timeline.coverage["source"].to_list()]
        if self.size.width < 120:
            for long, short in SHORT_NAMES.items():
                names = [name.replace(long, short) for name in names]
        return names

    def get_content_height(self, container, viewport, width: int) -> int:
        return 0 if self.timeline is None else 4 + len(self.timeline.lanes) + len(self._sources())

    # -- moving -----------------------------------------------------------------------------------
    def move_to(self, index: int) -> None:
        """Put the cursor on day `index` (negative counts from the end), scrolling the window to keep it shown."""
        if not self.days:
            return
        self.cursor = max(0, min(self.days - 1, index % self.days if index < 0 else index))
        if self.cursor < self.first_shown:
            self.first_shown = self.cursor
        elif self.cursor >= self.first_shown + self.days_shown:
            self.first_shown = self.cursor - self.days_shown + 1
        self.first_shown = max(0, min(self.first_shown, self.days - self.days_shown))
        self.refresh()
        self.post_message(self.Moved(self.cursor))

    def action_move(self, step: int) -> None:
        self.move_to(max(0, self.cursor + step))

    def action_move_to(self, index: int) -> None:
        self.move_to(index)

    def action_jump(self, step: int) -> None:
        counts = self.timeline.days["events"].to_list() if self.timeline is not None else []
        index = self.cursor + step
        while 0 <= index < len(counts) and counts[index] == 0:
            index += step
        if 0 <= index < len(counts):
            self.move_to(index)

    def action_select(self) -> None:
        if self.days:
            self.post_message(self.Selected(self.cursor))

    def on_resize(self) -> None:
        if self.days:
            self.move_to(self.cursor)

    # -- drawing ----------------------------------------------------------------------------------
    def render(self) -> Text:
        timeline = self.timeline
        if timeline is None or not self.days:
            return Text("")
        label, begin = self.label_width, self.first_shown
        end = min(self.days, begin + self.days_shown)
        lines = [self._months(timeline.start, begin, end, label), self._activity(timeline, begin, end, label),
                 self._hits(timeline, begin, end, label),
                 *(self._row(lane, intensity_strip(counts)[begin:end], begin, label)
                   for lane, counts in timeline.lanes.items()),
                 Text("log coverage".ljust(label) + "(events per day and workload)", style="bold")]
        for source, counts in zip(self._sources(), timeline.coverage["counts"].to_list()):
            lines.append(self._row(source, intensity_strip(counts)[begin:end], begin, label))
        return Text("\n").join(lines)

    def _row(self, name: str, cells: Text | str, begin: int, label: int) -> Text:
        """A labelled row with the cursor day shown reversed."""
        row = Text(name[: label - 1].ljust(label)) + (cells if isinstance(cells, Text) else Text(cells))
        at = label + self.cursor - begin
        row.stylize("reverse", at, at + 1)
        return row

    def _months(self, start: date, begin: int, end: int, label: int) -> Text:
        """`Dec 2022` over the first day of each month shown, and over the first day of the window."""
        more = ("◀" if begin > 0 else " ") + ("▶" if end < self.days else " ")
        return Text(more.ljust(label) + month_labels(start, begin, end), style="dim")

    def _activity(self, timeline: Timeline, begin: int, end: int, label: int) -> Text:
        strip = Text(timeline.strip[begin:end])
        dormant = timeline.dormant
        if dormant and dormant["first_activity"]:
            low = max((dormant["created"].date() - timeline.start).days + 1, begin)
            high = min((dormant["first_activity"].date() - timeline.start).days, end)
            if low < high:
                strip.stylize(DORMANT_STYLE, low - begin, high - begin)
        return self._row("activity", strip, begin, label)

    def _hits(self, timeline: Timeline, begin: int, end: int, label: int) -> Text:
        marks = Text()
        for severity, hits in timeline.days.select("severity", "hits").slice(begin, end - begin).iter_rows():
            char, style = SEVERITY_MARK.get(severity, ("+", "")) if hits else (" ", "")
            marks.append(char, style=style)
        return self._row("hunt hits", marks, begin, label)
