"""Provides the Entra ID side of the benign tenant: each member's sign-ins of a day (interactive at the
start of a stretch, with the MFA prompt outside the offices, "keep me signed in", a mistyped password
or a denied prompt now and then; non-interactive token refreshes from the same device and session
all along) and the Graph directory audits of the unified audit log's directory records.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from .benign_tenant import Member, Visit
from .entra import SignIn
from .entra_net import APP_RESOURCE, REFRESHES, Policy, client_of
from .entra_shapes import graph_sign_in
from .ids import random_guid, stable_guid
from .tenants import SYSTEM_PRINCIPALS, Tenant

ADMIN_ROLES = ("it-admin", "helpdesk")
DENIED = {"errorCode": 500121, "failureReason": "Authentication failed during strong authentication request.",
          "additionalDetails": "The user didn't complete the MFA prompt. They may have decided not to authenticate, "
                               "timed out while doing authentication, or made an error while providing the requested "
                               "information."}
_ACTIVITIES = {"add user.": ("Add user", "UserManagement", "Add"),
               "update user.": ("Update user", "UserManagement", "Update"),
               "reset user password.": ("Reset user password", "UserManagement", "Update"),
               "add member to role.": ("Add member to role", "RoleManagement", "Assign"),
               "add member to group.": ("Add member to group", "GroupManagement", "Assign"),
               "add group.": ("Add group", "GroupManagement", "Add"),
               "update service principal.": ("Update service principal", "ApplicationManagement", "Update"),
               "update conditional access policy.": ("Update conditional access policy", "Policy", "Update")}


def policies(t: Tenant) -> tuple[Policy, ...]:
    """The tenant's Conditional Access policies."""
    return (Policy(stable_guid(t.org_id, "ca", "outside"), "CA001: Require MFA outside trusted locations", "Mfa",
                   "outside-office"),
            Policy(stable_guid(t.org_id, "ca", "admins"), "CA002: Require MFA for administrators", "Mfa", "admins"),
            Policy(stable_guid(t.org_id, "ca", "legacy"), "CA003: Block legacy authentication", "Block", "legacy"))


class SignInDay:
    """The sign-ins of one day, from a ``Random`` stream of that day; ``per_hour`` token refreshes an hour of
    a stretch on average."""

    def __init__(self, t: Tenant, seed: int, day: date, per_hour: float):
        self.t, self.day, self.per_hour = t, day, per_hour
        self.rng = random.Random(f"{seed}/benign/sign-ins/{day.isoformat()}")
        self.policies = policies(t)

    def needs_mfa(self, member: Member, visit: Visit) -> bool:
        """Whether a policy asks this sign-in for MFA."""
        return member.role in ADMIN_ROLES or not visit.place.office

    def row(self, member: Member, visit: Visit, when: datetime, *, interactive: bool, code: int = 0, mfa: str = "",
            app_resource=None, correlation: str = "", original: str = "") -> SignIn:
        """One sign-in."""
        rng = self.rng
        app, resource = app_resource or APP_RESOURCE[visit.device.app_id]
        needs = self.needs_mfa(member, visit) and code != 50126
        ca = []
        for p in self.policies:
            applies = {"outside-office": not visit.place.office, "admins": member.role in ADMIN_ROLES,
                       "legacy": False}[p.scope]
            result = ("notApplied" if not applies or code == 50126
                      else "failure" if mfa == "pending" else "success")
            ca.append((p, result))
        request = random_guid(rng)[:-2] + "00"
        return SignIn(
            id=request, when=when.replace(microsecond=0), fraction=rng.randrange(10_000_000), interactive=interactive,
            person=member.person, org=self.t.org_id, identifier=member.person.upn if interactive else "", app=app,
            resource=resource, ip=visit.place.ip, net=visit.place.net, user_agent=visit.device.user_agent,
            client=client_of(visit.device), code=code, ca=ca,
            requirement="multiFactorAuthentication" if needs else "singleFactorAuthentication",
            first_factor="Password" if interactive else "Previously satisfied", mfa=mfa if needs else "",
            method="Mobile app notification", session=visit.session, correlation=correlation or random_guid(rng),
            original_request=original or request, token=random_guid(rng).replace("-", "")[:22], protocol="none"
            if not interactive else "oAuth2", incoming="none" if interactive else "refreshToken",
            latency=rng.randrange(40, 620), trusted_location=visit.place.office)

    def record(self, member: Member, visit: Visit, sign_in: SignIn) -> dict:
        """The Graph record of a sign-in, with the device Entra knows when it is enrolled."""
        record = graph_sign_in(sign_in)
        if member.managed[0 if visit.desktop else 1]:
            kind = "laptop" if visit.desktop else "phone"
            record["deviceDetail"] |= {
                "deviceId": stable_guid(self.t.org_id, "device", member.index, kind),
                "displayName": f"EXORG-{'LT' if visit.desktop else 'MB'}-{member.index:05d}", "isCompliant": True,
                "isManaged": True, "trustType": "Azure AD joined" if visit.desktop else "Azure AD registered"}
        return record

    def flow(self, member: Member, visit: Visit, fresh: bool) -> list[dict]:
        """An interactive sign-in at the start of the stretch: MFA when a policy asks and the session is new,
        now and then a mistyped password, a denied prompt or the "keep me signed in" question first."""
        rng, when = self.rng, visit.start
        correlation = random_guid(rng)
        rows: list[tuple[SignIn, dict | None]] = []

        def add(seconds_before: int, code: int, mfa: str = "", status: dict | None = None) -> None:
            original = rows[0][0].id if rows else ""
            rows.append((self.row(member, visit, when - timedelta(seconds=seconds_before), interactive=True, code=code,
                                  mfa=mfa, correlation=correlation, original=original), status))

        if rng.random() < 0.03:
            add(rng.randrange(40, 120), 50126)
        mfa = "claim"
        if self.needs_mfa(member, visit) and fresh:
            if rng.random() < 0.01:
                add(rng.randrange(90, 200), 50074, "pending", DENIED)
            add(rng.randrange(15, 40), 50074, "pending")
            mfa = "fresh"
        if rng.random() < 0.2:
            add(rng.randrange(3, 10), 50140, mfa)
        add(0, 0, mfa)
        out = []
        for sign_in, status in rows:
            record = self.record(member, visit, sign_in)
            if status:
                record["status"] = dict(status)
                record["authenticationDetails"][-1]["authenticationStepResultDetail"] = "MFA denied; user declined"
            out.append(record)
        return out

    def refreshes(self, member: Member, visit: Visit) -> list[dict]:
        """The stretch's background token refreshes: the device's apps, the same session and address."""
        rng = self.rng
        hours = (visit.end - visit.start).total_seconds() / 3600
        expected = self.per_hour * hours
        count = int(expected) + (rng.random() < expected - int(expected))
        span = (visit.end - visit.start).total_seconds()
        pairs = REFRESHES[visit.device.app_id]
        return [self.record(member, visit, self.row(member, visit, visit.start + timedelta(seconds=rng.uniform(0, span)),
                                                    interactive=False, mfa="claim", app_resource=rng.choice(pairs)))
                for _ in range(count)]

    def records(self, plans: list[tuple[Member, list[Visit]]]) -> list[dict]:
        """Every sign-in of the day, in time order."""
        out = []
        for member, plan in plans:
            for visit in plan:
                fresh = visit.desktop and (self.day.weekday() == 0 or self.rng.random() < 0.1)
                if visit.desktop or self.rng.random() < 0.05:
                    out.extend(self.flow(member, visit, fresh))
                out.extend(self.refreshes(member, visit))
        out.sort(key=lambda r: (r["createdDateTime"], r["id"]))
        return out


