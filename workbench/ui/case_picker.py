"""Provides `CasePicker`: the app `workbench` runs without PATH or --case: the cases under the cases folder, last
opened first; Enter opens the case under the cursor (or the ones marked with Space, side by side).

It returns the chosen case names (None when the user quits); the workbench then opens them as `--case` would.
"""

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Footer, Static

from workbench.core.bounded import human_size
from workbench.core.case_index import summaries
from workbench.core.inert import visible

MARK = "✓"
COLUMNS = ((" ", "mark"), ("case", "name"), ("rows", "rows"), ("sign-ins", "sign_ins"), ("size", "size"),
           ("last opened", "last_opened"), ("tenants", "tenants"))


def _rows(case: dict) -> int:
    return case["events"] + case["sign_ins"] + case["directory_audits"]


def shown_path(path: Path) -> str:
    """A folder as a user reads it: relative to the current folder when inside it, else with `~` for home."""
    if path.is_relative_to(Path.cwd()):
        return str(path.relative_to(Path.cwd()))
    return f"~/{path.relative_to(Path.home())}" if path.is_relative_to(Path.home()) else str(path)


def _day(stamp: str | None) -> str:
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").strftime("%Y-%m-%d %H:%M") if stamp else "-"


class CasePicker(App[list[str] | None]):
    """The cases under `root` (as `read` summarises them: `case_index.summaries`) as a table; Enter opens, Space
    marks several, q quits."""

    CSS = """
    #picker-title { height: 1; text-style: bold; padding: 0 1; }
    #case-table { height: 1fr; }
    #case-info { height: 3; padding: 0 1; }
    """
    BINDINGS = [
        Binding("enter", "open", "Open", id="picker.open", priority=True),
        Binding("space", "mark", "Mark", id="picker.mark", tooltip="Mark several cases to open side by side"),
        Binding("q", "quit_picker", "Quit", id="picker.quit"),
        Binding("escape", "quit_picker", "Quit", id="picker.escape", show=False),
    ]

    def __init__(self, root: Path, read: Callable[[Path], list[dict]] = summaries) -> None:
        super().__init__()
        self.root, self.read = root.absolute(), read
        self.cases: list[dict] = []
        self.marked: set[str] = set()

    def compose(self) -> ComposeResult:
        yield Static(Text(visible(f"Cases in {shown_path(self.root)}: reading…")), id="picker-title")
        yield DataTable(id="case-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="case-info")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        self.read_cases()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def read_cases(self) -> None:
        """Summarise the cases off the UI thread (each reads its load report and tenants)."""
        cases = sorted(self.read(self.root), key=lambda case: case["last_opened"] or "", reverse=True)
        self.call_from_thread(self._show, cases)

    def _show(self, cases: list[dict]) -> None:
        self.cases = cases
        rows = [[Text(""), Text(visible(case["name"])), Text(f"{_rows(case):,}", justify="right"),
                 Text(f"{case['sign_ins']:,}", justify="right"), Text(human_size(case["size_bytes"]), justify="right"),
                 Text(_day(case["last_opened"])), Text(visible(", ".join(case["tenants"]) or "-"))] for case in cases]
        table = self.query_one(DataTable)
        for index, (label, key) in enumerate(COLUMNS):  # sized to the cells at once: no row drawn at an older width
            width = max([cell_len(label), *(row[index].cell_len for row in rows)])
            table.add_column(Text(label), key=key, width=width)
        for case, row in zip(cases, rows):
            table.add_row(*row, key=case["name"])
        where = shown_path(self.root)
        title = f"Cases in {where} ({len(cases)})" if cases else f"No cases in {where} yet"
        self.query_one("#picker-title", Static).update(Text(visible(title)))
        self._describe()

    def _describe(self) -> None:
        """What the case under the cursor holds and what the keys do."""
        table = self.query_one(DataTable)
        if not self.cases:
            text = "Load one: workbench PATH... (a file or folder of exported logs), e.g. workbench sample_logs"
        else:
            case = self.cases[table.cursor_row]
            inputs = ", ".join(Path(path).name for path in case["inputs"]) or "-"
            text = (f"{case['events']:,} audit log records · {case['sign_ins']:,} sign-ins · "
                    f"{case['directory_audits']:,} directory audits · {case['rejected']:,} rejected\ninputs: {inputs}\n"
                    "Enter opens it (or the marked cases, side by side) · Space marks · q quits")
        self.query_one("#case-info", Static).update(Text(visible(text, keep_newlines=True)))

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        if self.cases:
            self._describe()

    def action_mark(self) -> None:
        if not self.cases:
            return
        table = self.query_one(DataTable)
        name = self.cases[table.cursor_row]["name"]
        self.marked ^= {name}
        table.update_cell(name, "mark", Text(MARK if name in self.marked else "", style="bold"))

    def action_open(self) -> None:
        if not self.cases:
            return
        cursor = self.cases[self.query_one(DataTable).cursor_row]["name"]
        chosen = [case["name"] for case in self.cases if case["name"] in self.marked] or [cursor]
        self.exit(chosen)

    def action_quit_picker(self) -> None:
        self.exit(None)
