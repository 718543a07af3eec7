"""Provides the directory mix (``--mix directory``): a month of the benign tenant's Entra ID directory as the
unified audit log records it (RecordType 8, AzureActiveDirectory). Azure AD Connect syncing users,
Microsoft's services provisioning licences and registering devices, the helpdesk resetting passwords and
changing users, groups and their members, roles given and taken away, applications and service principals
updated and their credentials rolled over, people consenting to apps, the odd domain's authentication set,
people registering security info and changing their passwords, and their sign-ins.

Each record names its actor (a user, the sync account or a service principal) and its target (a user,
group, device, application, service principal, domain or policy) as ``Actor`` / ``Target`` lists of
``{ID, Type}``, and what changed as ``ModifiedProperties`` with the old and new values as JSON inside
strings (``"[\\r\\n  \\"value\\"\\r\\n]"``). Role template and service plan ids are Microsoft's public ones.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import lru_cache

from .benign_tenant import Member, Visit
from .ids import stable_guid, to_json
from .mix_day import MixDay
from .mix_signin import logon
from .records import iso, json_in_string, prop
from .tenants import APP_EXCHANGE, DESKTOPS, PHONES, Person

SUBSTRATE = ("Microsoft Substrate Management", "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41")
EXCHANGE_ONLINE = ("Office 365 Exchange Online", APP_EXCHANGE)
DEVICE_REGISTRATION = ("Device Registration Service", "01cb2876-7ebd-4aa4-9cc9-d28bd4d359a9")
INTUNE = ("Microsoft Intune", "0000000a-0000-0000-c000-000000000000")
MANAGED_IDENTITY = ("Managed Service Identity", "ef5d5c69-a5df-46bb-acaf-426f161a21a2")
GRAPH = ("Microsoft Graph", "00000003-0000-0000-c000-000000000000")
GROUPS = ("All Staff", "Boston Office", "Chicago Office", "Finance Team", "Sales Team", "VPN Users", "Printers",
          "Project Alder", "Project Birch", "SSPR Enabled", "Intune Pilot", "M365 E5 Licensed")
ROLES = (("Global Administrator", "62e90394-69f5-4237-9190-012177145e10", "TenantAdmins"),
         ("User Administrator", "fe930be7-5e62-47db-91af-98c3a49a38b1", "UserAccountAdmins"),
         ("Helpdesk Administrator", "729827e3-9c14-49f7-bb1b-9608f156bbb8", "HelpdeskAdmins"),
         ("Exchange Administrator", "29232cdf-9323-42fd-ade2-1d097af3e4de", "ExchangeServiceAdmins"),
         ("SharePoint Administrator", "f28a1f50-f6e7-4571-818b-6a12f2af6b6c", "SharePointServiceAdmins"),
         ("Reports Reader", "4a5d8f65-41da-4de4-8968-e035b65339cf", "ReportsReader"),
         ("Security Reader", "5d6b6bb7-de71-4623-b4af-96380a352509", "SecurityReader"),
         ("Application Administrator", "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "ApplicationAdministrator"))
# (service plan, ServicePlanId, service instance) of an E5 licence.
PLANS = (("EXCHANGE_S_ENTERPRISE", "efb87545-963c-4e0d-99df-69c6916d9eb0", "exchange/namprd13-004-01"),
         ("SHAREPOINTENTERPRISE", "5dbe027f-2339-4123-9542-606e4d348a72", "SharePoint/SPO_exampleorg"),
         ("TEAMS1", "57ff2da0-773e-42df-b2af-ffb7a2317929", "TeamspaceAPI/NA001"),
         ("AAD_PREMIUM_P2", "eec0eb4f-6444-4f95-aba0-50c24d67f998", "AADPremiumService/NA"),
         ("INTUNE_A", "c1ec4a95-1f05-45b3-a911-aa3fa01094f5", "SCO/NA"))
SKU_E5 = ("SPE_E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06")
APPS = ("CRM Connector", "Expense Portal", "HR Sync", "Reports Automation", "Backup for Microsoft 365",
        "Intranet Search", "Visitor Sign-in", "Payroll Export", "Teams Room Booking", "Contract Manager")
SCOPES = ("User.Read", "User.Read offline_access openid profile", "Mail.Read User.Read",
          "Files.Read.All Sites.Read.All", "Calendars.ReadWrite User.Read")
SYNCED = (("TelephoneNumber", ("+1 617 555 0{:03d}",)), ("Department", ("Sales", "Finance", "Operations", "Projects")),
          ("JobTitle", ("Analyst", "Senior Analyst", "Team Lead", "Manager")),
          ("PhysicalDeliveryOfficeName", ("Boston", "Chicago")), ("ExtensionAttribute1", ("FTE", "Contractor")))


def in_string(*values: object) -> str:
    """``json_in_string`` of ``values``, written directly when they are all plain values (the same text, faster)."""
    if all(isinstance(value, (str, bool, int)) for value in values):
        return "[\r\n  " + ",\r\n  ".join(map(json.dumps, values)) + "\r\n]" if values else "[]"
    return json_in_string(*values)


def target_user(p: Person) -> list[dict]:
    """The ``Target`` list of a user."""
    return [{"ID": f"User_{p.object_id}", "Type": 2}, {"ID": p.object_id, "Type": 2}, {"ID": "User", "Type": 2},
            {"ID": p.upn, "Type": 5}, {"ID": p.puid, "Type": 3}]


def target_object(kind: str, object_id: str, name: str, *extra: dict) -> list[dict]:
    """The ``Target`` list of a group, device, application, service principal or policy."""
    return [{"ID": f"{kind}_{object_id}", "Type": 2}, {"ID": object_id, "Type": 2}, {"ID": kind, "Type": 2},
            {"ID": name, "Type": 1}, *extra]


@lru_cache(maxsize=8)
def sync_account(onmicrosoft: str, seed: int) -> Person:
    """The Azure AD Connect sync account of the tenant."""
    return Person(upn=f"Sync_EXORGDC01_{stable_guid(seed, 'sync')[:13].replace('-', '')}@{onmicrosoft}",
                  object_id=stable_guid(seed, "sync-account"),
                  puid=f"1003{stable_guid(seed, 'sync-puid')[:13].replace('-', '').upper()}", sid="", mailbox_guid="",
                  desktop=DESKTOPS[2], phone=PHONES[0])


def app_ids(seed: int, name: str) -> tuple[str, str, str]:
    """(application object id, app id, service principal object id) of one of the tenant's own apps."""
    return stable_guid(seed, "application", name), stable_guid(seed, "app-id", name), stable_guid(seed, "sp", name)


