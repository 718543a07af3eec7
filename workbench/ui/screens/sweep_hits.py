"""Provides `TenantHitsScreen` (a sweep's hits of one tenant, or of one grid cell) and `HitDetailScreen` (one hit in
full); `o` on either opens the tenant's case when it is local."""

from datetime import datetime

import polars as pl
from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from workbench.core.inert import visible
from workbench.core.sweep_output import GridColumn, SweepOutput
from workbench.ui.widgets.cells import cell

#: (heading, hit column, width) of the hits table; the tenant column only when the hits are of several tenants.
#: The hunt and why columns (width 0 here) share what the others leave of the screen.
HIT_COLUMNS = (("severity", "severity", 8), ("time (UTC)", "creation_time", 16), ("tenant", "tenant", 13),
               ("hunt", "title", 0), ("user", "user_id", 24), ("operation", "operation", 22),
               ("IP", "client_ip", 15), ("why", "why", 0))
TITLE_WIDTHS = (30, 48)  # the hunt column's least and most
WHY_MIN = 30
KIND_NAMES = {"hunt": "hunt", "sigma": "Sigma rule", "ioc": "indicator"}
#: The most hits a list shows (most severe first); a sweep's every hit is in its hits.csv.
SHOWN_MAX = 5000
SEVERITY_STYLES = {"critical": "bold reverse red", "high": "bold red", "medium": "bold yellow", "low": "cyan"}


def plural(count: int, word: str) -> str:
    """`1 event`, `2 events`."""
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def shown_time(when: datetime | None) -> str:
    """A hit's time to the minute (UTC), `-` when unknown."""
    return "-" if when is None else f"{when:%Y-%m-%d %H:%M}"


