"""Provides the messages with no single owner: loading progress, the first rows and the loaded case, sent by the
app's loader, and an enrichment that is new, sent by the IPs view after a run and by the loader."""

import polars as pl
from textual.message import Message

from workbench.core.case import Case
from workbench.core.load_report import LoadReport


class LoadProgress(Message, bubble=False):
    """Loading went on: `done` of `total` files, `rows` read so far, `current` file."""

    def __init__(self, done: int, total: int, rows: int, current: str) -> None:
        self.done, self.total, self.rows, self.current = done, total, rows, current
        super().__init__()

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, LoadProgress)


class LoadWaiting(Message, bubble=False):
    """Another process is loading the case; this one waits for it (`text` says who)."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__()


class CasePreview(Message, bubble=False):
    """The case is open and its first rows are read (`events`, in time order, of `total`); the rest is being read,
    after the hunts when `hunting`."""

    def __init__(self, events: pl.DataFrame, total: int, hunting: bool = False) -> None:
        self.events, self.total, self.hunting = events, total, hunting
        super().__init__()


class CaseLoaded(Message, bubble=False):
    """The case is open: its events in memory, the load report, its first rejects, hunt hits when hunts ran, and
    the cached IP enrichment (DESIGN §4 `enrich` columns) when the cache knows any of its client IPs."""

    def __init__(self, case: Case, events: pl.DataFrame, report: LoadReport, rejects: pl.DataFrame, reused: bool,
                 hits: pl.DataFrame | None = None, enrichment: pl.DataFrame | None = None) -> None:
        self.case, self.events, self.report, self.rejects = case, events, report, rejects
        self.reused, self.hits, self.enrichment = reused, hits, enrichment
        super().__init__()


class EnrichmentUpdated(Message):
    """An enrichment run finished (or the cache was read after the events): `enrichment` is the case's IPs as now
    known (bubbles up to the app)."""

    def __init__(self, enrichment: pl.DataFrame) -> None:
        self.enrichment = enrichment
        super().__init__()
