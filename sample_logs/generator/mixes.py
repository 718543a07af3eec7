"""Provides the workload mixes of the benchmark files (``--mix exchange|sharepoint|directory|signin``) and
``MixStream``, one mix's records of the benign tenant a day at a time, in the shape ``write_stream`` writes.

Each mix is a month of the benign tenant's people (``benign_tenant``: the same members, places, devices and
sessions) seen through one workload, so the load, hunt and TUI benchmarks can be run on files of other
shapes than the story mix: different operations, nested fields, record sizes and a different long tail of
top-level fields. The tenant grows with the records asked for (``EVENTS_PER_MEMBER`` of the mix's day
class). A mix holds no planted attack.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

from .benign_files import share
from .benign_tenant import DAYS, START, benign_tenant, visits
from .mix_day import MixDay
from .mix_directory import DirectoryDay
from .mix_exchange import ExchangeDay
from .mix_sharepoint import SharePointDay
from .mix_signin import SignInDay
from .stream import sort_key
from .tenants import SEED

MIXES: dict[str, type[MixDay]] = {"exchange": ExchangeDay, "sharepoint": SharePointDay,
                                  "directory": DirectoryDay, "signin": SignInDay}


class MixStream:
    """All ``events`` records of one mix, produced a day at a time; ``len()`` is known up front."""

    def __init__(self, mix: str, events: int, seed: int = SEED, newest_first: bool = False):
        if mix not in MIXES:
            raise ValueError(f"unknown mix {mix!r}; expected one of {', '.join(MIXES)}")
        self.mix, self.seed, self.newest_first = mix, seed, newest_first
        self.day_class = MIXES[mix]
        self.t, self.members = benign_tenant(max(60, events // self.day_class.EVENTS_PER_MEMBER), seed)
        self._days = [START + timedelta(days=n) for n in range(DAYS)]
        self.plans = {day: [(m, plan) for m in self.members if (plan := visits(seed, m, day))] for day in self._days}
        weights = [sum(m.person.activity * sum((v.end - v.start).total_seconds() for v in plan)
                       for m, plan in self.plans[day] if m.role != "service") for day in self._days]
        self.counts = dict(zip(self._days, share(events, weights)))
        self.total = events

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict]:
        for day in self.days():
            yield from self.day_records(day)

    def days(self) -> list[date]:
        """The days in output order."""
        return self._days[::-1] if self.newest_first else list(self._days)

    def day_size(self, day: date) -> int:
        """How many records ``day`` holds."""
        return self.counts[day]

    def day_records(self, day: date) -> list[dict]:
        """The records of ``day`` in output order (time, then record id)."""
        records = self.day_class(self.t, self.seed, day, self.plans[day], self.members).records(self.counts[day])
        records.sort(key=sort_key, reverse=self.newest_first)
        return records
