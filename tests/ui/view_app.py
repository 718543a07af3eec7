"""A tiny host app for the matrix and IPs views (the shell's `loaded` and `show_events`), and case A as loaded."""

import polars as pl
import pytest
from textual.app import App

from workbench.core import hunting
from workbench.core.case import Case
from workbench.ui.messages import CaseLoaded

CASE_NAME = "case-a"


class ViewApp(App[None]):
    """Shows one view as its only screen, holding `loaded` as the shell does and recording `show_events` calls."""

    def __init__(self, loaded: CaseLoaded, screen_type, config: dict | None = None, enrich_offline: bool = False) -> None:
        super().__init__()
        self.loaded, self.screen_type, self.config = loaded, screen_type, config or {}
        self.enrich_offline = enrich_offline
        self.opened: list[tuple[str, list[str]]] = []

    def on_mount(self) -> None:
        self.push_screen(self.screen_type())

    def show_events(self, title: str, record_ids: list[str]) -> None:
        self.opened.append((title, record_ids))


def case_loaded(case: Case, events: pl.DataFrame | None = None, hits: pl.DataFrame | None = None) -> CaseLoaded:
    """The `CaseLoaded` message the shell's loader would post for this (already loaded) case."""
    report, reused = case.open([])
    return CaseLoaded(case, case.events() if events is None else events, report, case.rejects().head(200), reused, hits)


@pytest.fixture(scope="session")
def case_a_hits(loaded_case_a) -> tuple[Case, pl.DataFrame]:
    """Case A (read-only, shared) and the bundled pack's hits on it."""
    case = Case.named(CASE_NAME, loaded_case_a)
    case.open([])
    return case, hunting.case_hits(case.events(), {}, case=case)
