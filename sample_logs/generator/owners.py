"""Provides the mailbox owners' own mail as background: TargetUser, FinanceUser and a few colleagues
read, search and send their own mail from their own addresses, devices and sessions, and mail
arrives for everyone; plus the trace rows of the random background's reads and sends in the
investigated mailboxes. None of it is the attacker's: the exposure of the samples excludes it.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from functools import lru_cache

from .background import NEWSLETTERS, SUBJECTS
from .ids import random_guid, stable_guid
from .mailflow import DELIVERED, PARTNERS, VENDORS, Mailflow, Message
from .records import Access, mail_item, mail_items_accessed, search_query
from .story import planted_story
from .tenants import EXPORT_END, EXPORT_START, Person, Tenant, build_tenant

INVESTIGATED = ("TargetUser", "FinanceUser")   # the mailboxes the trace export covers in full
SEARCHES = {"TargetUser": ("lunch order", "timesheet", "Q1 planning", "holiday rota",
                           "site visit"),
            "FinanceUser": ("budget FY23", "supplier price list", "expenses", "invoice",
                            "forecast")}
OTHER_SEARCHES = ("parking", "minutes", "newsletter", "candidate interview")
OWNER_SENDS = (("TargetUser", "Re: Invoice INV-20931 from Partner Logistics",
                ("accounts@partner-logistics.example",)),
               ("TargetUser", "Lunch order Friday", ("FinanceUser", "SalesUser1", "OpsUser")),
               ("FinanceUser", "Purchase order PO 4471", ("orders@acme-supplies.example",)),
               ("FinanceUser", "Re: Remittance advice", ("payments@acme-supplies.example",
                                                         "TargetUser")),
               ("FinanceUser", "Month-end close checklist", ("PayrollUser", "TargetUser")),
               ("TargetUser", "Re: Delivery slot change", ("orders@northwind-freight.test",)))


def _address(t: Tenant, name: str) -> str:
    return name if "@" in name else t.person(name).upn


class OwnerDays:
    """Each owner's working day: their own address (office or home), device and session."""

    def __init__(self, t: Tenant, rng: random.Random):
        self.t, self.rng = t, rng
        self.days: dict[tuple[str, str], Access] = {}

    def access(self, person: Person, moment: datetime) -> Access:
        key = (person.upn, moment.date().isoformat())
        found = self.days.get(key)
        if found is None:
            rng = random.Random(stable_guid(self.t.seed, "owner-day", *key))
            ip = self.t.office_ip if moment.weekday() < 5 and rng.random() < 0.7 else \
                rng.choice(person.home_ips)
            found = self.days[key] = Access(ip, random_guid(rng), person.desktop)
        return found

    def working_moment(self, day_offset: int) -> datetime:
        """A moment in working hours (tenant's local time) ``day_offset`` days into the export."""
        day = EXPORT_START + timedelta(days=day_offset)
        while day.weekday() >= 5:
            day += timedelta(days=1)
        local = self.rng.uniform(8.5, 17.5) - self.t.spec.utc_offset
        return (day + timedelta(hours=local)).replace(microsecond=0)


