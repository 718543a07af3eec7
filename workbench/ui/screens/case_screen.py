"""Provides `CaseScreen`: the base of the modes beside the events view (matrix, IPs, correlate, timeline).

Each shows the loaded case(s) once they are in (at mount when the events are loaded already, else on
`CaseLoaded`), says what it is doing in its status line, and with several cases open keeps one case
in view with `f` (every case, then each case in turn).
"""

from typing import ClassVar

import polars as pl
from rich.text import Text
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Static

import hunts
from workbench.core import hunting
from workbench.core.config import load_config
from workbench.core.inert import visible
from workbench.ui.messages import CaseLoaded
from workbench.ui.widgets.cells import first_that_fits


def app_config(app: App) -> dict:
    """The app's configuration (read from the config file when the app carries none)."""
    config = getattr(app, "config", None)
    return load_config() if config is None else config


def hunt_pack(app: App) -> list[hunts.Hunt]:
    """The hunts the app runs: the bundled pack, the config's `hunts_dirs` and the app's `--hunts` folders."""
    return hunting.hunt_pack(app_config(app), getattr(app, "hunt_dirs", ()))


def loaded_hits(app: App, loaded: CaseLoaded, pack: list[hunts.Hunt] | None = None) -> pl.DataFrame:
    """The hunt hits of the loaded events: the loader's, else hunted now with cached enrichment (no network)."""
    if loaded.hits is not None:
        return loaded.hits
    return hunting.hunt_case(loaded.case, app_config(app), hunt_pack(app) if pack is None else pack,
                             enrichment=loaded.enrichment)


class CaseScreen(Screen[None]):
    """A mode over the loaded case(s), with a status line and a case filter."""

    #: The ids of the `Static`s that are the header and the status line.
    HEADER_ID: ClassVar[str] = "header"
    STATUS_ID: ClassVar[str] = "status"
    BINDINGS = [
        Binding("f", "cycle_case", "Case filter", id="view.case_filter",
                tooltip="Every case, then only the events of one case after the other"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.loaded: CaseLoaded | None = None
        self.case_choices: list[str] = []  # what the case filter cycles through (after "all")
        self.case_filter: str | None = None  # the one case kept in view; None: all
        self.header_variants: tuple[str, ...] = ()  # the header shown, fullest first

    def on_mount(self) -> None:
        if getattr(self.app, "loaded", None) is not None:
            self.show_case(self.app.loaded)

    def on_case_loaded(self, message: CaseLoaded) -> None:
        self.show_case(message)

    def show_case(self, loaded: CaseLoaded) -> None:
        """Take the loaded case(s) (the first time only) and start the mode's work on them."""
        if self.loaded is not None:
            return
        self.loaded = loaded
        self.case_choices = sorted(loaded.events.select(pl.col("case").drop_nulls().unique()).to_series().to_list())
        self.case_loaded(loaded)

    def case_loaded(self, loaded: CaseLoaded) -> None:
        """Start the mode's work on the loaded case(s)."""
        raise NotImplementedError

    def say(self, message: str) -> None:
        """Put `message` (made inert) in the status line."""
        self.query_one(f"#{self.STATUS_ID}", Static).update(Text(visible(message)))

    def show_header(self, *variants: str) -> None:
        """The first of `variants` (fullest first) that fits the width in the header line, again on resize."""
        self.header_variants = variants
        header = first_that_fits(self.size.width - 2, *variants)
        self.query_one(f"#{self.HEADER_ID}", Static).update(Text(visible(header)))

    def on_resize(self) -> None:
        if self.header_variants:
            self.show_header(*self.header_variants)

    # -- the case filter --------------------------------------------------------------------------
    @property
    def case_scope(self) -> str:
        """What the case filter keeps, for headers: `all cases` or the case's name."""
        return "all cases" if self.case_filter is None else self.choice_label(self.case_filter)

    def choice_label(self, choice: str) -> str:
        """How a case filter choice is named on screen."""
        return choice

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cycle_case":
            return len(self.case_choices) > 1 and self.case_filter_ready()
        return True

    def case_filter_ready(self) -> bool:
        """Whether the mode has built what the case filter narrows."""
        return True

    def action_cycle_case(self) -> None:
        choices = [None, *self.case_choices]
        self.case_filter = choices[(choices.index(self.case_filter) + 1) % len(choices)]
        self.case_filter_changed()
        self.say(f"showing {self.case_scope} · f: next case")

    def case_filter_changed(self) -> None:
        """Show what the case filter now keeps."""
        raise NotImplementedError
