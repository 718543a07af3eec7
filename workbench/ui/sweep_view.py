"""Provides `workbench --sweep OUT`: a sweep's output in the TUI (`SweepApp`), and opening a tenant's case from it.

The grid of tenants x tactics comes first; Enter lists hits, `o` opens the tenant's case when the
case the tenant was published from (summary.json's `case`) is in the local cases folder. The case
opens as `workbench --case NAME` opens it (from a hit, at that hit's event: Esc there shows them all);
quitting it comes back to the sweep, on the same tenant.
"""

import argparse
from pathlib import Path

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from workbench.commands.common import UsageError
from workbench.core.case import Case
from workbench.core.case_index import CaseNameError, resolve_name
from workbench.core.config import cases_root, load_config
from workbench.core.sweep_output import SweepOutput, SweepOutputError, read_sweep
from workbench.ui.screens.help import HelpScreen, key_table
from workbench.ui.screens.sweep import SweepScreen

SWEEP_HELP = (
    "Each cell counts the distinct events (records) of the tenant that hunts, Sigma rules or indicators hit under "
    "that tactic, coloured by the highest severity among them; `all` counts every tactic once, IOC the indicator "
    "hits. A hit with several ATT&CK tactics counts under each. Tenants with the most severe hits come first.\n\n"
    "Arrows move the cursor (←→ column, ↑↓ tenant, PgUp/PgDn a page, Home the tenant column, End the last). "
    "Enter on the tenant or its total lists all its hits, on a tactic that tactic's; Enter on a hit shows it whole. "
    "`o` opens the tenant's case when it is in the local cases folder (from a hit, at that hit's event: Esc there "
    "shows all events); quitting the case comes back here."
)


def local_cases(sweep: SweepOutput, root: Path) -> dict[str, str]:
    """Tenant -> the local case it was published from, for the tenants whose case is in the cases folder `root`."""
    found = {}
    for entry in sweep.tenants:
        if not entry.get("case"):
            continue
        try:
            name = resolve_name(entry["case"], root)
            if Case.named(name, root).exists:
                found[entry["tenant"]] = name
        except (CaseNameError, ValueError):
            continue
    return found


class SweepHelp(HelpScreen):
    """The sweep's keys and what the grid counts."""

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="help-dialog"):
            yield Static(Text("Keys", style="bold"))
            yield Static(key_table(self.bindings))
            yield Static(Text("\n" + SWEEP_HELP))


class SweepApp(App[tuple[str, str, dict | None] | None]):
    """A sweep's output: the tenants x tactics grid, a tenant's hits, one hit. Returns (case name, tenant, the hit
    `o` was pressed on or None) when `o` opens a tenant's local case, None when the user quits."""

    CSS_PATH = [Path(__file__).with_name("workbench.tcss"), Path(__file__).with_name("sweep.tcss")]
    TITLE = "M365 BEC workbench: sweep"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
    ]

    def __init__(self, sweep: SweepOutput, cases: dict[str, str], cases_folder: Path,
                 tenant: str | None = None) -> None:
        super().__init__()
        self.sweep, self.cases, self.cases_folder, self.start_tenant = sweep, cases, cases_folder, tenant
        self.published_from = {entry["tenant"]: entry.get("case") for entry in sweep.tenants}

    def on_mount(self) -> None:
        self.push_screen(SweepScreen(self.sweep, self.start_tenant))

    def case_note(self, tenant: str) -> str:
        """Whether the tenant's case is here to open, said plainly."""
        if tenant in self.cases:
            return f"case {self.cases[tenant]}: o opens it"
        name = self.published_from.get(tenant)
        return f"case {name}: not in {self.cases_folder}" if name else "no case named in the sweep"

    def open_case(self, tenant: str, hit: dict | None = None) -> str:
        """Leave the sweep to open the tenant's local case (at the hit's event, given one); when there is none, what
        to say instead."""
        if tenant in self.cases:
            self.exit((self.cases[tenant], tenant, hit))
            return f"opening case {self.cases[tenant]}…"
        return f"cannot open a case: {self.case_note(tenant)}"

    def action_help(self) -> None:
        from workbench.ui.app import screen_bindings

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(SweepHelp([(key, description) for key, description, *_ in screen_bindings(self.screen)]))


def run_sweep_view(args: argparse.Namespace) -> int:
    """`workbench --sweep OUT`: show the sweep; open the cases asked for, coming back to the sweep after each."""
    from workbench.commands import open as open_command

    if args.paths or args.case:
        raise UsageError("--sweep OUT opens a sweep's output on its own: give it without PATH or --case")
    try:
        sweep = read_sweep(args.sweep)
    except SweepOutputError as error:
        raise UsageError(str(error)) from error
    root = cases_root(args.case_dir, load_config(args.config))
    cases, tenant = local_cases(sweep, root), None
    while True:
        chosen = SweepApp(sweep, cases, root, tenant).run()
        if chosen is None:
            return 0
        case_name, tenant, hit = chosen
        opening = (f"sweep hit {hit['hunt_id']}", [hit["record_id"]]) if hit else None
        open_command.run(argparse.Namespace(**{**vars(args), "paths": [], "case": [case_name], "opening": opening}))
