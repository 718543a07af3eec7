"""Provides the sign-in mix (``--mix signin``): the unified audit log's Entra ID sign-in records
(``UserLoggedIn`` and ``UserLoginFailed``, RecordType 15 AzureActiveDirectoryStsLogon) of the benign
tenant's people, and ``logon``, the builder the other mixes use for their share of sign-ins.

Most sign-ins succeed; the rest are the interrupts the audit log records as ``UserLoginFailed`` (the
"keep me signed in" prompt, MFA still to do) and ordinary failures (mistyped passwords, an expired
password, a Conditional Access block, a lockout). Managed desktops report their device id, name, trust
type and compliance; other devices only their OS and browser. Application ids are Microsoft's public
first-party ids.
"""

from __future__ import annotations

from datetime import datetime

from .benign_tenant import Member, Visit
from .entra_net import (AZURE_MANAGEMENT, AZURE_PORTAL, EXCHANGE, GRAPH, MS_OFFICE, OFFICE_HOME, OUTLOOK_MOBILE,
                        OWA, SHAREPOINT, TEAMS, TEAMS_SERVICES, App)
from .mix_day import MixDay
from .records import iso
from .tenants import APP_OFFICE, APP_OUTLOOK_MOBILE

ONEDRIVE_SYNC = App("OneDrive SyncEngine", "ab9b8c07-8f02-4f72-87fa-80105867a763")
AUTH_BROKER = App("Microsoft Authentication Broker", "29d9ed98-a469-4536-ade2-f981bc1d605e")
EXCHANGE_ADMIN_CENTER = App("Exchange Admin Center", "497effe9-df71-4043-a8bb-14cf78c4b63b")
# (client app, resource) pairs each kind of client signs in with.
BROWSER_APPS = ((OFFICE_HOME, OFFICE_HOME), (OWA, EXCHANGE), (OFFICE_HOME, SHAREPOINT), (OWA, GRAPH),
                (TEAMS, TEAMS_SERVICES))
DESKTOP_APPS = ((MS_OFFICE, EXCHANGE), (MS_OFFICE, SHAREPOINT), (MS_OFFICE, GRAPH), (TEAMS, TEAMS_SERVICES),
                (ONEDRIVE_SYNC, SHAREPOINT))
PHONE_APPS = ((OUTLOOK_MOBILE, EXCHANGE), (OUTLOOK_MOBILE, GRAPH), (TEAMS, TEAMS_SERVICES), (AUTH_BROKER, GRAPH))
ADMIN_APPS = ((AZURE_PORTAL, AZURE_MANAGEMENT), (EXCHANGE_ADMIN_CENTER, EXCHANGE))
REQUEST_TYPES = ("OAuth2:Authorize", "OAuth2:Authorize", "OAuth2:Token", "Login:login", "Login:reprocess",
                 "Kmsi:kmsi", "SAS:ProcessAuth", "Login:resume")
# ErrorNumber and LogonError of the sign-ins that did not (yet) succeed.
INTERRUPTS = {"50140": "KmsiInterrupt", "50074": "UserStrongAuthClientAuthNRequiredInterrupt",
              "50076": "UserStrongAuthClientAuthNRequired", "50072": "UserStrongAuthEnrollmentRequiredInterrupt",
              "50058": "UserInformationNotProvided", "50097": "DeviceAuthenticationRequired"}
FAILURES = {"50126": "InvalidUserNameOrPassword", "50053": "IdsLocked", "50055": "InvalidPasswordExpiredPassword",
            "53003": "BlockedByConditionalAccess", "500121": "AuthenticationFailedSasError",
            "50089": "FlowTokenExpired", "50057": "UserDisabled"}
LOGON_ERRORS = INTERRUPTS | FAILURES


def _apps(member: Member, visit: Visit, rng) -> tuple[App, App]:
    if member.role in ("it-admin", "helpdesk") and visit.desktop and rng.random() < 0.2:
        return rng.choice(ADMIN_APPS)
    if not visit.desktop:
        return rng.choice(PHONE_APPS)
    if visit.device.app_id == APP_OFFICE:
        return rng.choice(DESKTOP_APPS)
    return rng.choice(BROWSER_APPS)