@lru_cache(maxsize=8)
def owner_mail(key: str, seed: int) -> tuple[tuple[dict, ...], tuple[Message, ...]]:
    """The owners' own records of case ``key`` and the messages they and the inbound mail add."""
    t = build_tenant(key, seed)
    rng = random.Random(f"{seed}/{key}/owners")
    mail = Mailflow(t, "owners")
    days = OwnerDays(t, rng)
    story = planted_story(key, seed)
    records: list[dict] = []

    def rid(*parts: object) -> str:
        return stable_guid(seed, key, "owner", *parts)

    # 1. The owners read the finance mail the attacker later reads, soon after it arrived.
    received = {m.message_id: m for m in story.mail.messages}
    for step in story.steps:
        rec = step.record
        if rec["Operation"] != "MailItemsAccessed":
            continue
        owner = next(p for p in t.people.values() if p.upn == rec["MailboxOwnerUPN"])
        for folder in rec["Folders"]:
            for item in folder.get("FolderItems", []):
                message = received[item["InternetMessageId"]]
                attacked = datetime.fromisoformat(rec["CreationTime"])
                seen = message.received + timedelta(minutes=rng.randrange(6, 240))
                if attacked - message.received < timedelta(hours=1) or seen >= attacked:
                    continue   # arrived while the attacker was in: only the attacker saw it
                if any(r["Id"] == rid("read", message.message_id) for r in records):
                    continue
                records.append(mail_items_accessed(
                    t, rng, seen, rid("read", message.message_id), owner, owner,
                    days.access(owner, seen),
                    folders=[(folder["Path"], [(message.message_id, message.size)])]))
    # 2. Searches of their own mailboxes with their own words.
    others = [p for p in t.staff if p.upn.split("@")[0] not in INVESTIGATED][:4]
    plan = [(t.person(name), text) for name, words in SEARCHES.items() for text in words]
    plan += [(person, text) for person, text in zip(others, OTHER_SEARCHES)]
    for n, (person, text) in enumerate(plan):
        moment = days.working_moment(rng.randrange(0, 84))
        records.append(search_query(t, rng, moment, rid("search", n), person, person,
                                    days.access(person, moment), text,
                                    rng.choice(("Owa", "Owa", "OutlookDesktop"))))
    # 3. Mail they send, inside and outside the tenant, with its trace rows seconds later.
    for n, (name, subject, to) in enumerate(OWNER_SENDS):
        person = t.person(name)
        moment = days.working_moment(rng.randrange(0, 84))
        access = days.access(person, moment)
        message = mail.originating(person.upn, [(_address(t, r), DELIVERED) for r in to], subject,
                                   moment + timedelta(seconds=rng.randrange(2, 9)),
                                   access.plain_ip)
        records.append(mail_item(t, rng, moment, rid("send", n), "Send", person, person, access,
                                 subject, "\\Sent Items", message=(message.message_id,
                                                                    message.size)))
    # 4. Mail arriving for everyone (in the trace only).
    for n in range(36):
        person = rng.choice(t.staff)
        sender = rng.choice(("news@" + rng.choice(VENDORS), "info@" + rng.choice(PARTNERS)))
        mail.inbound(person, sender, rng.choice(NEWSLETTERS + SUBJECTS[:6]),
                     days.working_moment(rng.randrange(0, 84)))
    records = [r for r in records if r["CreationTime"] <= EXPORT_END.isoformat()]
    records.sort(key=lambda r: (r["CreationTime"], r["Id"]))
    return tuple(records), tuple(mail.messages)


def background_mail(t: Tenant, records: list[dict]) -> list[Message]:
    """Trace rows for the random background's reads and sends in the investigated mailboxes:
    each item read arrived earlier, each sent message left seconds after its Send record."""
    rng = random.Random(f"{t.seed}/{t.key}/owners/background-trace")
    mail = Mailflow(t, "background")
    mailboxes = {t.person(name).upn for name in INVESTIGATED}
    known = {m.message_id for m in planted_story(t.key, t.seed).mail.messages}
    known |= {m.message_id for m in owner_mail(t.key, t.seed)[1]}
    colleagues = [p.upn for p in t.staff if p.upn not in mailboxes]
    for rec in records:
        if rec.get("MailboxOwnerUPN") not in mailboxes or rec["UserId"] != rec["MailboxOwnerUPN"]:
            continue
        moment = datetime.fromisoformat(rec["CreationTime"])
        owner = t.person(rec["MailboxOwnerUPN"].split("@")[0])
        if rec["Operation"] == "MailItemsAccessed":
            for folder in rec["Folders"]:
                for item in folder.get("FolderItems", []):
                    if item["InternetMessageId"] in known:
                        continue
                    earliest = (moment - EXPORT_START).total_seconds() / 3600
                    hours = min(rng.uniform(0.1, 30), max(earliest - 0.2, 0.02))
                    sender = rng.choice(colleagues) if rng.random() < 0.5 else \
                        "info@" + rng.choice(PARTNERS + VENDORS)
                    mail.inbound(owner, sender, rng.choice(SUBJECTS + NEWSLETTERS),
                                 moment - timedelta(hours=hours), item["SizeInBytes"],
                                 item["InternetMessageId"])
        elif rec["Operation"] == "Send" and rec["Item"]["InternetMessageId"] not in known:
            to = rng.sample(colleagues, rng.choice((1, 1, 2)))
            if rng.random() < 0.35:
                to.append(rng.choice(("accounts@", "orders@", "info@")) + rng.choice(PARTNERS))
            mail.originating(owner.upn, [(a, DELIVERED) for a in to], rec["Item"]["Subject"],
                             moment + timedelta(seconds=rng.randrange(2, 9)),
                             rec["ClientIPAddress"], rec["Item"]["SizeInBytes"],
                             rec["Item"]["InternetMessageId"])
    return mail.messages
