"""Provides the Exchange mix (``--mix exchange``): a month of the benign tenant's mailboxes as the unified
audit log records them. Mostly ``MailItemsAccessed``: Bind records naming one to three folders with the
items read in each (store id, InternetMessageId, size), Sync records naming the synced folder, and now and
then a throttled mailbox (``IsThrottled`` True: Exchange then records none of that mailbox's
MailItemsAccessed for 24 hours, and the mix leaves them out). Besides: mail sent (as oneself, as or on
behalf of a team's shared mailbox), drafts and meetings created, items updated, moved and deleted (Item and
AffectedItems with their folders), mailbox searches and logins, inbox rules, calendar permissions, a few
mailbox cmdlets and the people's sign-ins.

Clients are Outlook on the web, Outlook for Windows (process name and version), Outlook mobile and, for
some syncs, Teams through REST; each record carries the mailbox audit fields of its client.
"""

from __future__ import annotations

import base64
import hashlib
import random
from datetime import date, datetime, timedelta
from functools import lru_cache

from .background import NEWSLETTERS, SUBJECTS
from .benign_tenant import Member, Visit, visits
from .entra_net import MS_OFFICE, OUTLOOK_MOBILE, OWA, TEAMS_SERVICES
from .ids import stable_guid
from .mix_day import MixDay, token
from .mix_signin import logon
from .records import iso
from .tenants import APP_OFFICE, APP_OUTLOOK_MOBILE, DESKTOPS, PHONES, Person

SHARED_MAILBOXES = ("reception", "accounts", "sales-enquiries", "hr-team", "it-support", "facilities")
DELEGATE_EVERY = 23             # one member in this many works on a shared mailbox too
FOLDERS = ("\\Inbox", "\\Inbox", "\\Inbox", "\\Inbox", "\\Sent Items", "\\Archive", "\\Inbox\\Projects",
           "\\Inbox\\Finance", "\\Deleted Items", "\\Drafts", "\\Inbox\\Newsletters", "\\Inbox\\Customers",
           "\\Conversation History", "\\Junk Email")
SYNC_FOLDERS = ("\\Inbox", "\\Inbox", "\\Inbox", "\\Sent Items", "\\Calendar", "\\Contacts", "\\Drafts",
                "\\Archive", "\\Deleted Items", "\\Inbox\\Projects")
MORE_SUBJECTS = ("RE: Contract renewal – next steps", "Your order has shipped", "Updated: Team sync",
                 "Accepted: Quarterly review", "FW: Security awareness training due", "Re: Travel booking",
                 "Monthly report – March", "Re: Can you review the draft?", "Out of office: back Monday",
                 "Invoice 88213 from Northwind Traders", "Re: Onboarding checklist", "Action required: timesheet",
                 "[External] Proposal for the Q2 campaign", "Re: Room booking for Thursday")
ALL_SUBJECTS = SUBJECTS + NEWSLETTERS + MORE_SUBJECTS
ATTACHMENTS = ("image001.png", "Budget FY24.xlsx", "Minutes.docx", "Invoice.pdf", "Quote 2024-113.pdf",
               "Schedule.xlsx", "photo.jpg", "Signed contract.pdf", "Agenda.docx")
SEARCHES = ("invoice", "contract", "meeting notes", "expenses", "from:northwind", "budget", "travel",
            "has:attachment report", "onboarding", "timesheet")
OUTSIDE_DOMAINS = ("northwindtraders.com", "contoso.net", "fabrikam.org", "mail.gmail.com",
                   "email.amazonses.com", "eu-west-1.amazonses.com", "outlook.com")
OUTLOOK_VERSIONS = ("16.0.17328.20184", "16.0.17231.20236", "16.0.17425.20146")
REST = "Client=REST;Client=RESTSystem;;"


