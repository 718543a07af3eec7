"""Provides the benign tenant of the benchmarks: its members, their places and devices, and each
member's day (where from, on which device, in which session, from when to when).

An ordinary organisation (``example.org``, Boston and Chicago offices, UTC-5) with no attack in it:
each member has one or two home connections (residential ISPs) and one or two mobile ones, a desktop
and a phone, working hours with some weekend work, and now and then a trip (a few days in another
city or country, reached by plane: the flight day has no work). Admins, helpdesk staff and the
service accounts are members too. Sessions last a week on a desktop and the whole month on a phone,
as refresh tokens do. Most desktops are company laptops joined to Entra ID and compliant; half the
phones are enrolled, the rest are people's own. Places and ASNs are the public ones of the providers named (illustrative).

Every draw comes from ``Random`` streams keyed by seed, member and day, so the unified audit log,
the sign-ins and the directory audits of one day agree without being generated together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from .entra_net import Net
from .ids import random_address, random_guid, stable_guid
from .tenants import DESKTOPS, PHONES, Device, Person, Tenant, TenantSpec

START = date(2024, 3, 4)          # a Monday
DAYS = 28
UTC_OFFSET = -5
EVENTS_PER_MEMBER = 900           # audit records per member over the month: sets the tenant's size

SPEC = TenantSpec(
    key="benign", domain="example.org", name="exampleorg", utc_offset=UTC_OFFSET, home_prefixes=(),
    mobile_prefixes=(), office_prefix="50.192.0.0/10",
    servers=("BL1PR13MB4821 (15.20.7409.026)\r\n", "MN2PR13MB3920 (15.20.7409.031)\r\n",
             "CH3PR13MB6417 (15.20.7386.022)\r\n"),
    exchange_forest="NAMPR13A004", staff=(), holidays=(), shared_mailbox="", shared_delegates=(),
    shared_granted=START, joiner=("", START))

# (prefix, ASN) of the home and mobile connections members have.
RESIDENTIAL = (("73.0.0.0/8", 7922), ("98.192.0.0/10", 7922), ("67.160.0.0/11", 7922),
               ("96.224.0.0/11", 701), ("99.0.0.0/9", 7018), ("2601::/20", 7922))
MOBILE = (("172.56.0.0/14", 21928), ("174.192.0.0/10", 22394), ("2607:fb90::/32", 21928))
# (city, state, latitude, longitude) of where members live, by office.
TOWNS = {"Boston": (("Boston", "Massachusetts", 42.3601, -71.0589), ("Cambridge", "Massachusetts", 42.3736, -71.1097),
                    ("Quincy", "Massachusetts", 42.2529, -71.0023), ("Newton", "Massachusetts", 42.337, -71.2092)),
         "Chicago": (("Chicago", "Illinois", 41.8781, -87.6298), ("Evanston", "Illinois", 42.0451, -87.6877),
                     ("Oak Park", "Illinois", 41.885, -87.7845))}
OFFICES = {"Boston": ("50.201.34.18", Net(7922, "Boston", "Massachusetts", "US", 42.3601, -71.0589)),
           "Chicago": ("50.233.112.70", Net(7922, "Chicago", "Illinois", "US", 41.8781, -87.6298))}
# Trips: (hotel prefix and ASN, local mobile prefix and ASN, place, UTC offset).
DESTINATIONS = (
    (("81.2.64.0/20", 20712), ("31.94.0.0/16", 206067), Net(20712, "London", "England", "GB", 51.5072, -0.1276), 0),
    (("90.0.0.0/9", 3215), ("37.160.0.0/12", 51207), Net(3215, "Paris", "Ile-de-France", "FR", 48.8566, 2.3522), 1),
    (("99.224.0.0/11", 812), ("174.112.0.0/12", 812), Net(812, "Toronto", "Ontario", "CA", 43.6532, -79.3832), -5),
    (("24.4.0.0/14", 7922), ("172.56.0.0/14", 21928), Net(7922, "San Francisco", "California", "US", 37.7749, -122.4194), -8),
    (("189.128.0.0/11", 8151), ("187.184.0.0/14", 28403), Net(8151, "Mexico City", "Mexico City", "MX", 19.4326, -99.1332), -6),
)
ADMIN_ROLES = ("it-admin", "it-admin", "helpdesk", "helpdesk", "helpdesk")
SERVICE_ACCOUNTS = ("svc-backup", "svc-crm-sync", "svc-reports")
TRIP_SHARE = 0.04                  # members who travel in the month
WORKDAYS = tuple(n for n in range(1, DAYS - 3) if (START + timedelta(days=n)).weekday() < 5)


@dataclass(frozen=True)
class Place:
    """A connection a member uses: address and what Entra reports about it."""

    ip: str
    net: Net
    office: bool = False


@dataclass(frozen=True)
class Trip:
    """Days away: the flight day (no work), then work from a hotel and a local mobile network."""

    first: date
    days: int
    hotel: Place
    mobile: Place
    utc_offset: int

    def covers(self, day: date) -> bool:
        """Whether ``day`` is one of the trip's days (the flight out included)."""
        return self.first <= day < self.first + timedelta(days=self.days)


