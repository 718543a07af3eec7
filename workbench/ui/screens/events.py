"""Provides `EventsScreen`: the events table, the drill-down pane, the filter bar, pivots, marks, notes, tags, export."""

import gc
from collections.abc import Callable
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import get_current_worker

from workbench.core.activity import frame_of
from workbench.core.export import enrichment_by_ip, export_case_events, hits_by_record
from workbench.core.filter import INDEXED, FilterError, parse_time
from workbench.core.inert import visible
from workbench.core.truncation import CUT_OFF_MARK
from workbench.core.schema import RECORD_COLUMN
from workbench.core.xlsx import TooManyRows
from workbench.ui.attribution_marks import ATTRIBUTION_BINDINGS, AttributionKeys, Choice, Marks, choice, read_marks
from workbench.ui.messages import CaseLoaded, CasePreview, LoadProgress, LoadWaiting
from workbench.ui.record_actions import copy_record
from workbench.ui.screens.detail import DetailScreen
from workbench.ui.screens.export_dialog import ExportDialog, ExportRequest
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.view_state import EventsView
from workbench.ui.widgets.cells import first_that_fits
from workbench.ui.widgets.event_detail import EventDetail, ReadRecord, detail_text, read_record
from workbench.ui.widgets.event_table import SORTABLE, EventTable
from workbench.ui.widgets.filter_bar import FilterBar

WINDOW_MINUTES = 15
DETAIL_DELAY = 0.06  # seconds the cursor rests before the drill-down is redrawn
#: Actions of priority bindings (see BINDINGS).
TYPED_AHEAD = {"filter", "note", "tags", "jump"}
#: Actions that need loaded events.
NEEDS_EVENTS = {
    "filter", "pop", "pivot", "window", "mark", "mark_all", "note", "tags", "marked_only", "export",
    "jump", "open_detail", "sort", "toggle_detail", "copy", "attribute",
}


def events(count: int) -> str:
    """`1 event`, `2,345 events`."""
    return f"{count:,} event{'' if count == 1 else 's'}"


