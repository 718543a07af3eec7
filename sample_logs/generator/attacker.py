"""Provides the attacker (addresses, browser) and ``Story``, the builder of its records."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .ids import stable_guid
from .mailflow import Mailflow, Message
from .records import (Access, added_user_properties, directory_change, exchange_admin, mail_group,
                      mail_item, mail_items_accessed, membership_properties, params, prop,
                      search_query, sharepoint, sts_logon)
from .tenants import APP_OFFICE_HOME, Device, Person, Tenant


ATTACKER_IPS = ("104.161.20.102", "20.232.202.245", "185.241.149.122")
APP_EXO_POWERSHELL = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
_ATTACKER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/110.0"
ATTACKER_DEVICE = Device("Windows10", "Firefox", _ATTACKER_UA, f"Client=OWA;{_ATTACKER_UA};",
                         APP_OFFICE_HOME)


@dataclass
class Planted:
    """One attacker record of the story, with what it shows and its ATT&CK technique(s)."""

    case: str
    record: dict
    what: str
    technique: str
    hunted: bool = True     # a bundled hunt flags it with ``technique`` (else: exposure evidence)


class Story:
    """Builds one tenant's planted attacker records with seed-stable ids."""

    def __init__(self, tenant: Tenant):
        self.t = tenant
        self.rng = random.Random(f"{tenant.seed}/{tenant.key}/story")
        self.steps: list[Planted] = []
        self.admin = tenant.person("CompromisedAdmin")
        self.target = tenant.person("TargetUser")
        self.mail = Mailflow(tenant, "story")

    def rid(self, key: str) -> str:
        """The stable record id of story step ``key``."""
        return stable_guid(self.t.seed, self.t.key, "story", key)

    def add(self, record: dict, what: str, technique: str, hunted: bool = True) -> None:
        """Append one planted record."""
        self.steps.append(Planted(self.t.key, record, what, technique, hunted))

    def session(self, key: str) -> str:
        """The AAD session id of attacker sign-in ``key``."""
        return stable_guid(self.t.seed, self.t.key, "session", key)

    def access(self, client_ip: str, session_key: str) -> Access:
        """Attacker access through ``client_ip`` in sign-in session ``session_key``.

        In another's mailbox the Global Admin's logons count as admin logons (LogonType 1).
        """
        return Access(client_ip, self.session(session_key), ATTACKER_DEVICE, 1)

    def sign_in(self, key: str, when: str, who: Person, ip: str, what: str,
                error: tuple[str, str] | None = None, status: str = "Success") -> None:
        """An attacker sign-in (or failed attempt) from ``ip``."""
        rec = sts_logon(self.t, self.rng, at(when), self.rid(key), who, ip, self.session(key),
                        ATTACKER_DEVICE, error, status)
        self.add(rec, what, "T1078.004")

    def create_account(self, key: str, when: str, actor: Person, target: Person,
                       what: str) -> None:
        """``Add user.`` of ``target`` by ``actor``."""
        ts = at(when)
        rec = directory_change(self.t, self.rng, ts, self.rid(key), "Add user.", actor, target,
                               added_user_properties(target, ts))
        self.add(rec, what, "T1136.003")

    def grant_global_admin(self, key: str, when: str, actor: Person, target: Person) -> None:
        """``Add member to role.`` Global Administrator."""
        role_id = stable_guid(self.t.org_id, "role", "global-admin")
        modified = membership_properties(
            "Role", role_id, "Global Administrator",
            (prop("Role.TemplateId", GLOBAL_ADMIN_TEMPLATE),))
        rec = directory_change(self.t, self.rng, at(when), self.rid(key), "Add member to role.",
                               actor, target, modified)
        self.add(rec, f"{target.upn} made Global Administrator", "T1098.003")

    def cmdlet(self, key: str, when: str, operation: str, object_id: str, parameters: list[dict],
               client_ip: str, what: str, technique: str) -> None:
        """An Exchange admin cmdlet run by CompromisedAdmin through EXO PowerShell."""
        rec = exchange_admin(self.t, self.rng, at(when), self.rid(key), operation, self.admin,
                             object_id, parameters, client_ip, APP_EXO_POWERSHELL)
        self.add(rec, what, technique)

    def mailbox_permissions(self, when: str, client_ip: str) -> None:
        """FullAccess and SendAs on TargetUser's mailbox for CompromisedAdmin."""
        admin = self.admin.upn
        self.cmdlet("add-mailbox-permission", when, "Add-MailboxPermission", "TargetUser",
                    params(("Identity", "TargetUser"), ("User", admin),
                           ("AccessRights", "FullAccess"), ("InheritanceType", "All")),
                    client_ip, "FullAccess on TargetUser's mailbox for CompromisedAdmin",
                    "T1098.002")
        self.cmdlet("add-recipient-permission", plus(when, 26), "Add-RecipientPermission",
                    "TargetUser",
                    params(("Identity", "TargetUser"), ("Trustee", admin),
                           ("AccessRights", "SendAs"), ("Confirm", "False")),
                    client_ip, "SendAs on TargetUser for CompromisedAdmin", "T1098.002")

    def transport_rule(self, key: str, when: str, operation: str, name: str,
                       settings: tuple[tuple[str, str], ...], client_ip: str, what: str,
                       technique: str = "T1114.003") -> None:
        """A New-/Set-/Enable-TransportRule by CompromisedAdmin."""
        first = ("Identity" if operation != "New-TransportRule" else "Name", name)
        self.cmdlet(key, when, operation, name, params(first, *settings), client_ip, what,
                    technique)

    def spoof_allow(self, key: str, when: str, infrastructure: str, client_ip: str) -> None:
        """A spoofed-sender allow entry in the Tenant Allow/Block List."""
        self.cmdlet(key, when, "New-TenantAllowBlockListSpoofItems", "default",
                    params(("Identity", "default"), ("SpoofType", "External"), ("Action", "Allow"),
                           ("SpoofedUser", "impersonated-email-account.com"),
                           ("SendingInfrastructure", infrastructure)),
                    client_ip, f"spoofed senders via {infrastructure} allowed", "T1562.001")

    def onedrive_takeover(self, when: str, access: Access) -> None:
        """Site admin on TargetUser's OneDrive, site unlocked, anonymous sharing, files shared."""
        site = self.t.onedrive(self.target)
        admin = self.admin.upn
        changes = (
            ("site-admin", "SiteCollectionAdminAdded", {"OldValue": "", "NewValue": admin,
                                                        "Name": "SiteAdmin"},
             "CompromisedAdmin made site admin of TargetUser's OneDrive", "T1098.003"),
            ("site-lock", "SiteLocksChanged", {"OldValue": "True", "NewValue": "False",
                                               "Name": "SiteAccess"},
             "site lock removed from TargetUser's OneDrive", "T1098.003"),
            ("sharing-1", "SharingPolicyChanged", {"OldValue": "False", "NewValue": "True",
                                                   "Name": "ShareUsingAnonymousLinks"},
             "anonymous links allowed (False to True)", "T1098.003"),
            ("sharing-2", "SharingPolicyChanged", {"OldValue": "Disabled", "NewValue": "Enabled",
                                                   "Name": "ShareUsingAnonymousLinks"},
             "anonymous links enabled (Disabled to Enabled)", "T1098.003"),
        )
        for n, (key, operation, change, what, technique) in enumerate(changes):
            rec = sharepoint(self.t, self.rng, at(plus(when, n * 70)), self.rid(key),
                             operation, 4, self.admin, access, site,
                             extra={"ModifiedProperties": [change]})
            if operation == "SiteCollectionAdminAdded":
                rec |= {"TargetUserOrGroupName": admin, "TargetUserOrGroupType": "Member"}
            self.add(rec, what, technique)
        new_site = self.t.team_site("ITServiceDesk")
        rec = sharepoint(self.t, self.rng, at(plus(when, 420)), self.rid("site-created"),
                         "SiteCollectionCreated", 4, self.admin, access, new_site)
        self.add(rec, "new site collection ITServiceDesk created", "T1098.003")
        banking = "Documents/Banking/Online Banking - security tokens.xlsx"
        for offset, (key, operation, rtype, what, technique) in enumerate((
                ("file-accessed", "FileAccessed", 6, "TargetUser's banking file opened", "T1530"),
                ("file-downloaded", "FileDownloaded", 6, "TargetUser's banking file downloaded",
                 "T1530"),
                ("anonymous-link", "AnonymousLinkCreated", 14,
                 "anonymous link to TargetUser's banking file", "T1567"))):
            extra = {"EventData": "<Type>View</Type>"} if rtype == 14 else None
            rec = sharepoint(self.t, self.rng, at(plus(when, 600 + offset * 95)), self.rid(key),
                             operation, rtype, self.admin, access, site, banking, extra)
            self.add(rec, what, technique)

    def received(self, owner: Person, sender: str, subject: str, before: str,
                 hours: float) -> Message:
        """Mail ``owner`` received about ``hours`` hours before ``before`` (in the trace)."""
        moment = self.mail.received_before(at(before), hours * 0.8, hours * 1.2)
        return self.mail.inbound(owner, sender, subject, moment)

    def read(self, key: str, when: str, actor: Person, owner: Person, access: Access,
             folders: list[tuple[str, list[Message]]], what: str, throttled: bool = False,
             hunted: bool = True) -> None:
        """A ``MailItemsAccessed`` Bind of these messages (by folder) in ``owner``'s mailbox."""
        items = [(path, [(m.message_id, m.size) for m in messages]) for path, messages in folders]
        self.add(mail_items_accessed(self.t, self.rng, at(when), self.rid(key), actor, owner,
                                     access, folders=items, throttled=throttled),
                 what, "T1114.002", hunted)

    def search(self, key: str, when: str, actor: Person, owner: Person, access: Access,
               text: str) -> None:
        """A mailbox search for ``text`` in Outlook on the web (no bundled hunt flags it)."""
        self.add(search_query(self.t, self.rng, at(when), self.rid(key), actor, owner, access,
                              text),
                 f"{actor.upn.split('@')[0]} searches {owner.upn.split('@')[0]}'s mailbox for "
                 f"'{text}'", "T1114.002", hunted=False)

    def send(self, key: str, when: str, operation: str, actor: Person, owner: Person,
             access: Access, subject: str, recipients: list[tuple[str, str]], what: str,
             technique: str, hunted: bool, message_id: str | None = None) -> Message:
        """A Send / SendAs from ``owner``'s mailbox; its trace row a few seconds later."""
        sent = at(when)
        message = self.mail.originating(owner.upn, recipients, subject,
                                        sent + timedelta(seconds=self.rng.randrange(2, 9)),
                                        access.plain_ip, message_id=message_id)
        self.add(mail_item(self.t, self.rng, sent, self.rid(key), operation, actor, owner, access,
                           subject, "\\Sent Items",
                           message=(message.message_id, message.size)),
                 what, technique, hunted)
        return message

    def mailbox_abuse(self, when: str, access: Access, read: list[tuple[str, list[Message]]],
                      draft: str, sent: str, sent_to: list[tuple[str, str]],
                      deleted: tuple[Message, Message, Message]) -> None:
        """Reading, writing, sending as and deleting in TargetUser's mailbox."""
        t, rng, admin, target = self.t, self.rng, self.admin, self.target
        count = sum(len(messages) for _, messages in read)
        self.read("mail-read", when, admin, target, access, read,
                  f"CompromisedAdmin reads {count} items in TargetUser's mailbox")
        reply = self.mail.exchange_message_id()
        size = rng.randrange(8_000, 40_000)
        rec = mail_item(t, rng, at(plus(when, 240)), self.rid("mail-create"), "Create", admin,
                        target, access, draft, "\\Drafts", message=(reply, size))
        self.add(rec, f"draft '{draft}' created in TargetUser's mailbox", "T1114.002")
        rec = mail_item(t, rng, at(plus(when, 355)), self.rid("mail-update"), "Update", admin,
                        target, access, draft, "\\Drafts",
                        ["RecipientCollection", "Subject", "HtmlBody", "RtfBody", "TextBody"],
                        message=(reply, size))
        self.add(rec, f"draft '{draft}' edited in TargetUser's mailbox", "T1114.002")
        self.send("mail-sendas", plus(when, 410), "SendAs", admin, target, access, sent, sent_to,
                  f"'{sent}' sent as TargetUser", "T1114.002", True, reply)
        for offset, (key, operation, message) in enumerate(zip(
                ("delete-move", "delete-hard", "delete-soft"),
                ("MoveToDeletedItems", "HardDelete", "SoftDelete"), deleted)):
            rec = mail_group(t, rng, at(plus(when, 800 + offset * 130)), self.rid(key),
                             operation, admin, target, access, message.subject, message.message_id)
            self.add(rec, f"'{message.subject}' deleted from TargetUser's Inbox", "T1070.008")


def at(text: str) -> datetime:
    """A story timestamp from ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(text)


def plus(text: str, seconds: int) -> str:
    """``text`` moved on by ``seconds``."""
    return (at(text) + timedelta(seconds=seconds)).isoformat(sep=" ")
