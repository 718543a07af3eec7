"""Provides the random benign background (sign-ins, mail, files, system changes) by day."""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .ids import random_guid, stable_guid
from .records import (Access, directory_change, exchange_admin, json_in_string, licence_properties,
                      mail_group, mail_item, mail_items_accessed, membership_properties, params,
                      prop, sharepoint, sts_logon)
from .tenants import EXPORT_END, EXPORT_START, SYSTEM_PRINCIPALS, Person, Tenant


EXO_SYSTEM = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)"
EXO_W3WP = "NT AUTHORITY\\SYSTEM (w3wp)"

SUBJECTS = ("Weekly sales figures", "Re: Q1 planning", "Lunch order Friday", "Invoice INV-20931",
            "Re: Site visit Tuesday", "Project Alder status update", "Timesheet reminder",
            "Re: Holiday rota", "FW: Supplier price list 2023", "Minutes – ops meeting",
            "Re: Customer complaint #4821", "Welcome to the team!", "Parking permits",
            "Re: Café order for the launch", "Candidate interview schedule",
            "Re: Expenses for December", "Board pack – draft 3", "Re: Delivery slot change")
NEWSLETTERS = ("Your weekly digest", "Webinar: cloud cost tips", "Company newsletter – January",
               "Re: Lunch order Friday", "Special offer on office supplies",
               "Your Teams meeting recording is ready")
TEAM_FILES = {
    "Finance": ("Shared Documents/Budget FY23.xlsx", "Shared Documents/Forecast Q1.xlsx",
                "Shared Documents/Supplier list.xlsx"),
    "Sales": ("Shared Documents/Pipeline.xlsx", "Shared Documents/Price book 2023.pdf",
              "Shared Documents/Customer deck.pptx"),
    "Operations": ("Shared Documents/Rota January.xlsx", "Shared Documents/Process map.vsdx",
                   "Shared Documents/Handbook.docx"),
}
OWN_FILES = ("Documents/Notes.docx", "Documents/Expenses.xlsx", "Documents/Draft proposal.docx",
             "Documents/Photos/site-visit.jpg", "Documents/Meeting notes.one")


@dataclass
class Visit:
    """One person's working day: when it starts, where from, which AAD session."""

    start: datetime
    access: Access