@dataclass(frozen=True)
class Member:
    """One account of the tenant, its places and habits."""

    index: int
    person: Person
    role: str                       # staff, it-admin, helpdesk, service
    office: str
    homes: tuple[Place, ...]
    mobiles: tuple[Place, ...]
    start_hour: float               # local time the working day starts
    hours: float
    weekend_share: float
    trip: Trip | None
    joined: date | None             # onboarded during the month
    managed: tuple[bool, bool]      # whether the desktop and the phone are enrolled (Intune) and compliant

    def active(self, day: date) -> bool:
        """Whether the account exists and may work on ``day``."""
        return self.joined is None or day > self.joined


@dataclass(frozen=True)
class Visit:
    """A stretch of a member's day on one device from one place, in one session."""

    start: datetime
    end: datetime
    place: Place
    device: Device
    session: str
    desktop: bool


def _place(rng: random.Random, prefixes: tuple[tuple[str, int], ...], town: tuple, office: bool = False) -> Place:
    prefix, asn = rng.choice(prefixes)
    city, state, lat, lon = town
    return Place(random_address(rng, prefix), Net(asn, city, state, "US", lat, lon), office)


def _trip(rng: random.Random) -> Trip:
    (hotel_prefix, hotel_asn), (mobile_prefix, mobile_asn), net, offset = rng.choice(DESTINATIONS)
    first = START + timedelta(days=rng.randrange(2, DAYS - 8))
    return Trip(first, rng.randrange(3, 7), Place(random_address(rng, hotel_prefix), net),
                Place(random_address(rng, mobile_prefix), Net(mobile_asn, net.city, net.state, net.country,
                                                               net.lat, net.lon)), offset)


def _member(t: Tenant, rng: random.Random, index: int, name: str, role: str, joined: date | None) -> Member:
    office = "Boston" if index % 4 else "Chicago"
    town = rng.choice(TOWNS[office])
    upn = f"{name}@{SPEC.domain}"
    person = Person(upn=upn, object_id=random_guid(rng), puid=f"1003{rng.getrandbits(48):012X}",
                    sid=f"S-1-5-21-{t.seed % 10**9}-{index + 4100}", mailbox_guid=random_guid(rng),
                    desktop=rng.choice(DESKTOPS), phone=rng.choice(PHONES),
                    activity=rng.choice((0.5, 0.8, 1.0, 1.0, 1.3, 1.8)))
    homes = tuple(_place(rng, RESIDENTIAL, town) for _ in range(rng.choice((1, 1, 2))))
    mobiles = tuple(_place(rng, MOBILE, town) for _ in range(rng.choice((1, 2))))
    trip = _trip(rng) if role != "service" and rng.random() < TRIP_SHARE else None
    return Member(index, person, role, office, homes, mobiles, rng.uniform(7.0, 9.5), rng.uniform(7.5, 9.5),
                  rng.choice((0.0, 0.0, 0.05, 0.15)), trip, joined, (rng.random() < 0.85, rng.random() < 0.5))


