"""Provides `WorkbenchApp`: the shell of the TUI — modes, global keys, the command palette and the case loader."""

from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import polars as pl
from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from workbench.core.case_set import CaseSet
from workbench.core.enrichment import cached_enrichment
from workbench.core.ioc import Ioc
from workbench.ui.commands import CaseCommands
from workbench.ui.messages import CaseLoaded, CasePreview, EnrichmentUpdated, LoadProgress, LoadWaiting
from workbench.ui.screens.correlate import CorrelateScreen
from workbench.ui.screens.events import EventsScreen
from workbench.ui.screens.exposure import ExposureScreen
from workbench.ui.screens.help import HelpScreen
from workbench.ui.screens.ips import IpsScreen
from workbench.ui.screens.matrix import MatrixScreen
from workbench.ui.screens.load_report import LoadReportScreen
from workbench.ui.screens.sql import SqlQueries, SqlScreen
from workbench.ui.screens.timeline import TimelineScreen

#: hits_for(the case set, enrichment=the cached enrichment or None) -> hunt hits (DESIGN §4 `hunt` columns) or None;
#: run in the loader thread, before the events are read (`hunt_case`).
HitsProvider = Callable[..., pl.DataFrame | None]
#: Rows read and shown before the rest of the case (more than any terminal's height).
PREVIEW_ROWS = 200


def screen_bindings(screen: Screen) -> list[tuple[str, str, str, object, bool]]:
    """(key, description, action, node, enabled) of the workbench's bindings active on `screen`, one per action.

    Only bindings with an id count: Textual's built-in scrolling and focus keys are left out.
    """
    seen, result = set(), []
    for active in screen.active_bindings.values():
        binding = active.binding
        if not binding.id or not binding.description or (binding.action, id(active.node)) in seen:
            continue
        seen.add((binding.action, id(active.node)))
        result.append((screen.app.get_key_display(binding), binding.description, binding.action, active.node,
                       active.enabled))
    return result