class BackgroundDay:
    """Generates the benign records of one tenant-day from a rng seeded by the day alone."""

    def __init__(self, t: Tenant, day: date):
        self.t, self.day = t, day
        self.rng = random.Random(f"{t.seed}/{t.key}/{day.isoformat()}")
        self.working = day.weekday() < 5 and day not in t.spec.holidays
        people = [p for p in t.staff if p.active_from <= day]
        if not self.working:
            people = self.rng.sample(people, max(2, len(people) // 6))
        self.people = people
        self.cum_weights = _cumulative([p.activity for p in people])
        self.visits: dict[str, Visit] = {}
        self.day_end = datetime.combine(day, datetime.max.time()).replace(microsecond=0)

    def person(self) -> Person:
        """A person at work today, busier ones more often."""
        pick = self.rng.random() * self.cum_weights[-1]
        return self.people[bisect.bisect(self.cum_weights, pick)]

    def visit(self, person: Person) -> Visit:
        """The person's day: start time, client address and session (the same all day)."""
        found = self.visits.get(person.upn)
        if found is None:
            found = self.visits[person.upn] = self._new_visit(person)
        return found

    def _new_visit(self, person: Person) -> Visit:
        rng = self.rng
        local_start = rng.uniform(7.5, 9.75) if self.working else rng.uniform(9, 16)
        start = datetime.combine(self.day, datetime.min.time()) + timedelta(
            hours=local_start - self.t.spec.utc_offset)
        roll = rng.random()
        if self.working and roll < 0.65:
            ip, device = self.t.office_ip, person.desktop
        elif roll < 0.88:
            ip, device = rng.choice(person.home_ips), person.desktop
        else:
            ip, device = person.mobile_ip, person.phone
        return Visit(start, Access(ip, random_guid(rng), device))

    def time(self, visit: Visit, span_hours: float = 9.5) -> datetime:
        """A moment of the visit within ``span_hours`` of its start and within the UTC day."""
        left = (self.day_end - visit.start).total_seconds()
        return visit.start + timedelta(seconds=self.rng.randrange(int(min(span_hours * 3600,
                                                                          left)) + 1))

    def exchange_ip(self, ip: str) -> str:
        """``ip`` in one of the shapes Exchange logs it in."""
        roll = self.rng.random()
        port = self.rng.randrange(49152, 65535)
        if ":" in ip:
            return f"[{ip}]:{port}" if roll < 0.4 else ip
        if roll < 0.25:
            return f"{ip}:{port}"
        return f"::ffff:{ip}" if roll < 0.3 else ip


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


def _event_id(d: BackgroundDay) -> str:
    return random_guid(d.rng)


def ev_login(d: BackgroundDay) -> dict:
    """A staff sign-in from the person's address of the day."""
    p = d.person()
    v = d.visit(p)
    return sts_logon(d.t, d.rng, d.time(v, 1.0 if d.rng.random() < 0.5 else 9.5), _event_id(d),
                     p, v.access.client_ip, v.access.session, v.access.device,
                     result_status=d.rng.choice(("Success", "Success", "Succeeded")))


def ev_login_failed(d: BackgroundDay) -> dict:
    """A mistyped password."""
    p = d.person()
    v = d.visit(p)
    return sts_logon(d.t, d.rng, v.start, _event_id(d), p, v.access.client_ip, v.access.session,
                     v.access.device, ("50126", "InvalidUserNameOrPassword"),
                     d.rng.choice(("Success", "Failed")))


def _own_access(d: BackgroundDay) -> tuple[Person, Visit, Access]:
    p = d.person()
    v = d.visit(p)
    return p, v, Access(d.exchange_ip(v.access.client_ip), v.access.session, v.access.device)


def ev_mail_read(d: BackgroundDay) -> dict:
    """The owner reading or syncing their own mailbox."""
    p, v, access = _own_access(d)
    items = d.rng.choice((0, 0, 1, 1, 2, 3))
    return mail_items_accessed(d.t, d.rng, d.time(v), _event_id(d), p, p, access, items)


def ev_send(d: BackgroundDay) -> dict:
    """The owner sending a mail."""
    p, v, access = _own_access(d)
    return mail_item(d.t, d.rng, d.time(v), _event_id(d), "Send", p, p, access,
                     d.rng.choice(SUBJECTS), "\\Sent Items")


def ev_owner_update(d: BackgroundDay) -> dict:
    """The owner flagging or categorising a mail."""
    p, v, access = _own_access(d)
    changed = d.rng.choice((["FlagStatus", "FlagRequest"], ["Categories"], ["IsRead"]))
    return mail_item(d.t, d.rng, d.time(v), _event_id(d), "Update", p, p, access,
                     d.rng.choice(SUBJECTS), "\\Inbox", changed)


def ev_owner_delete(d: BackgroundDay) -> dict:
    """The owner clearing newsletters and old threads."""
    p, v, access = _own_access(d)
    operation = d.rng.choice(("MoveToDeletedItems", "MoveToDeletedItems", "SoftDelete"))
    return mail_group(d.t, d.rng, d.time(v), _event_id(d), operation, p, p, access,
                      d.rng.choice(NEWSLETTERS))


def ev_shared_read(d: BackgroundDay) -> dict:
    """A delegate reading the shared mailbox they were given FullAccess to (own mail before)."""
    if d.day <= d.t.spec.shared_granted:
        return ev_mail_read(d)
    delegates = [d.t.person(name) for name in d.t.spec.shared_delegates]
    p = d.rng.choice(delegates)
    v = d.visit(p)
    return mail_items_accessed(d.t, d.rng, d.time(v), _event_id(d), p,
                               d.t.person(d.t.spec.shared_mailbox), v.access, 1)


def _file_event(d: BackgroundDay, operation: str) -> dict:
    p = d.person()
    v = d.visit(p)
    if d.rng.random() < 0.55:
        site_name = d.rng.choice(tuple(TEAM_FILES))
        site, relative = d.t.team_site(site_name), d.rng.choice(TEAM_FILES[site_name])
    else:
        site, relative = d.t.onedrive(p), d.rng.choice(OWN_FILES)
    return sharepoint(d.t, d.rng, d.time(v), _event_id(d), operation, 6, p, v.access, site,
                      relative)


def ev_file_accessed(d: BackgroundDay) -> dict:
    """A file opened."""
    return _file_event(d, "FileAccessed")


def ev_file_modified(d: BackgroundDay) -> dict:
    """A file saved."""
    return _file_event(d, "FileModified")


def ev_file_downloaded(d: BackgroundDay) -> dict:
    """A file downloaded."""
    return _file_event(d, "FileDownloaded")


def ev_file_uploaded(d: BackgroundDay) -> dict:
    """A file uploaded."""
    return _file_event(d, "FileUploaded")


def ev_exchange_system(d: BackgroundDay) -> dict:
    """Exchange Online provisioning by its own system accounts."""
    t, rng = d.t, d.rng
    ts = datetime.combine(d.day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
    p = rng.choice(t.staff)
    if rng.random() < 0.7:
        identity = (f"{t.spec.exchange_forest}.prod.outlook.com/Microsoft Exchange Hosted "
                    f"Organizations/{t.onmicrosoft}/{p.upn.split('@')[0]}")
        return exchange_admin(t, rng, ts, _event_id(d), "Set-Mailbox", EXO_SYSTEM, identity,
                              params(("Identity", identity),
                                     ("RetentionPolicy", "Default MRM Policy"),
                                     ("Force", "True")))
    policy = random_guid(rng)
    return exchange_admin(t, rng, ts, _event_id(d), "Set-ConditionalAccessPolicy", EXO_W3WP,
                          policy, params(("Identity", policy),
                                         ("PolicyDetails", "{\"Version\":1,\"State\":\"Enabled\"}"),
                                         ("TenantId", t.org_id)))


def ev_directory_system(d: BackgroundDay) -> dict:
    """Directory write-back by a Microsoft service principal."""
    t, rng = d.t, d.rng
    ts = datetime.combine(d.day, datetime.min.time()) + timedelta(seconds=rng.randrange(86400))
    target = rng.choice(t.staff)
    return directory_change(t, rng, ts, _event_id(d), "Update user.", rng.choice(SYSTEM_PRINCIPALS),
                            target, licence_properties(t))


def ev_admin_exchange(d: BackgroundDay) -> dict:
    """Routine mailbox settings changed by the IT or helpdesk admin."""
    t, rng = d.t, d.rng
    admin = t.person(rng.choice(("ITAdmin", "HelpdeskAdmin")))
    v = d.visit(admin)
    name = rng.choice(t.staff).upn.split("@")[0]
    if rng.random() < 0.5:
        operation, settings = "Set-Mailbox", rng.choice((
            (("Languages", "en-US"),), (("RetainDeletedItemsFor", "30.00:00:00"),),
            (("AuditEnabled", "True"),)))
    else:
        operation, settings = "Set-CASMailbox", rng.choice((
            (("OWAEnabled", "True"),), (("ActiveSyncEnabled", "True"),)))
    return exchange_admin(t, rng, d.time(v), _event_id(d), operation, admin, name,
                          params(("Identity", name), *settings),
                          d.exchange_ip(v.access.client_ip))


def ev_admin_directory(d: BackgroundDay) -> dict:
    """A department change or a group membership by the helpdesk admin."""
    t, rng = d.t, d.rng
    admin = t.person("HelpdeskAdmin")
    v = d.visit(admin)
    target = rng.choice(t.staff)
    if rng.random() < 0.5:
        dept = rng.choice(("Sales", "Operations", "Finance", "Projects"))
        modified = [prop("Department", json_in_string(dept), "[]"),
                    prop("Included Updated Properties", "Department"),
                    prop("TargetId.UserType", "Member")]
        return directory_change(t, rng, d.time(v), _event_id(d), "Update user.", admin, target,
                                modified)
    group = rng.choice(("All Staff", "Printers", "VPN Users"))
    return directory_change(t, rng, d.time(v), _event_id(d), "Add member to group.", admin,
                            target, membership_properties("Group", stable_guid(t.org_id, group),
                                                          group))


EVENT_KINDS = ((ev_login, 24), (ev_login_failed, 0.6), (ev_mail_read, 26), (ev_send, 9),
               (ev_owner_update, 3), (ev_owner_delete, 4), (ev_shared_read, 0.8),
               (ev_file_accessed, 14), (ev_file_modified, 6), (ev_file_downloaded, 4),
               (ev_file_uploaded, 3), (ev_exchange_system, 2.5), (ev_directory_system, 0.6),
               (ev_admin_exchange, 0.5), (ev_admin_directory, 0.4))
_KIND_FUNCS = [kind for kind, _ in EVENT_KINDS]
_KIND_CUM = _cumulative([weight for _, weight in EVENT_KINDS])


def export_days() -> list[date]:
    """Every UTC day the exports cover."""
    first, last = EXPORT_START.date(), EXPORT_END.date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def allocate(total: int, t: Tenant) -> dict[date, int]:
    """Split ``total`` random events over the days, busier on working days (largest remainder)."""
    days = export_days()
    weights = [1.0 if d.weekday() < 5 and d not in t.spec.holidays else 0.12 for d in days]
    scale = total / sum(weights)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(days)), key=lambda i: (counts[i] - exact[i], i))
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return dict(zip(days, counts))


def background_day(t: Tenant, day: date, count: int) -> list[dict]:
    """``count`` random benign records of ``day``."""
    d = BackgroundDay(t, day)
    kinds = d.rng.choices(_KIND_FUNCS, cum_weights=_KIND_CUM, k=count)
    return [kind(d) for kind in kinds]
