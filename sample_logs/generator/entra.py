"""Provides the Entra ID side of each tenant: interactive and non-interactive sign-ins and directory
audits that agree with the unified audit log records of the same story.

Every attacker ``UserLoggedIn`` / ``UserLoginFailed`` has its sign-in at the same second, from the same
address, in the same session (``DeviceProperties`` ``SessionId`` / ``AppAccessContext.AADSessionId``);
so has a sample of the staff's. Around them Entra shows what the unified audit log does not: the
interrupts of each sign-in flow (MFA required 50074, MFA registration 50079, keep me signed in 50140),
the portal and PowerShell sign-ins behind the attacker's admin work, background token refreshes, a
stolen session replayed from a hosting address, a trip abroad, blocked or legacy ActiveSync clients.

Records are kept as ``SignIn`` objects and Graph-shaped directory audits; ``entra_shapes`` writes them
in the export shapes. Standard library only; randomness from ``Random(f"{seed}/{tenant}/entra...")``
streams of its own, never the unified audit log generators' (whose output must not change).
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from .attacker import ATTACKER_DEVICE
from .entra_net import (ADMINS, APP_RESOURCE, ATTACKER_NETS, AZURE_MANAGEMENT, AZURE_PORTAL,
                        BREAK_GLASS, EAS_CLIENTS, EXCHANGE, EXO_POWERSHELL, INTERRUPTS, OFFICE_HOME,
                        OWA, REFRESHES, SHAREPOINT, STATUS_TEXT, TRIP_NETS, App, Client, Net, Policy,
                        client_of, staff_net)
from .ids import random_guid, stable_guid
from .story import planted_steps
from .tenants import EXPORT_END, EXPORT_START, SYSTEM_PRINCIPALS, Person, build_tenant

PROVIDER = {"104.161.20.102": "ioflood", "20.232.202.245": "Azure", "185.241.149.122": "IPXO"}
ATTACKER_PHONE_DETAIL = "+X XXXXXXXX86"   # the attacker's +1 202 555 0186, as Entra masks it
_SIGN_IN_OPS = ("UserLoggedIn", "UserLoginFailed")
_POLICY_SPECS = {
    "a": (("CA001: Require MFA for administrators", "Mfa", "admins", True),
          ("CA002: Require MFA outside the office", "Mfa", "outside-office", True),
          ("CA003: Block legacy authentication", "Block", "legacy", True)),
    "b": (("CA001: Require MFA for admin roles", "Mfa", "admins", True),
          ("CA002: Require MFA for all users", "Mfa", "all-users", False)),
}
# The victim of the replayed session, and where the victim's genuine sign-in was: (role, place, before).
REPLAY_VICTIM = {"a": ("TargetUser", "home", "2023-01-31T21:13:40"),
                 "b": ("FinanceUser", "office", "2023-02-01T00:00:00")}
# The replays: hosting address and (time, app, resource) of each non-interactive sign-in.
REPLAYS = {
    "a": ("20.232.202.245", (("2023-02-01 19:42:17", OWA, EXCHANGE), ("2023-02-01 19:58:40", OWA, EXCHANGE),
                             ("2023-02-01 20:31:05", OFFICE_HOME, SHAREPOINT),
                             ("2023-02-02 01:17:52", OWA, EXCHANGE), ("2023-02-02 14:06:33", OWA, EXCHANGE))),
    "b": ("104.161.20.102", (("2023-02-13 22:41:09", OWA, EXCHANGE), ("2023-02-14 03:12:44", OWA, EXCHANGE),
                             ("2023-02-15 21:05:31", OFFICE_HOME, SHAREPOINT),
                             ("2023-02-19 18:22:50", OWA, EXCHANGE), ("2023-02-19 18:40:02", OWA, EXCHANGE))),
}
TRIPS = {"a": ("MarketingUser", date(2022, 12, 20), 4, 0), "b": ("ClaimsUser3", date(2022, 12, 29), 6, 1)}
LEGACY = {"a": ("FacilitiesUser", (date(2023, 1, 10), date(2023, 1, 11))),
          "b": ("ExecUser", (date(2023, 1, 17), date(2023, 1, 18), date(2023, 1, 19)))}
MIRROR_SHARE, FAILED_SHARE, REFRESH_SHARE = 0.14, 0.5, 0.55


@dataclass
class SignIn:
    """One Entra sign-in, with everything the export shapes need."""

    id: str
    when: datetime                  # whole second (UTC)
    fraction: int                   # the 7-digit fraction of a second the exports carry
    interactive: bool
    person: Person
    org: str
    identifier: str                 # what the user typed; empty when non-interactive
    app: App
    resource: App
    ip: str
    net: Net
    user_agent: str
    client: Client
    code: int
    ca: list[tuple[Policy, str]]
    requirement: str                # singleFactorAuthentication / multiFactorAuthentication
    first_factor: str               # Password / Previously satisfied
    mfa: str                        # '' none, claim, fresh, pending, register
    method: str                     # MFA method, when there is one
    session: str
    correlation: str
    original_request: str
    token: str
    protocol: str
    incoming: str
    latency: int
    trusted_location: bool = False  # from the office (case A's trusted named location)
    key: str = ""                   # planted: the story step or label it belongs to
    what: str = ""

    @property
    def user_principal_name(self) -> str:
        """Sign-in logs write the UPN in lower case."""
        return self.person.upn.lower()

    @property
    def display_name(self) -> str:
        """The user's display name."""
        return display_name(self.person)

    @property
    def ca_status(self) -> str:
        """success, failure or notApplied over all policies."""
        results = [result for _, result in self.ca]
        if "failure" in results:
            return "failure"
        return "success" if "success" in results else "notApplied"

    @property
    def status(self) -> tuple[int, str | None, str | None]:
        """(errorCode, failureReason, additionalDetails)."""
        reason, details = STATUS_TEXT[self.code]
        if self.code == 0 or self.code == 50140:
            details = {"fresh": "MFA completed in Azure AD",
                       "claim": "MFA requirement satisfied by claim in the token"}.get(self.mfa)
        return self.code, reason, details

    @property
    def status_word(self) -> str:
        """The admin center's Status: Success, Failure or Interrupted."""
        return "Success" if self.code == 0 else "Interrupted" if self.code in INTERRUPTS else "Failure"

    @property
    def mfa_detail(self) -> tuple[str | None, str | None]:
        """(authMethod, authDetail) of a sign-in that completed MFA."""
        if self.mfa != "fresh" or self.code not in (0, 50140):
            return None, None
        return self.method, ATTACKER_PHONE_DETAIL if self.method == "Text message" else None

    @property
    def mfa_result(self) -> str:
        """The admin center's 'Multifactor authentication result'."""
        return {"fresh": "MFA successfully completed" if self.code in (0, 50140) else "",
                "claim": "MFA requirement satisfied by claim in the token",
                "pending": "MFA required in Azure AD"}.get(self.mfa, "")

    def steps(self) -> list[dict]:
        """``authenticationDetails``: one entry per authentication step."""
        at = f"{self.when.isoformat()}.{self.fraction:07d}+00:00"

        def step(method: str, detail: str, ok: bool, requirement: str, method_detail: str = "") -> dict:
            return {"authenticationStepDateTime": at, "authenticationMethod": method,
                    "authenticationMethodDetail": method_detail, "succeeded": ok,
                    "authenticationStepResultDetail": detail,
                    "authenticationStepRequirement": requirement}

        primary = "Primary authentication"
        if self.code == 50126:
            return [step("Password", "Invalid username or password or Invalid on-premise username or "
                         "password.", False, primary, "Password Hash Sync")]
        if self.code == 50053:
            return [step("Password", "Account locked", False, primary, "Password Hash Sync")]
        if self.first_factor == "Password":
            steps = [step("Password", "Correct password", True, primary, "Password Hash Sync")]
        else:
            steps = [step("Previously satisfied",
                          "First factor requirement satisfied by claim in the token", True, primary)]
        second = "Multi-factor authentication"
        if self.mfa == "fresh":
            steps.append(step(self.method, "MFA successfully completed", True, second))
        elif self.mfa == "claim":
            steps.append(step("Previously satisfied", "MFA requirement satisfied by claim in the token",
                              True, second))
        elif self.mfa == "pending":
            steps.append(step(self.method, "MFA required in Azure AD", False, second))
        return steps

    @property
    def methods_used(self) -> list[str]:
        """``authenticationMethodsUsed``."""
        used = ["Password"] if self.first_factor == "Password" and self.code != 50053 else []
        if self.mfa == "fresh" and self.code in (0, 50140):
            used.append(self.method)
        return used


