"""Provides `TimelineScreen`: the timeline mode — an account's (or IP's) activity per day over the whole export
with hunt hits and the dormant gap, first-seen IPs and user agents, and the log coverage per workload."""


import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from workbench.core.attribution import KINDS
from workbench.core.inert import visible
from workbench.core.timeline import (Timeline, account_timeline, failure_lines, ip_timeline, subject_expr,
                                     with_places)
from workbench.ui.attribution_marks import (ATTRIBUTION_BINDINGS, STATE_NAMES, AttributionKeys, Choice, Marks, choice,
                                            read_marks)
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.case_screen import CaseScreen, loaded_hits
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.widgets.day_strip import DayStrip

SHOWN_FIRST_SEEN = 12  # first-seen values listed per kind


#: The column of the hits (and events) naming each kind of timeline subject.
SUBJECT_COLUMNS = {"user": "user_id", "ip": "client_ip"}


def busiest(kind: str, hits: pl.DataFrame | None, events: pl.DataFrame) -> str | None:
    """The account (or IP) with the most hunt hits, else the most events: the default subject."""
    source = hits if hits is not None and hits.height else events
    counted = source.select(pl.col(SUBJECT_COLUMNS[kind]).str.to_lowercase().alias("subject")).drop_nulls().filter(
        pl.col("subject") != "").group_by("subject").len()
    if counted.height == 0:
        return None
    return counted.sort(["len", "subject"], descending=[True, False])["subject"][0]


#: The first-seen lists whose values can be flagged as the attacker's.
FLAGGED_LISTS = {"ips": "ip", "user_agents": "user_agent"}
#: Values of each kind offered by `A` on an account's day (the menu lists at most these many).
SHOWN_CHOICES = 8


def _flag(marks: Marks | None, name: str, value: str) -> Text:
    """The attribution flag of a first-seen value (a space when there is none or it cannot be attributed)."""
    if marks is None or name not in FLAGGED_LISTS:
        return Text(" ")
    return marks.agent_flag(value) if name == "user_agents" else marks.flag("ip", [value])


def first_seen_text(timeline: Timeline, marks: Marks | None = None) -> Text:
    """The dormant gap, quiet gaps, first-seen values (IPs and user agents flagged by `marks`) and coverage
    warnings, as inert text."""
    text = Text()
    dormant = timeline.dormant
    if dormant:
        line = f"dormant: created {dormant['created']:%Y-%m-%d %H:%M} by {dormant['created_by']}"
        if dormant["first_activity"]:
            line += f"; first own activity {dormant['first_activity']:%Y-%m-%d %H:%M}, {dormant['days']} days later"
        text.append(visible(line) + "\n", style="bold red")
    for start, end, days in timeline.gaps.iter_rows():
        text.append(f"quiet: {days} days without events between {start} and {end}\n")
    for line in failure_lines(timeline):
        text.append(line + "\n", style="yellow")
    for name, frame in timeline.first_seen.items():
        text.append(f"first-seen {name.replace('_', ' ')} ({frame.height})\n", style="bold")
        places = frame["place"].to_list() if "place" in frame.columns else [None] * frame.height
        for (value, first, last, events), place in zip(frame.head(SHOWN_FIRST_SEEN).select(
                "value", "first_seen", "last_seen", "events").iter_rows(), places):
            text.append(f"  {first:%Y-%m-%d %H:%M} .. {last:%Y-%m-%d %H:%M} {events:>5}")
            text.append_text(_flag(marks, name, value))
            text.append(f" {visible(value)}" + (f"  {visible(place)}" if place else "") + "\n")
        if frame.height > SHOWN_FIRST_SEEN:
            text.append(f"  … {frame.height - SHOWN_FIRST_SEEN} more\n", style="dim")
    for row in timeline.coverage.iter_rows(named=True):
        text.append(visible(f"coverage {row['source']}: {row['first']} .. {row['last']}, {row['active_days']} days "
                            f"with events, {len(row['missing_days'])} without") + "\n", style="dim")
    for warning in timeline.warnings:
        text.append(f"warning: {visible(warning)}\n", style="yellow")
    return text