def fitted_columns(width: int, several_tenants: bool) -> list[tuple[str, str, int]]:
    """The hits table's (heading, key, width) for a screen `width` wide: the tenant only for several tenants, the
    hunt and why columns sharing the rest (each cell padded by one on either side, one cell for the scrollbar)."""
    columns = [column for column in HIT_COLUMNS if column[1] != "tenant" or several_tenants]
    left = width - 1 - sum(fixed + 2 for _heading, _key, fixed in columns)
    title = max(TITLE_WIDTHS[0], min(TITLE_WIDTHS[1], left // 2))
    sized = {"title": title, "why": max(WHY_MIN, left - title)}
    return [(heading, key, sized.get(key, fixed)) for heading, key, fixed in columns]


def hit_title(hit: dict) -> str:
    """A hit as listed: its hunt's or rule's title, `IOC` and the indicator for an indicator hit."""
    title = hit["title"] or hit["hunt_id"] or "-"
    return f"IOC {title}" if hit["kind"] == "ioc" else title


def hit_scope(tenant: str | None, column: GridColumn | None) -> str:
    """What a hits list shows: `tenant T › Persistence`, `all tenants`."""
    who = "all tenants" if tenant is None else f"tenant {tenant}"
    return who if column is None else f"{who} › {column.name}"


class TenantHitsScreen(Screen[None]):
    """The hits of a tenant (or of every tenant) in one grid column or all, highest severity first, the hit under
    the cursor explained below; Enter shows it whole."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="sweep_hits.back"),
        Binding("enter", "detail", "Detail", id="sweep_hits.detail"),
        Binding("o", "open_case", "Open case", id="sweep_hits.open_case",
                tooltip="Open the tenant's case at this hit's event, when the case is in the local cases folder"),
    ]

    def __init__(self, sweep: SweepOutput, tenant: str | None, column: GridColumn | None) -> None:
        super().__init__()
        self.sweep, self.tenant, self.column = sweep, tenant, column
        self.hits = sweep.tenant_hits(tenant, column.key if column else None)
        self.rows: list[dict] = self.hits.head(SHOWN_MAX).drop("techniques", "columns").to_dicts()
        self.fitted_width = 0

    def compose(self) -> ComposeResult:
        records = self.hits.select(pl.struct("tenant", "source", "record_id").n_unique()).item()
        header = (f"{hit_scope(self.tenant, self.column)}: {plural(self.hits.height, 'hit')} "
                  f"on {plural(records, 'event')}")
        if self.hits.height > SHOWN_MAX:
            header += f", the {SHOWN_MAX:,} most severe shown (all in hits.csv)"
        yield Static(Text(visible(header)), id="hits-header")
        yield DataTable(id="hit-table", cursor_type="row", zebra_stripes=True)
        yield Static(Text(""), id="hit-info")
        yield Static(Text("↑↓ hit  Enter detail  o open the tenant's case  Esc grid"), id="hits-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.fill(self.size.width)
        self.query_one(DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width, the cursor staying on its hit."""
        if event.size.width != self.fitted_width:
            self.fill(event.size.width)

    def fill(self, screen_width: int) -> None:
        """The table's columns fitted to `screen_width` and a row per hit shown."""
        self.fitted_width = screen_width
        table = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        columns = fitted_columns(screen_width, several_tenants=self.tenant is None)
        for heading, key, width in columns:
            table.add_column(Text(heading), key=key, width=width)
        for row in self.rows:
            values = []
            for _heading, key, width in columns:
                if key == "creation_time":
                    values.append(Text(shown_time(row[key])))
                elif key == "title":
                    values.append(Text(cell(hit_title(row), width)))
                else:
                    values.append(Text(cell(row[key] or "", width), style=SEVERITY_STYLES.get(row[key], "")
                                       if key == "severity" else ""))
            table.add_row(*values)
        if 0 < cursor < len(self.rows):
            table.move_cursor(row=cursor)

    def say(self, message: str) -> None:
        """Put `message` (made inert) in the status line."""
        self.query_one("#hits-status", Static).update(Text(visible(message)))

    @property
    def current(self) -> dict | None:
        """The hit under the cursor."""
        table = self.query_one(DataTable)
        return self.rows[table.cursor_row] if self.rows and 0 <= table.cursor_row < len(self.rows) else None

    def on_data_table_row_highlighted(self, message: DataTable.RowHighlighted) -> None:
        hit = self.current
        if hit is None:
            return
        text = Text()
        text.append(visible(hit_title(hit)), style="bold")
        text.append(visible(f" · {hit['severity']}") + "\n")
        text.append(visible(f"{KIND_NAMES.get(hit['kind'], hit['kind'])} {hit['hunt_id']}") + "\n")
        text.append(visible(f"tenant {hit['tenant']} · {hit['source']} {hit['record_id']}") + "\n")
        text.append("why: ", style="bold")
        text.append(visible(hit["why"] or "-"))
        self.query_one("#hit-info", Static).update(text)

    def on_data_table_row_selected(self, message: DataTable.RowSelected) -> None:
        message.stop()
        self.action_detail()

    def action_detail(self) -> None:
        if self.current is not None:
            self.app.push_screen(HitDetailScreen(self.current, self.sweep.hits))

    def action_back(self) -> None:
        self.dismiss()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in {"detail", "open_case"}:
            return True if self.current is not None else None
        return True

    def action_open_case(self) -> None:
        if self.current is not None:
            self.say(self.app.open_case(self.current["tenant"], self.current))


def hit_fields(hit: dict, techniques: list[dict]) -> list[tuple[str, str]]:
    """(label, value) of every field of one hit, in the order a responder reads them; ATT&CK only when it names a
    tactic, its other pairs only when it has several."""
    what = KIND_NAMES.get(hit["kind"], "hunt")
    fields = [(what, hit["title"] or "-"), ("id", hit["hunt_id"] or "-"), ("severity", hit["severity"] or "-")]
    if hit["tactic_id"]:
        fields.append(("ATT&CK", f"{hit['tactic_id']} {hit['tactic'] or ''} › {hit['technique_id'] or '-'} "
                                 f"{hit['technique'] or ''}"))
    if len(techniques) > 1:
        fields.append(("all pairs", "; ".join(f"{pair['tactic_id']} {pair['technique_id']}" for pair in techniques)))
    time = "-" if hit["creation_time"] is None else f"{hit['creation_time']:%Y-%m-%d %H:%M:%S}"
    return [*fields, ("tenant", hit["tenant"]), ("case", hit["case"] or "-"), ("source", hit["source"] or "-"),
            ("record id", hit["record_id"] or "-"), ("time (UTC)", time), ("user", hit["user_id"] or "-"),
            ("operation", hit["operation"] or "-"), ("client IP", hit["client_ip"] or "-"), ("why", hit["why"] or "-")]


class HitDetailScreen(Screen[None]):
    """One hit over the whole screen: every field, the why wrapped; Esc goes back to the list."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="sweep_hit.back"),
        Binding("o", "open_case", "Open case", id="sweep_hit.open_case",
                tooltip="Open the tenant's case at this hit's event, when the case is in the local cases folder"),
    ]

    def __init__(self, hit: dict, hits: pl.DataFrame) -> None:
        super().__init__()
        self.hit = hit
        same = hits.filter((pl.col("tenant") == hit["tenant"]) & (pl.col("hunt_id") == hit["hunt_id"])
                           & (pl.col("source") == hit["source"]) & (pl.col("record_id") == hit["record_id"]))
        self.techniques = same["techniques"].item(0) if same.height else []

    def compose(self) -> ComposeResult:
        yield Static(Text(visible(f"hit: {hit_title(self.hit)}")), id="hit-title")
        with VerticalScroll(id="hit-detail-scroll"):
            yield Static(self._fields(), id="hit-detail")
        yield Static(Text("Esc back  o open the tenant's case"), id="hit-status")
        yield Footer(show_command_palette=False)

    def _fields(self) -> Table:
        """The fields as a table of label and value, a long value wrapped beside its label."""
        table = Table(box=None, show_header=False, padding=(0, 1), expand=True)
        table.add_column("field", style="bold", justify="right", no_wrap=True)
        table.add_column("value", ratio=1, overflow="fold")
        for label, value in hit_fields(self.hit, self.techniques):
            table.add_row(Text(label), Text(visible(str(value), keep_newlines=True)))
        return table

    def say(self, message: str) -> None:
        """Put `message` (made inert) in the status line."""
        self.query_one("#hit-status", Static).update(Text(visible(message)))

    def action_back(self) -> None:
        self.dismiss()

    def action_open_case(self) -> None:
        self.say(self.app.open_case(self.hit["tenant"], self.hit))
