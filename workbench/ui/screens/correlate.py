"""Provides `CorrelateScreen`: the correlate mode — indicators seen in more than one case (or tenant), ranked
by how specific and rare they are (the score's parts under the table); Enter opens an indicator's events in
every case."""

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Static

from workbench.core.cases import comparison_column
from workbench.core.correlate import correlate, tenant_labels
from workbench.core.enrichment import cached_enrichment
from workbench.core.inert import visible
from workbench.ui.attribution_marks import ATTRIBUTION_BINDINGS, AttributionKeys, Choice, Marks, choice, read_marks
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.case_screen import CaseScreen, app_config
from workbench.ui.widgets.indicator_table import ATTRIBUTABLE, IndicatorTable


def membership(result: pl.DataFrame, events: pl.DataFrame, by: str) -> pl.DataFrame:
    """(row, record_id, group): which case or tenant each event of each indicator row belongs to."""
    return result.with_row_index("row").select("row", "record_ids").explode("record_ids").rename(
        {"record_ids": "record_id"}).join(events.select("record_id", pl.col(by).alias("group")), on="record_id")


class CorrelateScreen(AttributionKeys, CaseScreen):
    """The correlate mode.

    | Key | Action |
    | :- | :- |
    | enter | open the indicator's events (in every case, or in the case the filter keeps) |
    | f | filter: every case, then one case (or tenant) after the other |
    | A / X | an IP, session or user agent is the attacker's / not the attacker's (again: forget it) |
    """

    DEFAULT_CSS = """
    CorrelateScreen { layout: vertical; }
    CorrelateScreen #correlate-header { height: 1; background: $primary-background; color: $text; padding: 0 1; }
    CorrelateScreen #indicator-table { height: 1fr; }
    CorrelateScreen #indicator-detail { height: auto; max-height: 8; padding: 0 1; border-top: hkey $primary; }
    CorrelateScreen #correlate-status { height: auto; max-height: 2; background: $panel; color: $text; padding: 0 1; }
    """
    HEADER_ID = "correlate-header"
    STATUS_ID = "correlate-status"
    BINDINGS = [Binding("enter", "open", "Events", id="correlate.open"), *ATTRIBUTION_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self.result: pl.DataFrame | None = None
        self.members: pl.DataFrame | None = None
        self.by = "case"
        self.labels: dict[str, str] = {}
        self.shown: pl.DataFrame | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Correlate: waiting for the cases…"), id="correlate-header")
        yield IndicatorTable(id="indicator-table")
        yield Static(Text(""), id="indicator-detail")
        yield Static(Text(""), id="correlate-status")
        yield Footer(show_command_palette=False)

    def case_loaded(self, loaded: CaseLoaded) -> None:
        """Correlate the loaded events in a worker."""
        self.say("correlating…")
        self.build(loaded)

    @work(thread=True, exclusive=True, group="correlate", exit_on_error=False)
    def build(self, loaded: CaseLoaded) -> None:
        """Correlate by case, or by tenant when one case holds several, with cached enrichment only."""
        events = loaded.events
        try:
            by = comparison_column(events)
            enrichment = cached_enrichment(events, app_config(self.app))
            result = correlate(events, by, enrichment)
            members = membership(result, events, by)
            labels = tenant_labels(events) if by == "organization_id" else {}
        except Exception as error:  # said in the status line, never a traceback on screen
            self.app.call_from_thread(self.say, f"cannot correlate: {type(error).__name__}: {error}")
            return
        groups = sorted(events[by].drop_nulls().unique().to_list())
        self.app.call_from_thread(self._built, by, result, members, labels, groups)

    def _built(self, by: str, result: pl.DataFrame, members: pl.DataFrame, labels: dict[str, str],
               groups: list[str]) -> None:
        self.by, self.result, self.members, self.labels, self.case_choices = by, result, members, labels, groups
        self.query_one(IndicatorTable).marks = read_marks(self.app)
        self.refresh_table()
        self.query_one(IndicatorTable).focus()
        self.refresh_bindings()

    # -- state shown ------------------------------------------------------------------------------
    @property
    def compared(self) -> str:
        """`cases` or `tenants`: what the view compares."""
        return "cases" if self.by == "case" else "tenants"

    def choice_label(self, choice: str) -> str:
        """A case name, or a tenant's readable label."""
        return self.labels.get(choice, choice)

    def refresh_table(self) -> None:
        """The indicators the filter keeps, with their events counted in the kept case (or all)."""
        members = self.members if self.case_filter is None else self.members.filter(pl.col("group") == self.case_filter)
        counts = members.group_by("row").agg(pl.col("record_id").unique(maintain_order=True).alias("_ids"))
        shown = self.result.with_row_index("row").join(counts, on="row", how="inner", maintain_order="left")
        self.shown = shown.with_columns(pl.col("_ids").list.len().alias("events")).drop("record_ids").rename(
            {"_ids": "record_ids"})
        self.query_one(IndicatorTable).show(self.shown, self.labels)
        compared = ", ".join(self.choice_label(group) for group in self.case_choices)
        scope = "all" if self.case_filter is None else self.case_scope
        counts = f"{self.shown.height} shared indicators │ showing: {scope}"
        self.show_header(f"Correlate {len(self.case_choices)} {self.compared}: {compared} │ {counts}",
                         f"Correlate {len(self.case_choices)} {self.compared} │ {counts}")
        if self.result.height == 0:
            self.say(f"no indicator is shared by two {self.compared} (one {self.compared[:-1]} loaded?)")
        else:
            self.say(f"ranked by kind, rarity and spread · Enter events · f {self.compared[:-1]} filter")
        self.show_detail()

    def show_detail(self) -> None:
        """The indicator under the cursor: its score's parts, accounts, fields, times and enrichment."""
        row = self.query_one(IndicatorTable).current
        if row is None:
            self.query_one("#indicator-detail", Static).update(Text(""))
            return
        per_case = " · ".join(f"{self.choice_label(case)} {bits:.1f}"
                              for case, bits in zip(row["cases"], row["rarity_per_case"]))
        lines = [f"{row['kind']}: {row['value']} · "
                 f"seen {row['first_seen']:%Y-%m-%d %H:%M} .. {row['last_seen']:%Y-%m-%d %H:%M} UTC",
                 f"score {row['score']:.1f} = kind {row['kind_weight']:.1f} × (rarity {row['rarity']:.1f} "
                 f"− generic {row['generic']:.1f} + accounts {row['account_rarity']:.1f} + "
                 f"{self.compared} {row['spread']:.1f} + linked {row['linked_bits']:.1f})",
                 f"rarity by {self.compared[:-1]}: {per_case} bits · linked to {row['linked']} other shared indicators",
                 f"accounts: {', '.join(row['users'])} · fields: {', '.join(row['fields'])}"]
        if row.get("org") or row.get("reasons"):
            origin = f"AS{row['asn']} " if row.get("asn") else ""
            lines.append(f"{origin}{row.get('org') or ''} · hosting: {'yes' if row.get('hosting') else 'no'} · "
                         + "; ".join(row.get("reasons") or []))
        self.query_one("#indicator-detail", Static).update(Text(visible("\n".join(lines), keep_newlines=True)))

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in {"open", "attribute"} and self.result is None:
            return False
        if action in {"open", "attribute"} and self.query_one(IndicatorTable).current is None:
            return None
        if action == "attribute" and self.query_one(IndicatorTable).current["kind"] not in ATTRIBUTABLE:
            return None
        return super().check_action(action, parameters)

    def case_filter_ready(self) -> bool:
        return self.result is not None

    def case_filter_changed(self) -> None:
        self.refresh_table()

    def on_data_table_row_highlighted(self, message: IndicatorTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()

    def on_data_table_row_selected(self, message: IndicatorTable.RowSelected) -> None:
        message.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.query_one(IndicatorTable).current
        if row is None:
            return
        scope = f"all {self.compared}" if self.case_filter is None else self.case_scope
        self.app.show_events(f"{row['kind']} {visible(row['value'])} ({scope})", row["record_ids"])

    def attribution_choices(self) -> list[Choice]:
        row = self.query_one(IndicatorTable).current
        if row is None or row["kind"] not in ATTRIBUTABLE:
            return []
        if row["kind"] != "user_agent":
            return [choice(row["kind"], row["value"])]
        # The indicator is the agent without Exchange's `Client=…;`: attribute every string its events carry.
        agents = self.loaded.events.filter(pl.col("record_id").is_in(row["record_ids"]))["user_agent"]
        return [Choice("user_agent", tuple(sorted(agents.drop_nulls().unique())), row["value"])]

    def show_marks(self, marks: Marks) -> None:
        self.query_one(IndicatorTable).show_marks(marks)

    def on_screen_resume(self) -> None:
        """Back from another mode: flag the indicators as marked there."""
        if self.result is not None:
            self.show_marks(read_marks(self.app))