@lru_cache(maxsize=8)
def shared_mailboxes(domain: str, seed: int) -> tuple[Person, ...]:
    """The teams' shared mailboxes of the tenant (their identifiers derived from the seed)."""
    rng = random.Random(f"{seed}/mix/exchange/shared")
    return tuple(Person(upn=f"{name}@{domain}", object_id=stable_guid(seed, "shared", name),
                        puid=f"1003{rng.getrandbits(48):012X}", sid=f"S-1-5-21-{seed % 10**9}-{9100 + i}",
                        mailbox_guid=stable_guid(seed, "shared-mailbox", name), desktop=DESKTOPS[0],
                        phone=PHONES[0]) for i, name in enumerate(SHARED_MAILBOXES))


@lru_cache(maxsize=1 << 15)
def folder_id(mailbox_guid: str, path: str) -> str:
    """The store id of a mailbox folder (stable per mailbox and path)."""
    digest = hashlib.sha256(f"{mailbox_guid}/{path}".encode()).digest()
    return "LgAAAAA" + base64.b64encode(digest + digest[:12]).decode().rstrip("=") + "AAAB"


def throttles(seed: int, day: date, members: tuple[Member, ...]) -> list[tuple[Member, Visit, datetime]]:
    """(member, stretch of work, time) of the mailboxes whose MailItemsAccessed auditing is throttled on
    ``day``: a few of the busiest people at work (a Random stream of its own, so the next day knows them too)."""
    rng = random.Random(f"{seed}/mix/exchange/throttle/{day.isoformat()}")
    busy = [m for m in members if m.role == "staff" and m.person.activity >= 1.3]
    expected = len(members) / 1000 * 0.4
    out = []
    for _ in range(int(expected) + (rng.random() < expected - int(expected)) if busy else 0):
        member = rng.choice(busy)
        plan = visits(seed, member, day)
        if plan:
            visit = plan[0]
            ts = visit.start + timedelta(seconds=int(rng.random() * (visit.end - visit.start).total_seconds()))
            out.append((member, visit, min(ts, datetime(day.year, day.month, day.day, 23, 59, 59))))
    return out


