"""Provides ``MixDay``: what the workload mixes share for one day of the benign tenant: who is at work
(where from, on which device, in which session), when, record ids, addresses in the shapes the services
log them, and the client details SharePoint and Exchange record (platform, browser, device name).

A mix is a subclass that lists its record kinds with weights in ``KINDS``; each kind builds one record
for a member's stretch of work at a given moment. Every draw comes from a ``Random`` stream keyed by
seed, mix and day, so a day's records do not depend on which other days are written, or by which process.
"""

from __future__ import annotations

import base64
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from .benign_tenant import Member, Visit, day_start
from .ids import random_guid, stable_guid
from .records import iso
from .tenants import Device, Tenant

GEO = "NAM"                 # the tenant's Microsoft 365 data location (North America)


@dataclass(frozen=True)
class BrowserInfo:
    """What SharePoint records about a device's client: platform, browser and its version."""

    platform: str
    browser: str
    browser_version: str


def _browser_info(device: Device) -> BrowserInfo:
    ua = device.user_agent
    platform = ("iOS" if device.os == "Ios" else "Android" if device.os == "Android"
                else "MacDesktop" if device.os == "MacOs" else "WinDesktop")
    for name, pattern in (("Edge", r"Edg/([\d.]+)"), ("Chrome", r"Chrome/([\d.]+)"),
                          ("Safari", r"Version/([\d.]+) Safari")):
        found = re.search(pattern, ua)
        if found and device.browser == name:
            return BrowserInfo(platform, name, found.group(1))
    return BrowserInfo(platform, "", "")


@lru_cache(maxsize=None)
def browser_info(device: Device) -> BrowserInfo:
    """The SharePoint client details of ``device`` (no browser for the Office apps and phones)."""
    return _browser_info(device)


@lru_cache(maxsize=None)
def device_name(seed: int, member_index: int, device: Device, desktop: bool) -> str:
    """The name a member's managed desktop (or phone) is registered under in Entra ID."""
    rng = random.Random(f"{seed}/mix/device/{member_index}/{desktop}")
    if not desktop:
        return rng.choice(("iPhone", "iPhone 14", "iPhone 15 Pro") if device.os == "Ios" else ("Galaxy S23", "Pixel 8"))
    if device.os == "MacOs":
        return f"EXORG-MB-{rng.randrange(10**5):05d}"
    return f"EXORG-{rng.choice(('LT', 'LT', 'LT', 'DT'))}-{rng.randrange(10**5):05d}"


@lru_cache(maxsize=None)
def device_id(seed: int, member_index: int, desktop: bool) -> str:
    """The Entra ID device id of a member's desktop (or phone)."""
    return stable_guid(seed, "mix-device", member_index, desktop)


def token(rng: random.Random, nbytes: int = 16) -> str:
    """A ``UniqueTokenId``-shaped value: URL-safe Base64 of random bytes, unpadded."""
    return base64.urlsafe_b64encode(rng.randbytes(nbytes)).decode().rstrip("=")


def cumulative(weights: list[float]) -> list[float]:
    """Running totals of ``weights`` (for ``Random.choices(cum_weights=...)``)."""
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class MixDay:
    """One day of a workload mix: ``records(count)`` gives exactly ``count`` records in no particular order."""

    MIX = ""
    EVENTS_PER_MEMBER = 900     # records per member over the month: sets the tenant's size
    KINDS: tuple[tuple[Callable[..., dict], float], ...] = ()

    def __init__(self, t: Tenant, seed: int, day: date, plans: list[tuple[Member, list[Visit]]],
                 members: tuple[Member, ...]):
        self.t, self.seed, self.day, self.members = t, seed, day, members
        self.rng = random.Random(f"{seed}/mix/{self.MIX}/{day.isoformat()}")
        self.plans = [(m, v) for m, v in plans if m.role != "service"] or list(plans)
        self.services = [(m, v) for m, v in plans if m.role == "service"]
        self.admins = [(m, v) for m, v in self.plans if m.role in ("it-admin", "helpdesk")]
        self.cum = cumulative([m.person.activity * sum((x.end - x.start).total_seconds() for x in v)
                               for m, v in self.plans])
        self.start = day_start(day)
        self.end = self.start + timedelta(days=1)
        cls = type(self)
        if "_kind_cum" not in cls.__dict__:
            cls._kind_funcs = [kind for kind, _ in cls.KINDS]
            cls._kind_cum = cumulative([weight for _, weight in cls.KINDS])

    def records(self, count: int) -> list[dict]:
        """``count`` records of the day's work."""
        rng = self.rng
        if not self.plans or count <= 0:
            return []
        chosen = rng.choices(self.plans, cum_weights=self.cum, k=count)
        kinds = rng.choices(self._kind_funcs, cum_weights=self._kind_cum, k=count)
        out = []
        for (member, plan), kind in zip(chosen, kinds):
            visit = plan[0] if len(plan) == 1 else rng.choice(plan)
            out.append(kind(self, member, visit, self.when(visit)))
        return out

    # -- helpers ---------------------------------------------------------------------------------

    def rid(self) -> str:
        """A record id."""
        return random_guid(self.rng)

    def guid(self) -> str:
        """A fresh GUID (correlation ids, request ids)."""
        return random_guid(self.rng)

    def when(self, visit: Visit) -> datetime:
        """A moment of ``visit`` inside this UTC day (a stretch past midnight folds back into the day's
        small hours, as the previous evening's work would)."""
        span = (visit.end - visit.start).total_seconds()
        ts = visit.start + timedelta(seconds=int(self.rng.random() * span))
        if ts >= self.end:
            ts -= timedelta(days=1)
        elif ts < self.start:
            ts += timedelta(days=1)
        return ts

    def anytime(self) -> datetime:
        """A moment of the UTC day (the platform's own work)."""
        return self.start + timedelta(seconds=self.rng.randrange(86400))

    def colleague(self, not_this: Member) -> Member:
        """Another member of staff."""
        while True:
            other = self.rng.choice(self.members)
            if other is not not_this and other.role == "staff":
                return other

    def admin(self) -> tuple[Member, Visit] | None:
        """An admin or helpdesk member at work today, and one of their desktop stretches."""
        if not self.admins:
            return None
        member, plan = self.rng.choice(self.admins)
        return member, next((x for x in plan if x.desktop), plan[0])

    def exchange_ip(self, ip: str) -> str:
        """``ip`` in one of the shapes Exchange logs it in (a port now and then, IPv4-mapped IPv6)."""
        roll = self.rng.random()
        if ":" in ip:
            return f"[{ip}]:{self.rng.randrange(49152, 65535)}" if roll < 0.3 else ip
        if roll < 0.2:
            return f"{ip}:{self.rng.randrange(49152, 65535)}"
        return f"::ffff:{ip}" if roll < 0.25 else ip

    def managed(self, member: Member, visit: Visit) -> bool:
        """Whether the device of ``visit`` is enrolled and compliant."""
        return member.managed[0] if visit.desktop else member.managed[1]

    def device_name(self, member: Member, visit: Visit) -> str:
        """The registered name of the device of ``visit``."""
        return device_name(self.seed, member.index, visit.device, visit.desktop)

    def device_id(self, member: Member, visit: Visit) -> str:
        """The Entra ID device id of the device of ``visit``."""
        return device_id(self.seed, member.index, visit.desktop)

    def issued(self, ts: datetime) -> str:
        """When the token used at ``ts`` was issued (minutes to an hour before)."""
        return iso(ts - timedelta(seconds=self.rng.randrange(60, 3600)))
