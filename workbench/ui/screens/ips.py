"""Provides `IpsScreen`: the client IPs of the case with RDAP/AbuseIPDB enrichment, filled in by a background worker.

The cache is shown at once (offline); then a worker looks up what is missing or stale in small
batches, most events first, and each batch fills its rows in place. Quota, rate limits and errors go
to the status line, never the API key.
"""

import re
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Footer, Input, ProgressBar, Static
from textual.worker import get_current_worker

import enrich
from enrich.geo import GEO_SCHEMA
from enrich.service import ENRICHMENT_SCHEMA, SUMMARY_COLUMNS
from workbench.core.config import ConfigError, cache_root
from workbench.core.inert import visible
from workbench.ui.attribution_marks import ATTRIBUTION_BINDINGS, AttributionKeys, Choice, Marks, choice, read_marks
from workbench.ui.messages import CaseLoaded, EnrichmentUpdated
from workbench.ui.screens.case_screen import CaseScreen, app_config
from workbench.ui.widgets.ip_table import IpTable, ip_detail

BATCH = 8  # addresses per enrichment call: each batch's rows fill in as soon as it is done
#: Sort keys 1..9: frame column and title.
SORTS = (("events", "events"), ("abuse_score", "abuse score"), ("hosting", "hosting"), ("last_seen", "last seen"),
         ("first_seen", "first seen"), ("users", "users"), ("country", "country"), ("asn", "ASN"), ("ip", "IP"))
#: `enrich` messages the status line says in its own words (counts, quota) or that need no saying.
_ROUTINE = re.compile(r"(RDAP: looked up|AbuseIPDB: checked) \d+ of \d+(, \d+ failed)?|AbuseIPDB: \d+ checks left today.*"
                      r"|offline: no lookups made.*|\d+ special-purpose addresses kept local.*")
FILTER_TEXT = [pl.col(name).cast(pl.String).fill_null("") for name in ("ip", "org", "as_name", "country", "usage_type",
                                                                         "domain", "asn", "geo_city", "geo_country",
                                                                         "geo_country_name", "geo_asn", "geo_as_org")]


def filter_ips(frame: pl.DataFrame, text: str) -> pl.DataFrame:
    """The rows whose IP, organisation, AS, country, usage type, domain, ASN, location, cases or reasons contain
    `text`."""
    needle = text.strip().lower()
    if not needle:
        return frame
    haystack = pl.concat_str(
        [*FILTER_TEXT, pl.col("reasons").list.join(" ").fill_null(""), pl.col("cases").list.join(" ").fill_null(""),
         pl.when(pl.col("hosting")).then(pl.lit("hosting")).otherwise(pl.lit(""))],
        separator=" ",
    ).str.to_lowercase()
    return frame.filter(haystack.str.contains(needle, literal=True))


def unenriched(summary: pl.DataFrame) -> enrich.EnrichResult:
    """The IPs with empty enrichment columns (when even the cache cannot be read)."""
    frame = summary.select(SUMMARY_COLUMNS).with_columns(
        pl.lit(None, dtype).alias(name) for name, dtype in {**ENRICHMENT_SCHEMA, **GEO_SCHEMA}.items() if name != "ip")
    return enrich.EnrichResult(frame, (), {}, None, None)


class IpsEnriched(Message, bubble=False):
    """A batch came back from `enrich.enrich`: `done` of the run's `total` addresses are through, `final` if the
    run is over; `run` is False for a one-address refresh beside the run."""

    def __init__(self, result: enrich.EnrichResult, done: int, total: int, final: bool, run: bool = True) -> None:
        self.result, self.done, self.total, self.final, self.run = result, done, total, final, run
        super().__init__()


class IpsProgress(Message, bubble=False):
    """Within the batch starting at `offset`, one source got as far as `progress` says."""

    def __init__(self, offset: int, total: int, progress: enrich.Progress) -> None:
        self.offset, self.total, self.progress = offset, total, progress
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, IpsProgress)


