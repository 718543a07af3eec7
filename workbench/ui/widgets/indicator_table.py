"""Provides `IndicatorTable`: the shared indicators of the correlate view, best first, all text inert."""

import polars as pl
from rich.text import Text
from textual.widgets import DataTable

from workbench.core.inert import visible
from workbench.ui.attribution_marks import Marks

FIXED = 3 + 12 + 6 + 5 + 2 * 6 + 2  # att, kind, events and score columns, cell padding, the scrollbar
#: The kinds of indicator that can be attributed to the attacker.
ATTRIBUTABLE = ("ip", "session", "user_agent")


class IndicatorTable(DataTable):
    """One row per shared indicator: whether it is the attacker's (`att`, attribution_marks.py), kind, value, the
    cases (or tenants) showing it, events, score."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.indicators: list[dict] = []
        self.marks = Marks()

    def _columns(self, labels: list[str]) -> None:
        """Value and cases columns sharing the width the others leave (cases as wide as its longest label)."""
        room = max(30, self.size.width - FIXED)
        cases = min(max((len(label) for label in labels), default=5), room // 2)
        self.clear(columns=True)
        self.add_column(Text("att"), key="attribution", width=3)
        self.add_column(Text("kind"), key="kind", width=12)
        self.add_column(Text("value"), key="value", width=room - cases)
        self.add_column(Text("cases"), key="cases", width=cases)
        self.add_column(Text("events", justify="right"), key="events", width=6)
        self.add_column(Text("score", justify="right"), key="score", width=5)

    def show(self, frame: pl.DataFrame, labels: dict[str, str]) -> None:
        """List the rows of `frame` (a `correlate` result); `labels` names the cases or tenants."""
        self.indicators = frame.to_dicts()
        shown = [visible(", ".join(labels.get(case, case) for case in row["cases"])) for row in self.indicators]
        self._columns(shown)
        for index, row in enumerate(self.indicators):
            kind = row["kind"] + (" ⚑" if row.get("hosting") else "")
            self.add_row(
                self.flag(row), Text(kind), Text(visible(row["value"]), overflow="ellipsis", no_wrap=True),
                Text(shown[index], overflow="ellipsis", no_wrap=True), Text(str(row["events"]), justify="right"),
                Text(f"{row['score']:.1f}", justify="right"), key=str(index),
            )

    def flag(self, row: dict) -> Text:
        """The attribution flag of an indicator (user agents are compared without Exchange's `Client=…;`)."""
        if row["kind"] == "user_agent":
            return self.marks.agent_flag(row["value"])
        return self.marks.flag(row["kind"], [row["value"]]) if row["kind"] in ATTRIBUTABLE else Text(" ")

    def show_marks(self, marks: Marks) -> None:
        """Flag the listed indicators by `marks`."""
        self.marks = marks
        for index, row in enumerate(self.indicators):
            self.update_cell(str(index), "attribution", self.flag(row))

    @property
    def current(self) -> dict | None:
        """The indicator under the cursor."""
        if not self.indicators or not 0 <= self.cursor_row < len(self.indicators):
            return None
        return self.indicators[self.cursor_row]