@lru_cache(maxsize=4)
def benign_tenant(members: int, seed: int) -> tuple[Tenant, tuple[Member, ...]]:
    """The tenant and its ``members`` accounts (admins, helpdesk and service accounts first)."""
    rng = random.Random(f"{seed}/benign/people")
    t = Tenant(SPEC, seed, stable_guid(seed, "benign", "organization"), OFFICES["Boston"][0])
    roles = [*ADMIN_ROLES, *(["service"] * len(SERVICE_ACCOUNTS))]
    roles += ["staff"] * max(0, members - len(roles))
    joiners = max(1, members // 60)
    out = []
    for index, role in enumerate(roles[:members]):
        if role == "service":
            name = SERVICE_ACCOUNTS[index - len(ADMIN_ROLES)]
        else:
            name = f"{'admin.' if role != 'staff' else ''}user{index:05d}"
        # new starters are created on a working day (by an admin at work) and start the next day
        joined = START + timedelta(days=rng.choice(WORKDAYS)) if index >= members - joiners else None
        member = _member(t, rng, index, name, role, joined)
        t.people[member.person.upn] = member.person
        out.append(member)
    return t, tuple(out)


def day_start(day: date) -> datetime:
    """Midnight UTC of ``day``."""
    return datetime(day.year, day.month, day.day)


def visits(seed: int, member: Member, day: date) -> list[Visit]:
    """The member's stretches of ``day``: none when not working (or flying)."""
    rng = random.Random(f"{seed}/benign/{member.index}/{day.isoformat()}")
    if not member.active(day):
        return []
    week = (day - START).days // 7
    desktop_session = stable_guid(seed, "benign-session", member.index, week)
    phone_session = stable_guid(seed, "benign-phone", member.index)
    person = member.person
    if member.role == "service":
        start = day_start(day) + timedelta(hours=rng.uniform(0, 2))
        ip, net = OFFICES["Boston"]
        return [Visit(start, start + timedelta(hours=22), Place(ip, net, True), DESKTOPS[2], desktop_session, True)]
    offset, trip = UTC_OFFSET, member.trip
    if trip and trip.covers(day):
        if day == trip.first:
            return []
        offset, desk_place, phone_place = trip.utc_offset, trip.hotel, trip.mobile
        working = rng.random() < 0.8
    else:
        working = rng.random() < (0.95 if day.weekday() < 5 else member.weekend_share)
        at_office = day.weekday() < 5 and rng.random() < 0.55
        office_ip, office_net = OFFICES[member.office]
        desk_place = Place(office_ip, office_net, True) if at_office else rng.choice(member.homes)
        phone_place = rng.choice(member.mobiles)
    if not working:
        return []
    weekend = day.weekday() >= 5
    local = member.start_hour + rng.gauss(0, 0.4) + (2.5 if weekend else 0)
    start = day_start(day) + timedelta(hours=local - offset)
    length = (rng.uniform(1, 3) if weekend else member.hours + rng.gauss(0, 0.5))
    out = [Visit(start, start + timedelta(hours=length), desk_place, person.desktop, desktop_session, True)]
    if rng.random() < 0.5:  # mail on the phone on the way in
        commute = start - timedelta(minutes=rng.uniform(20, 60))
        out.append(Visit(commute, commute + timedelta(minutes=15), phone_place, person.phone, phone_session, False))
    if rng.random() < 0.3:  # the phone on the mobile network at lunch, the desktop still signed in
        lunch = start + timedelta(hours=rng.uniform(3.5, 5))
        out.append(Visit(lunch, lunch + timedelta(minutes=rng.uniform(10, 40)), phone_place, person.phone,
                         phone_session, False))
    if rng.random() < 0.6:  # the evening check, at home on the home Wi-Fi (or away on the local network)
        evening = start + timedelta(hours=length + rng.uniform(2, 4))
        place = rng.choice(member.homes) if not (trip and trip.covers(day)) else phone_place
        out.append(Visit(evening, evening + timedelta(minutes=rng.uniform(10, 40)), place, person.phone,
                         phone_session, False))
    return out