class IpsStopped(Message, bubble=False):
    """Enrichment could not run (bad settings or config, an unreadable cache); `reason` says why."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__()


class IpsScreen(AttributionKeys, CaseScreen):
    """The IPs mode: Enter opens the events from an IP; `r` refreshes it, `R` enriches all; `/` filters; 1-9 sort;
    `f` keeps the IPs of one case; `A` marks the IP as the attacker's (`X`: not the attacker's), flagged in `att`."""

    CSS_PATH = Path(__file__).parent.parent / "views.tcss"
    STATUS_ID = "ips-status"
    BINDINGS = [
        Binding("enter", "open", "Events", id="ips.open"),
        # Priority: the keys typed right after "/" go to the filter, not to the table.
        Binding("slash", "filter", "Filter", id="ips.filter", priority=True),
        Binding("escape", "clear_filter", "Clear filter", id="ips.clear_filter", show=False),
        Binding("r", "refresh_ip", "Refresh IP", id="ips.refresh_ip", tooltip="Look the IP under the cursor up again"),
        Binding("R", "enrich_all", "Enrich now", id="ips.enrich_all", tooltip="Look up every missing or stale IP"),
        *ATTRIBUTION_BINDINGS,
        *(Binding(str(number), f"sort('{key}')", f"Sort by {title}", id=f"ips.sort_{key}", show=False)
          for number, (key, title) in enumerate(SORTS, 1)),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.frame: pl.DataFrame | None = None  # every IP of the case, enriched as far as known
        self.filter_text = ""
        self.sort = ("events", True)
        self.errors: dict[str, tuple[str, ...]] = {}
        self.notes: tuple[str, ...] = ()
        self.quota_left: int | None = None
        self.rate_limited_until: datetime | None = None
        self.running = False
        self.problem: str | None = None  # why enrichment cannot run, shown in the status line

    def compose(self) -> ComposeResult:
        yield Static(Text("IPs: waiting for the case…"), id="ips-header")
        yield Input(placeholder="filter: text in IP, organisation, ASN, country, usage type, reasons",
                    id="ip-filter", classes="hidden")
        yield IpTable(id="ip-table")
        yield Static(Text(""), id="ip-detail")
        with Horizontal(id="ip-progress-row", classes="hidden"):
            yield Static(Text(""), id="ip-progress-text")
            yield ProgressBar(id="ip-progress", show_eta=False)
        yield Static(Text(""), id="ips-status")
        yield Footer(show_command_palette=False)

    def case_loaded(self, loaded: CaseLoaded) -> None:
        """Show the case's IPs from the cache, then enrich online unless the app is offline."""
        self.say("reading the enrichment cache…")
        self.read_cache()

    # -- the worker ---------------------------------------------------------------------------------
    def _settings(self) -> enrich.EnrichSettings:
        return enrich.settings_from_env(app_config(self.app))

    @work(thread=True, exclusive=True, group="ips-cache", exit_on_error=False)
    def read_cache(self) -> None:
        """Every IP of the case with what the shared cache knows about it (no network)."""
        try:
            settings = self._settings()
        except (enrich.SettingsError, ConfigError) as error:
            settings = None
            self.post_message(IpsStopped(str(error)))
        summary = enrich.ip_summary(self.loaded.events)
        usable = settings or enrich.EnrichSettings(cache_dir=cache_root(getattr(self.app, "config", None)))
        try:
            result = enrich.enrich(summary, usable, offline=True)
        except Exception as error:  # an unreadable cache: the IPs are still listed, without enrichment
            self.post_message(IpsStopped(f"{type(error).__name__}: {error}"))
            result = unenriched(summary)
        self.post_message(IpsEnriched(result, summary.height, summary.height, final=True, run=settings is not None))

    @work(thread=True, exclusive=True, group="enrich", exit_on_error=False)
    def enrich_online(self) -> None:
        """Enrich every IP of the case online, in batches, most events first, until done or rate limited."""
        worker = get_current_worker()
        try:
            settings = self._settings()
        except (enrich.SettingsError, ConfigError) as error:
            self.post_message(IpsStopped(str(error)))
            return
        summary = enrich.ip_summary(self.loaded.events)
        total = summary.height
        for offset in range(0, total, BATCH):
            chunk = summary.slice(offset, BATCH)

            def progress(step: enrich.Progress, offset: int = offset) -> None:
                self.post_message(IpsProgress(offset, total, step))

            try:
                result = enrich.enrich(chunk, settings, progress=progress)
            except Exception as error:  # e.g. an unreadable cache: said in the status line, never a traceback
                self.post_message(IpsStopped(f"{type(error).__name__}: {error}"))
                return
            # A source that stopped and nothing looked up: the next batches would only stop the same way.
            cut_off = bool(result.stopped) and result.looked_up == 0
            last = (offset + chunk.height >= total or result.rate_limited_until is not None or cut_off
                    or worker.is_cancelled)
            self.post_message(IpsEnriched(result, offset + chunk.height, total, final=last))
            if last:
                return

    def on_ips_progress(self, message: IpsProgress) -> None:
        step = message.progress
        source = "RDAP" if step.source == "rdap" else "AbuseIPDB"
        self.query_one("#ip-progress", ProgressBar).update(total=max(1, message.total), progress=message.offset)
        self.query_one("#ip-progress-text", Static).update(
            Text(f"enriching addresses {message.offset + 1}–{message.offset + step.total} of {message.total}: "
                 f"{source} {step.done}/{step.total}"))

    def on_ips_enriched(self, message: IpsEnriched) -> None:
        result = message.result
        first = self.frame is None
        batch = set(result.frame["ip"].to_list())
        if first:
            self.frame = result.frame
        else:
            self.frame = self.frame.update(result.frame, on="ip", include_nulls=True)
            self.query_one(IpTable).fill(result.frame)
            if self.query_one(IpTable).current_ip in batch:
                self.show_detail()
        self.errors = {ip: e for ip, e in self.errors.items() if ip not in batch} | dict(result.errors)
        self.notes = tuple(m for m in result.messages if not _ROUTINE.fullmatch(m))
        if result.quota_left is not None:
            self.quota_left = result.quota_left
        self.rate_limited_until = result.rate_limited_until
        if message.run:
            if message.final and not first:
                self.post_message(EnrichmentUpdated(self.frame))
            self.query_one("#ip-progress", ProgressBar).update(total=max(1, message.total), progress=message.done)
            self.running = not message.final
            self.query_one("#ip-progress-row").set_class(message.final, "hidden")
        if first:
            self.query_one(IpTable).marks = read_marks(self.app)
            self.refresh_table()
            self.query_one(IpTable).focus()
            if message.run and not getattr(self.app, "enrich_offline", False):
                self.start_online()
        self.refresh_header()
        self.refresh_status()
        self.refresh_bindings()

    def on_ips_stopped(self, message: IpsStopped) -> None:
        self.running = False
        self.problem = message.reason
        self.query_one("#ip-progress-row").add_class("hidden")
        if self.frame is not None:
            self.refresh_status()

    def start_online(self) -> None:
        """Start an online run (replacing a running one) and show its progress."""
        self.running = True
        self.query_one("#ip-progress-row").remove_class("hidden")
        self.query_one("#ip-progress-text", Static).update(Text("enriching…"))
        self.enrich_online()
        self.refresh_status()

    # -- state shown ------------------------------------------------------------------------------
    def refresh_status(self) -> None:
        """Enriched count, quota, rate limit, errors and notes of the last run."""
        frame = self.frame
        known = frame.filter(pl.col("hosting").is_not_null() | pl.col("asn").is_not_null()).height
        parts = [f"{known} of {frame.height} addresses enriched" + (" (enriching…)" if self.running else "")]
        if self.problem:
            parts.append(f"enrichment not possible: {self.problem}")
        if self.quota_left is not None:
            parts.append(f"AbuseIPDB: {self.quota_left} checks left today")
        if self.rate_limited_until is not None:
            parts.append(f"rate limited until {self.rate_limited_until:%Y-%m-%d %H:%M} UTC; R resumes after that")
        if self.errors:
            ip, errors = next(reversed(self.errors.items()))
            parts.append(f"{len(self.errors)} with errors, e.g. {ip}: {errors[-1]}")
        parts.extend(self.notes)
        self.say(" · ".join(parts))

    def refresh_header(self) -> None:
        """Case, addresses listed / total, hosting count, filter and sort."""
        shown = self.query_one(IpTable).row_count
        hosting = self.frame.filter(pl.col("hosting").fill_null(False)).height
        key, descending = self.sort
        title = dict(SORTS)[key]
        parts = [self.loaded.case.name, f"{shown} / {self.frame.height} IPs", f"{hosting} hosting",
                 f"sort: {title} {'↓' if descending else '↑'}"]
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if len(self.case_choices) > 1:
            parts.append(f"showing: {self.case_scope}")
        self.query_one("#ips-header", Static).update(Text(visible(" │ ".join(parts))))

    def refresh_table(self) -> None:
        """Lay the filtered, sorted rows out again."""
        key, descending = self.sort
        frame = self.frame
        if self.case_filter is not None:
            frame = frame.filter(pl.col("cases").list.contains(self.case_filter))
        frame = filter_ips(frame, self.filter_text).sort(
            [key, "events", "ip"], descending=[descending, True, False], nulls_last=True)
        self.query_one(IpTable).show(frame)
        self.show_detail()
        self.refresh_header()

    # -- actions ----------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if self.frame is None and action in {"open", "filter", "refresh_ip", "enrich_all", "sort", "clear_filter",
                                             "attribute"}:
            return False
        if action in {"open", "refresh_ip", "attribute"} and self.query_one(IpTable).current_ip is None:
            return None
        if action == "filter" and self.query_one("#ip-filter").has_focus:
            return False  # "/" is text in the filter
        if action == "clear_filter":
            return bool(self.filter_text) or not self.query_one("#ip-filter").has_class("hidden")
        return super().check_action(action, parameters)

    def case_filter_ready(self) -> bool:
        return self.frame is not None

    def case_filter_changed(self) -> None:
        self.refresh_table()

    def on_data_table_row_selected(self, message: IpTable.RowSelected) -> None:
        message.stop()
        self.action_open()

    def on_data_table_row_highlighted(self, message: IpTable.RowHighlighted) -> None:
        self.show_detail()
        self.refresh_bindings()

    def show_detail(self) -> None:
        """Everything known about the IP under the cursor, under the table."""
        ip = self.query_one(IpTable).current_ip
        rows = self.frame.filter(pl.col("ip") == ip).to_dicts() if ip is not None else []
        self.query_one("#ip-detail", Static).update(ip_detail(rows[0]) if rows else Text("no IP matches the filter"))

    def action_open(self) -> None:
        ip = self.query_one(IpTable).current_ip
        if ip is None:
            return
        events = self.loaded.events.filter(pl.col("client_ip") == ip)
        title = f"IP {ip}"
        if self.case_filter is not None:
            events, title = events.filter(pl.col("case") == self.case_filter), f"IP {ip} in {self.case_filter}"
        self.app.show_events(title, events["record_id"].to_list())

    def attribution_choices(self) -> list[Choice]:
        ip = self.query_one(IpTable).current_ip
        return [] if ip is None else [choice("ip", ip)]

    def show_marks(self, marks: Marks) -> None:
        self.query_one(IpTable).show_marks(marks)

    def on_screen_resume(self) -> None:
        """Back from another mode: flag the IPs as marked there."""
        if self.frame is not None:
            self.show_marks(read_marks(self.app))

    def action_filter(self) -> None:
        field = self.query_one("#ip-filter", Input)
        field.remove_class("hidden")
        field.value = self.filter_text
        self.set_focus(field)  # at once, not after the keys already queued

    def on_input_changed(self, message: Input.Changed) -> None:
        if message.input.id == "ip-filter" and message.value != self.filter_text:
            self.filter_text = message.value
            self.refresh_table()

    def on_input_submitted(self, message: Input.Submitted) -> None:
        if message.input.id == "ip-filter":
            message.input.add_class("hidden")
            self.query_one(IpTable).focus()
            self.refresh_bindings()

    def action_clear_filter(self) -> None:
        self.query_one("#ip-filter").add_class("hidden")
        if self.filter_text:
            self.filter_text = ""
            self.refresh_table()
        self.query_one(IpTable).focus()
        self.refresh_bindings()

    def action_sort(self, key: str) -> None:
        current, descending = self.sort
        self.sort = (key, not descending) if key == current else (key, key not in {"ip", "country", "first_seen"})
        self.refresh_table()

    def action_refresh_ip(self) -> None:
        ip = self.query_one(IpTable).current_ip
        self.say(f"looking up {ip} again…")
        self.refresh_one(ip)

    @work(thread=True, exclusive=True, group="enrich-one", exit_on_error=False)
    def refresh_one(self, ip: str) -> None:
        """Look one address up again, whatever the age of its cached results (beside any running batch)."""
        try:
            settings = replace(self._settings(), rdap_ttl=timedelta(0), abuseipdb_ttl=timedelta(0))
        except (enrich.SettingsError, ConfigError) as error:
            self.post_message(IpsStopped(str(error)))
            return
        summary = enrich.ip_summary(self.loaded.events.filter(pl.col("client_ip") == ip))
        try:
            result = enrich.enrich(summary, settings)
        except Exception as error:  # said in the status line, never a traceback
            self.post_message(IpsStopped(f"{type(error).__name__}: {error}"))
            return
        self.post_message(IpsEnriched(result, 1, 1, final=True, run=False))

    def action_enrich_all(self) -> None:
        if self.running:
            self.say("enrichment is already running")
            return
        self.start_online()