class ExchangeDay(MixDay):
    """A day of the Exchange mix."""

    MIX = "exchange"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shared = shared_mailboxes(self.t.spec.domain, self.seed)
        self.servers = [s.split(" ")[0] for s in self.t.spec.servers]
        self.throttled = throttles(self.seed, self.day, self.members)
        self.silent = [(m.person.upn, ts) for m, _, ts in
                       self.throttled + throttles(self.seed, self.day - timedelta(days=1), self.members)]

    def records(self, count: int) -> list[dict]:
        """``count`` records: the day's throttled records first, then the people's work."""
        out = [self.mail_items_accessed(member, visit, ts, throttled=True)
               for member, visit, ts in self.throttled[:count]]
        return out + super().records(count - len(out))

    # -- shapes ----------------------------------------------------------------------------------

    def is_silent(self, owner: Person, ts: datetime) -> bool:
        """Whether ``owner``'s MailItemsAccessed are not recorded at ``ts`` (24 hours after a throttle)."""
        return any(upn == owner.upn and start < ts < start + timedelta(hours=24) for upn, start in self.silent)

    def owner(self, m: Member) -> tuple[Person, int]:
        """Whose mailbox a member works in, and the LogonType: mostly their own (0), now and then the
        shared mailbox they are a delegate of (2)."""
        if m.index % DELEGATE_EVERY == 0 and self.rng.random() < 0.3:
            return self.shared[(m.index // DELEGATE_EVERY) % len(self.shared)], 2
        return m.person, 0

    def message_id(self) -> str:
        """An InternetMessageId: Exchange Online's own for mail from inside, other systems' from outside."""
        rng = self.rng
        if rng.random() < 0.6:
            server = rng.choice(self.servers)
            return f"<{server}{rng.getrandbits(96):024X}@{server}.namprd13.prod.outlook.com>"
        domain = rng.choice(OUTSIDE_DOMAINS)
        if domain.endswith("amazonses.com"):
            return f"<0100018e{rng.getrandbits(32):08x}-{self.guid()}-000000@{domain}>"
        if domain == "mail.gmail.com":
            return f"<CA+{token(rng, 30)}@{domain}>"
        return f"<{self.guid()}@{domain}>"

    def size(self) -> int:
        """A message size in bytes (most a few tens of KB, some with large attachments)."""
        return min(35_000_000, int(self.rng.lognormvariate(10.3, 1.0)) + 2_000)

    def store_id(self) -> str:
        """An item's store id."""
        return "RgAAAAA" + base64.b64encode(self.rng.randbytes(39)).decode() + "AAAJ"

    def folder(self, owner: Person, path: str) -> dict:
        """A folder as mailbox records name it."""
        return {"Id": folder_id(owner.mailbox_guid, path), "Path": path}

    def attachments(self) -> str | None:
        """The ``Attachments`` text of an item (``name (size b)`` joined by ``; ``), or None for most items."""
        rng = self.rng
        if rng.random() > 0.25:
            return None
        names = rng.sample(ATTACHMENTS, rng.choice((1, 1, 2, 3)))
        return "; ".join(f"{name} ({rng.randrange(2_000, 900_000)}b)" for name in names)

    def base(self, operation: str, record_type: int, m: Member, v: Visit, ts: datetime, owner: Person,
             logon_type: int) -> dict:
        """The fields every mailbox record carries, for a member's client in ``visit``."""
        rng, t, p = self.rng, self.t, m.person
        device = v.device
        ip = v.place.ip
        if device.app_id == APP_OFFICE:
            app, info = MS_OFFICE, "Client=MSExchangeRPC"
        elif device.app_id == APP_OUTLOOK_MOBILE:
            app, info = OUTLOOK_MOBILE, device.client_info
        else:
            app, info = OWA, ("Client=OWA;Action=ViaProxy" if rng.random() < 0.3 else device.client_info)
        rec = {
            "CreationTime": iso(ts), "Id": self.rid(), "Operation": operation, "OrganizationId": t.org_id,
            "RecordType": record_type, "ResultStatus": "Succeeded", "UserKey": p.puid, "UserType": 0, "Version": 1,
            "Workload": "Exchange", "ClientIP": self.exchange_ip(ip), "UserId": p.upn,
            "AppAccessContext": {"AADSessionId": v.session, "IssuedAtTime": self.issued(ts),
                                 "UniqueTokenId": token(rng)},
            "AppId": app.id, "ClientAppId": "", "ClientIPAddress": ip, "ClientInfoString": info,
            "ExternalAccess": False, "InternalLogonType": logon_type, "LogonType": logon_type,
            "LogonUserSid": p.sid, "MailboxGuid": owner.mailbox_guid, "MailboxOwnerSid": owner.sid,
            "MailboxOwnerUPN": owner.upn, "OrganizationName": t.onmicrosoft,
            "OriginatingServer": rng.choice(t.spec.servers), "SessionId": self.session(v),
            "TokenObjectId": p.object_id, "TokenTenantId": t.org_id,
        }
        if app is MS_OFFICE:
            rec["ClientProcessName"] = "OUTLOOK.EXE"
            rec["ClientVersion"] = OUTLOOK_VERSIONS[m.index % len(OUTLOOK_VERSIONS)]
            if self.managed(m, v):
                rec["ClientMachineName"] = self.device_name(m, v)
        if logon_type:
            rec["LogonUserDisplayName"] = p.upn.split("@")[0].replace(".", " ").title()
        return rec

    def session(self, v: Visit) -> str:
        """Exchange's own session id for an AAD session."""
        return stable_guid(v.session, "exchange")

    def item(self, owner: Person, path: str, subject: str | None = None, size: bool = True) -> dict:
        """An ``Item`` (or ``AffectedItems`` entry) in ``path`` of ``owner``'s mailbox."""
        item = {"Id": self.store_id(), "InternetMessageId": self.message_id(), "IsRecord": False,
                "ParentFolder": self.folder(owner, path), "Subject": subject or self.rng.choice(ALL_SUBJECTS)}
        if size:
            item["SizeInBytes"] = self.size()
        attachments = self.attachments()
        if attachments:
            item["Attachments"] = attachments
        return item

    # -- kinds -----------------------------------------------------------------------------------

    def mail_items_accessed(self, m: Member, v: Visit, ts: datetime, bind: bool = True,
                            throttled: bool = False) -> dict:
        """A ``MailItemsAccessed`` record: a Bind of items in a few folders, a Sync of one folder, or the
        record that says the mailbox is throttled."""
        rng = self.rng
        owner, logon_type = (m.person, 0) if throttled else self.owner(m)
        if not throttled and self.is_silent(owner, ts):
            return self.update(m, v, ts)
        rec = self.base("MailItemsAccessed", 50, m, v, ts, owner, logon_type)
        teams = not bind and not throttled and v.desktop and rng.random() < 0.15   # Teams reading the calendar
        if teams:
            rec |= {"AppId": TEAMS_SERVICES.id, "ClientAppId": TEAMS_SERVICES.id, "ClientInfoString": REST}
            for name in ("ClientProcessName", "ClientVersion", "ClientMachineName"):
                rec.pop(name, None)
        if throttled:
            folders, count = [self.folder(owner, "\\Inbox")], 1
        elif bind:
            folders, count = [], 0
            for path in dict.fromkeys(rng.choice(FOLDERS) for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))):
                items = rng.choice((1, 1, 1, 2, 2, 3, 4))
                entry = self.folder(owner, path)
                entry["FolderItems"] = [{"Id": self.store_id(), "InternetMessageId": self.message_id(),
                                         "SizeInBytes": self.size()} for _ in range(items)]
                folders.append(entry)
                count += items
        else:
            folders, count = [self.folder(owner, "\\Calendar" if teams else rng.choice(SYNC_FOLDERS))], 1
        rec |= {"OperationProperties": [{"Name": "MailAccessType", "Value": "Bind" if bind or throttled else "Sync"},
                                        {"Name": "IsThrottled", "Value": "True" if throttled else "False"}],
                "Folders": folders, "OperationCount": count}
        return rec

    def bind(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Items read."""
        return self.mail_items_accessed(m, v, ts)

    def sync(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A folder synced by a desktop or mobile client."""
        return self.mail_items_accessed(m, v, ts, bind=False)

    def send(self, m: Member, v: Visit, ts: datetime, operation: str = "Send") -> dict:
        """A mail sent: as oneself, or as or on behalf of the shared mailbox the member works on."""
        owner, logon_type = (m.person, 0) if operation == "Send" else self.owner_shared(m)
        rec = self.base(operation, 2, m, v, ts, m.person if operation == "Send" else owner, logon_type)
        rec["Item"] = self.item(owner, "\\Sent Items")
        rec["SaveToSentItems"] = True
        if operation == "SendAs":
            rec |= {"SendAsUserMailboxGuid": owner.mailbox_guid, "SendAsUserSmtp": owner.upn}
        elif operation == "SendOnBehalf":
            rec |= {"SendOnBehalfOfUserMailboxGuid": owner.mailbox_guid, "SendOnBehalfOfUserSmtp": owner.upn}
        return rec

    def owner_shared(self, m: Member) -> tuple[Person, int]:
        """The shared mailbox a member sends from (its delegates' own, else the first team's)."""
        return self.shared[(m.index // DELEGATE_EVERY) % len(self.shared)], 2

    def send_as(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A mail sent as a shared mailbox."""
        return self.send(m, v, ts, "SendAs")

    def send_on_behalf(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A mail sent on behalf of a shared mailbox."""
        return self.send(m, v, ts, "SendOnBehalf")

    def create(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A draft or a meeting created."""
        owner, logon_type = self.owner(m)
        rec = self.base("Create", 2, m, v, ts, owner, logon_type)
        path = self.rng.choice(("\\Drafts", "\\Drafts", "\\Calendar"))
        rec["Item"] = self.item(owner, path, size=path != "\\Calendar")
        return rec

    def update(self, m: Member, v: Visit, ts: datetime) -> dict:
        """An item flagged, categorised, marked read or a draft edited (ModifiedProperties as names)."""
        owner, logon_type = self.owner(m)
        rec = self.base("Update", 2, m, v, ts, owner, logon_type)
        changed = self.rng.choice((["IsRead"], ["IsRead"], ["FlagStatus", "FlagRequest", "FlagCompleteTime"],
                                   ["Categories"], ["Body", "Subject", "RecipientCollection"], ["Importance"]))
        path = "\\Drafts" if "Body" in changed else self.rng.choice(FOLDERS)
        rec["Item"] = self.item(owner, path)
        rec["ModifiedProperties"] = changed
        return rec

    def _group(self, operation: str, m: Member, v: Visit, ts: datetime) -> dict:
        rng = self.rng
        owner, logon_type = self.owner(m)
        rec = self.base(operation, 3, m, v, ts, owner, logon_type)
        path = rng.choice(("\\Inbox", "\\Inbox", "\\Inbox\\Newsletters", "\\Junk Email", "\\Sent Items"))
        if operation == "HardDelete":
            path = rng.choice(("\\Deleted Items", "\\Recoverable Items\\Deletions", path))
        items = [self.item(owner, path, rng.choice(NEWSLETTERS + SUBJECTS), size=False)
                 for _ in range(rng.choice((1, 1, 1, 1, 2, 3)))]
        rec |= {"AffectedItems": items, "CrossMailboxOperation": False, "Folder": self.folder(owner, path)}
        if operation in ("MoveToDeletedItems", "Move"):
            dest = "\\Deleted Items" if operation == "MoveToDeletedItems" else rng.choice(
                ("\\Archive", "\\Inbox\\Projects", "\\Inbox\\Finance", "\\Inbox\\Customers"))
            rec["DestFolder"] = self.folder(owner, dest)
            if operation == "Move" and logon_type and rng.random() < 0.5:   # filed into the delegate's own mailbox
                p = m.person
                rec |= {"CrossMailboxOperation": True, "DestMailboxId": p.mailbox_guid, "DestMailboxOwnerUPN": p.upn,
                        "DestMailboxOwnerSid": p.sid, "DestFolder": self.folder(p, "\\Inbox\\Shared mailbox")}
        return rec

    def move(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Items filed into another folder."""
        return self._group("Move", m, v, ts)

    def move_to_deleted(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Items deleted to Deleted Items."""
        return self._group("MoveToDeletedItems", m, v, ts)

    def soft_delete(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Items deleted past Deleted Items (recoverable)."""
        return self._group("SoftDelete", m, v, ts)

    def hard_delete(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Items purged."""
        return self._group("HardDelete", m, v, ts)

    def search(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A mailbox search (RecordType 101, ExchangeSearch)."""
        rec = self.base("SearchQueryInitiatedExchange", 101, m, v, ts, m.person, 0)
        source = "OutlookMobile" if not v.desktop else "Outlook" if v.device.app_id == APP_OFFICE else "Owa"
        rec |= {"QueryText": self.rng.choice(SEARCHES), "QuerySource": source,
                "SearchResponseId": self.guid().upper()}
        return rec

    def mailbox_login(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A client logging on to the mailbox."""
        owner, logon_type = self.owner(m)
        return self.base("MailboxLogin", 2, m, v, ts, owner, logon_type)

    def inbox_rule(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Outlook saving the owner's rules (``UpdateInboxRules``), its OperationProperties naming the rule."""
        rec = self.base("UpdateInboxRules", 2, m, v, ts, m.person, 0)
        folder = self.rng.choice(("Newsletters", "Receipts", "Jira", "Customers"))
        rec["OperationProperties"] = [
            {"Name": "RuleName", "Value": f"Move to {folder}"},
            {"Name": "RuleId", "Value": str(self.rng.getrandbits(63))},
            {"Name": "RuleOperation", "Value": self.rng.choice(("AddMailboxRule", "ModifyMailboxRule"))},
            {"Name": "RuleCondition", "Value": "[{\"ConditionType\":\"FromRecipientsCondition\"}]"},
            {"Name": "RuleActions", "Value": "[{\"ActionType\":\"MoveToFolderAction\",\"FolderId\":\""
                                             f"{folder_id(m.person.mailbox_guid, folder)}\"}}]"}]
        return rec

    def folder_permission(self, m: Member, v: Visit, ts: datetime) -> dict:
        """The owner sharing their calendar with a colleague (``ModifyFolderPermissions``)."""
        colleague = self.colleague(m).person
        rec = self.base("ModifyFolderPermissions", 2, m, v, ts, m.person, 0)
        folder = self.folder(m.person, "\\Calendar")
        rec["Item"] = {"Id": folder["Id"], "ParentFolder": {
            "Id": folder["Id"], "MemberRights": self.rng.choice(("ReadAny, FreeBusySimple, FreeBusyDetailed",
                                                                 "Create, ReadAny, EditOwned, DeleteOwned")),
            "MemberSid": colleague.sid, "MemberUpn": colleague.upn, "Name": "Calendar", "Path": "\\Calendar"}}
        return rec

    def cmdlet(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A mailbox cmdlet run by an admin (or, when none is at work, by Exchange itself)."""
        rng, t = self.rng, self.t
        found = self.admin()
        target = self.colleague(m).person.upn.split("@")[0]
        settings = rng.choice((("Set-Mailbox", ("Identity", target), ("RetainDeletedItemsFor", "30.00:00:00")),
                               ("Set-Mailbox", ("Identity", target), ("AuditEnabled", "True")),
                               ("Set-CASMailbox", ("Identity", target), ("PopEnabled", "False"),
                                ("ImapEnabled", "False")),
                               ("Set-MailboxRegionalConfiguration", ("Identity", target),
                                ("TimeZone", "Eastern Standard Time"), ("Language", "en-US"))))
        operation, parameters = settings[0], [{"Name": name, "Value": value} for name, value in settings[1:]]
        rec = {"CreationTime": iso(ts), "Id": self.rid(), "Operation": operation, "OrganizationId": t.org_id,
               "RecordType": 1, "ResultStatus": "True", "Version": 1, "Workload": "Exchange", "ObjectId": target}
        if found:
            admin, visit = found
            rec |= {"UserKey": admin.person.puid, "UserType": 2, "ClientIP": self.exchange_ip(visit.place.ip),
                    "UserId": admin.person.upn, "AppId": "fb78d390-0c51-40cd-8e17-fdbfab77341b", "ClientAppId": "",
                    "ExternalAccess": False, "SessionId": self.session(visit)}
        else:
            rec |= {"UserKey": "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)", "UserType": 3,
                    "UserId": "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)", "AppId": "", "ClientAppId": "",
                    "ExternalAccess": True}
        rec |= {"OrganizationName": t.onmicrosoft, "OriginatingServer": rng.choice(t.spec.servers),
                "Parameters": parameters}
        return rec

    def sign_in(self, m: Member, v: Visit, ts: datetime) -> dict:
        """The member signing in (or being interrupted)."""
        roll = self.rng.random()
        return logon(self, m, v, ts, "0" if roll < 0.85 else "50140" if roll < 0.95 else "50126")

    KINDS = ((bind, 32.0), (sync, 36.0), (send, 6.0), (send_as, 0.5), (send_on_behalf, 0.3), (create, 2.5),
             (update, 5.0), (move, 2.0), (move_to_deleted, 4.0), (soft_delete, 2.5), (hard_delete, 0.8),
             (search, 1.2), (mailbox_login, 2.4), (inbox_rule, 0.1), (folder_permission, 0.1), (cmdlet, 0.3),
             (sign_in, 4.3))
