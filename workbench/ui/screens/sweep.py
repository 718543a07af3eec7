"""Provides `SweepScreen`: a sweep's tenants x tactics grid; Enter lists the hits of a tenant or cell, `o` opens the
tenant's case when it is in the local cases folder."""

import polars as pl
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from hunts.model import SEVERITIES
from workbench.core.inert import visible
from workbench.core.sweep_output import SweepOutput
from workbench.ui.screens.sweep_hits import TenantHitsScreen, plural
from workbench.ui.widgets.cells import first_that_fits
from workbench.ui.widgets.tenant_grid import GridRow, TenantGrid

KEYS_HINT = "↑↓ tenant  ←→ tactic  Enter hits  o open case  ? keys"


def grid_rows(sweep: SweepOutput) -> list[GridRow]:
    """All tenants together, then every tenant swept: highest severity first, then most records hit, then by id."""
    cells: dict[str | None, dict[str | None, tuple[int, str]]] = {}
    for tenant, column, hits, severity in sweep.cells().iter_rows():  # a few cells per tenant, not per event
        cells.setdefault(tenant, {})[column] = (hits, severity)
    rows = [GridRow(entry["tenant"], entry["tenant"], cells.get(entry["tenant"], {})) for entry in sweep.tenants]

    def urgency(row: GridRow) -> tuple:
        hits, severity = row.cells.get(None, (0, None))
        return (-SEVERITIES.index(severity) if severity else 1, -hits, row.tenant)

    return [GridRow(None, "all tenants", cells.get(None, {})), *sorted(rows, key=urgency)]


class SweepScreen(Screen[None]):
    """The tenants x tactics grid of a sweep's hits, the cell under the cursor explained below it."""

    BINDINGS = [
        Binding("enter", "hits", "Hits", id="sweep.hits", tooltip="The hits of the tenant, or of the cell"),
        Binding("o", "open_case", "Open case", id="sweep.open_case",
                tooltip="Open the tenant's case, when it is in the local cases folder"),
    ]

    def __init__(self, sweep: SweepOutput, tenant: str | None = None) -> None:
        super().__init__()
        self.sweep, self.start_tenant = sweep, tenant

    def compose(self) -> ComposeResult:
        yield Static(Text(""), id="sweep-header")
        yield TenantGrid(id="tenant-grid")
        yield Static(Text(""), id="sweep-info")
        yield Static(Text(KEYS_HINT), id="sweep-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        rows = grid_rows(self.sweep)
        start = next((index for index, row in enumerate(rows) if row.tenant and row.tenant == self.start_tenant), 0)
        grid = self.query_one(TenantGrid)
        grid.show(self.sweep.grid_columns(), rows, (start, 0))
        grid.focus()
        self.show_header()

    def on_resize(self) -> None:
        self.show_header()

    def show_header(self) -> None:
        """The sweep's folder, engine, tenants and records hit, fullest first as the width allows."""
        summary, tenants = self.sweep.summary, self.sweep.tenants
        hit = self.sweep.hits.select("tenant").n_unique() if self.sweep.hits.height else 0
        records = self.sweep.hits.select(pl.struct("tenant", "source", "record_id").n_unique()).item()
        counts = f"{plural(len(tenants), 'tenant')}, {hit} with hits │ {plural(records, 'event')} hit"
        engine, finished = str(summary.get("engine") or "?"), str(summary.get("finished") or "?")
        folder = str(self.sweep.folder)
        header = first_that_fits(self.size.width - 2, f"Sweep {folder} │ {engine}, finished {finished} │ {counts}",
                                 f"Sweep {folder} │ {engine} │ {counts}", f"Sweep │ {counts}", counts)
        self.query_one("#sweep-header", Static).update(Text(visible(header)))

    def say(self, message: str) -> None:
        """Put `message` (made inert) in the status line."""
        self.query_one("#sweep-status", Static).update(Text(visible(message)))

    def on_tenant_grid_highlighted(self, message: TenantGrid.Highlighted) -> None:
        row, column = message.row, message.column
        hits, severity = message.row.cells.get(column.key if column else None, (0, None))
        if row.tenant is None:
            title = (f"all {plural(len(self.sweep.tenants), 'tenant')} · engine {self.sweep.summary.get('engine')} · "
                     f"store {self.sweep.summary.get('store')}")
        else:
            title = f"tenant {row.tenant} · {self.app.case_note(row.tenant)}"
        if column is not None:
            where = f"{column.name}" + (f" ({column.key})" if column.key.startswith("TA") else "")
            detail = (f"{where}: {plural(hits, 'event')} hit, highest severity {severity} · Enter lists them"
                      if hits else f"{where}: no hits")
        elif hits:
            overview = self.sweep.overview(row.tenant)
            severities = ", ".join(f"{count} {name}" for name, count in overview["by_severity"].items())
            detail = (f"{plural(hits, 'event')} hit ({severities}) · "
                      f"{overview['first_hit']:%Y-%m-%d %H:%M} to {overview['last_hit']:%Y-%m-%d %H:%M} UTC")
        else:
            detail = "no hits"
        info = Text(visible(title) + "\n" + visible(detail) + "\n")
        info.append_text(self.query_one(TenantGrid).legend())
        self.query_one("#sweep-info", Static).update(info)
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        grid = self.query_one(TenantGrid)
        if action == "hits":
            return True if grid.current_hits()[0] else None
        if action == "open_case":
            return True if grid.current is not None and grid.current[0].tenant is not None else None
        return True

    def action_hits(self) -> None:
        grid = self.query_one(TenantGrid)
        if grid.current is None or not grid.current_hits()[0]:
            return
        row, column = grid.current
        self.app.push_screen(TenantHitsScreen(self.sweep, row.tenant, column))

    def action_open_case(self) -> None:
        grid = self.query_one(TenantGrid)
        if grid.current is not None and grid.current[0].tenant is not None:
            self.say(self.app.open_case(grid.current[0].tenant))