class DirectoryDay(MixDay):
    """A day of the directory mix."""

    MIX = "directory"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.sync = sync_account(self.t.onmicrosoft, self.seed)

    # -- shape -----------------------------------------------------------------------------------

    def record(self, operation: str, ts: datetime, actor: Person | tuple[str, str], ip: str, target: list[dict],
               object_id: str, modified: list[dict], category: str, details: str = "") -> dict:
        """A directory record: ``actor`` a user (with the address they acted from) or a service principal."""
        t = self.t
        if isinstance(actor, Person):
            user_id, user_key, user_type = actor.upn, f"{actor.puid}@{t.onmicrosoft}", 0
            actors = [{"ID": actor.upn, "Type": 5}, {"ID": actor.puid, "Type": 3},
                      {"ID": f"User_{actor.object_id}", "Type": 2}, {"ID": actor.object_id, "Type": 2},
                      {"ID": "User", "Type": 2}]
        else:
            name, app_id = actor
            sp = stable_guid(t.org_id, "service-principal", app_id)
            user_id, user_key, user_type, ip = f"ServicePrincipal_{sp}", "Not Available", 4, ip or "<null>"
            actors = [{"ID": name, "Type": 1}, {"ID": f"ServicePrincipal_{sp}", "Type": 2}, {"ID": sp, "Type": 2},
                      {"ID": "ServicePrincipal", "Type": 2}, {"ID": app_id, "Type": 2}]
        failed = self.rng.random() < 0.008
        return {
            "CreationTime": iso(ts), "Id": self.rid(), "Operation": operation, "OrganizationId": t.org_id,
            "RecordType": 8, "ResultStatus": "Failure" if failed else "Success", "UserKey": user_key,
            "UserType": user_type, "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": ip,
            "ObjectId": object_id, "UserId": user_id, "AzureActiveDirectoryEventType": 1,
            "ExtendedProperties": [
                {"Name": "additionalDetails", "Value": details or "{}"},
                {"Name": "extendedAuditEventCategory", "Value": category}],
            "ModifiedProperties": modified, "Actor": actors, "ActorContextId": t.org_id, "ActorIpAddress": ip,
            "InterSystemsId": self.guid(), "IntraSystemId": self.guid(), "SupportTicketId": "", "Target": target,
            "TargetContextId": t.org_id,
        }

    def by_admin(self, m: Member, v: Visit) -> tuple[Person, str, str]:
        """(actor, address, additionalDetails) of an admin at work today (the member when none is)."""
        found = self.admin()
        admin, visit = found if found else (m, v)
        return admin.person, visit.place.ip, to_json({"User-Agent": visit.device.user_agent})

    def user_change(self, operation: str, ts: datetime, actor, ip: str, target: Person, changed: list[dict],
                    details: str = "{\"UserType\":\"Member\"}") -> dict:
        """A change to a user, ``changed`` its ModifiedProperties (the names listed after them)."""
        names = ", ".join(p["Name"] for p in changed)
        modified = [*changed, prop("Included Updated Properties", names), prop("TargetId.UserType", "Member")]
        return self.record(operation, ts, actor, ip, target_user(target), target.upn, modified, "User", details)

    def attribute_change(self, attributes: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str, str, str]:
        """(name, old value, new value) of a user attribute that changed."""
        rng = self.rng
        name, values = rng.choice(attributes)
        if len(values) == 1:
            return name, values[0].format(rng.randrange(1000)), values[0].format(rng.randrange(1000))
        old, new = rng.sample(values, 2)
        return name, old, new

    # -- kinds -----------------------------------------------------------------------------------

    def sync_user(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Azure AD Connect writing a user's attributes from the on-premises directory."""
        rng = self.rng
        ts = self.anytime()
        new = iso(ts) + "Z"
        old = iso(ts - timedelta(minutes=30 * rng.randrange(1, 5))) + "Z"
        changed = [prop("LastDirSyncTime", in_string(new), in_string(old))]
        if rng.random() < 0.25:
            name, before, after = self.attribute_change(SYNCED)
            changed.insert(0, prop(name, in_string(after), in_string(before)))
        if rng.random() < 0.1:
            p = m.person
            routing = f"smtp:{p.upn.split('@')[0]}@{self.t.onmicrosoft}"
            changed.insert(0, prop("ProxyAddresses", in_string(f"SMTP:{p.upn}", routing),
                                   in_string(f"SMTP:{p.upn}")))
        return self.user_change("Update user.", ts, self.sync, "", m.person, changed)

    def licence(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A licence's service plans provisioned by a Microsoft service (``AssignedPlan``)."""
        rng = self.rng
        ts = self.anytime()
        stamp = iso(ts - timedelta(seconds=rng.randrange(5, 120))) + "Z"
        plans = [{"SubscribedPlanId": stable_guid(self.seed, "subscribed", plan_id), "ServiceInstance": instance,
                  "CapabilityStatus": 0, "AssignedTimestamp": stamp, "InitialState": None, "Capability": None,
                  "ServicePlanId": plan_id} for _, plan_id, instance in rng.sample(PLANS, rng.choice((1, 2, 3)))]
        changed = [prop("AssignedPlan", in_string(*plans), "[]")]
        if rng.random() < 0.3:
            licence = f"[SKUName={SKU_E5[0]}, AccountId={self.t.org_id}, SkuId={SKU_E5[1]}, DisabledPlans=[]]"
            changed.insert(0, prop("AssignedLicense", in_string(licence), "[]"))
        return self.user_change("Update user.", ts, rng.choice((SUBSTRATE, EXCHANGE_ONLINE)), "", m.person, changed)

    def change_licence(self, m: Member, v: Visit, ts: datetime) -> dict:
        """An admin changing a user's licence."""
        actor, ip, details = self.by_admin(m, v)
        return self.record("Change user license.", ts, actor, ip, target_user(m.person), m.person.upn, [], "User",
                           details)

    def admin_user(self, m: Member, v: Visit, ts: datetime) -> dict:
        """The helpdesk changing a user's phone number, department or job title."""
        actor, ip, details = self.by_admin(m, v)
        name, old, new = self.attribute_change(SYNCED[:3])
        changed = [prop(name, in_string(new), in_string(old))]
        return self.user_change("Update user.", ts, actor, ip, self.colleague(m).person, changed, details)

    def security_info(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A member registering or changing their MFA methods (the directory's view of it)."""
        rng, p = self.rng, m.person
        if rng.random() < 0.5:
            new = in_string({"MethodType": 6, "Default": True}, {"MethodType": 7, "Default": False})
            old = in_string({"MethodType": 7, "Default": True})
            changed = [prop("StrongAuthenticationMethod", new, old)]
        else:
            detail = {"DeviceName": self.device_name(m, v) if not v.desktop else "iPhone", "DeviceToken": None,
                      "DeviceTag": "SoftwareTokenActivated", "PhoneAppVersion": "6.2403.1541",
                      "OathTokenTimeDrift": 0, "DeviceId": "00000000-0000-0000-0000-000000000000",
                      "Id": stable_guid(self.seed, "phone-app", m.index), "TimeInterval": None,
                      "AuthenticationType": 3, "NotificationType": 4,
                      "LastAuthenticatedTimestamp": iso(ts) + "Z", "AuthenticatorFlavor": None, "HashFunction": None,
                      "TenantDeviceId": None, "SecuredPartitionId": 0, "SecuredKeyId": 0}
            changed = [prop("StrongAuthenticationPhoneAppDetail", in_string(detail), "[]")]
        return self.user_change("Update user.", ts, p, v.place.ip, p, changed)

    def sts_refresh(self, m: Member, v: Visit, ts: datetime) -> dict:
        """Refresh tokens invalidated after a password change (``StsRefreshTokensValidFrom`` moved on)."""
        new, old = iso(ts) + "Z", iso(ts - timedelta(days=self.rng.randrange(20, 200))) + "Z"
        return self.user_change("Update StsRefreshTokenValidFrom Timestamp.", ts, SUBSTRATE, "", m.person,
                                [prop("StsRefreshTokensValidFrom", in_string(new), in_string(old))])

    def password(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A password changed by its owner, reset by the helpdesk, or set to change at next sign-in."""
        roll = self.rng.random()
        if roll < 0.5:
            return self.record("Change user password.", ts, m.person, v.place.ip, target_user(m.person), m.person.upn,
                               [], "User", "{\"UserType\":\"Member\"}")
        actor, ip, details = self.by_admin(m, v)
        operation = "Reset user password." if roll < 0.85 else "Set force change user password."
        return self.record(operation, ts, actor, ip, target_user(m.person), m.person.upn, [], "User", details)

    def membership(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A user added to or removed from a group (by an admin, or by the sync account)."""
        rng = self.rng
        group = rng.choice(GROUPS)
        gid = stable_guid(self.seed, "group", group)
        operation = "Add member to group." if rng.random() < 0.72 else "Remove member from group."
        if rng.random() < 0.5:
            actor, ip, details = self.sync, "", "{}"
        else:
            actor, ip, details = self.by_admin(m, v)
        modified = [prop("Group.ObjectID", gid), prop("Group.DisplayName", group),
                    prop("Group.WellKnownObjectName", "")]
        return self.record(operation, ts, actor, ip, target_user(m.person), m.person.upn, modified, "User", details)

    def group(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A group updated, made (from Teams, by a member) or deleted."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.75:
            name = rng.choice(GROUPS)
            actor, ip, details = self.by_admin(m, v)
            changed = [prop("Description", in_string(f"{name} – updated {self.day.isoformat()}"),
                            in_string(name))]
            operation = "Update group."
        else:
            name = f"Team {rng.choice(('Alder', 'Birch', 'Cedar', 'Elm', 'Maple'))} {rng.randrange(100)}"
            actor, ip, details = m.person, v.place.ip, "{}"
            changed = [prop("DisplayName", in_string(name), "[]"),
                       prop("MailNickname", in_string(name.lower().replace(" ", "")), "[]"),
                       prop("GroupType", in_string("Unified"), "[]")]
            operation = "Add group." if roll < 0.95 else "Delete group."
        gid = stable_guid(self.seed, "group", name)
        modified = [*changed, prop("Included Updated Properties", ", ".join(p["Name"] for p in changed))]
        return self.record(operation, ts, actor, ip, target_object("Group", gid, name), gid, modified, "Group", details)

    def role(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A directory role given to or taken from a colleague."""
        rng = self.rng
        name, template, well_known = rng.choice(ROLES[1:] if rng.random() < 0.9 else ROLES)
        actor, ip, details = self.by_admin(m, v)
        operation = "Add member to role." if rng.random() < 0.6 else "Remove member from role."
        modified = [prop("Role.ObjectID", stable_guid(self.seed, "role", name)), prop("Role.DisplayName", name),
                    prop("Role.TemplateId", template), prop("Role.WellKnownObjectName", well_known)]
        target = self.colleague(m).person
        return self.record(operation, ts, actor, ip, target_user(target), target.upn, modified, "User", details)

    def lifecycle(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A user created, deleted or disabled by an admin."""
        rng = self.rng
        actor, ip, details = self.by_admin(m, v)
        target = self.colleague(m).person
        roll = rng.random()
        if roll < 0.6:
            stamp = iso(ts) + "Z"
            changed = [prop("AccountEnabled", in_string(True), "[]"),
                       prop("DisplayName", in_string(target.upn.split("@")[0]), "[]"),
                       prop("StsRefreshTokensValidFrom", in_string(stamp), "[]"),
                       prop("UserPrincipalName", in_string(target.upn), "[]"),
                       prop("UserType", in_string("Member"), "[]")]
            operation = "Add user."
        elif roll < 0.85:
            changed = [prop("AccountEnabled", in_string(False), in_string(True))]
            operation = "Disable account."
        else:
            changed, operation = [], "Delete user."
        return self.user_change(operation, ts, actor, ip, target, changed, details)

    def _app(self) -> tuple[str, str, str, str]:
        name = self.rng.choice(APPS)
        return (name, *app_ids(self.seed, name))

    def credentials(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A service principal's certificate or secret added or removed (rollover by automation or an admin)."""
        rng = self.rng
        name, _, app_id, sp = self._app()
        adding = rng.random() < 0.6
        key = (f"[KeyIdentifier={self.guid()},KeyType={rng.choice(('AsymmetricX509Cert', 'Password'))},"
               f"KeyUsage={rng.choice(('Verify', 'Sign'))},DisplayName=CN={name.replace(' ', '')}]")
        new, old = (in_string(key), "[]") if adding else ("[]", in_string(key))
        modified = [prop("KeyDescription", new, old),
                    prop("Included Updated Properties", "KeyDescription"),
                    prop("TargetId.ServicePrincipalNames", app_id)]
        actor, ip, details = (MANAGED_IDENTITY, "", "{}") if rng.random() < 0.5 else self.by_admin(m, v)
        operation = "Add service principal credentials." if adding else "Remove service principal credentials."
        target = target_object("ServicePrincipal", sp, name, {"ID": app_id, "Type": 2})
        return self.record(operation, ts, actor, ip, target, sp, modified, "ServicePrincipal", details)

    def service_principal(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A service principal updated (tags, sign-in settings) or added."""
        rng = self.rng
        name, _, app_id, sp = self._app()
        adding = rng.random() < 0.12
        if adding:
            changed = [prop("AccountEnabled", in_string(True), "[]"),
                       prop("AppPrincipalId", in_string(app_id), "[]"),
                       prop("DisplayName", in_string(name), "[]"),
                       prop("ServicePrincipalName", in_string(app_id), "[]")]
        else:
            changed = [prop("Tags", in_string("WindowsAzureActiveDirectoryIntegratedApp", "HideApp"),
                            in_string("WindowsAzureActiveDirectoryIntegratedApp"))]
        modified = [*changed, prop("Included Updated Properties", ", ".join(p["Name"] for p in changed)),
                    prop("TargetId.ServicePrincipalNames", app_id)]
        actor, ip, details = (GRAPH, "", "{}") if rng.random() < 0.4 else self.by_admin(m, v)
        return self.record("Add service principal." if adding else "Update service principal.", ts, actor, ip,
                           target_object("ServicePrincipal", sp, name, {"ID": app_id, "Type": 2}), sp, modified,
                           "ServicePrincipal", details)

    def application(self, m: Member, v: Visit, ts: datetime) -> dict:
        """An app registration's reply URLs or secrets changed."""
        rng = self.rng
        name, object_id, app_id, _ = self._app()
        actor, ip, details = self.by_admin(m, v)
        slug = name.lower().replace(" ", "-")
        if rng.random() < 0.7:
            address = [{"AddressType": 0, "Address": f"https://{slug}.example.org/{path}", "ReplyAddressClientType": 1,
                        "ReplyAddressIndex": None, "IsReplyAddressDefault": False}
                       for path in ("signin-oidc", "auth/callback")]
            changed = [prop("AppAddress", in_string(*address), in_string(*address[:1]))]
            operation = "Update application."
        else:
            secret = {"CustomKeyIdentifier": None, "EndDate": iso(ts + timedelta(days=365)) + "Z", "KeyId": self.guid(),
                      "StartDate": iso(ts) + "Z", "Type": "Password", "Usage": "Verify", "Value": None}
            changed = [prop("KeyDescription", in_string(secret), "[]")]
            operation = "Update application – Certificates and secrets management "
        modified = [*changed, prop("Included Updated Properties", ", ".join(p["Name"] for p in changed))]
        target = target_object("Application", object_id, name, {"ID": app_id, "Type": 2})
        return self.record(operation, ts, actor, ip, target, object_id, modified, "Application", details)

    def consent(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A member (or an admin for everyone) consenting to an app, and the grants that follow."""
        rng, p = self.rng, m.person
        name, _, app_id, sp = self._app()
        scope = rng.choice(SCOPES)
        roll = rng.random()
        target = target_object("ServicePrincipal", sp, name, {"ID": app_id, "Type": 2})
        if roll < 0.4:
            admin = rng.random() < 0.2
            actor, ip, details = self.by_admin(m, v) if admin else (p, v.place.ip, "{}")
            grant = (f"[] => [[Id: {self.guid()}, ClientId: {sp}, PrincipalId: {'' if admin else p.object_id}, "
                     f"ResourceId: {stable_guid(self.t.org_id, 'service-principal', GRAPH[1])}, "
                     f"ConsentType: {'AllPrincipals' if admin else 'Principal'}, Scope: {scope}, "
                     "CreatedDateTime: , LastModifiedDateTime ]]; ")
            modified = [prop("ConsentContext.IsAdminConsent", str(admin)), prop("ConsentContext.IsAppOnly", "False"),
                        prop("ConsentContext.OnBehalfOfAll", str(admin)),
                        prop("ConsentContext.Tags", "WindowsAzureActiveDirectoryIntegratedApp"),
                        prop("ConsentAction.Permissions", grant), prop("TargetId.ServicePrincipalNames", app_id)]
            return self.record("Consent to application.", ts, actor, ip, target, sp, modified, "ApplicationManagement",
                               details)
        if roll < 0.7:
            modified = [prop("DelegatedPermissionGrant.Scope", f" {scope}"),
                        prop("DelegatedPermissionGrant.ConsentType", "Principal"),
                        prop("ServicePrincipal.ObjectID", sp), prop("ServicePrincipal.DisplayName", name),
                        prop("TargetId.ServicePrincipalNames", app_id)]
            return self.record("Add delegated permission grant.", ts, p, v.place.ip, target, sp, modified,
                               "ApplicationManagement", "{}")
        stamp = iso(ts) + "Z"
        modified = [prop("AppRole.Id", "00000000-0000-0000-0000-000000000000"), prop("AppRole.Value", ""),
                    prop("AppRole.DisplayName", ""), prop("AppRoleAssignment.CreatedDateTime", stamp),
                    prop("AppRoleAssignment.LastModifiedDateTime", stamp), prop("User.ObjectID", p.object_id),
                    prop("User.UPN", p.upn), prop("User.PUID", p.puid), prop("TargetId.ServicePrincipalNames", app_id)]
        return self.record("Add app role assignment grant to user.", ts, p, v.place.ip, target, sp, modified,
                           "ApplicationManagement", "{}")

    def device(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A member's device updated by Intune or the device registration service, or registered."""
        rng = self.rng
        did, name = self.device_id(m, v), self.device_name(m, v)
        roll = rng.random()
        target = target_object("Device", did, name)
        if roll < 0.72:
            os_version = "10.0.22631.3296" if v.desktop else "17.3.1"
            changed = [prop("DeviceOSVersion", in_string(os_version),
                            in_string("10.0.22631.3155" if v.desktop else "17.2.1"))]
            if rng.random() < 0.5:
                changed.append(prop("IsCompliant", in_string(True), in_string(False)))
            modified = [*changed, prop("Included Updated Properties", ", ".join(p["Name"] for p in changed))]
            return self.record("Update device.", ts, rng.choice((INTUNE, DEVICE_REGISTRATION)), "", target, did,
                               modified, "Device")
        if roll < 0.85:
            modified = [prop("AccountEnabled", in_string(True), "[]"),
                        prop("DisplayName", in_string(name), "[]"), prop("DeviceId", in_string(did), "[]"),
                        prop("DeviceOSType", in_string(v.device.os), "[]"),
                        prop("DeviceTrustType", in_string("AzureAd" if v.desktop else "Workplace"), "[]"),
                        prop("Included Updated Properties", "AccountEnabled, DisplayName, DeviceId, DeviceOSType, "
                             "DeviceTrustType")]
            return self.record("Add device.", ts, DEVICE_REGISTRATION, "", target, did, modified, "Device")
        operation = rng.choice(("Add registered owner to device.", "Add registered users to device."))
        modified = [prop("Device.ObjectID", did), prop("Device.DisplayName", name)]
        return self.record(operation, ts, DEVICE_REGISTRATION, "", target_user(m.person), m.person.upn, modified,
                           "Device")

    def domain(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A subsidiary's domain moved off federation (``Set domain authentication.``) or company details set."""
        actor, ip, details = self.by_admin(m, v)
        if self.rng.random() < 0.6:
            name = "corp.example.org"
            modified = [prop("LiveType", in_string("Managed"), in_string("Federated")),
                        prop("Included Updated Properties", "LiveType")]
            return self.record("Set domain authentication.", ts, actor, ip, [{"ID": name, "Type": 1}], name, modified,
                               "Directory", details)
        modified = [prop("TechnicalNotificationMails", in_string("it-support@example.org"),
                         in_string("admin@example.org")),
                    prop("Included Updated Properties", "TechnicalNotificationMails")]
        return self.record("Set company information.", ts, actor, ip, [{"ID": self.t.org_id, "Type": 2}],
                           self.t.org_id, modified, "Directory", details)

    def policy(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A token lifetime or authorization policy updated by an admin."""
        actor, ip, details = self.by_admin(m, v)
        name = self.rng.choice(("Default Token Lifetime", "Authorization Policy", "Authentication Methods Policy"))
        pid = stable_guid(self.seed, "policy", name)
        detail = {"DisplayName": name, "IsOrganizationDefault": True, "Version": 1}
        modified = [prop("PolicyDetail", in_string(detail | {"Version": 2}), in_string(detail)),
                    prop("Included Updated Properties", "PolicyDetail")]
        return self.record("Update policy.", ts, actor, ip, target_object("Policy", pid, name), pid, modified,
                           "Policy", details)

    def sign_in(self, m: Member, v: Visit, ts: datetime) -> dict:
        """The member signing in (or being interrupted)."""
        roll = self.rng.random()
        return logon(self, m, v, ts, "0" if roll < 0.85 else "50140" if roll < 0.95 else "50126")

    KINDS = ((sync_user, 26.0), (licence, 8.0), (change_licence, 2.0), (admin_user, 5.0), (security_info, 3.0),
             (sts_refresh, 2.0), (password, 5.5), (membership, 13.0), (group, 3.5), (role, 0.7), (lifecycle, 1.8),
             (credentials, 2.0), (service_principal, 3.2), (application, 2.6), (consent, 3.5), (device, 11.0),
             (domain, 0.08), (policy, 0.2), (sign_in, 5.0))