class WorkbenchApp(App[None]):
    """The M365 BEC workbench: opens a case, or several side by side (loading them in a worker), and shows
    their events.

    Modes: events (F2), ATT&CK matrix (F3), IPs (F4), SQL (F5), correlate (F6), timeline (F7), exposure (F8).
    """

    CSS_PATH = Path(__file__).with_name("workbench.tcss")
    TITLE = "M365 BEC workbench"
    MODES = {"events": EventsScreen, "matrix": MatrixScreen, "ips": IpsScreen, "sql": SqlScreen,
             "correlate": CorrelateScreen, "timeline": TimelineScreen, "exposure": ExposureScreen}
    COMMANDS = App.COMMANDS | {SqlQueries, CaseCommands}
    DEFAULT_MODE = "events"
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("l", "load_report", "Load report", id="app.load_report", show=False),
        Binding("ctrl+p", "command_palette", "Commands", id="app.commands", show=False),
        Binding("f2", "switch_mode('events')", "Events", id="app.mode_events"),
        Binding("f3", "switch_mode('matrix')", "ATT&CK matrix", id="app.mode_matrix"),
        Binding("f4", "switch_mode('ips')", "IPs", id="app.mode_ips"),
        Binding("f5", "switch_mode('sql')", "SQL", id="app.mode_sql"),
        Binding("f6", "switch_mode('correlate')", "Correlate", id="app.mode_correlate"),
        Binding("f7", "switch_mode('timeline')", "Timeline", id="app.mode_timeline"),
        Binding("f8", "switch_mode('exposure')", "Exposure", id="app.mode_exposure",
                tooltip="What the attacker read, searched, downloaded, sent and deleted"),
    ]

    def __init__(self, case: CaseSet, hits_provider: HitsProvider | None = None,
                 config: dict | None = None, enrich_offline: bool = False, hunt_dirs: tuple[Path, ...] = (),
                 opening: tuple[str, list[str]] | None = None) -> None:
        super().__init__()
        #: (label, record ids) the events view shows first, as a pivot Esc pops (a sweep's hit opening its case).
        self.opening = opening
        self.case, self.hits_provider = case, hits_provider
        #: Read by the matrix and IPs views: the config file, --offline and --hunts.
        self.config, self.enrich_offline, self.hunt_dirs = config or {}, enrich_offline, hunt_dirs
        self.loaded: CaseLoaded | None = None
        self.load_error: str | None = None
        self.swept_iocs: list[Ioc] | None = None  # the last IOC sweep's indicators, for the report
        #: The account of the event under the cursor when F7 was pressed in the events view (the timeline shows it).
        self.timeline_account: str | None = None

    def on_mount(self) -> None:
        self.load_case()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load_case(self) -> None:
        """Open the case (or cases) off the UI thread, reporting progress; the events screen shows the result."""

        def progress(done: int, total: int, rows: int, current: str) -> None:
            self.post_message(LoadProgress(done, total, rows, current))

        try:
            report, reused = self.case.open(progress, lambda text: self.post_message(LoadWaiting(text)))
            total = self.case.activity_scan().select(pl.len()).collect().item()
            self.post_message(CasePreview(self.case.first_activity(PREVIEW_ROWS, view=True), total,
                                          hunting=self.hits_provider is not None))
            # The hunts need the enrichment; both read the case's Parquet before the frame is read, so that what they
            # take is not on top of the frame. Without hunts the enrichment waits until the events are shown.
            enrichment = self._enrichment(self.case.activity_scan()) if self.hits_provider is not None else None
            hits = self._hits(enrichment)
            events = self.case.activity(view=True)
            rejects = self.case.rejects().head(200)
            changed = self.case.changed_inputs()
        except Exception as error:  # shown in a notification; never a traceback on screen
            self.call_from_thread(self._load_failed, f"{type(error).__name__}: {error}")
            return
        if changed:
            self.call_from_thread(self.notify, "\n".join(changed), title="the case and its inputs",
                                  severity="warning", markup=False, timeout=20)
        self.post_message(CaseLoaded(self.case, events, report, rejects, reused, hits, enrichment))
        if self.hits_provider is None:
            enrichment = self._enrichment(events)
            if enrichment is not None:
                self.post_message(EnrichmentUpdated(enrichment))

    def _hits(self, enrichment: pl.DataFrame | None) -> pl.DataFrame | None:
        """Hunt hits for the flags column, or None (hunts that fail leave the events usable)."""
        if self.hits_provider is None:
            return None
        try:
            return self.hits_provider(self.case, enrichment=enrichment)
        except Exception as error:
            self.call_from_thread(self.notify, f"hunts not run: {type(error).__name__}: {error}", severity="warning",
                                  markup=False, timeout=15)
            return None

    def _enrichment(self, events: pl.LazyFrame) -> pl.DataFrame | None:
        """The cached enrichment of the client IPs (offline), or None; an unreadable cache leaves events usable."""
        try:
            return cached_enrichment(events, self.config)
        except Exception as error:
            self.call_from_thread(self.notify, f"enrichment cache not read: {type(error).__name__}: {error}",
                                  severity="warning", markup=False, timeout=15)
            return None

    def _load_failed(self, message: str) -> None:
        self.load_error = message
        self.notify(message, title="could not open the case", severity="error", markup=False, timeout=30)

    def on_load_progress(self, message: LoadProgress) -> None:
        if self.screen_stack:
            self.screen_stack[0].post_message(LoadProgress(message.done, message.total, message.rows, message.current))

    def on_load_waiting(self, message: LoadWaiting) -> None:
        if self.screen_stack:
            self.screen_stack[0].post_message(LoadWaiting(message.text))

    def on_case_preview(self, message: CasePreview) -> None:
        if self.screen_stack:
            self.screen_stack[0].post_message(CasePreview(message.events, message.total, message.hunting))

    def on_case_loaded(self, message: CaseLoaded) -> None:
        """Keep the loaded case (modes read it when they mount) and hand it to the current mode's screen."""
        self.loaded = message
        if self.screen_stack:
            self.screen_stack[0].post_message(CaseLoaded(message.case, message.events, message.report,
                                                         message.rejects, message.reused, message.hits,
                                                         message.enrichment))
        self.refresh_bindings()

    def on_enrichment_updated(self, message: EnrichmentUpdated) -> None:
        """Keep the newer enrichment: the events view shows it (now when it is the mode shown, else when it is next
        shown), a new SQL session queries it."""
        if self.loaded is not None:
            self.loaded.enrichment = message.enrichment
        if self.screen_stack and isinstance(self.screen_stack[0], EventsScreen):
            self.screen_stack[0].show_enrichment()

    async def action_switch_mode(self, mode: str) -> None:
        """Switch modes; F7 from the events view takes the account of the event under the cursor, in its tenant."""
        screen = self.screen
        if mode == "timeline" and isinstance(screen, EventsScreen) and screen.view is not None and screen.view.height:
            self.timeline_account = screen.current.get("user_key")
        await super().action_switch_mode(mode)

    def show_events(self, title: str, record_ids: list[str]) -> None:
        """Switch to the events view showing only `record_ids` under `title` (Esc there goes back)."""
        self.switch_mode("events")
        screen = self.screen_stack[0]
        if isinstance(screen, EventsScreen) and screen.view is not None:
            screen.view.marks = self.case.store.marks()  # other views mark through the case store
            screen.show_records(title, record_ids)

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "load_report":
            return self.loaded is not None
        return True

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        keys = [(key, description) for key, description, *_ in screen_bindings(self.screen)]
        self.push_screen(HelpScreen(keys))

    def action_load_report(self) -> None:
        if not isinstance(self.screen, LoadReportScreen):
            self.push_screen(LoadReportScreen(self.loaded.report, self.loaded.rejects, self.case.rejects_where))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette: every enabled key of the current screen, then Textual's own commands."""
        for key, description, action, node, enabled in screen_bindings(screen):
            if enabled and action != "command_palette":
                yield SystemCommand(description, f"key: {key}", partial(self.run_action, action, node))
        yield from super().get_system_commands(screen)