class TimelineScreen(AttributionKeys, CaseScreen):
    """The timeline mode.

    | Key | Action |
    | :- | :- |
    | u | the timeline of an account (asks; default: the account of the most hunt hits) |
    | i | the timeline of a client IP (asks; default: the IP of the most hunt hits) |
    | left / right, shift+left / shift+right, home / end | move along the strip |
    | enter | open the cursor day's events of the account or IP |
    | f | the same timeline in every case, then in one case after the other |
    | A / X | the IP shown, or an IP, session or user agent of the cursor day, is the attacker's / not theirs |

    First-seen IPs and user agents are flagged as the attacker's (`A`), proposed (`a`) or not theirs (`-`).
    """

    DEFAULT_CSS = """
    TimelineScreen { layout: vertical; }
    TimelineScreen #timeline-header { height: auto; max-height: 2; background: $primary-background; color: $text; padding: 0 1; }
    TimelineScreen #day-info { height: 2; padding: 0 1; border-top: hkey $primary; }
    TimelineScreen #timeline-detail { height: 1fr; padding: 0 1; border-top: hkey $primary; }
    TimelineScreen #timeline-status { height: auto; max-height: 2; background: $panel; color: $text; padding: 0 1; }
    """
    HEADER_ID = "timeline-header"
    STATUS_ID = "timeline-status"
    BINDINGS = [
        # Priority: the keys typed right after them go to the prompt they open, not to the strip.
        Binding("u", "ask('user')", "Account", id="timeline.user", tooltip="The timeline of another account",
                priority=True),
        Binding("i", "ask('ip')", "IP", id="timeline.ip", tooltip="The timeline of a client IP", priority=True),
        *ATTRIBUTION_BINDINGS,
    ]

    def __init__(self) -> None:
        super().__init__()
        self.hits: pl.DataFrame | None = None
        self.timeline: Timeline | None = None
        self.marks: Marks | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("Timeline: waiting for the case…"), id="timeline-header")
        yield DayStrip(id="day-strip")
        yield Static(Text(""), id="day-info")
        with VerticalScroll(id="timeline-detail"):
            yield Static(Text(""), id="timeline-facts")
        yield Static(Text(""), id="timeline-status")
        yield Footer(show_command_palette=False)

    def case_loaded(self, loaded: CaseLoaded) -> None:
        """Hunt when the loader did not, then show the timeline of the account F7 was pressed on (else the busiest)."""
        self.say("running the hunts…" if loaded.hits is None else "building the timeline…")
        account = self._account_asked()
        self.build("user" if account else None, account)

    def _account_asked(self) -> str | None:
        """The account of the event F7 was pressed on, once."""
        account, self.app.timeline_account = getattr(self.app, "timeline_account", None), None
        return account

    def on_screen_resume(self) -> None:
        if self.timeline is not None:
            self.show_marks(read_marks(self.app))
        account = self._account_asked() if self.loaded is not None else None
        if account and (self.timeline is None or self.timeline.subject != account):
            self.say(f"building the timeline of {account}…")
            self.build("user", account)

    @work(thread=True, exclusive=True, group="timeline", exit_on_error=False)
    def build(self, kind: str | None, subject: str | None) -> None:
        """The timeline of `subject` (default: the account with the most hunt hits), with hunt hits overlaid,
        in the case the case filter keeps."""
        events = self.scoped_events
        try:
            all_hits = self.hits if self.hits is not None else loaded_hits(self.app, self.loaded)
            hits = all_hits if self.case_filter is None else all_hits.filter(pl.col("case") == self.case_filter)
            if subject is None:
                kind, subject = "user", busiest("user", hits, events)
            if subject is None:
                self.app.call_from_thread(self.say, "the case holds no accounts")
                return
            timeline = with_places((account_timeline if kind == "user" else ip_timeline)(events, subject, hits),
                                   self.loaded.enrichment)
        except Exception as error:  # said in the status line, never a traceback on screen
            self.app.call_from_thread(self.say, f"cannot build the timeline: {type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._built, all_hits, timeline)

    def _built(self, hits: pl.DataFrame, timeline: Timeline) -> None:
        self.hits = hits  # every case's
        if timeline.days.height == 0 or timeline.days["events"].sum() == 0:
            scope = "" if self.case_filter is None else f" in {self.case_filter}"
            self.say(f"no events by or about {timeline.subject}{scope}"
                     + (f"; still showing {self.timeline.subject}" if self.timeline is not None else ""))
            self.refresh_bindings()
            return
        self.timeline = timeline
        days = timeline.days
        hit_days = days.with_row_index("index").filter(pl.col("hits") > 0)["index"]
        active = days.with_row_index("index").filter(pl.col("events") > 0)["index"]
        strip = self.query_one(DayStrip)
        strip.show(timeline, (hit_days if hit_days.len() else active)[0])
        strip.focus()
        self.show_marks(read_marks(self.app))
        self.say("←→ day · shift+←→ active day · Enter the day's events · u account · i IP"
                 + (" · f case" if len(self.case_choices) > 1 else "")
                 + (" · red: the dormant gap" if timeline.dormant and timeline.dormant["first_activity"] else ""))
        self.refresh_bindings()

    def show_marks(self, marks: Marks) -> None:
        """The header (an IP's attribution) and the first-seen lists, flagged by `marks`."""
        self.marks, timeline = marks, self.timeline
        days = timeline.days
        active = days.filter(pl.col("events") > 0).height
        total_hits = int(days["hits"].sum())
        scope = f" │ {self.case_scope}" if len(self.case_choices) > 1 else ""
        state = marks.state("ip", [timeline.subject]) if timeline.kind == "ip" else None
        attributed = f" │ {STATE_NAMES[state]}" if state else ""
        self.show_header(
            f"Timeline of {'account' if timeline.kind == 'user' else 'IP'} {timeline.subject}{attributed} │ "
            f"{timeline.start}..{timeline.end}, {days.height} days │ {active} active, {total_hits} hits{scope}",
            f"{timeline.subject}{attributed} │ {days.height} days, {active} active, {total_hits} hits{scope}",
        )
        self.query_one("#timeline-facts", Static).update(first_seen_text(timeline, marks))

    # -- state shown ------------------------------------------------------------------------------
    @property
    def scoped_events(self) -> pl.DataFrame:
        """The events of the case the case filter keeps (or of every case)."""
        events = self.loaded.events
        return events if self.case_filter is None else events.filter(pl.col("case") == self.case_filter)

    def on_day_strip_moved(self, message: DayStrip.Moved) -> None:
        day, events, hits, severity = self.timeline.days.row(message.index)
        line = f"{day:%Y-%m-%d %a}: {events} events"
        if hits:
            line += f", {hits} hunt hits (highest {severity})"
        dormant = self.timeline.dormant
        if dormant and dormant["first_activity"] and dormant["created"].date() < day < dormant["first_activity"].date():
            line += f" · dormant: day {(day - dormant['created'].date()).days} of {dormant['days']}"
        line += " — Enter opens them" if events else ""
        self.query_one("#day-info", Static).update(Text(visible(line)))

    def on_day_strip_selected(self, message: DayStrip.Selected) -> None:
        self.open_day(message.index)

    def day_record_ids(self, index: int) -> list[str]:
        """The record ids of the subject's events on day `index`, in time order."""
        day = self.timeline.days["day"][index]
        chosen = self.scoped_events.filter(subject_expr(self.timeline.kind, self.timeline.subject)
                                           & (pl.col("creation_time").dt.date() == day))
        return chosen.sort("creation_time")["record_id"].to_list()

    def open_day(self, index: int) -> None:
        """Open the subject's events of day `index` in the events view."""
        record_ids = self.day_record_ids(index)
        day = self.timeline.days["day"][index]
        if not record_ids:
            self.say(f"no events of {self.timeline.subject} on {day}")
            return
        self.app.show_events(f"{self.timeline.subject} on {day}", record_ids)

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "ask" and self.hits is None:
            return False
        if action == "attribute" and self.timeline is None:
            return False
        return super().check_action(action, parameters)

    def case_filter_ready(self) -> bool:
        return self.timeline is not None

    def case_filter_changed(self) -> None:
        """The same account or IP in the case kept, or that case's busiest account when it is not there."""
        kind, subject = self.timeline.kind, self.timeline.subject
        if self.scoped_events.filter(subject_expr(kind, subject)).is_empty():
            kind = subject = None
        self.build(kind, subject)

    def action_ask(self, kind: str) -> None:
        shown = self.timeline is not None and self.timeline.kind == kind
        current = self.timeline.subject if shown else busiest(kind, self.hits, self.scoped_events) or ""
        title = "Timeline of the account (UPN)" if kind == "user" else "Timeline of the client IP"

        def done(value: str | None) -> None:
            if value and value.strip():
                self.say(f"building the timeline of {value.strip()}…")
                self.build(kind, value.strip())

        self.app.push_screen(TextPrompt(title, current, placeholder="e.g. user@example.com" if kind == "user"
                                        else "e.g. 203.0.113.7", hint="Enter shows it · Esc cancels",
                                        suggested=True), done)

    def attribution_choices(self) -> list[Choice]:
        """The IP of an IP's timeline; on an account's, the IPs, sessions and user agents of the cursor day."""
        timeline = self.timeline
        if timeline.kind == "ip":
            return [choice("ip", timeline.subject)]
        day = timeline.days["day"][self.query_one(DayStrip).cursor]
        chosen = self.scoped_events.filter(subject_expr(timeline.kind, timeline.subject)
                                           & (pl.col("creation_time").dt.date() == day))
        choices = []
        for kind, column in KINDS.items():
            counted = chosen.group_by(column).len().drop_nulls(column).filter(pl.col(column) != "")
            for value in counted.sort(["len", column], descending=[True, False]).head(SHOWN_CHOICES)[column]:
                choices.append(choice(kind, value))
        return choices
