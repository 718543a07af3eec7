"""Provides ``RecordStream``: a tenant's story, look-alikes and background, day by day."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta

from .background import allocate, background_day, export_days
from .benign import benign_script
from .owners import owner_mail
from .story import planted_steps
from .tenants import SEED, build_tenant


BACKGROUND_EVENTS = {"a": 4000, "b": 4000}


def sort_key(record: dict) -> tuple[str, str]:
    """The order of every output: time, then record id."""
    return record["CreationTime"], record["Id"]


def is_throttled(record: dict) -> bool:
    """Whether ``record`` is a MailItemsAccessed record that says auditing is throttled."""
    return record.get("Operation") == "MailItemsAccessed" and any(
        p.get("Name") == "IsThrottled" and p.get("Value") == "True"
        for p in record.get("OperationProperties", []))


def throttle_windows(records: list[dict]) -> list[tuple[str, str, str]]:
    """(mailbox, from, to) of each throttled record: 24 hours without MailItemsAccessed records."""
    return [(r["MailboxOwnerUPN"].lower(), r["CreationTime"],
             (datetime.fromisoformat(r["CreationTime"]) + timedelta(hours=24)).isoformat())
            for r in records if is_throttled(r)]


class RecordStream:
    """All records of one tenant, produced a day at a time; ``len()`` is known up front."""

    def __init__(self, tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False):
        self.t = build_tenant(tenant, seed)
        background = BACKGROUND_EVENTS[tenant] if background is None else background
        story = [step.record for step in planted_steps(tenant, seed)]
        script = [item.record for item in benign_script(self.t)][:background]
        owners = list(owner_mail(tenant, seed)[0])
        self.fixed: dict[str, list[dict]] = {}
        for record in story + script + owners:
            self.fixed.setdefault(record["CreationTime"][:10], []).append(record)
        self.counts = allocate(background - len(script), self.t)
        self.newest_first = newest_first
        # Exchange records no MailItemsAccessed of a throttled mailbox for 24 hours: not even the
        # owner's own reading, so the background of those hours has none either.
        self.windows = throttle_windows(story)
        self.story_ids = {r["Id"] for r in story}
        self.dropped: dict[date, int] = {}
        for _, start, end in self.windows:
            for day in {date.fromisoformat(start[:10]), date.fromisoformat(end[:10])}:
                if day in self.counts:
                    kept = len(self.day_records(day))
                    self.dropped[day] = self.counts[day] + len(self.fixed.get(
                        day.isoformat(), ())) - kept
        self.owners = len(owners)
        self.total = background + len(story) + len(owners) - sum(self.dropped.values())

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
        return (self.counts[day] + len(self.fixed.get(day.isoformat(), ()))
                - self.dropped.get(day, 0))

    def silenced(self, record: dict) -> bool:
        """Whether ``record`` falls in a throttled mailbox's 24 hours (and is not the story's)."""
        return record["Operation"] == "MailItemsAccessed" and record["Id"] not in self.story_ids \
            and any(record["MailboxOwnerUPN"].lower() == mailbox and start < record["CreationTime"]
                    <= end for mailbox, start, end in self.windows)

    def day_records(self, day: date) -> list[dict]:
        """The records of ``day`` in output order."""
        records = background_day(self.t, day, self.counts[day])
        records += self.fixed.get(day.isoformat(), [])
        if self.windows:
            records = [r for r in records if not self.silenced(r)]
        records.sort(key=sort_key, reverse=self.newest_first)
        return records


def iter_records(tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False) -> RecordStream:
    """A stream of ``background`` benign records plus the planted story of ``tenant``."""
    return RecordStream(tenant, background, seed, newest_first)


def generate_case(tenant: str, seed: int = SEED, background: int | None = None) -> list[dict]:
    """Every record of case ``tenant`` (``a`` or ``b``) in time order."""
    return list(iter_records(tenant, background, seed))
