"""Provides the scripted benign admin work that resembles attack steps (the look-alikes)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .ids import stable_guid
from .records import (added_user_properties, directory_change, exchange_admin, json_in_string,
                      licence_properties, membership_properties, params, prop)
from .tenants import SYSTEM_PRINCIPALS, Person, Tenant


@dataclass
class Benign:
    """A scripted benign record worth pointing out: it resembles an attack step but is routine."""

    record: dict
    why: str


def benign_script(t: Tenant) -> list[Benign]:
    """Fixed routine admin work of tenant ``t`` that hunts must not mistake for the attack."""
    rng = random.Random(f"{t.seed}/{t.key}/script")
    spec, it, helpdesk = t.spec, t.person("ITAdmin"), t.person("HelpdeskAdmin")
    joiner, shared = t.person(spec.joiner[0]), t.person(spec.shared_mailbox)
    office = f"{t.office_ip}:{rng.randrange(49152, 65535)}"
    items: list[Benign] = []

    def when(day: date, local_hour: int) -> datetime:
        """A jittered moment of ``day`` at ``local_hour`` in the tenant's time zone."""
        return datetime.combine(day, datetime.min.time()) + timedelta(
            hours=local_hour - spec.utc_offset, seconds=rng.randrange(3000))

    def directory(key: str, ts: datetime, operation: str, actor: Person | tuple[str, str],
                  target: Person, modified: list[dict], why: str) -> None:
        rid = stable_guid(t.seed, t.key, "script", key)
        items.append(Benign(directory_change(t, rng, ts, rid, operation, actor, target, modified),
                            why))

    def cmdlet(key: str, ts: datetime, actor: Person, operation: str, object_id: str,
               parameters: list[dict], why: str) -> None:
        rid = stable_guid(t.seed, t.key, "script", key)
        items.append(Benign(exchange_admin(t, rng, ts, rid, operation, actor, object_id,
                                           parameters, office), why))

    cmdlet("external-tag", when(date(2022, 12, 7), 10), it, "New-TransportRule",
           "External sender warning",
           params(("Name", "External sender warning"), ("FromScope", "NotInOrganization"),
                  ("ApplyHtmlDisclaimerLocation", "Prepend"),
                  ("ApplyHtmlDisclaimerText",
                   "<p style=\"color:#9c0006\">[EXTERNAL] This message came from outside the "
                   "organisation.</p>"),
                  ("ApplyHtmlDisclaimerFallbackAction", "Wrap")),
           "transport rule that only tags external mail (no delete, redirect or moderation)")
    start = spec.joiner[1]
    cmdlet("distribution-group", when(start - timedelta(days=24), 11), it,
           "New-DistributionGroup", "Project Alder",
           params(("Name", "Project Alder"), ("Alias", "projectalder"),
                  ("PrimarySmtpAddress", f"projectalder@{spec.domain}"),
                  ("Members", f"ProjectUser1@{spec.domain};ProjectUser2@{spec.domain}")),
           "distribution group for a project")
    granted = when(spec.shared_granted, 9)
    for n, delegate in enumerate(spec.shared_delegates):
        cmdlet(f"shared-{n}", granted + timedelta(seconds=50 * n + rng.randrange(30)), it,
               "Add-MailboxPermission", spec.shared_mailbox,
               params(("Identity", spec.shared_mailbox), ("User", f"{delegate}@{spec.domain}"),
                      ("AccessRights", "FullAccess"), ("InheritanceType", "All"),
                      ("AutoMapping", "True")),
               f"FullAccess to the shared mailbox {shared.upn} for {delegate}")
    hired = when(start, 9)
    team = joiner.upn.split("User")[0] + " Team"
    directory("joiner", hired, "Add User." if t.key == "a" else "Add user.", it, joiner,
              added_user_properties(joiner, hired),
              f"new starter {joiner.upn} created by the IT admin")
    directory("joiner-group", hired + timedelta(seconds=95 + rng.randrange(60)),
              "Add member to group.", it, joiner,
              membership_properties("Group", stable_guid(t.org_id, "group", team), team),
              f"new starter added to the {team} group")
    directory("joiner-licence", hired + timedelta(seconds=840 + rng.randrange(120)),
              "Update user.", SYSTEM_PRINCIPALS[0], joiner, licence_properties(t),
              "licence provisioning by a Microsoft service principal")
    directory("job-title", when(start + timedelta(days=9), 14), "Update user.", helpdesk,
              t.person("FinanceUser"),
              [prop("JobTitle", json_in_string("Senior Accountant"), json_in_string("Accountant")),
               prop("Included Updated Properties", "JobTitle"),
               prop("TargetId.UserType", "Member")],
              "job title change of FinanceUser by the helpdesk admin")
    cmdlet("cas-mailbox", when(start + timedelta(days=24), 10), helpdesk, "Set-CASMailbox",
           "SalesUser2",
           params(("Identity", "SalesUser2"), ("PopEnabled", "False"), ("ImapEnabled", "False")),
           "legacy protocols switched off for a user")
    cmdlet("audit-on", when(start + timedelta(days=30), 15), it, "Set-Mailbox", "ExecUser",
           params(("Identity", "ExecUser"), ("AuditEnabled", "True")),
           "mailbox auditing switched on")
    return sorted(items, key=lambda item: item.record["CreationTime"])
