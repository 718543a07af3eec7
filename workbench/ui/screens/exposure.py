"""Provides `ExposureScreen`: the exposure mode — what the attacker read, synced, searched, opened, sent and deleted,
per mailbox and row by row, by the attribution in force (the analyst's marks, else the proposal until accepted),
with the rule and what could not be known; Enter opens a row's events."""

from dataclasses import replace

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from workbench.core.attribution import ATTACKER, KINDS as ATTRIBUTION_KINDS, RULE, Attribution
from workbench.core.case_exposure import attribution_in_force, case_exposure
from workbench.core.exposure import KINDS, Exposure
from workbench.core.inert import visible
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.case_screen import CaseScreen, app_config, loaded_hits
from workbench.ui.widgets.cells import first_that_fits, fit
from workbench.ui.widgets.exposure_table import ExposureTable, SummaryTable, row_detail, what

#: What the kind key cycles through.
SHOWN_KINDS = ("all", *KINDS)
#: Lines of notes shown until `r` shows them all (the rule's line comes after them).
MAX_NOTE_LINES = 3


class ExposureScreen(CaseScreen):
    """The exposure mode.

    | Key | Action |
    | :- | :- |
    | enter | open the row's events |
    | k | show one kind after the other (read, sync, search, file, sent, deleted, throttled), then all |
    | a | accept the proposal: store its IPs and sessions as the attacker's, then compute again |
    | r | the notes and the attribution rule in full, or a line each |
    | f | every case, then one case after the other |

    Rows flagged `?` (dim) are uncertain by the rule: counted apart, never as the attacker's.
    """

    DEFAULT_CSS = """
    ExposureScreen { layout: vertical; }
    ExposureScreen #exposure-header { height: auto; max-height: 2; background: $primary-background; color: $text; padding: 0 1; }
    ExposureScreen #exposure-summary { height: auto; max-height: 6; }
    ExposureScreen #exposure-rows { height: 1fr; border-top: hkey $primary; }
    ExposureScreen #exposure-detail { height: auto; max-height: 4; padding: 0 1; border-top: hkey $primary; }
    ExposureScreen #exposure-notes { height: auto; max-height: 4; padding: 0 1; }
    ExposureScreen #exposure-notes.-full { max-height: 60%; }
    ExposureScreen #exposure-status { height: auto; max-height: 2; background: $panel; color: $text; padding: 0 1; }
    """
    HEADER_ID = "exposure-header"
    STATUS_ID = "exposure-status"
    BINDINGS = [
        Binding("enter", "open", "Events", id="exposure.open"),
        Binding("k", "cycle_kind", "Kind", id="exposure.kind", tooltip="Show one kind of exposure after the other"),
        Binding("a", "accept", "Accept proposal", id="exposure.accept",
                tooltip="Store the proposed IPs and sessions as the attacker's, then compute the exposure again"),
        Binding("r", "toggle_notes", "Notes in full", id="exposure.notes", show=False,
                tooltip="The notes (what could not be known) and the attribution rule in full, or a line each"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: pl.DataFrame | None = None
        self.found: Exposure | None = None
        self.attribution: Attribution | None = None
        self.pairs: list[tuple[str, str, str]] | None = None  # the store's attribution the exposure was computed by
        self.kind = "all"
        self.full_notes = False
        self.notes: list[str] = []
        self.computing = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Exposure: waiting for the case…"), id="exposure-header")
        yield SummaryTable(id="exposure-summary")
        yield ExposureTable(id="exposure-rows")
        yield Static(Text(""), id="exposure-detail")
        yield Static(Text(""), id="exposure-notes")
        yield Static(Text(""), id="exposure-status")
        yield Footer(show_command_palette=False)

    def case_loaded(self, loaded: CaseLoaded) -> None:
        self.start()

    def start(self) -> None:
        """Compute the exposure again (in a worker), saying so."""
        self.computing = True
        self.say("computing…" if self.hits is not None or self.loaded.hits is not None
                 else "running the hunts for the proposal, then computing…")
        self.refresh_bindings()
        self.compute(self.loaded)

    def on_screen_resume(self) -> None:
        """Back from another mode: compute again when the attribution was changed there."""
        if self.loaded is not None and not self.computing and self.loaded.case.store.attribution() != self.pairs:
            self.start()

    @work(thread=True, exclusive=True, group="exposure", exit_on_error=False)
    def compute(self, loaded: CaseLoaded) -> None:
        """The attribution in force (marks, else the proposal from the hunt hits) and the exposure it gives."""
        try:
            hits = self.hits if self.hits is not None else loaded_hits(self.app, loaded)
            pairs = loaded.case.store.attribution()
            attribution, _ = attribution_in_force(loaded.case, loaded.events, app_config(self.app), use_proposal=True,
                                                  hits=hits)
            found = None if attribution.empty else case_exposure(loaded.case, attribution, loaded.events,
                                                                 say=self.say_from_worker)
        except Exception as error:  # said in the status line, never a traceback on screen
            self.app.call_from_thread(self._failed, f"cannot compute the exposure: {type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._computed, hits, pairs, attribution, found)

    def say_from_worker(self, message: str) -> None:
        """Say in the status line, from the worker, what the computation is doing (a step that takes a while)."""
        self.app.call_from_thread(self.say, f"{message}…")

    def _failed(self, message: str) -> None:
        self.computing = False
        self.say(message)
        self.refresh_bindings()

    def _computed(self, hits: pl.DataFrame, pairs: list, attribution: Attribution, found: Exposure | None) -> None:
        self.hits, self.pairs, self.attribution, self.found, self.computing = hits, pairs, attribution, found, False
        self.refresh_view()
        self.query_one(ExposureTable).focus()
        self.refresh_bindings()

    # -- state shown ------------------------------------------------------------------------------
    @property
    def shown(self) -> Exposure | None:
        """The exposure in the case the case filter keeps."""
        if self.found is None or self.case_filter is None:
            return self.found
        return replace(self.found, rows=self.found.rows.filter(pl.col("case") == self.case_filter))

    def refresh_view(self) -> None:
        """Header, summary, rows, notes and rule of the exposure (or why there is none)."""
        shown, attribution = self.shown, self.attribution
        rows = pl.DataFrame() if shown is None else shown.rows
        if shown is not None:
            rows = rows.filter(pl.col("kind") == self.kind) if self.kind != "all" else rows
            # The core's order, with ties (one record's items) in a fixed order: a screen drawn twice is the same.
            rows = rows.with_row_index("_order").sort(
                pl.col("kind").replace_strict({kind: n for n, kind in enumerate(KINDS)}, return_dtype=pl.Int64),
                "mailbox", "time", "message_id", "recipient", "_order", nulls_last=True).drop("_order")
        self.show_exposure_header(attribution, shown, rows.height)
        self.query_one(SummaryTable).show(shown.summary() if shown is not None and shown.rows.height else
                                          pl.DataFrame({"mailbox": []}, schema={"mailbox": pl.String}))
        self.query_one(ExposureTable).show(rows)
        notes = [] if shown is None else shown.notes
        if attribution is None or attribution.empty:
            notes = ["nothing is attributed to the attacker: mark IPs, sessions or user agents with A in the IPs, "
                     "timeline, correlate or events view (nothing is proposed: no high-severity hunt hit)"]
        # Throttled auditing first: the whole mailbox must be assumed exposed.
        self.notes = sorted(notes, key=lambda note: "auditing throttled" not in note)
        self.show_notes()
        self.show_detail()
        self.say(self.hint())

    def show_exposure_header(self, attribution: Attribution | None, shown: Exposure | None, count: int) -> None:
        """Attribution in force (proposed, until accepted, in bold), window, kind and rows shown."""
        said = attribution.describe() if attribution is not None else "nothing attributed to the attacker"
        if attribution is not None and attribution.proposed and not attribution.empty:
            said += " (not accepted: a)"
        window = ("" if shown is None or shown.start is None
                  else f"{shown.start:%Y-%m-%d %H:%M} .. {shown.end:%Y-%m-%d %H:%M} UTC")
        short_window = "" if not window else f"{shown.start:%m-%d %H:%M}..{shown.end:%m-%d %H:%M}"
        scope = f" │ {self.case_scope}" if len(self.case_choices) > 1 else ""
        tail = f"{self.kind}: {count} row{'' if count == 1 else 's'}{scope}"
        self.header_variants = tuple(" │ ".join(part for part in parts if part) for parts in (
            ("Exposure", said, window, tail), ("Exposure", said, short_window, tail), (said, short_window, tail)))
        self.show_header(*self.header_variants)

    def show_header(self, *variants: str) -> None:
        """The header (two lines at most); a proposal not accepted stands out."""
        self.header_variants = variants
        text = Text(visible(first_that_fits(2 * (self.size.width - 2), *variants)))
        text.highlight_words(["proposed as the attacker's", "(not accepted: a)"], style="bold reverse")
        self.query_one(f"#{self.HEADER_ID}", Static).update(text)

    def show_notes(self) -> None:
        """What could not be known, then the attribution rule: a line each (cut), or in full with `r`."""
        width = max(20, self.size.width - 2)
        lines = [(f"note: {note}", "yellow") for note in self.notes]
        if not self.full_notes and len(lines) > MAX_NOTE_LINES:
            more = len(lines) - MAX_NOTE_LINES + 1
            lines = [*lines[:MAX_NOTE_LINES - 1], (f"… {more} more notes (r shows them)", "yellow")]
        lines.append((f"rule (r): {RULE}", "dim"))
        text = Text()
        for index, (line, style) in enumerate(lines):
            shown = visible(line) if self.full_notes else fit(visible(line), width).rstrip()
            text.append(shown + ("\n" if index < len(lines) - 1 else ""), style=style)
        pane = self.query_one("#exposure-notes", Static)
        pane.update(text)
        pane.set_class(self.full_notes, "-full")

    def on_resize(self) -> None:
        super().on_resize()
        if self.attribution is not None:
            self.show_notes()

    def show_detail(self) -> None:
        row = self.query_one(ExposureTable).current
        self.query_one("#exposure-detail", Static).update(row_detail(row) if row is not None else Text(""))

    def hint(self) -> str:
        """The status line: what the keys do here."""
        parts = ["Enter events", "k kind"]
        if self.attribution is not None and self.attribution.proposed and not self.attribution.empty:
            parts.append("a accept")
        parts += ["r notes and rule", "? uncertain"]
        if len(self.case_choices) > 1:
            parts.append("f case")
        return " · ".join(parts)

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in {"open", "cycle_kind", "accept", "toggle_notes"} and (self.attribution is None or self.computing):
            return False
        if action == "accept" and not (self.attribution.proposed and not self.attribution.empty):
            return None
        if action == "open" and self.query_one(ExposureTable).current is None:
            return None
        return super().check_action(action, parameters)

    def case_filter_ready(self) -> bool:
        return self.found is not None and not self.computing

    def case_filter_changed(self) -> None:
        self.refresh_view()

    def on_data_table_row_highlighted(self, message: ExposureTable.RowHighlighted) -> None:
        if message.data_table is self.query_one(ExposureTable):
            self.show_detail()
            self.refresh_bindings()

    def on_data_table_row_selected(self, message: ExposureTable.RowSelected) -> None:
        message.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.query_one(ExposureTable).current
        if row is None:
            return
        self.app.show_events(f"exposure {row['kind']}: {visible(what(row))[:60]}", row["record_ids"] or [])

    def action_cycle_kind(self) -> None:
        self.kind = SHOWN_KINDS[(SHOWN_KINDS.index(self.kind) + 1) % len(SHOWN_KINDS)]
        self.refresh_view()

    def action_toggle_notes(self) -> None:
        self.full_notes = not self.full_notes
        self.show_notes()

    def action_accept(self) -> None:
        """Store every proposed IP, session and user agent as the attacker's (committed at once), then recompute."""
        proposal, store = self.attribution, self.loaded.case.store
        for kind in ATTRIBUTION_KINDS:
            if proposal.values(kind):
                store.set_attribution(kind, sorted(proposal.values(kind)), ATTACKER)
        self.notify(f"stored as the attacker's: {len(proposal.ips)} IPs, {len(proposal.sessions)} sessions",
                    markup=False)
        self.start()