class EventsScreen(AttributionKeys, Screen[None]):
    """The default mode: every event of the case in a fast table, with the drill-down of the one under the cursor."""

    AUTO_FOCUS = ""  # nothing takes keys while loading; the table is focused once the events are in
    BINDINGS = [
        # Keys that open a line to type in have priority: handled as they arrive, so the keys typed right
        # after them (one burst over SSH) go to that line, not to the table as commands.
        Binding("slash", "filter", "Filter", id="events.filter", priority=True),
        Binding("escape", "pop", "Back", id="events.pop"),
        Binding("enter", "open_detail", "Open", id="events.open"),
        Binding("m", "mark", "Mark", id="events.mark"),
        Binding("M", "mark_all", "Mark all in view", id="events.mark_all", show=False),
        Binding("n", "note", "Note", id="events.note", priority=True),
        Binding("t", "tags", "Tags", id="events.tags", show=False, priority=True),
        Binding("asterisk", "marked_only", "Marked only", id="events.marked_only", show=False),
        Binding("e", "export", "Export", id="events.export"),
        Binding("u", "pivot('user')", "Same user", id="events.pivot_user", show=False),
        Binding("i", "pivot('ip')", "Same IP", id="events.pivot_ip", show=False),
        Binding("s", "pivot('session')", "Same session", id="events.pivot_session", show=False),
        Binding("o", "pivot('operation')", "Same operation", id="events.pivot_operation", show=False),
        Binding("w", "window", f"±{WINDOW_MINUTES} min", id="events.pivot_window", show=False),
        Binding("g", "jump", "Jump to time", id="events.jump", show=False, priority=True),
        Binding("d", "toggle_detail", "Detail pane", id="events.toggle_detail", show=False),
        Binding("c", "copy", "Copy record", id="events.copy", show=False),
        *ATTRIBUTION_BINDINGS,
        *(
            Binding(str(number), f"sort('{column.key}')", f"Sort by {column.title}", id=f"events.sort_{column.key}",
                    show=False)
            for number, column in enumerate(SORTABLE, 1)
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.view: EventsView | None = None
        self._audit: tuple[str, ReadRecord] | None = None  # (record id, original record) of the last read
        self._after_read: tuple[str, Callable[[], None]] | None = None  # (record id, action) to run once it is read
        self._current: tuple[tuple, dict | None] | None = None  # (view, generation, cursor) and the row there
        self._detail_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("loading…"), id="header")
        yield FilterBar(id="filter-bar", classes="hidden")
        with Vertical(id="loading"):
            yield Static(Text("Loading the case…"), id="loading-text")
            yield ProgressBar(id="loading-progress", show_eta=False)
        with Horizontal(id="body", classes="hidden"):
            yield EventTable(id="events-table")
            yield EventDetail(id="detail-pane")
        yield Static(Text(""), id="status")
        yield Footer(show_command_palette=False)

    def on_resize(self) -> None:
        self.set_class(self.size.width < 120, "-narrow")
        self.refresh_header()

    # -- loading ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.set_class(self.size.width < 120, "-narrow")
        if getattr(self.app, "loaded", None) is not None:
            self.show_case(self.app.loaded)

    def on_load_progress(self, message: LoadProgress) -> None:
        bar = self.query_one("#loading-progress", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.done)
        self.query_one("#loading-text", Static).update(
            Text(f"Loading file {min(message.done + 1, message.total)}/{message.total}: {visible(message.current)} "
                 f"({message.rows:,} rows read)"))

    def on_load_waiting(self, message: LoadWaiting) -> None:
        self.query_one("#loading-text", Static).update(Text(visible(message.text[:1].upper() + message.text[1:]) + "…"))

    def on_case_preview(self, message: CasePreview) -> None:
        """Show the case's first rows while the rest is read; no key acts on them until it is (`view` stays None)."""
        if self.view is not None:
            return
        self.query_one("#loading").add_class("hidden")
        self.query_one("#body").remove_class("hidden")
        self.query_one(EventTable).show(EventsView(message.events, self.app.case.store))
        doing = f"{'running the hunts, then ' if message.hunting else ''}reading {events(message.total)}…"
        self.query_one("#header", Static).update(Text(visible(
            first_that_fits(self.size.width - 2, f"{self.app.case.name} │ {doing}", doing))))

    def on_case_loaded(self, message: CaseLoaded) -> None:
        self.show_case(message)

    def show_case(self, loaded: CaseLoaded) -> None:
        """Show the loaded events; say in the status line when rows were rejected or duplicated."""
        if self.view is not None:
            return
        self.view = EventsView(loaded.events, loaded.case.store, hits=loaded.hits, enrichment=loaded.enrichment)
        self.view.set_attribution(*read_marks(self.app).records(loaded.events))
        self.query_one("#loading").add_class("hidden")
        self.query_one("#body").remove_class("hidden")
        table = self.query_one(EventTable)
        table.show(self.view)
        table.focus()
        self.schedule_detail()  # the cursor may not move from where the first rows had it
        self.refresh_header()
        self.warm_index(self.view)
        gc.freeze()  # what exists now lives all session: full collections stop walking it (100+ ms pauses at 1M events)
        totals = loaded.report.totals()
        if totals["conflicting"]:
            count = totals["conflicting"]
            self.app.notify(f"{count:,} conflicting duplicate{'' if count == 1 else 's'}: same Id as a loaded record, "
                            "other content (both kept) — l shows them", severity="warning", markup=False, timeout=15)
        for file in loaded.report.files:
            if file.note and CUT_OFF_MARK in file.note:
                self.app.notify(f"{file.note_line()} — l: load report", title="export cut off?", severity="warning",
                                markup=False, timeout=20)
        if totals["rejected"] or totals["duplicates"] or totals["conflicting"]:
            conflicting = f", {totals['conflicting']:,} conflicting" if totals["conflicting"] else ""
            self.say(f"{totals['loaded']:,} events; {totals['rejected']:,} rows rejected, "
                     f"{totals['duplicates']:,} duplicates{conflicting} — l: load report")
        else:
            self.say(f"{totals['loaded']:,} events loaded" + (" (from the case's Parquet)" if loaded.reused else ""))
        if getattr(self.app, "opening", None):  # opened at some events (a sweep's hit): those first, Esc shows all
            label, record_ids = self.app.opening
            self.app.opening = None
            self.show_records(label, record_ids)
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def warm_index(self, view: EventsView) -> None:
        """Build the filter's value index off the UI thread, so the first filter is as fast as the next."""
        view.index.warm(INDEXED)

    def show_enrichment(self) -> None:
        """Show the app's enrichment when it is newer than the view's (the $ flags, the drill-down)."""
        loaded = getattr(self.app, "loaded", None)
        if self.view is not None and loaded is not None and loaded.enrichment is not self.view.enrichment:
            self.view.set_enrichment(loaded.enrichment)
            self.refresh_view(keep_record=self._keep())
            self.show_detail()

    def on_screen_resume(self) -> None:
        """Back from another mode: show the enrichment an IPs run may have renewed, and the attacker's marks."""
        self.show_enrichment()
        if self.view is not None:
            self.show_marks(read_marks(self.app))  # marked as the attacker's in another mode

    # -- state shown --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Put `message` (made inert) in the status line."""
        self.query_one("#status", Static).update(Text(visible(message)))

    def refresh_header(self) -> None:
        """Case, rows in view / total, time range in view, active filter and pivots."""
        view = self.view
        if view is None:
            return
        first, last = view.time_range()
        extras = []
        if view.pivots:
            extras.append("pivot: " + " › ".join(pivot.label for pivot in view.pivots))
        if view.filter_text:
            extras.append(f"filter: {view.filter_text}")
        if view.marked_only:
            extras.append("marked only")
        full = [f"{view.height:,} / {view.events.height:,} events",
                f"{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC" if first else "no events"]
        short = [f"{view.height:,}/{view.events.height:,}",
                 f"{first:%Y-%m-%d} – {last:%Y-%m-%d}" if first else "no events"]
        header = first_that_fits(self.size.width - 2, *(" │ ".join([self.app.case.name, *parts, *extras])
                                                          for parts in (full, short)))
        self.query_one("#header", Static).update(Text(visible(header)))

    def refresh_view(self, keep_record: str | None = None) -> None:
        """Redraw the table and header after the view changed."""
        self.query_one(EventTable).show(self.view, keep_record=keep_record)
        self.refresh_header()

    @property
    def current(self) -> dict | None:
        """The event under the cursor (read from the table, so a key never acts on a stale row).

        Kept while the view and the cursor stay: a row may hold 50 MB of fields, and the footer asks on every key.
        """
        if self.view is None:
            return None
        key = (id(self.view), self.view.generation, self.query_one(EventTable).cursor)
        if self._current is None or self._current[0] != key:
            self._current = (key, self.view.row(key[2]))
        return self._current[1]

    @property
    def current_audit(self) -> ReadRecord | None:
        """The original record of the event under the cursor, once read."""
        current = self.current
        if current is None or self._audit is None or self._audit[0] != current["record_id"]:
            return None
        return self._audit[1]

    def on_event_table_highlighted(self, message: EventTable.Highlighted) -> None:
        self.schedule_detail()

    def schedule_detail(self) -> None:
        """Redraw the drill-down once the cursor rests (holding a key never waits for the pane)."""
        if self._detail_timer is not None:
            self._detail_timer.stop()
        self._detail_timer = self.set_timer(DETAIL_DELAY, self._detail_due)

    def _detail_due(self) -> None:
        self._detail_timer = None
        self.show_detail()
        current = self.current
        if current is not None and self.current_audit is None:
            self.fetch_record(current)

    def show_detail(self) -> None:
        """Draw the drill-down of the event under the cursor."""
        pane = self.query_one("#detail-pane", EventDetail)
        text = self.current_text()
        pane.show_text(text if text is not None else Text("No event in view." if self.view else "Reading the events…"))

    def current_text(self) -> Text | None:
        """The drill-down text of the event under the cursor (None when the view is empty)."""
        current, view = self.current, self.view
        if current is None:
            return None
        record_id = current["record_id"]
        return detail_text(current, self.current_audit, view.notes.get(record_id), view.tags.get(record_id),
                           view.hits_for(record_id), record_id in view.marks,
                           view.enrichment_for(current["client_ip"]),
                           view.tenant_domains.get(current.get("organization_id")))

    # A description, so that Textual does not describe the worker by the repr of a row that may hold 50 MB.
    @work(thread=True, exclusive=True, group="record", exit_on_error=False, description="read the record")
    def fetch_record(self, row: dict) -> None:
        """Read the original record of the event `row` from the case's Parquet and shrink it to show, off the UI thread."""
        found, frame = self.app.case.record_row(row), frame_of(row)
        text = None if found is None else found.pop(RECORD_COLUMN[frame])
        record = read_record(row["record_id"], text, None if frame == "events" else found)
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._record_fetched, row["record_id"], record)

    def _record_fetched(self, record_id: str, record: ReadRecord) -> None:
        self._audit = (record_id, record)
        pending, self._after_read = self._after_read, None
        current = self.current
        if current is not None and current["record_id"] == record_id:
            self.show_detail()
            if pending is not None and pending[0] == record_id:
                pending[1]()

    def _when_read(self, action: Callable[[], None]) -> bool:
        """Whether the record under the cursor is read; if not, read it (off the UI thread) and run `action` then."""
        if self.current_audit is not None:
            return True
        current = self.current
        self._after_read = (current["record_id"], action)
        self.say("reading the record…")
        self.fetch_record(current)
        return False

    # -- actions --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in NEEDS_EVENTS and self.view is None:
            return False
        if action in TYPED_AHEAD and self.query_one(FilterBar).input.has_focus:
            return False  # the key is text in the filter bar
        if action in {"pivot", "window", "mark", "note", "tags", "open_detail", "copy", "attribute"} and self.current is None:
            return None
        if action == "pop" and self.view is not None and not (self.view.pivots or self.view.filter_text or self.view.marked_only):
            return None
        return True

    def _keep(self) -> str | None:
        """The record the cursor was on before the view changed."""
        return self.query_one(EventTable).cursor_record

    def action_filter(self) -> None:
        bar = self.query_one(FilterBar)
        bar.open(self.view.filter_text, self.view.store.filter_history())

    def on_filter_bar_applied(self, message: "FilterBar.Applied") -> None:
        try:
            self.view.set_filter(message.text)
        except FilterError as error:
            self.query_one(FilterBar).show_problem(str(error))
            self.say(f"bad filter: {error}")
            return
        self.query_one(FilterBar).close()
        self.refresh_view(self._keep())
        self.query_one(EventTable).focus()
        self.say(f"filter matches {events(self.view.height)}" if message.text.strip() else "filter cleared")

    def on_filter_bar_cancelled(self, message: "FilterBar.Cancelled") -> None:
        self.query_one(FilterBar).close()
        self.query_one(EventTable).focus()

    def action_pop(self) -> None:
        view = self.view
        if view.marked_only:
            view.toggle_marked_only()
            self.say("showing all events")
        elif view.pivots:
            pivot = view.pop_pivot()
            self.say(f"back from pivot {pivot.label}")
        elif view.filter_text:
            view.set_filter("")
            self.say("filter cleared")
        self.refresh_view(self._keep())

    def action_pivot(self, kind: str) -> None:
        pivot = self.view.push_pivot(kind, self.current)
        self.refresh_view(self._keep())
        self.say(f"pivot {pivot.label}: {events(self.view.height)} (Esc goes back)")

    def show_records(self, label: str, record_ids: list[str]) -> None:
        """Show only these events, as a pivot Esc pops (used by other views to open their events)."""
        pivot = self.view.push_records(label, record_ids)
        self.refresh_view(self._keep())
        self.say(f"{pivot.label}: {events(self.view.height)} (Esc goes back)")

    def action_window(self) -> None:
        pivot = self.view.push_window(self.current["creation_time"], WINDOW_MINUTES)
        self.refresh_view(self._keep())
        self.say(f"pivot {pivot.label}: {events(self.view.height)} (Esc goes back)")

    def attribution_choices(self) -> list[Choice]:
        """The event's client IP, session and user agent (those it has)."""
        current = self.current
        return [choice(kind, current[column]) for kind, column in (("ip", "client_ip"), ("session", "session_id"),
                                                                    ("user_agent", "user_agent")) if current.get(column)]

    def show_marks(self, marks: Marks) -> None:
        self.view.set_attribution(*marks.records(self.view.events))
        self.query_one(EventTable).refresh()

    def action_mark(self) -> None:
        marked = self.view.toggle_mark(self.current["record_id"])
        self.after_annotation("marked" if marked else "unmarked")
        if marked and not self.view.marked_only:
            self.query_one(EventTable).action_cursor(1)

    def action_mark_all(self) -> None:
        changed, marked = self.view.mark_all_in_view()
        self.after_annotation(f"{events(changed)} {'marked' if marked else 'unmarked'}")

    def after_annotation(self, message: str) -> None:
        """Redraw after a mark, note or tag was committed."""
        if self.view.marked_only:
            self.refresh_view(self._keep())
        else:
            self.query_one(EventTable).refresh()
        self.schedule_detail()
        self.say(f"{message} · {len(self.view.marks):,} marked in the case")

    def action_note(self) -> None:
        record_id = self.current["record_id"]

        def done(text: str | None) -> None:
            if text is not None:
                self.view.set_note(record_id, text)
                self.after_annotation("note saved" if text.strip() else "note removed")

        self.app.push_screen(TextPrompt("Note on this event (empty removes it)", self.view.notes.get(record_id, "")), done)

    def action_tags(self) -> None:
        record_id = self.current["record_id"]

        def done(text: str | None) -> None:
            if text is not None:
                tags = self.view.set_tags(record_id, text)
                self.after_annotation(f"tags: {', '.join(tags) or 'none'}")

        current = " ".join(self.view.tags.get(record_id, []))
        self.app.push_screen(TextPrompt("Tags (separated by spaces or commas)", current, "e.g. persistence exfil"), done)

    def action_marked_only(self) -> None:
        self.view.toggle_marked_only()
        self.refresh_view(self._keep())
        self.say("showing marked events only (* or Esc shows all)" if self.view.marked_only else "showing all events")

    def action_sort(self, column: str) -> None:
        self.view.sort_by(column)
        self.refresh_view(self._keep())

    def action_jump(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            try:
                moment = parse_time(text)
            except ValueError as error:
                self.say(str(error))
                return
            index = self.view.index_at_time(moment)
            if index is not None:
                self.query_one(EventTable).move_to(index)

        self.app.push_screen(TextPrompt("Jump to time (UTC)", placeholder="2023-02-20 08:00"), done)

    def action_toggle_detail(self) -> None:
        self.query_one("#detail-pane").toggle_class("hidden")

    def action_open_detail(self) -> None:
        if self._when_read(self.action_open_detail):
            self.app.push_screen(DetailScreen(self.current_text(), self.current_audit))

    def action_copy(self) -> None:
        if self._when_read(self.action_copy):
            self.say(copy_record(self.app, self.current_audit, "Enter, then w writes it to a file"))

    def action_export(self) -> None:
        default = Path(f"{self.app.case.name}-{'marked' if self.view.marks else 'events'}.csv")
        marked = len(self.view.marks)
        self.app.push_screen(ExportDialog(default, marked, self.view.height), self.start_export)

    def start_export(self, request: ExportRequest | None) -> None:
        if request is not None:
            self.say(f"exporting to {request.path}…")
            self.export(request)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def export(self, request: ExportRequest) -> int:
        """Write the export off the UI thread; the status line says where it went."""
        events = self.view.frame if not request.marked_only else self.view.events
        extra = {} if self.view.hits is None else {"by_record": hits_by_record(self.view.hits)}
        if self.view.enrichment is not None:
            extra["by_ip"] = enrichment_by_ip(self.view.enrichment)
        try:
            count = export_case_events(self.app.case, request.path, events, marked_only=request.marked_only, **extra)
        except (OSError, TooManyRows) as error:
            self.app.call_from_thread(self.say, f"export failed: {error}")
            return 0
        self.app.call_from_thread(self.say, f"exported {count:,} events to {request.path}")
        return count
