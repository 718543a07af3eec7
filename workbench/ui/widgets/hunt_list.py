"""Provides `HuntList`: the hunts of the pack with their hits, most hits and highest severity first; a hunt
that waits for IP enrichment says so instead of showing no hits."""

import polars as pl
from rich.text import Text
from textual.widgets import DataTable

from hunts import Hunt
from workbench.core.inert import visible


def hunt_hit_counts(hits: pl.DataFrame) -> dict[str, int]:
    """Distinct events hit, per hunt id."""
    counted = hits.group_by("hunt_id").agg(pl.col("record_id").n_unique().alias("events"))
    return dict(zip(counted["hunt_id"].to_list(), counted["events"].to_list()))


class HuntList(DataTable):
    """One row per hunt (keyed by hunt id): events hit (`wait` for a hunt waiting for IP enrichment), severity,
    title, ATT&CK techniques."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.hunts: list[Hunt] = []

    def on_mount(self) -> None:
        self.add_column(Text("hits"), key="hits", width=5)
        self.add_column(Text("severity"), key="severity")
        self.add_column(Text("hunt"), key="title")
        self.add_column(Text("ATT&CK"), key="attack")

    def show(self, hunts: list[Hunt], counts: dict[str, int], waiting: frozenset[str] = frozenset()) -> None:
        """List `hunts` ordered by events hit, then severity, then title; the ids in `waiting` read the IP
        enrichment, which the case lacks."""
        self.hunts = sorted(hunts, key=lambda h: (-counts.get(h.id, 0), -h.severity_rank, h.title.lower()))
        self.clear()
        for hunt in self.hunts:
            count = counts.get(hunt.id, 0)
            techniques = ", ".join(dict.fromkeys(pair.technique_id for pair in hunt.attack))
            if hunt.id in waiting:
                hits = Text("wait", style="yellow")
            else:
                hits = Text(f"{count:>4}" if count else "   ·", style="bold" if count else "dim")
            self.add_row(
                hits,
                Text(hunt.severity),
                Text(visible(hunt.title)),
                Text(techniques),
                key=hunt.id,
            )

    @property
    def current(self) -> Hunt | None:
        """The hunt under the cursor."""
        if not self.hunts or not 0 <= self.cursor_row < len(self.hunts):
            return None
        return self.hunts[self.cursor_row]
