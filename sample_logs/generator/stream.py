"""Provides ``RecordStream``: a tenant's story, look-alikes and background, day by day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from .background import allocate, background_day, export_days
from .benign import benign_script
from .story import planted_steps
from .tenants import SEED, build_tenant


BACKGROUND_EVENTS = {"a": 4000, "b": 4000}


def sort_key(record: dict) -> tuple[str, str]:
    """The order of every output: time, then record id."""
    return record["CreationTime"], record["Id"]


class RecordStream:
    """All records of one tenant, produced a day at a time; ``len()`` is known up front."""

    def __init__(self, tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False):
        self.t = build_tenant(tenant, seed)
        background = BACKGROUND_EVENTS[tenant] if background is None else background
        story = [step.record for step in planted_steps(tenant, seed)]
        script = [item.record for item in benign_script(self.t)][:background]
        self.fixed: dict[str, list[dict]] = {}
        for record in story + script:
            self.fixed.setdefault(record["CreationTime"][:10], []).append(record)
        self.counts = allocate(background - len(script), self.t)
        self.newest_first = newest_first
        self.total = background + len(story)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict]:
        for day in self.days():
            yield from self.day_records(day)

    def days(self) -> list[date]:
        """The days in output order."""
        days = export_days()
        return days[::-1] if self.newest_first else days

    def day_size(self, day: date) -> int:
        """How many records ``day`` holds."""
        return self.counts[day] + len(self.fixed.get(day.isoformat(), ()))

    def day_records(self, day: date) -> list[dict]:
        """The records of ``day`` in output order."""
        records = background_day(self.t, day, self.counts[day])
        records += self.fixed.get(day.isoformat(), [])
        records.sort(key=sort_key, reverse=self.newest_first)
        return records


def iter_records(tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False) -> RecordStream:
    """A stream of ``background`` benign records plus the planted story of ``tenant``."""
    return RecordStream(tenant, background, seed, newest_first)


def generate_case(tenant: str, seed: int = SEED, background: int | None = None) -> list[dict]:
    """Every record of case ``tenant`` (``a`` or ``b``) in time order."""
    return list(iter_records(tenant, background, seed))
