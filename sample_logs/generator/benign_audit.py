"""Provides the unified audit log of the benign tenant, a day at a time: staff reading and sending
mail, working on files, sharing (anonymous links included), filing newsletters with their own inbox
rules, sharing calendars and mistyping passwords; admins and helpdesk doing admin work (mailbox
settings, shared mailbox permissions, role and group changes, onboarding, transport rules now and
then, password resets); Microsoft's services provisioning licences and mailboxes, rolling managed
identity certificates over and giving new group mailboxes their default permissions.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from .background import EXO_SYSTEM, NEWSLETTERS, OWN_FILES, SUBJECTS, TEAM_FILES
from .benign_tenant import UTC_OFFSET, Member, Visit, day_start
from .ids import random_guid, stable_guid
from .records import (Access, added_user_properties, directory_change, exchange_admin, json_in_string,
                      licence_properties, mail_group, mail_item, mail_items_accessed, membership_properties,
                      params, prop, search_query, sharepoint, sts_logon)
from .tenants import SYSTEM_PRINCIPALS, Tenant

MANAGED_IDENTITY = ("Managed Service Identity", "ef5d5c69-a5df-46bb-acaf-426f161a21a2")
SEARCHES = ("invoice", "meeting notes", "expenses", "contract renewal", "holiday rota", "budget", "onboarding")
RULE_FOLDERS = (("newsletter@", "Newsletters"), ("noreply@jira.", "Jira"), ("receipts@", "Receipts"),
                ("notifications@github.com", "GitHub"), ("digest@", "Newsletters"))
GROUPS = ("All Staff", "Printers", "VPN Users", "Sales Team", "Finance Team", "Project Birch")
ROLES = ("Reports Reader", "Message Center Reader", "Helpdesk Administrator", "Exchange Recipient Administrator")
DISCLAIMER = "<p style=\"color:#9c0006\">[EXTERNAL] This message came from outside the organisation.</p>"


class AuditDay:
    """The benign unified audit log records of one day, from a ``Random`` stream of that day."""

    def __init__(self, t: Tenant, seed: int, day: date, plans: list[tuple[Member, list[Visit]]],
                 members: tuple[Member, ...]):
        self.t, self.day, self.members = t, day, members
        self.rng = random.Random(f"{seed}/benign/audit/{day.isoformat()}")
        self.plans = [(m, v) for m, v in plans if m.role != "service"]
        self.weights = [m.person.activity * sum((x.end - x.start).total_seconds() for x in v) for m, v in self.plans]
        self.scale = len(members) / 1000

    # -- helpers ---------------------------------------------------------------------------------

    def rid(self) -> str:
        """A record id."""
        return random_guid(self.rng)

    def when(self, visit: Visit) -> datetime:
        """A moment of the visit."""
        span = (visit.end - visit.start).total_seconds()
        return (visit.start + timedelta(seconds=self.rng.uniform(0, span))).replace(microsecond=0)

    def anytime(self) -> datetime:
        """A moment of the UTC day."""
        return day_start(self.day) + timedelta(seconds=self.rng.randrange(86400))

    def access(self, visit: Visit, exchange: bool = False) -> Access:
        """Where the visit's actions come from; Exchange sometimes logs the address with a port."""
        ip = visit.place.ip
        if exchange and ":" not in ip and self.rng.random() < 0.25:
            ip = f"{ip}:{self.rng.randrange(49152, 65535)}"
        return Access(ip, visit.session, visit.device)

    def colleague(self, not_this: Member) -> Member:
        """Another member of staff."""
        while True:
            other = self.rng.choice(self.members)
            if other is not not_this and other.role == "staff":
                return other

    def count(self, per_thousand: float) -> int:
        """How many times something happening ``per_thousand`` times a day per 1,000 members happens today."""
        expected = per_thousand * self.scale
        whole = int(expected)
        return whole + (self.rng.random() < expected - whole)

    # -- staff -----------------------------------------------------------------------------------

    def staff_records(self, count: int) -> list[dict]:
        """``count`` records of the staff's own work."""
        if not self.plans:
            return []
        out: list[dict] = []
        chosen = self.rng.choices(self.plans, weights=self.weights, k=count)
        kinds = self.rng.choices(_STAFF_KINDS, cum_weights=_STAFF_CUM, k=count)
        for (member, plan), kind in zip(chosen, kinds):
            visit = self.rng.choice(plan)
            out.extend(kind(self, member, visit, self.when(visit)))
            if len(out) >= count:
                break
        return out[:count]

    def login(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """An interactive sign-in on the desktop, mostly as the stretch starts (one per app), now and then after
        a mistyped password. The audit log's logons are the interactive ones: a phone's background token
        refreshes are in the non-interactive sign-in log only."""
        p, rng = m.person, self.rng
        if not v.desktop:
            return self.mail_read(m, v, ts)
        if rng.random() < 0.7:
            ts = v.start + timedelta(seconds=rng.randrange(600))
        out = []
        if rng.random() < 0.02:
            out.append(sts_logon(self.t, rng, ts - timedelta(seconds=rng.randrange(15, 90)), self.rid(), p,
                                 v.place.ip, v.session, v.device, ("50126", "InvalidUserNameOrPassword"), "Failed"))
        out.append(sts_logon(self.t, rng, ts, self.rid(), p, v.place.ip, v.session, v.device))
        if m.managed[0]:
            for record in out:
                record["DeviceProperties"][2]["Value"] = "True"  # IsCompliantAndManaged
        return out

    def mail_read(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner syncing or opening their own mail."""
        items = self.rng.choice((0, 0, 1, 1, 2, 3))
        return [mail_items_accessed(self.t, self.rng, ts, self.rid(), m.person, m.person, self.access(v, True), items)]

    def send(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner sending a mail."""
        return [mail_item(self.t, self.rng, ts, self.rid(), "Send", m.person, m.person, self.access(v, True),
                          self.rng.choice(SUBJECTS), "\\Sent Items")]

    def update(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner flagging or categorising a mail."""
        changed = self.rng.choice((["FlagStatus", "FlagRequest"], ["Categories"], ["IsRead"]))
        return [mail_item(self.t, self.rng, ts, self.rid(), "Update", m.person, m.person, self.access(v, True),
                          self.rng.choice(SUBJECTS), "\\Inbox", changed)]

    def delete(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner clearing newsletters and old threads (emptying Deleted Items now and then)."""
        operation = self.rng.choice(("MoveToDeletedItems", "MoveToDeletedItems", "SoftDelete", "SoftDelete",
                                     "HardDelete"))
        return [mail_group(self.t, self.rng, ts, self.rid(), operation, m.person, m.person, self.access(v, True),
                           self.rng.choice(NEWSLETTERS))]

    def search(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner searching their mailbox."""
        return [search_query(self.t, self.rng, ts, self.rid(), m.person, m.person, self.access(v, True),
                             self.rng.choice(SEARCHES))]

    def _site(self, m: Member) -> tuple[str, str]:
        if self.rng.random() < 0.55:
            site = self.rng.choice(tuple(TEAM_FILES))
            return self.t.team_site(site), self.rng.choice(TEAM_FILES[site])
        return self.t.onedrive(m.person), self.rng.choice(OWN_FILES)

    def file(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """A file opened, saved, previewed, downloaded or uploaded."""
        site, relative = self._site(m)
        operation = self.rng.choice(("FileAccessed", "FileAccessed", "FileAccessed", "FileModified", "FileModified",
                                     "FilePreviewed", "FileDownloaded", "FileUploaded"))
        return [sharepoint(self.t, self.rng, ts, self.rid(), operation, 6, m.person, self.access(v), site, relative)]

    def share(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """A file shared: with a colleague, a guest, a company link or an anonymous link (and its use)."""
        rng = self.rng
        site, relative = self._site(m)
        roll = rng.random()
        if roll < 0.35:
            colleague = self.colleague(m).person.upn
            return [sharepoint(self.t, rng, ts, self.rid(), "SharingSet", 14, m.person, self.access(v), site, relative,
                               {"TargetUserOrGroupName": colleague, "TargetUserOrGroupType": "Member",
                                "EventData": "<PermissionsGranted>Contribute</PermissionsGranted>"})]
        if roll < 0.55:
            return [sharepoint(self.t, rng, ts, self.rid(), "SharingInvitationCreated", 14, m.person, self.access(v),
                               site, relative, {"TargetUserOrGroupName": f"partner{rng.randrange(400)}@example.net",
                                                "TargetUserOrGroupType": "Guest"})]
        if roll < 0.8:
            return [sharepoint(self.t, rng, ts, self.rid(), "CompanyLinkCreated", 14, m.person, self.access(v), site,
                               relative, {"EventData": "<Type>View</Type>"})]
        created = sharepoint(self.t, rng, ts, self.rid(), "AnonymousLinkCreated", 14, m.person, self.access(v), site,
                             relative, {"EventData": "<Type>View</Type>"})
        opened = sharepoint(self.t, rng, ts + timedelta(hours=rng.uniform(0.5, 30)), self.rid(), "AnonymousLinkUsed",
                            14, m.person, self.access(v), site, relative)
        anonymous = f"urn:spo:anon#{stable_guid(site, relative, 'anon').replace('-', '')}"
        outside = f"{rng.choice((24, 68, 76, 108))}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        opened |= {"UserId": anonymous, "UserKey": anonymous, "UserType": 0, "ClientIP": outside,
                   "UserAgent": v.device.user_agent, "AppAccessContext": {}}
        return [created, opened] if opened["CreationTime"][:10] == ts.date().isoformat() else [created]

    def inbox_rule(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner filing newsletters or notifications into a folder of their own (Outlook on the web),
        or Outlook desktop saving its rules."""
        rng, p = self.rng, m.person
        if rng.random() < 0.4:
            rec = exchange_admin(self.t, rng, ts, self.rid(), "UpdateInboxRules", p, p.upn, [],
                                 self.access(v, True).client_ip)
            folder_id = "LgAAAAD" + stable_guid(p.mailbox_guid, "Newsletters").replace("-", "").upper()
            del rec["Parameters"]
            rec |= {"RecordType": 2, "UserType": 0, "ClientInfoString": v.device.client_info, "MailboxOwnerUPN": p.upn,
                    "OperationProperties": [
                        {"Name": "RuleName", "Value": "Newsletters"},
                        {"Name": "RuleOperation", "Value": rng.choice(("AddMailboxRule", "ModifyMailboxRule"))},
                        {"Name": "RuleCondition", "Value": "[{\"ConditionType\":\"FromRecipientsCondition\"}]"},
                        {"Name": "RuleActions", "Value": f"[{{\"ActionType\":\"MoveToFolderAction\","
                                                         f"\"FolderId\":\"{folder_id}\"}}]"}]}
            return [rec]
        sender, folder = rng.choice(RULE_FOLDERS)
        name = f"Move to {folder}"
        return [exchange_admin(self.t, rng, ts, self.rid(), "New-InboxRule", p, f"{p.upn}\\{name}",
                               params(("Name", name), ("From", f"{sender}example.net" if sender.endswith("@") else sender),
                                      ("MoveToFolder", f"{p.upn.split('@')[0]}:\\{folder}"),
                                      ("StopProcessingRules", "True")), self.access(v, True).client_ip)]

    def share_calendar(self, m: Member, v: Visit, ts: datetime) -> list[dict]:
        """The owner sharing their calendar with a colleague."""
        p, colleague = m.person, self.colleague(m).person
        identity = f"{p.upn}:\\Calendar"
        return [exchange_admin(self.t, self.rng, ts, self.rid(), "Add-MailboxFolderPermission", p, identity,
                               params(("Identity", identity), ("User", colleague.upn),
                                      ("AccessRights", self.rng.choice(("Reviewer", "Editor", "LimitedDetails")))),
                               self.access(v, True).client_ip)]

    # -- admins and services ---------------------------------------------------------------------

    def at_work(self, role: str) -> tuple[Member, Visit] | None:
        """A member of `role` at work today, and one of their desktop stretches."""
        working = [(m, v) for m, v in self.plans if m.role == role and any(x.desktop for x in v)]
        if not working:
            return None
        member, plan = self.rng.choice(working)
        return member, next(x for x in plan if x.desktop)

    def admin_records(self) -> list[dict]:
        """Today's admin and helpdesk work and the platform's own activity."""
        out: list[dict] = []
        for action, per_thousand, role in _ADMIN_WORK:
            for _ in range(self.count(per_thousand)):
                found = self.at_work(role) if role else None
                if role and found is None:
                    continue
                out.extend(action(self, *found) if found else action(self))
        for member in self.members:
            if member.joined == self.day:
                found = self.at_work("it-admin") or self.at_work("helpdesk")
                if found:
                    out.extend(self.onboard(*found, member))
            elif member.joined and member.joined + timedelta(days=1) == self.day:
                out.append(self.register_mfa(member))
        return out

    def mailbox_settings(self, admin: Member, v: Visit) -> list[dict]:
        """Routine mailbox settings."""
        rng, name = self.rng, self.colleague(admin).person.upn.split("@")[0]
        operation, settings = rng.choice((
            ("Set-Mailbox", (("Languages", "en-US"),)), ("Set-Mailbox", (("RetainDeletedItemsFor", "30.00:00:00"),)),
            ("Set-Mailbox", (("ProhibitSendQuota", "49GB"),)), ("Set-CASMailbox", (("OWAEnabled", "True"),)),
            ("Set-CASMailbox", (("PopEnabled", "False"), ("ImapEnabled", "False"))),
            ("Set-Mailbox", (("Type", "Shared"),))))
        return [exchange_admin(self.t, rng, self.when(v), self.rid(), operation, admin.person, name,
                               params(("Identity", name), *settings), self.access(v, True).client_ip)]

    def shared_mailbox_access(self, admin: Member, v: Visit) -> list[dict]:
        """FullAccess (and SendAs) to a team's shared mailbox for a colleague, as a change ticket asks."""
        rng, user = self.rng, self.colleague(admin).person.upn
        mailbox = rng.choice(("reception", "accounts", "sales-enquiries", "hr-team"))
        ts = self.when(v)
        out = [exchange_admin(self.t, rng, ts, self.rid(), "Add-MailboxPermission", admin.person, mailbox,
                              params(("Identity", mailbox), ("User", user), ("AccessRights", "FullAccess"),
                                     ("InheritanceType", "All"), ("AutoMapping", "True")),
                              self.access(v, True).client_ip)]
        if rng.random() < 0.5:
            out.append(exchange_admin(self.t, rng, ts + timedelta(seconds=rng.randrange(20, 90)), self.rid(),
                                      "Add-RecipientPermission", admin.person, mailbox,
                                      params(("Identity", mailbox), ("Trustee", user), ("AccessRights", "SendAs"),
                                             ("Confirm", "False")), self.access(v, True).client_ip))
        return out

    def send_on_behalf(self, admin: Member, v: Visit) -> list[dict]:
        """An assistant allowed to send on behalf of their manager."""
        manager, assistant = self.colleague(admin).person, self.colleague(admin).person
        name = manager.upn.split("@")[0]
        return [exchange_admin(self.t, self.rng, self.when(v), self.rid(), "Set-Mailbox", admin.person, name,
                               params(("Identity", name), ("GrantSendOnBehalfTo", assistant.upn)),
                               self.access(v, True).client_ip)]

    def transport_rule(self, admin: Member, v: Visit) -> list[dict]:
        """A disclaimer or tagging transport rule created or edited."""
        rng = self.rng
        name = rng.choice(("External sender warning", "Legal disclaimer", "Tag mail from partners"))
        operation = rng.choice(("New-TransportRule", "Set-TransportRule"))
        settings = rng.choice(((("FromScope", "NotInOrganization"), ("ApplyHtmlDisclaimerLocation", "Prepend"),
                                ("ApplyHtmlDisclaimerText", DISCLAIMER), ("ApplyHtmlDisclaimerFallbackAction", "Wrap")),
                               (("SentToScope", "NotInOrganization"), ("ApplyHtmlDisclaimerLocation", "Append"),
                                ("ApplyHtmlDisclaimerText", "<p>Example Org Ltd, registered in Delaware.</p>")),
                               (("SenderDomainIs", "example.net"), ("PrependSubject", "[Partner] "))))
        return [exchange_admin(self.t, rng, self.when(v), self.rid(), operation, admin.person, name,
                               params(("Name", name), *settings), self.access(v, True).client_ip)]

    def user_change(self, admin: Member, v: Visit) -> list[dict]:
        """A department or job title changed, or a group membership added."""
        rng, target = self.rng, self.colleague(admin).person
        if rng.random() < 0.5:
            name, value = rng.choice((("Department", rng.choice(("Sales", "Finance", "Operations", "Projects"))),
                                      ("JobTitle", rng.choice(("Analyst", "Senior Analyst", "Team Lead")))))
            modified = [prop(name, json_in_string(value), "[]"), prop("Included Updated Properties", name),
                        prop("TargetId.UserType", "Member")]
            return [directory_change(self.t, rng, self.when(v), self.rid(), "Update user.", admin.person, target,
                                     modified)]
        group = rng.choice(GROUPS)
        return [directory_change(self.t, rng, self.when(v), self.rid(), "Add member to group.", admin.person, target,
                                 membership_properties("Group", stable_guid(self.t.org_id, group), group))]

    def password_reset(self, admin: Member, v: Visit) -> list[dict]:
        """A forgotten password reset by the helpdesk."""
        target = self.colleague(admin).person
        return [directory_change(self.t, self.rng, self.when(v), self.rid(), "Reset user password.", admin.person,
                                 target, [prop("Included Updated Properties", "")])]

    def role_change(self, admin: Member, v: Visit) -> list[dict]:
        """A directory role given to a colleague."""
        role, target = self.rng.choice(ROLES), self.colleague(admin).person
        modified = membership_properties("Role", stable_guid("role", role), role)
        modified[-1] = prop("Role.WellKnownObjectName", role.replace(" ", ""))
        return [directory_change(self.t, self.rng, self.when(v), self.rid(), "Add member to role.", admin.person,
                                 target, modified)]

    def onboard(self, admin: Member, v: Visit, joiner: Member) -> list[dict]:
        """A new starter: created, added to their team's group, licensed by a Microsoft service."""
        rng, ts = self.rng, self.when(v)
        group = rng.choice(GROUPS[3:])
        return [directory_change(self.t, rng, ts, self.rid(), "Add user.", admin.person, joiner.person,
                                 added_user_properties(joiner.person, ts)),
                directory_change(self.t, rng, ts + timedelta(seconds=rng.randrange(60, 200)), self.rid(),
                                 "Add member to group.", admin.person, joiner.person,
                                 membership_properties("Group", stable_guid(self.t.org_id, group), group)),
                directory_change(self.t, rng, ts + timedelta(seconds=rng.randrange(600, 1200)), self.rid(),
                                 "Update user.", SYSTEM_PRINCIPALS[0], joiner.person, licence_properties(self.t))]

    def register_mfa(self, joiner: Member) -> dict:
        """A new starter registering the Authenticator app on their first day."""
        methods = json_in_string({"MethodType": 6, "Default": True}, {"MethodType": 7, "Default": False})
        modified = [prop("StrongAuthenticationMethod", methods, "[]"),
                    prop("Included Updated Properties", "StrongAuthenticationMethod"),
                    prop("TargetId.UserType", "Member")]
        ts = day_start(self.day) + timedelta(hours=9 + self.rng.random() - UTC_OFFSET)
        return directory_change(self.t, self.rng, ts, self.rid(), "Update user.", joiner.person, joiner.person,
                                modified)

    def licence(self) -> list[dict]:
        """A licence (re)provisioned by a Microsoft service principal."""
        target = self.rng.choice(self.members).person
        return [directory_change(self.t, self.rng, self.anytime(), self.rid(), "Update user.",
                                 self.rng.choice(SYSTEM_PRINCIPALS), target, licence_properties(self.t))]

    def mailbox_provisioning(self) -> list[dict]:
        """Exchange Online's own mailbox settings."""
        name = self.rng.choice(self.members).person.upn.split("@")[0]
        identity = (f"{self.t.spec.exchange_forest}.prod.outlook.com/Microsoft Exchange Hosted "
                    f"Organizations/{self.t.onmicrosoft}/{name}")
        return [exchange_admin(self.t, self.rng, self.anytime(), self.rid(), "Set-Mailbox", EXO_SYSTEM, identity,
                               params(("Identity", identity), ("RetentionPolicy", "Default MRM Policy"),
                                      ("Force", "True")))]

    def certificate_rollover(self) -> list[dict]:
        """A managed identity's certificate rolled over by the platform."""
        target = self.rng.choice(self.members).person  # the record shape needs a target; the identity is named
        name = self.rng.choice(("crm-sync-func", "reports-logic-app", "backup-automation"))
        rec = directory_change(self.t, self.rng, self.anytime(), self.rid(), "Update service principal.",
                               MANAGED_IDENTITY, target,
                               [prop("KeyDescription", json_in_string(f"[KeyIdentifier={random_guid(self.rng)},"
                                                                      "KeyType=AsymmetricX509Cert,KeyUsage=Verify]")),
                                prop("Included Updated Properties", "KeyDescription")])
        sp = stable_guid(self.t.org_id, "managed-identity", name)
        rec |= {"ObjectId": sp, "Target": [{"ID": f"ServicePrincipal_{sp}", "Type": 2}, {"ID": sp, "Type": 2},
                                           {"ID": "ServicePrincipal", "Type": 2}, {"ID": name, "Type": 1}]}
        rec["ExtendedProperties"][1] = {"Name": "extendedAuditEventCategory", "Value": "ServicePrincipal"}
        return [rec]

    def group_created(self) -> list[dict]:
        """A Microsoft 365 group made by a member (from Teams), and its mailbox's default permissions
        given by Exchange itself."""
        found = self.at_work("staff")
        if found is None:
            return []
        owner, v = found
        ts, rng = self.when(v), self.rng
        name = f"Team {rng.choice(('Alder', 'Birch', 'Cedar', 'Elm', 'Maple'))} {rng.randrange(100)}"
        alias = name.lower().replace(" ", "")
        rec = directory_change(self.t, rng, ts, self.rid(), "Add group.", owner.person, owner.person,
                               [prop("DisplayName", json_in_string(name), "[]"),
                                prop("Included Updated Properties", "DisplayName")])
        rec["ObjectId"] = stable_guid(self.t.org_id, "group", name)
        return [rec, exchange_admin(self.t, rng, ts + timedelta(seconds=rng.randrange(30, 300)), self.rid(),
                                    "Add-MailboxPermission", EXO_SYSTEM, alias,
                                    params(("Identity", alias), ("User", owner.person.upn),
                                           ("AccessRights", "FullAccess"), ("InheritanceType", "All"),
                                           ("AutoMapping", "False")))]

    def policy_change(self, admin: Member, v: Visit) -> list[dict]:
        """A Conditional Access policy's excluded group or named location edited."""
        name = "CA001: Require MFA outside trusted locations"
        target = admin.person
        rec = directory_change(self.t, self.rng, self.when(v), self.rid(), "Update conditional access policy.",
                               admin.person, target,
                               [prop("ConditionalAccessPolicy", json_in_string({"displayName": name, "state": "enabled"}),
                                     json_in_string({"displayName": name, "state": "enabled"}))])
        rec["ObjectId"] = stable_guid(self.t.org_id, "ca", name)
        return [rec]


_STAFF_KINDS_WEIGHTED = ((AuditDay.login, 9.0), (AuditDay.mail_read, 30.0), (AuditDay.send, 8.0),
                         (AuditDay.update, 3.0), (AuditDay.delete, 4.0), (AuditDay.search, 1.0),
                         (AuditDay.file, 26.0), (AuditDay.share, 0.6), (AuditDay.inbox_rule, 0.012),
                         (AuditDay.share_calendar, 0.01))
_STAFF_KINDS = [kind for kind, _ in _STAFF_KINDS_WEIGHTED]
_STAFF_CUM = []
for _kind, _weight in _STAFF_KINDS_WEIGHTED:
    _STAFF_CUM.append((_STAFF_CUM[-1] if _STAFF_CUM else 0) + _weight)
# (action, times a day per 1,000 members, role of the member doing it or None for the platform)
_ADMIN_WORK = ((AuditDay.mailbox_settings, 6, "it-admin"), (AuditDay.shared_mailbox_access, 0.6, "it-admin"),
               (AuditDay.send_on_behalf, 0.08, "it-admin"), (AuditDay.transport_rule, 0.12, "it-admin"),
               (AuditDay.role_change, 0.08, "it-admin"), (AuditDay.policy_change, 0.04, "it-admin"),
               (AuditDay.user_change, 5, "helpdesk"), (AuditDay.password_reset, 1.5, "helpdesk"),
               (AuditDay.licence, 8, None), (AuditDay.mailbox_provisioning, 40, None),
               (AuditDay.certificate_rollover, 0.5, None), (AuditDay.group_created, 0.4, None))
