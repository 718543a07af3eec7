"""Provides `CaseCommands`: the palette's IOC sweep and incident report, each asking for a file and working in
a background worker that reports in a notification."""

from collections.abc import Callable
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

from textual.app import App
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.widgets import Input

from workbench.core.inert import visible
from workbench.core.ioc import Ioc, IocFileError, ioc_matches, read_iocs
from workbench.core.report import case_report
from workbench.core.report_format import format_for_report, write_report
from workbench.ui.screens.case_screen import app_config
from workbench.ui.screens.prompt import TextPrompt

IOC_HINT = "text (one indicator a line) or CSV with an `indicator` column; IPs, CIDRs, domains, addresses, agents, rules"
REPORT_HINT = ".md writes Markdown, .html one self-contained page; the marked events of the case, by technique"


class IocFilePrompt(TextPrompt):
    """Ask for an IOC file; a file that cannot be read or parsed keeps the dialog open with the reason."""

    def __init__(self, title: str, value: str = "", placeholder: str = "", hint: str = "") -> None:
        super().__init__(title, value, placeholder, hint)
        self.iocs: list[Ioc] = []

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # TextPrompt's own handler would close the prompt
        path = Path(event.value.strip()).expanduser()
        try:
            self.iocs = read_iocs(path)
        except IocFileError as error:
            self.show_problem(visible(str(error).splitlines()[0]))
            return
        if not self.iocs:
            self.show_problem(f"{path}: no indicators in the file")
            return
        self.dismiss(str(path))


class ReportPathPrompt(TextPrompt):
    """Ask for the report file; its suffix (.md, .html) picks the format."""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()
        try:
            format_for_report(Path(event.value.strip()))
        except ValueError as error:
            self.show_problem(visible(str(error)))
            return
        self.dismiss(str(Path(event.value.strip()).expanduser()))


def _tell(app: App, message: str, severity: str = "information") -> None:
    """A notification from a worker thread (log text made inert, never markup)."""
    app.call_from_thread(app.notify, visible(message), severity=severity, markup=False, timeout=10)


def sweep(app: App, path: Path, iocs: list[Ioc]) -> None:
    """Match `iocs` against the loaded events (in a worker) and open the matching events; the report of this
    session lists the marked events these indicators match."""
    matches = ioc_matches(app.loaded.events, iocs)
    app.swept_iocs = iocs
    record_ids = matches["record_id"].unique(maintain_order=True).to_list()
    found = matches["indicator"].n_unique()
    if not record_ids:
        _tell(app, f"IOC sweep {path.name}: none of {len(iocs)} indicators is in the events", "warning")
        return
    _tell(app, f"IOC sweep {path.name}: {len(record_ids)} events carry {found} of {len(iocs)} indicators")
    app.call_from_thread(app.show_events, f"IOC matches ({len(record_ids)})", record_ids)


def report(app: App, path: Path) -> None:
    """Write the incident report of the session's marked events (in a worker), its cases compared, with the
    matches of the session's last IOC sweep."""
    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    built = case_report(app.loaded.case, app_config(app), getattr(app, "swept_iocs", None), generated,
                        hits=app.loaded.hits, hunt_dirs=getattr(app, "hunt_dirs", ()))
    write_report(built, path)
    _tell(app, f"wrote the report of {built.marked} marked events to {path}",
          "information" if built.marked else "warning")


def _run(app: App, job: Callable[[], None], group: str, what: str) -> None:
    """Run `job` in a thread worker; a failure is a notification, never a traceback."""

    def guarded() -> None:
        try:
            job()
        except Exception as error:
            _tell(app, f"{what} failed: {type(error).__name__}: {error}", "error")

    app.run_worker(guarded, thread=True, exclusive=True, group=group, exit_on_error=False)


class CaseCommands(Provider):
    """The palette's case-wide commands: IOC sweep from a file and the incident report (once a case is loaded)."""

    def commands(self) -> list[tuple[str, str, Callable[[], None]]]:
        if getattr(self.app, "loaded", None) is None:
            return []
        return [("IOC sweep from file…", "flag the events that carry an indicator of a list", self.ask_iocs),
                ("Write incident report…", "the marked events by ATT&CK technique, as Markdown or HTML",
                 self.ask_report)]

    async def discover(self) -> Hits:
        for name, help_text, callback in self.commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)

    def ask_iocs(self) -> None:
        app = self.app
        prompt = IocFilePrompt("IOC sweep: indicator file", placeholder="e.g. iocs.txt", hint=IOC_HINT)

        def chosen(value: str | None) -> None:
            if value:
                app.notify(f"sweeping {len(prompt.iocs)} indicators…", markup=False)
                _run(app, partial(sweep, app, Path(value), prompt.iocs), "ioc", "IOC sweep")

        app.push_screen(prompt, chosen)

    def ask_report(self) -> None:
        app = self.app
        default = Path.cwd() / f"{app.loaded.case.name}-report.md"

        def chosen(value: str | None) -> None:
            if value:
                _run(app, partial(report, app, Path(value)), "report", "the report")

        app.push_screen(ReportPathPrompt("Write the incident report to", str(default), hint=REPORT_HINT), chosen)