def display_name(person: Person) -> str:
    """A person's display name from the UPN: ``SalesUser1`` -> ``Sales User 1``."""
    local = person.upn.split("@")[0]
    if local == "admin":
        return "Administrator"
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z0-9])|(?<=[A-Z])(?=[A-Z][a-z])", " ", local)
    return spaced[:1].upper() + spaced[1:]


def _token(rng: random.Random) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(16)).decode().rstrip("=")


def _request_id(rng: random.Random) -> str:
    """A sign-in request id (Entra's end in ``00``)."""
    return random_guid(rng)[:-2] + "00"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _plain_ip(ip: str) -> str:
    if ip.startswith("["):
        ip = ip[1:ip.index("]")]
    elif ip.count(":") == 1:
        ip = ip.split(":")[0]
    return ip.removeprefix("::ffff:")


@dataclass
class Audit:
    """One directory audit (Graph ``directoryAudit`` shape) and, when planted, what it shows."""

    record: dict
    when: datetime
    key: str = ""
    what: str = ""


@dataclass
class EntraCase:
    """The Entra records of one tenant."""

    key: str
    org: str
    sign_ins: list[SignIn] = field(default_factory=list)
    audits: list[Audit] = field(default_factory=list)
    replay_session: str = ""
    replay_victim: str = ""

    @property
    def interactive(self) -> list[SignIn]:
        """Interactive sign-ins, oldest first."""
        return [s for s in self.sign_ins if s.interactive]

    @property
    def non_interactive(self) -> list[SignIn]:
        """Non-interactive sign-ins, oldest first."""
        return [s for s in self.sign_ins if not s.interactive]