def directory_audit(record: dict, people: dict) -> dict:
    """The Graph ``directoryAudit`` of a unified audit log directory record (RecordType 8)."""
    activity, category, operation_type = _ACTIVITIES[record["Operation"].lower()]
    fraction = int(stable_guid(record["Id"], "fraction")[:6], 16) % 10_000_000
    if record["UserType"] == 4:
        name = record["Actor"][0]["ID"]
        app_id = dict((*SYSTEM_PRINCIPALS, ("Managed Service Identity", ""))).get(name, "")
        initiator = {"user": None, "app": {"appId": app_id or None, "displayName": name,
                                           "servicePrincipalId": record["Actor"][2]["ID"], "servicePrincipalName": None}}
    else:
        actor = people[record["UserId"]]
        initiator = {"app": None, "user": {"id": actor.object_id, "displayName": None,
                                           "userPrincipalName": actor.upn, "ipAddress": record.get("ActorIpAddress") or None,
                                           "userType": None, "homeTenantId": None, "homeTenantName": None}}
    modified = [{"displayName": p["Name"], "oldValue": p["OldValue"] or None, "newValue": p["NewValue"] or None}
                for p in record["ModifiedProperties"]]
    target_upn = next((t["ID"] for t in record["Target"] if t["Type"] == 5), None)
    target_type = "ServicePrincipal" if activity == "Update service principal" else (
        "Policy" if category == "Policy" else "Group" if activity == "Add group" else "User")
    target = {"id": record["ObjectId"] if target_type != "User" else record["Target"][1]["ID"],
              "displayName": next((t["ID"] for t in record["Target"] if t["Type"] == 1), None), "type": target_type,
              "userPrincipalName": target_upn if target_type == "User" else None, "groupType": None,
              "modifiedProperties": modified}
    correlation = stable_guid(record["Id"], "correlation")
    return {"id": f"Directory_{correlation}_{record['Id'][:5].upper()}_{fraction}", "category": category,
            "correlationId": correlation, "result": "success", "resultReason": "", "activityDisplayName": activity,
            "activityDateTime": f"{record['CreationTime']}.{fraction:07d}Z", "loggedByService": "Core Directory",
            "operationType": operation_type, "initiatedBy": initiator, "targetResources": [target],
            "additionalDetails": [{"key": "UserType", "value": "Member"}]}


def registered_security_info(record: dict, people: dict) -> dict:
    """The Authentication Methods audit a new starter's MFA registration also writes."""
    user = people[record["UserId"]]
    correlation = stable_guid(record["Id"], "registration")
    return {"id": f"SSGM_{correlation}", "category": "UserManagement", "correlationId": correlation,
            "result": "success", "resultReason": "User registered Microsoft Authenticator App with Notification and "
                                                 "Code", "activityDisplayName": "User registered security info",
            "activityDateTime": f"{record['CreationTime']}.0000000Z", "loggedByService": "Authentication Methods",
            "operationType": "Add", "initiatedBy": {"app": None, "user": {
                "id": user.object_id, "displayName": None, "userPrincipalName": user.upn, "ipAddress": None,
                "userType": None, "homeTenantId": None, "homeTenantName": None}},
            "targetResources": [{"id": user.object_id, "displayName": None, "type": "User",
                                 "userPrincipalName": user.upn, "groupType": None, "modifiedProperties": []}],
            "additionalDetails": []}