def _device_properties(day: MixDay, member: Member, visit: Visit, session: str | None) -> list[dict]:
    device = visit.device
    browser = "Rich Client" if visit.device.app_id in (APP_OFFICE, APP_OUTLOOK_MOBILE) else device.browser
    if day.managed(member, visit):
        props = [{"Name": "Id", "Value": day.device_id(member, visit)},
                 {"Name": "DisplayName", "Value": day.device_name(member, visit)},
                 {"Name": "OS", "Value": device.os}, {"Name": "BrowserType", "Value": browser},
                 {"Name": "IsCompliant", "Value": "True"}, {"Name": "IsCompliantAndManaged", "Value": "True"},
                 {"Name": "TrustType", "Value": "1" if visit.desktop else "0"}]
    else:
        props = [{"Name": "OS", "Value": device.os}, {"Name": "BrowserType", "Value": browser},
                 {"Name": "IsCompliantAndManaged", "Value": "False"}]
    if session:
        props.append({"Name": "SessionId", "Value": session})
    return props


def logon(day: MixDay, member: Member, visit: Visit, ts: datetime, error: str = "0") -> dict:
    """A ``UserLoggedIn`` record, or ``UserLoginFailed`` when ``error`` is an ErrorNumber other than ``0``."""
    rng, t, p = day.rng, day.t, member.person
    app, resource = _apps(member, visit, rng)
    failed = error != "0"
    request = rng.choice(REQUEST_TYPES)
    extended = [{"Name": "ResultStatusDetail", "Value": "Redirect" if failed else "Success"},
                {"Name": "UserAgent", "Value": visit.device.user_agent},
                {"Name": "UserAuthenticationMethod", "Value": "1"},
                {"Name": "RequestType", "Value": request}]
    if request in ("Login:login", "Kmsi:kmsi") or error == "50140":
        extended.append({"Name": "KeepMeSignedIn", "Value": "true" if rng.random() < 0.7 else "false"})
    ip = visit.place.ip
    rec = {
        "CreationTime": iso(ts), "Id": day.rid(), "Operation": "UserLoginFailed" if failed else "UserLoggedIn",
        "OrganizationId": t.org_id, "RecordType": 15,
        "ResultStatus": ("Success" if not failed or rng.random() < 0.15 else "Failed"),
        "UserKey": p.object_id, "UserType": 0, "Version": 1, "Workload": "AzureActiveDirectory", "ClientIP": ip,
        "ObjectId": resource.id, "UserId": p.upn, "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": extended, "ModifiedProperties": [],
        "Actor": [{"ID": p.object_id, "Type": 0}, {"ID": p.upn, "Type": 5}],
        "ActorContextId": t.org_id, "ActorIpAddress": ip, "InterSystemsId": day.guid(),
        "IntraSystemId": day.guid(), "SupportTicketId": "", "Target": [{"ID": resource.id, "Type": 0}],
        "TargetContextId": t.org_id, "ApplicationId": app.id,
        "DeviceProperties": _device_properties(day, member, visit, None if failed else visit.session),
        "ErrorNumber": error,
    }
    if failed:
        rec["LogonError"] = LOGON_ERRORS[error]
    return rec


class SignInDay(MixDay):
    """A day of the sign-in mix: sign-ins of the people at work, with their interrupts and failures."""

    MIX = "signin"
    EVENTS_PER_MEMBER = 400

    def success(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A sign-in that succeeded."""
        return logon(self, m, v, ts)

    def interrupt(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A sign-in paused for the user: the KMSI prompt, MFA still to do, device authentication."""
        code = self.rng.choices(tuple(INTERRUPTS), weights=(50, 30, 8, 0.5, 6, 3))[0]
        return logon(self, m, v, ts, code)

    def failure(self, m: Member, v: Visit, ts: datetime) -> dict:
        """A sign-in that failed: mostly a mistyped password."""
        code = self.rng.choices(tuple(FAILURES), weights=(70, 3, 4, 8, 8, 6, 0.5))[0]
        return logon(self, m, v, ts, code)

    KINDS = ((success, 78.0), (interrupt, 17.0), (failure, 5.0))