class _Builder:
    """Builds one tenant's Entra records from its unified audit log records."""

    def __init__(self, key: str, seed: int, ual: list[dict]):
        self.t = t = build_tenant(key, seed)
        self.seed, self.ual = seed, ual
        self.rng = random.Random(f"{seed}/{key}/entra")
        self.story_rng = random.Random(f"{seed}/{key}/entra/story")
        self.case = EntraCase(key, t.org_id)
        self.policies = [Policy(stable_guid(t.org_id, "ca", name), name, grant, scope, enabled)
                         for name, grant, scope, enabled in _POLICY_SPECS[key]]
        self.role = {p.upn.lower(): name for name, p in t.people.items()}
        self.by_object = {p.object_id: p for p in t.people.values()}
        self.registered: set[str] = set()
        self.contexts: list[tuple[datetime, str, str, str]] = []   # (time, upn, ip, session)

    # -- Conditional Access and one sign-in row --------------------------------------------------

    def _applies(self, policy: Policy, role: str, ip: str, legacy: bool) -> bool:
        if role == BREAK_GLASS:
            return False
        return {"admins": role in ADMINS, "outside-office": ip != self.t.office_ip,
                "all-users": True, "legacy": legacy}[policy.scope]

    def needs_mfa(self, person: Person, ip: str, legacy: bool = False) -> bool:
        """Whether an enabled policy asks this sign-in for MFA."""
        role = self.role[person.upn.lower()]
        return any(p.enabled and p.grant == "Mfa" and self._applies(p, role, ip, legacy)
                   for p in self.policies)

    def _evaluate(self, person: Person, ip: str, legacy: bool, code: int,
                  mfa: str) -> list[tuple[Policy, str]]:
        role = self.role[person.upn.lower()]
        out = []
        for p in self.policies:
            if not p.enabled:
                result = "notEnabled"
            elif not self._applies(p, role, ip, legacy) or code in (50126, 50053):
                result = "notApplied"
            elif p.grant == "Block" or legacy or mfa in ("pending", "register"):
                result = "failure"
            else:
                result = "success"
            out.append((p, result))
        return out

    def row(self, rng: random.Random, *, person: Person, when: datetime, ip: str, net: Net,
            user_agent: str, client: Client, app: App, resource: App, session: str,
            correlation: str, code: int = 0, mfa: str = "", method: str = "",
            first_factor: str = "Password", interactive: bool = True, original: str = "",
            incoming: str = "none", key: str = "", what: str = "") -> SignIn:
        """One sign-in row (appended)."""
        legacy = client.client_app == "Exchange ActiveSync"
        request = _request_id(rng)
        needs = self.needs_mfa(person, ip, legacy) and code not in (50126, 50053)
        if not needs:
            mfa = ""
        if interactive:
            protocol = "none" if legacy else "oAuth2"
        else:
            protocol, first_factor = "none", "Previously satisfied"
        sign_in = SignIn(
            id=request, when=when, fraction=rng.randrange(10_000_000), interactive=interactive,
            person=person, org=self.t.org_id,
            identifier=person.upn if interactive else "", app=app, resource=resource, ip=ip,
            net=net, user_agent=user_agent, client=client, code=code,
            ca=self._evaluate(person, ip, legacy, code, mfa),
            requirement="multiFactorAuthentication" if needs else "singleFactorAuthentication",
            first_factor=first_factor, mfa=mfa, method=method, session=session,
            correlation=correlation, original_request=original or request, token=_token(rng),
            protocol=protocol, incoming=incoming, latency=rng.randrange(40, 620),
            trusted_location=ip == self.t.office_ip and any(
                p.scope == "outside-office" for p in self.policies), key=key, what=what)
        self.case.sign_ins.append(sign_in)
        return sign_in

    def flow(self, rng: random.Random, *, person: Person, when: datetime, ip: str, net: Net,
             user_agent: str, client: Client, app: App, resource: App, session: str,
             pre: tuple[tuple[int, int], ...] = (), mfa: str = "", method: str = "",
             first_factor: str = "Password", code: int = 0, key: str = "",
             whats: dict[int, str] | None = None) -> SignIn:
        """An interactive sign-in flow: its interrupts ``pre`` ((code, seconds before)) and the
        final row at ``when``, one correlation id and the first request id as originalRequestId."""
        correlation, original = random_guid(rng), ""
        whats = whats or {}
        common = dict(person=person, ip=ip, net=net, user_agent=user_agent, client=client, app=app,
                      resource=resource, session=session, correlation=correlation, method=method,
                      first_factor=first_factor, key=key)
        for interrupt, before in pre:
            state = {50074: "pending", 50079: "register"}.get(interrupt, mfa)
            row = self.row(rng, when=when - timedelta(seconds=before), code=interrupt, mfa=state,
                           original=original, what=whats.get(interrupt, ""), **common)
            original = original or row.id
        return self.row(rng, when=when, code=code, mfa=mfa, original=original,
                        what=whats.get(code, ""), **common)

    def refresh(self, rng: random.Random, *, person: Person, when: datetime, ip: str, net: Net,
                user_agent: str, client: Client, app: App, resource: App, session: str, mfa: str,
                incoming: str = "refreshToken", key: str = "", what: str = "") -> SignIn:
        """A non-interactive sign-in (a token refresh in the background): every one, the staff's
        as the attacker's, presents a refresh token."""
        return self.row(rng, person=person, when=when, ip=ip, net=net, user_agent=user_agent,
                        client=client, app=app, resource=resource, session=session,
                        correlation=random_guid(rng), mfa="claim" if mfa else "",
                        interactive=False, incoming=incoming, key=key, what=what)

    # -- directory audits ------------------------------------------------------------------------

    def audit(self, when: datetime, activity: str, category: str, operation_type: str,
              initiator: dict, targets: list[dict], details: list[dict], basis: str,
              service: str = "Core Directory", reason: str = "", key: str = "",
              what: str = "") -> None:
        """Append one directory audit; ids and fraction derive from ``basis`` (stable)."""
        digest = hashlib.sha256(f"{self.seed}/{self.t.key}/entra-audit/{basis}".encode()).digest()
        correlation = stable_guid(self.seed, self.t.key, "entra-audit", basis)
        letters = "".join("ABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 32] for b in digest[:5])
        fraction = int.from_bytes(digest[5:9], "big") % 10_000_000
        record = {
            "id": f"Directory_{correlation}_{letters}_{int.from_bytes(digest[9:13], 'big') % 10**8}",
            "category": category, "correlationId": correlation, "result": "success",
            "resultReason": reason, "activityDisplayName": activity,
            "activityDateTime": f"{when.isoformat()}.{fraction:07d}Z", "loggedByService": service,
            "operationType": operation_type, "initiatedBy": initiator, "targetResources": targets,
            "additionalDetails": details,
        }
        self.case.audits.append(Audit(record, when, key, what))

    @staticmethod
    def user_initiator(person: Person, ip: str) -> dict:
        """``initiatedBy`` of a user."""
        return {"app": None, "user": {"id": person.object_id, "displayName": None,
                                      "userPrincipalName": person.upn, "ipAddress": ip,
                                      "userType": None, "homeTenantId": None,
                                      "homeTenantName": None}}

    @staticmethod
    def user_target(person: Person, modified: list[dict] | None = None) -> dict:
        """A user in ``targetResources``."""
        return {"id": person.object_id, "displayName": None, "type": "User",
                "userPrincipalName": person.upn, "groupType": None,
                "modifiedProperties": modified or []}

    def audit_from_ual(self, rec: dict, ip: str, user_agent: str, key: str = "",
                       what: str = "") -> None:
        """The Entra audit of a unified-audit-log directory record (RecordType 8)."""
        activity, category, operation_type = {
            "add user.": ("Add user", "UserManagement", "Add"),
            "update user.": ("Update user", "UserManagement", "Update"),
            "add member to role.": ("Add member to role", "RoleManagement", "Assign"),
            "add member to group.": ("Add member to group", "GroupManagement", "Assign"),
        }[rec["Operation"].lower()]
        target = self.by_object[rec["Target"][1]["ID"]]
        if rec["UserType"] == 4:
            name = rec["Actor"][0]["ID"]
            app_id = dict(SYSTEM_PRINCIPALS)[name]
            initiator = {"user": None, "app": {"appId": app_id, "displayName": name,
                                               "servicePrincipalId": rec["Actor"][2]["ID"],
                                               "servicePrincipalName": None}}
            details = [{"key": "UserType", "value": "Member"}]
        else:
            actor = next(p for p in self.t.people.values() if p.upn == rec["UserId"])
            initiator = self.user_initiator(actor, ip)
            details = [{"key": "User-Agent", "value": user_agent},
                       {"key": "UserType", "value": "Member"}]
        props = {p["Name"]: p for p in rec["ModifiedProperties"]}
        targets: list[dict]
        for kind, type_name in (("Role", "Role"), ("Group", "Group")):
            if f"{kind}.ObjectID" in props:
                object_id = props[f"{kind}.ObjectID"]["NewValue"]
                name = props[f"{kind}.DisplayName"]["NewValue"]
                modified = [_modified(p["Name"], None, json.dumps(p["NewValue"]))
                            for p in rec["ModifiedProperties"] if p["NewValue"]]
                other = {"id": object_id, "displayName": name, "type": type_name,
                         "userPrincipalName": None, "groupType": "azureAD" if kind == "Group" else None,
                         "modifiedProperties": []}
                targets = [self.user_target(target, modified), other]
                break
        else:
            modified = [_ual_property(p) for p in rec["ModifiedProperties"]]
            targets = [self.user_target(target, modified)]
        self.audit(_at(rec["CreationTime"]), activity, category, operation_type, initiator, targets,
                   details, rec["Id"], key=key, what=what)

    # -- the story -------------------------------------------------------------------------------

    def story(self) -> None:
        """The attacker's sign-ins and audits, step by step with the unified audit log's story."""
        rng, t = self.story_rng, self.t
        steps = planted_steps(t.key, self.seed)
        records = [s.record for s in steps]
        attacker = client_of(ATTACKER_DEVICE)
        ua = ATTACKER_DEVICE.user_agent
        sign_ins = [r for r in records if r["Operation"] in _SIGN_IN_OPS]
        for n, rec in enumerate(sign_ins):
            person = self.by_object[rec["UserKey"]]
            role = self.role[person.upn.lower()]
            when, ip = _at(rec["CreationTime"]), rec["ClientIP"]
            net, who = ATTACKER_NETS[ip], f"{display_name(person)} from {PROVIDER[ip]}"
            session = _session_of(rec) or next(
                (_session_of(later) for later in sign_ins[n + 1:]
                 if later["UserKey"] == rec["UserKey"] and _session_of(later)
                 and _at(later["CreationTime"]) - when < timedelta(minutes=15)), "")
            code = int(rec["ErrorNumber"])
            common = dict(person=person, when=when, ip=ip, net=net, user_agent=ua, client=attacker,
                          app=OFFICE_HOME, resource=OFFICE_HOME, session=session, key=rec["Id"])
            if code:
                meaning = {50126: "wrong password", 50053: "account locked"}[code]
                self.flow(rng, code=code, whats={code: f"{meaning} ({code}) for {who}"}, **common)
                continue
            pre: list[tuple[int, int]] = []
            whats = {0: f"{who}: success, same session as the unified audit log's UserLoggedIn"}
            mfa, method = "", ""
            if self.needs_mfa(person, ip):
                mfa, method = "fresh", "Text message"
                if role not in self.registered:
                    self.registered.add(role)
                    pre.append((50079, 35))
                    whats[50079] = f"{who}: MFA registration required (50079): no method yet"
                    self.audit(when - timedelta(seconds=19), "User registered security info",
                               "UserManagement", "Add", self.user_initiator(person, ip),
                               [self.user_target(person)], [{"key": "User-Agent", "value": ua}],
                               f"register/{rec['Id']}", service="Authentication Methods",
                               reason="User registered Mobile Phone SMS", key=rec["Id"],
                               what=f"{display_name(person)} registers a phone for MFA from "
                                    f"{PROVIDER[ip]} during the first sign-in")
                else:
                    pre.append((50074, 28))
                    whats[50074] = (f"{who}: MFA required (50074), then passed by text message to "
                                    "the attacker's phone")
                whats[0] += "; MFA by text message to +X XXXXXXXX86"
            else:
                whats[0] += "; single-factor, Conditional Access not applied" + (
                    " (break-glass exclusion)" if role == BREAK_GLASS else "")
            pre.append((50140, 5))
            whats[50140] = f"{who}: keep me signed in prompt (50140)"
            self.flow(rng, pre=tuple(pre), mfa=mfa, method=method, whats=whats, **common)
            self.contexts.append((when, person.upn.lower(), ip, session))
        for step in steps:
            rec = step.record
            if rec["Operation"] in _SIGN_IN_OPS:
                continue
            self._around_story_record(rng, rec, step.what)

    def _context(self, upn: str, when: datetime) -> tuple[str, str] | None:
        """(address, session) of the actor's latest sign-in at or before ``when``."""
        found = sorted((at, ip, session) for at, who, ip, session in self.contexts
                       if who == upn and at <= when)
        return found[-1][1:] if found else None

    def _recent(self, session: str, app: App, resource: App, when: datetime, minutes: int) -> bool:
        return any(s.session == session and s.app == app and s.resource == resource
                   and timedelta(0) <= when - s.when <= timedelta(minutes=minutes)
                   for s in self.case.sign_ins)

    def _around_story_record(self, rng: random.Random, rec: dict, what: str) -> None:
        """The sign-ins an attacker step needed, and its audit when it is a directory change."""
        ua, attacker = ATTACKER_DEVICE.user_agent, client_of(ATTACKER_DEVICE)
        when = _at(rec["CreationTime"])
        actor = next(p for p in self.t.people.values()
                     if p.upn.lower() == rec["UserId"].lower())
        context = self._context(actor.upn.lower(), when)
        if context is None:   # the original admin's account, used before any logged sign-in
            ip = "185.241.149.122"
            session = stable_guid(self.seed, self.t.key, "entra-session", rec["Id"])
            who = f"{display_name(actor)} from {PROVIDER[ip]}"
            self.flow(rng, person=actor, when=when - timedelta(seconds=151), ip=ip,
                      net=ATTACKER_NETS[ip], user_agent=ua, client=attacker, app=AZURE_PORTAL,
                      resource=AZURE_MANAGEMENT, session=session, pre=((50140, 6),), key=rec["Id"],
                      whats={50140: f"{who}: keep me signed in prompt (50140)",
                             0: f"{who} signs in to the Azure portal (single-factor, break-glass "
                                "exclusion) before creating CompromisedAdmin; not in the unified "
                                "audit log sample"})
            self.contexts.append((when - timedelta(seconds=151), actor.upn.lower(), ip, session))
            context = ip, session
        ip, session = context
        net = ATTACKER_NETS[ip]
        mfa = "claim" if self.needs_mfa(actor, ip) else ""
        base = dict(person=actor, ip=ip, net=net, user_agent=ua, client=attacker, session=session,
                    key=rec["Id"])
        if rec["RecordType"] == 8:
            if not self._recent(session, AZURE_PORTAL, AZURE_MANAGEMENT, when, 30):
                self.flow(rng, when=when - timedelta(seconds=rng.randrange(40, 90)),
                          app=AZURE_PORTAL, resource=AZURE_MANAGEMENT, mfa=mfa,
                          first_factor="Previously satisfied",
                          whats={0: f"{display_name(actor)} opens the Azure portal from "
                                    f"{PROVIDER[ip]} (single sign-on in the same session)"}, **base)
            self.audit_from_ual(rec, ip, ua, key=rec["Id"], what=what)
        elif rec["RecordType"] == 1:
            cmd_ip = _plain_ip(rec["ClientIP"])
            if not self._recent(session, EXO_POWERSHELL, EXCHANGE, when, 60):
                self.flow(rng, when=when - timedelta(seconds=rng.randrange(30, 70)),
                          app=EXO_POWERSHELL, resource=EXCHANGE, mfa=mfa,
                          first_factor="Previously satisfied",
                          whats={0: f"{display_name(actor)} connects Exchange Online PowerShell "
                                    f"from {PROVIDER[cmd_ip]} before the cmdlets"},
                          **(base | {"ip": cmd_ip, "net": ATTACKER_NETS[cmd_ip],
                                     "client": Client(attacker.os, attacker.browser,
                                                      "Mobile Apps and Desktop clients")}))
        else:
            aad_session = rec.get("AppAccessContext", {}).get("AADSessionId", session)
            app, resource = (OFFICE_HOME, SHAREPOINT) if rec["Workload"] in (
                "SharePoint", "OneDrive") else (OWA, EXCHANGE)
            if not self._recent(aad_session, app, resource, when, 30):
                at_ip = _plain_ip(rec["ClientIP"])
                self.refresh(rng, when=when - timedelta(seconds=rng.randrange(5, 50)), app=app,
                             resource=resource, mfa=mfa,
                             what=f"token for {resource.name} before "
                                  f"{rec['Operation']} (non-interactive, same session)",
                             **(base | {"session": aad_session, "ip": at_ip,
                                        "net": ATTACKER_NETS[at_ip]}))

    # -- the replayed session ---------------------------------------------------------------------

    def victim_record(self) -> dict:
        """The victim's genuine sign-in whose session the attacker replays."""
        role, place, before = REPLAY_VICTIM[self.t.key]
        victim = self.t.person(role)
        ips = victim.home_ips if place == "home" else (self.t.office_ip,)
        found = [r for r in self.ual if r["Operation"] == "UserLoggedIn" and r["UserId"] == victim.upn
                 and r["ClientIP"] in ips and r["CreationTime"] < before and _session_of(r)]
        return found[-1]

    def replay(self, victim_rec: dict) -> None:
        """Non-interactive sign-ins from a hosting address in the victim's earlier session."""
        rng = self.story_rng
        victim = self.by_object[victim_rec["UserKey"]]
        session = _session_of(victim_rec)
        ip, uses = REPLAYS[self.t.key]
        self.case.replay_session, self.case.replay_victim = session, victim.upn
        legit = _at(victim_rec["CreationTime"])
        for n, (when, app, resource) in enumerate(uses):
            what = (f"{display_name(victim)}'s session of {legit:%Y-%m-%d %H:%M:%S} (interactive, "
                    f"{victim_rec['ClientIP']}) replayed from {PROVIDER[ip]}: {resource.name}")
            self.refresh(rng, person=victim, when=_at(when), ip=ip, net=ATTACKER_NETS[ip],
                         user_agent=ATTACKER_DEVICE.user_agent, client=client_of(ATTACKER_DEVICE),
                         app=app, resource=resource, session=session,
                         mfa="claim" if self.needs_mfa(victim, ip) else "", key=f"replay-{n + 1}", what=what)

    # -- the staff -------------------------------------------------------------------------------

    def background(self, forced: str) -> None:
        """A share of the staff's logged sign-ins, with their interrupts and token refreshes."""
        rng = self.rng
        records = [r for r in self.ual if r["Operation"] in _SIGN_IN_OPS
                   and r["UserKey"] in self.by_object and not r["UserId"].lower().startswith(
                       ("compromisedadmin", "admin@")) and r["ClientIP"] not in ATTACKER_NETS]
        sessions = {(r["UserId"], r["CreationTime"][:10], r["ClientIP"]): _session_of(r)
                    for r in records if _session_of(r)}
        seen: set[str] = set()
        for rec in records:
            failed = rec["Operation"] == "UserLoginFailed"
            draw = rng.random()
            victim = _session_of(rec) == forced
            if not victim and draw >= (FAILED_SHARE if failed else MIRROR_SHARE):
                continue
            person = self.by_object[rec["UserKey"]]
            ua = next(e["Value"] for e in rec["ExtendedProperties"] if e["Name"] == "UserAgent")
            device = person.desktop if ua == person.desktop.user_agent else person.phone
            ip, when = rec["ClientIP"], _at(rec["CreationTime"])
            session = _session_of(rec) or sessions.get(
                (rec["UserId"], rec["CreationTime"][:10], ip)) or random_guid(rng)
            app, resource = APP_RESOURCE[device.app_id]
            client = client_of(device)
            common = dict(person=person, when=when, ip=ip, net=self.net(person, ip), user_agent=ua,
                          client=client, app=app, resource=resource, session=session)
            if failed:
                self.flow(rng, code=50126, **common)
                continue
            first = session not in seen
            seen.add(session)
            needs = self.needs_mfa(person, ip)
            pre: list[tuple[int, int]] = []
            mfa, method = "", ""
            if needs:
                method = "Mobile app notification"
                if victim or (first and rng.random() < 0.35):
                    mfa = "fresh"
                    pre.append((50074, rng.randrange(14, 45)))
                else:
                    mfa = "claim"
            if client.client_app == "Browser" and first and rng.random() < 0.3:
                pre.append((50140, rng.randrange(3, 9)))
            self.flow(rng, pre=tuple(pre), mfa=mfa, method=method,
                      first_factor="Password" if first else "Previously satisfied", **common)
            if rng.random() < REFRESH_SHARE or victim:
                day_end = datetime.combine(when.date(), time(23, 59, 59))
                for _ in range(rng.choice((1, 1, 2))):
                    later = when + timedelta(seconds=rng.randrange(900, 5 * 3600))
                    app2, resource2 = rng.choice(REFRESHES[device.app_id])
                    if later <= min(day_end, EXPORT_END):
                        self.refresh(rng, mfa=mfa, **(common | {"when": later, "app": app2,
                                                              "resource": resource2}))

    def travel(self) -> None:
        """A member of staff abroad: sign-ins from a hotel, MFA asked at the new place."""
        rng, t = self.rng, self.t
        role, start, days, utc_offset = TRIPS[t.key]
        person = t.person(role)
        ip, net = TRIP_NETS[t.key]
        for n in range(days):
            day = start + timedelta(days=n)
            session = random_guid(rng)
            local = [rng.uniform(7.5, 10.5)] + sorted(rng.uniform(12, 21.5)
                                                     for _ in range(rng.choice((0, 1, 2))))
            for m, hour in enumerate(local):
                when = datetime.combine(day, time()) + timedelta(hours=hour - utc_offset)
                when = when.replace(microsecond=0)
                device = person.desktop if m == 0 or rng.random() < 0.5 else person.phone
                app, resource = APP_RESOURCE[device.app_id]
                needs = self.needs_mfa(person, ip)
                pre = ((50074, rng.randrange(15, 40)),) if needs and n == 0 and m == 0 else ()
                mfa = ("fresh" if pre else "claim") if needs else ""
                common = dict(person=person, ip=ip, net=net, user_agent=device.user_agent,
                              client=client_of(device), app=app, resource=resource,
                              session=session if device is person.desktop else random_guid(rng))
                self.flow(rng, when=when, pre=pre, mfa=mfa, method="Mobile app notification",
                          first_factor="Password" if m == 0 else "Previously satisfied", **common)
                later = when + timedelta(seconds=rng.randrange(1200, 7200))
                app2, resource2 = rng.choice(REFRESHES[device.app_id])
                self.refresh(rng, when=later, mfa=mfa, **(common | {"app": app2, "resource": resource2}))

    def legacy(self) -> None:
        """A phone's built-in mail app on Exchange ActiveSync (blocked in case A, allowed in B)."""
        rng, t = self.rng, self.t
        role, days = LEGACY[t.key]
        person = t.person(role)
        user_agent, client = EAS_CLIENTS[t.key]
        ip = person.mobile_ip
        for day in days:
            hour = rng.uniform(7, 9) - t.spec.utc_offset
            while hour < 19 - t.spec.utc_offset:
                when = (datetime.combine(day, time()) + timedelta(hours=hour)).replace(microsecond=0)
                code = 53003 if any(p.grant == "Block" and p.enabled for p in self.policies) else 0
                self.flow(rng, person=person, when=when, ip=ip, net=self.net(person, ip),
                          user_agent=user_agent, client=client, app=EXCHANGE, resource=EXCHANGE,
                          session="", code=code)
                hour += rng.uniform(0.6, 1.6)

    def staff_audits(self) -> None:
        """The directory changes of the unified audit log's background and scripted admin work,
        and a few changes that only Entra shows (password resets, self-service reset, consent)."""
        t = self.t
        story = {s.record["Id"] for s in planted_steps(t.key, self.seed)}
        for rec in self.ual:
            if rec["RecordType"] != 8 or rec["Id"] in story:
                continue
            actor = next((p for p in t.people.values() if p.upn == rec["UserId"]), None)
            ip = self._staff_ip(actor, _at(rec["CreationTime"])) if actor else ""
            self.audit_from_ual(rec, ip, actor.desktop.user_agent if actor else "")
        rng = self.rng
        helpdesk, it = t.person("HelpdeskAdmin"), t.person("ITAdmin")
        plan = {"a": (("SalesUser2", date(2023, 1, 19)), ("EngineerUser2", date(2023, 2, 7)),
                      ("DocuSign", date(2023, 1, 24)), ("DesignUser", date(2023, 2, 14))),
                "b": (("ClaimsUser2", date(2023, 1, 11)), ("SupportUser1", date(2023, 2, 2)),
                      ("Zoom", date(2023, 1, 30)), ("UnderwritingUser", date(2023, 2, 8)))}[t.key]
        (reset_user, reset_day), (sspr_user, sspr_day), (app_name, consent_day), \
            (member, member_day) = plan

        def moment(day: date) -> datetime:
            return (datetime.combine(day, time()) + timedelta(
                hours=rng.uniform(9.5, 16) - t.spec.utc_offset)).replace(microsecond=0)

        target = t.person(reset_user)
        when = moment(reset_day)
        self.audit(when, "Reset user password", "UserManagement", "Update",
                   self.user_initiator(helpdesk, self._staff_ip(helpdesk, when)),
                   [self.user_target(target)],
                   [{"key": "User-Agent", "value": helpdesk.desktop.user_agent}], f"reset/{reset_user}")
        target = t.person(sspr_user)
        when = moment(sspr_day)
        self.audit(when, "Reset password (self-service)", "UserManagement", "Update",
                   self.user_initiator(target, target.home_ips[0]), [self.user_target(target)], [],
                   f"sspr/{sspr_user}", service="Self-service Password Management",
                   reason="Successfully completed reset.")
        when = moment(consent_day)
        app_id = stable_guid("third-party-app", app_name)
        sp_id = stable_guid(t.org_id, "service-principal", app_id)
        graph_sp = stable_guid(t.org_id, "service-principal", "00000003-0000-0000-c000-000000000000")
        permissions = (f"[] => [[Id: {_token(rng)}{_token(rng)[:21]}, ClientId: {sp_id}, PrincipalId: , "
                       f"ResourceId: {graph_sp}, ConsentType: AllPrincipals, Scope:  openid profile "
                       "email offline_access User.Read Calendars.ReadWrite, CreatedDateTime: , "
                       "LastModifiedDateTime ]]; ")
        modified = [_modified("ConsentContext.IsAdminConsent", None, '"True"'),
                    _modified("ConsentContext.IsAppOnly", None, '"False"'),
                    _modified("ConsentContext.OnBehalfOfAll", None, '"True"'),
                    _modified("ConsentContext.Tags", None, '"WindowsAzureActiveDirectoryIntegratedApp"'),
                    _modified("ConsentAction.Permissions", None, json.dumps(permissions)),
                    _modified("TargetId.ServicePrincipalNames", None, json.dumps(app_id))]
        self.audit(when, "Consent to application", "ApplicationManagement", "Assign",
                   self.user_initiator(it, self._staff_ip(it, when)),
                   [{"id": sp_id, "displayName": app_name, "type": "ServicePrincipal",
                     "userPrincipalName": None, "groupType": None, "modifiedProperties": modified}],
                   [{"key": "User-Agent", "value": it.desktop.user_agent}, {"key": "AppId",
                                                                            "value": app_id}],
                   f"consent/{app_name}")
        target, when = t.person(member), moment(member_day)
        group_id = stable_guid(t.org_id, "VPN Users")
        self.audit(when, "Add member to group", "GroupManagement", "Assign",
                   self.user_initiator(it, self._staff_ip(it, when)),
                   [self.user_target(target, [_modified("Group.ObjectID", None, json.dumps(group_id)),
                                              _modified("Group.DisplayName", None, '"VPN Users"')]),
                    {"id": group_id, "displayName": "VPN Users", "type": "Group",
                     "userPrincipalName": None, "groupType": "azureAD", "modifiedProperties": []}],
                   [{"key": "User-Agent", "value": it.desktop.user_agent}], f"group/{member}")

    def net(self, person: Person, ip: str) -> Net:
        """What Entra reports about a staff member's address."""
        return staff_net(self.t.key, person, ip, ip == self.t.office_ip)

    def _staff_ip(self, person: Person, when: datetime) -> str:
        """Where an admin works from at ``when``: the office on working days, else home."""
        working = when.weekday() < 5 and when.date() not in self.t.spec.holidays
        return self.t.office_ip if working else person.home_ips[0]


def _session_of(rec: dict) -> str:
    return next((d["Value"] for d in rec.get("DeviceProperties", []) if d["Name"] == "SessionId"), "")


def _modified(name: str, old: str | None, new: str | None) -> dict:
    return {"displayName": name, "oldValue": old, "newValue": new}


def _compact(value: str) -> str | None:
    """A unified-audit-log property value as Entra writes it: compact JSON in a string."""
    if value == "":
        return None
    try:
        return json.dumps(json.loads(value), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        return json.dumps(value)


def _ual_property(prop: dict) -> dict:
    if prop["Name"] in ("Included Updated Properties", "TargetId.UserType"):
        return _modified(prop["Name"], None, json.dumps(prop["NewValue"]))
    return _modified(prop["Name"], _compact(prop["OldValue"]), _compact(prop["NewValue"]))


def build_entra(key: str, seed: int, ual: list[dict]) -> EntraCase:
    """The Entra sign-ins and directory audits of case ``key`` for its unified audit log ``ual``."""
    builder = _Builder(key, seed, ual)
    builder.story()
    victim = builder.victim_record()
    builder.replay(victim)
    builder.background(_session_of(victim))
    builder.travel()
    builder.legacy()
    builder.staff_audits()
    case = builder.case
    case.sign_ins = [s for s in case.sign_ins if EXPORT_START <= s.when <= EXPORT_END]
    case.sign_ins.sort(key=lambda s: (s.when, s.fraction, s.id))
    case.audits.sort(key=lambda a: (a.record["activityDateTime"], a.record["id"]))
    return case
