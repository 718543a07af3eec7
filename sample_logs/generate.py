"""Provides the deterministic generator of the project's synthetic Microsoft 365 audit logs.

Two tenants (case A, ``example.com``; case B, ``example.net``) are attacked by one actor the way the
Sophos X-Ops article "Investigator, API Yourself" describes, inside believable benign background
activity.  Every record is a unified-audit-log ``AuditData`` object; writers wrap it in the shapes
real exports have (Purview CSV, Search-UnifiedAuditLog CSV, Management Activity API JSON / JSON
Lines, Microsoft Graph audit query JSON).

Run ``python sample_logs/generate.py`` to regenerate the committed files beside this script, or
``python sample_logs/generate.py --events N --format FMT --out FILE`` for a benchmark file that holds
N background events plus the planted story.  Output depends only on the seed: no clock, no hash
randomisation, byte-identical on every run.

Python API: ``generate_case(tenant)``, ``planted_steps(tenant)``, ``iter_records(...)``,
``write(records, fmt, path)`` and ``write_samples(out_dir)``.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import contextlib
import functools
import hashlib
import ipaddress
import json
import multiprocessing
import os
import random
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

SEED = 20230224
EXPORT_START = datetime(2022, 12, 1)
EXPORT_END = datetime(2023, 2, 24, 23, 59, 59)
ATTACKER_IPS = ("104.161.20.102", "20.232.202.245", "185.241.149.122")
FORMATS = ("jsonl", "purview-csv", "legacy-csv", "mgmt-json", "graph-json")
PURVIEW_HEADER = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
                  "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
LEGACY_HEADER = ["RunspaceId", "RecordType", "CreationDate", "UserIds", "Operations", "AuditData",
                 "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"]
BACKGROUND_EVENTS = {"a": 4000, "b": 4000}
GRAPH_WINDOW = (datetime(2023, 2, 10), EXPORT_END)

RECORD_TYPES = {1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup", 4: "SharePoint",
                6: "SharePointFileOperation", 8: "AzureActiveDirectory",
                14: "SharePointSharingOperation", 15: "AzureActiveDirectoryStsLogon",
                50: "ExchangeItemAggregated"}
GRAPH_AUDIT_DATA_TYPES = {1: "exchangeAdminAuditRecord", 2: "exchangeMailboxAuditRecord",
                          3: "exchangeMailboxAuditGroupRecord", 4: "sharePointAuditRecord",
                          6: "sharePointFileOperationAuditRecord",
                          8: "azureActiveDirectoryAuditRecord",
                          14: "sharePointSharingOperationAuditRecord",
                          15: "azureActiveDirectoryStsLogonAuditRecord",
                          50: "exchangeAggregatedMailboxAuditRecord"}
GRAPH_USER_TYPES = ("regular", "reserved", "admin", "dcAdmin", "system", "application",
                    "servicePrincipal", "customPolicy", "systemPolicy")

APP_OFFICE_HOME = "4765445b-32c6-49b0-83e6-1d93765276ca"
APP_EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
APP_OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
APP_OUTLOOK_MOBILE = "27922004-5251-4030-b22d-91ecd9a37ea4"
APP_EXO_POWERSHELL = "fb78d390-0c51-40cd-8e17-fdbfab77341b"
GLOBAL_ADMIN_TEMPLATE = "62e90394-69f5-4237-9190-012177145e10"
EXO_SYSTEM = "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.ServiceHost)"
EXO_W3WP = "NT AUTHORITY\\SYSTEM (w3wp)"
SYSTEM_PRINCIPALS = (("Microsoft Substrate Management", "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"),
                     ("Office 365 Exchange Online", APP_EXCHANGE))

_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def to_json(record: dict) -> str:
    """Serialise one record compactly, as the audit services do."""
    return _JSON.encode(record)


# --------------------------------------------------------------------------------------------
# Identities


@functools.lru_cache(maxsize=1 << 16)
def stable_guid(*parts: object) -> str:
    """A version-4-shaped GUID derived from ``parts`` (stable across runs and Python versions)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return _guid_from_int(int.from_bytes(digest[:16], "big"))


def random_guid(rng: random.Random) -> str:
    """A version-4-shaped GUID drawn from ``rng``."""
    return _guid_from_int(rng.getrandbits(128))


def _guid_from_int(n: int) -> str:
    n = (n & ~(0xF << 76)) | (0x4 << 76)
    n = (n & ~(0x3 << 62)) | (0x2 << 62)
    h = f"{n:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _token(rng: random.Random, nbytes: int) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(nbytes)).decode().rstrip("=")


def _exchange_id(rng: random.Random, prefix: str) -> str:
    return prefix + base64.b64encode(rng.randbytes(45)).decode()


@dataclass(frozen=True)
class Device:
    """How one person reaches Microsoft 365: OS and browser as AAD reports them, and the client."""

    os: str
    browser: str
    user_agent: str
    client_info: str
    app_id: str


_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/109.0.0.0 Safari/537.36")
_EDGE = _CHROME.replace("109.0.0.0 Safari/537.36", "110.0.0.0 Safari/537.36 Edg/110.0.1587.50")
_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/16.3 Safari/605.1.15")
_OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.15928; Pro)"
DESKTOPS = (
    Device("Windows10", "Edge", _EDGE, f"Client=OWA;{_EDGE};", APP_OFFICE_HOME),
    Device("Windows10", "Chrome", _CHROME, f"Client=OWA;{_CHROME};", APP_OFFICE_HOME),
    Device("Windows10", "Other", _OUTLOOK, "Client=MSExchangeRPC", APP_OFFICE),
    Device("MacOs", "Safari", _SAFARI, f"Client=OWA;{_SAFARI};", APP_OFFICE_HOME),
)
PHONES = (
    Device("Ios", "Other", "Outlook-iOS/2.0", "Client=OutlookService;Outlook-iOS/2.0;",
           APP_OUTLOOK_MOBILE),
    Device("Android", "Other", "Outlook-Android/2.0", "Client=OutlookService;Outlook-Android/2.0;",
           APP_OUTLOOK_MOBILE),
)
_ATTACKER_UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:109.0) Gecko/20100101 Firefox/110.0"
ATTACKER_DEVICE = Device("Windows10", "Firefox", _ATTACKER_UA, f"Client=OWA;{_ATTACKER_UA};",
                         APP_OFFICE_HOME)


@dataclass
class Person:
    """One account of a tenant with the identifiers its records carry."""

    upn: str
    object_id: str
    puid: str
    sid: str
    mailbox_guid: str
    desktop: Device
    phone: Device
    home_ips: tuple[str, ...] = ()
    mobile_ip: str = ""
    active_from: date = EXPORT_START.date()
    activity: float = 1.0

    @property
    def sharepoint_id(self) -> str:
        """The lower-cased UPN SharePoint records carry."""
        return self.upn.lower()


@dataclass(frozen=True)
class TenantSpec:
    """The fixed facts of one tenant: names, location, ISP address ranges, staff roles."""

    key: str
    domain: str
    name: str
    utc_offset: int
    home_prefixes: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]
    office_prefix: str
    servers: tuple[str, ...]
    exchange_forest: str
    staff: tuple[str, ...]
    holidays: tuple[date, ...]
    shared_mailbox: str
    shared_delegates: tuple[str, ...]
    shared_granted: date
    joiner: tuple[str, date]


SPECS = {
    "a": TenantSpec(
        key="a", domain="example.com", name="example", utc_offset=-5,
        home_prefixes=("73.0.0.0/8", "98.192.0.0/10", "67.160.0.0/11", "71.192.0.0/12",
                       "96.224.0.0/11", "99.0.0.0/9", "2601::/20"),
        mobile_prefixes=("172.56.0.0/14", "174.192.0.0/10", "2607:fb90::/32"),
        office_prefix="50.192.0.0/10",
        servers=("BN8PR12MB3570 (15.20.6064.034)\r\n", "SA1PR04MB8303 (15.20.6086.011)\r\n",
                 "CH0PR04MB8113 (15.20.6086.009)\r\n"),
        exchange_forest="NAMPR12A001",
        staff=("TargetUser", "FinanceUser", "ITAdmin", "HelpdeskAdmin", "PayrollUser", "AccountsUser",
               "HRUser", "SalesUser1", "SalesUser2", "SalesUser3", "SalesUser4", "MarketingUser",
               "LegalUser", "OpsUser", "ProjectUser1", "ProjectUser2", "ProjectUser3",
               "EngineerUser1", "EngineerUser2", "EngineerUser3", "EngineerUser4", "SupportUser1",
               "SupportUser2", "SupportUser3", "ExecUser", "OfficeUser", "ProcurementUser",
               "FacilitiesUser", "DesignUser"),
        holidays=(date(2022, 12, 26), date(2023, 1, 2), date(2023, 1, 16), date(2023, 2, 20)),
        shared_mailbox="reception", shared_delegates=("OfficeUser", "FacilitiesUser"),
        shared_granted=date(2023, 1, 5),
        joiner=("SalesUser4", date(2023, 1, 9)),
    ),
    "b": TenantSpec(
        key="b", domain="example.net", name="examplenet", utc_offset=0,
        home_prefixes=("86.128.0.0/10", "81.128.0.0/12", "2.96.0.0/12", "2a00:23c0::/29"),
        mobile_prefixes=("31.94.0.0/16",),
        office_prefix="81.128.0.0/12",
        servers=("LO2P265MB4921 (15.20.6086.011)\r\n", "CWLP265MB3650 (15.20.6064.034)\r\n"),
        exchange_forest="GBRP265A003",
        staff=("TargetUser", "FinanceUser", "ITAdmin", "HelpdeskAdmin", "PayrollUser", "HRUser",
               "SalesUser1", "SalesUser2", "SalesUser3", "MarketingUser", "OpsUser", "ClaimsUser1",
               "ClaimsUser2", "ClaimsUser3", "EngineerUser1", "EngineerUser2", "SupportUser1",
               "SupportUser2", "SupportUser3", "SupportUser4", "ExecUser", "OfficeUser",
               "ProcurementUser", "UnderwritingUser"),
        holidays=(date(2022, 12, 26), date(2022, 12, 27), date(2023, 1, 2)),
        shared_mailbox="accounts", shared_delegates=("FinanceUser", "PayrollUser"),
        shared_granted=date(2023, 1, 12),
        joiner=("SupportUser4", date(2023, 1, 16)),
    ),
}
STORY_ACCOUNTS = ("CompromisedAdmin", "NewHelpdesk", "ServiceDesk2")


@dataclass
class Tenant:
    """One tenant: its spec, its seeded identifiers and its people."""

    spec: TenantSpec
    seed: int
    org_id: str
    office_ip: str
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Case letter, ``a`` or ``b``."""
        return self.spec.key

    @property
    def onmicrosoft(self) -> str:
        """The tenant's initial domain."""
        return f"{self.spec.name}.onmicrosoft.com"

    @property
    def staff(self) -> list[Person]:
        """The people who produce background activity."""
        return [self.people[name] for name in self.spec.staff]

    def person(self, name: str) -> Person:
        """The account called ``name``: a role name such as ``TargetUser``, or ``OriginalAdmin``."""
        return self.people[name]

    def onedrive(self, person: Person) -> str:
        """The personal OneDrive site URL of ``person``."""
        slug = person.upn.lower().replace("@", "_").replace(".", "_")
        return f"https://{self.spec.name}-my.sharepoint.com/personal/{slug}"

    def team_site(self, site: str) -> str:
        """A team site URL."""
        return f"https://{self.spec.name}.sharepoint.com/sites/{site}"


def random_address(rng: random.Random, cidr: str) -> str:
    """A host address inside ``cidr``."""
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + rng.randrange(1, net.num_addresses - 1))


def build_tenant(key: str, seed: int = SEED) -> Tenant:
    """The tenant of case ``key`` with all its accounts, derived from ``seed``."""
    spec = SPECS[key]
    rng = random.Random(f"{seed}/{key}/people")
    tenant = Tenant(spec, seed, stable_guid(seed, key, "organization"),
                    random_address(rng, spec.office_prefix))
    domain_sid = "S-1-5-21-" + "-".join(str(rng.randrange(10**9, 4 * 10**9)) for _ in range(3))
    names = [*spec.staff, *STORY_ACCOUNTS, spec.shared_mailbox]
    for rid, name in enumerate(names, start=26100000):
        tenant.people[name] = _make_person(rng, spec, name, f"{domain_sid}-{rid}")
    original_admin = f"admin@{tenant.onmicrosoft}"
    tenant.people["OriginalAdmin"] = _make_person(rng, spec, original_admin, f"{domain_sid}-500")
    tenant.people[spec.joiner[0]].active_from = spec.joiner[1] + timedelta(days=1)
    return tenant


def _make_person(rng: random.Random, spec: TenantSpec, name: str, sid: str) -> Person:
    upn = name if "@" in name else f"{name}@{spec.domain}"
    home_isp = rng.choice(spec.home_prefixes)
    home_ips = tuple(random_address(rng, home_isp) for _ in range(rng.choice((1, 1, 2))))
    return Person(
        upn=upn, object_id=random_guid(rng), puid=f"1003{rng.getrandbits(48):012X}", sid=sid,
        mailbox_guid=random_guid(rng), desktop=rng.choice(DESKTOPS), phone=rng.choice(PHONES),
        home_ips=home_ips, mobile_ip=random_address(rng, rng.choice(spec.mobile_prefixes)),
        activity=rng.choice((0.6, 1.0, 1.0, 1.4, 2.0)),
    )


# --------------------------------------------------------------------------------------------
# Record builders: one AuditData object each, with the fields real records of that kind carry


def iso(ts: datetime) -> str:
    """``CreationTime`` format: ISO 8601 without zone (UTC)."""
    return ts.isoformat(timespec="seconds")


def _envelope(t: Tenant, ts: datetime, rid: str, operation: str, record_type: int, workload: str,
              user_id: str, user_key: str, user_type: int) -> dict:
    return {"CreationTime": iso(ts), "Id": rid, "Operation": operation,
            "OrganizationId": t.org_id, "RecordType": record_type, "UserKey": user_key,
            "UserType": user_type, "Version": 1, "Workload": workload}


def sts_logon(t: Tenant, rng: random.Random, ts: datetime, rid: str, person: Person, ip: str,
              session: str, device: Device, error: tuple[str, str] | None = None,
              result_status: str = "Success") -> dict:
    """A ``UserLoggedIn`` record, or ``UserLoginFailed`` when ``error`` is (number, LogonError)."""
    failed = error is not None
    rec = _envelope(t, ts, rid, "UserLoginFailed" if failed else "UserLoggedIn", 15,
                    "AzureActiveDirectory", person.upn, person.object_id, 0)
    rec |= {
        "ResultStatus": result_status, "ClientIP": ip, "ObjectId": device.app_id,
        "UserId": person.upn, "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "ResultStatusDetail", "Value": "Success" if not failed else "Redirect"},
            {"Name": "UserAgent", "Value": device.user_agent},
            {"Name": "UserAuthenticationMethod", "Value": "1"},
            {"Name": "RequestType", "Value": rng.choice(("Login:login", "OAuth2:Authorize",
                                                         "Login:reprocess", "SAS:ProcessAuth"))},
        ],
        "ModifiedProperties": [],
        "Actor": [{"ID": person.object_id, "Type": 0}, {"ID": person.upn, "Type": 5}],
        "ActorContextId": t.org_id, "ActorIpAddress": ip,
        "InterSystemsId": random_guid(rng), "IntraSystemId": random_guid(rng),
        "SupportTicketId": "", "Target": [{"ID": device.app_id, "Type": 0}],
        "TargetContextId": t.org_id, "ApplicationId": device.app_id,
        "DeviceProperties": [{"Name": "OS", "Value": device.os},
                             {"Name": "BrowserType", "Value": device.browser},
                             {"Name": "IsCompliantAndManaged", "Value": "False"}],
        "ErrorNumber": error[0] if failed else "0",
    }
    if failed:
        rec["LogonError"] = error[1]
    else:
        rec["DeviceProperties"].append({"Name": "SessionId", "Value": session})
    return rec


def _aad_actor(t: Tenant, actor: Person | tuple[str, str]) -> tuple[str, str, int, list, str]:
    """UserId, UserKey, UserType, Actor list and client IP of a directory change's actor."""
    if isinstance(actor, Person):
        return (actor.upn, f"{actor.puid}@{t.onmicrosoft}", 0,
                [{"ID": actor.upn, "Type": 5}, {"ID": actor.puid, "Type": 3},
                 {"ID": f"User_{actor.object_id}", "Type": 2}, {"ID": actor.object_id, "Type": 2},
                 {"ID": "User", "Type": 2}], "")
    name, app_id = actor
    sp = stable_guid(t.org_id, "service-principal", app_id)
    return (f"ServicePrincipal_{sp}", "Not Available", 4,
            [{"ID": name, "Type": 1}, {"ID": f"ServicePrincipal_{sp}", "Type": 2},
             {"ID": sp, "Type": 2}, {"ID": "ServicePrincipal", "Type": 2}], "<null>")


def directory_change(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
                     actor: Person | tuple[str, str], target: Person,
                     modified: list[dict]) -> dict:
    """An Azure AD directory audit record (``Add user.``, ``Update user.``, role/group changes)."""
    user_id, user_key, user_type, actor_list, client_ip = _aad_actor(t, actor)
    rec = _envelope(t, ts, rid, operation, 8, "AzureActiveDirectory", user_id, user_key, user_type)
    rec |= {
        "ResultStatus": "Success", "ClientIP": client_ip, "ObjectId": target.upn,
        "UserId": user_id, "AzureActiveDirectoryEventType": 1,
        "ExtendedProperties": [
            {"Name": "additionalDetails", "Value": "{\"UserType\":\"Member\"}"},
            {"Name": "extendedAuditEventCategory", "Value": "User"}],
        "ModifiedProperties": modified, "Actor": actor_list, "ActorContextId": t.org_id,
        "ActorIpAddress": client_ip, "InterSystemsId": random_guid(rng),
        "IntraSystemId": random_guid(rng), "SupportTicketId": "",
        "Target": [{"ID": f"User_{target.object_id}", "Type": 2},
                   {"ID": target.object_id, "Type": 2}, {"ID": "User", "Type": 2},
                   {"ID": target.upn, "Type": 5}, {"ID": target.puid, "Type": 3}],
        "TargetContextId": t.org_id,
    }
    return rec


def json_in_string(*values: object) -> str:
    """AAD's ModifiedProperties value format: a JSON array pretty-printed with CRLF."""
    return json.dumps(list(values), indent=2).replace("\n", "\r\n")


def prop(name: str, new: str, old: str = "") -> dict:
    """One directory ModifiedProperties entry."""
    return {"Name": name, "NewValue": new, "OldValue": old}


def added_user_properties(target: Person, ts: datetime) -> list[dict]:
    """ModifiedProperties of an ``Add user.`` record."""
    stamp = ts.strftime("%Y-%m-%dT%H:%M:%SZ")
    return [prop("AccountEnabled", json_in_string(True), "[]"),
            prop("StsRefreshTokensValidFrom", json_in_string(stamp), "[]"),
            prop("UserPrincipalName", json_in_string(target.upn), "[]"),
            prop("UserType", json_in_string("Member"), "[]"),
            prop("Included Updated Properties",
                 "AccountEnabled, StsRefreshTokensValidFrom, UserPrincipalName, UserType"),
            prop("TargetId.UserType", "Member")]


def membership_properties(kind: str, object_id: str, display_name: str,
                          extra: tuple[dict, ...] = ()) -> list[dict]:
    """ModifiedProperties of ``Add member to role.`` (kind Role) or ``... group.`` (kind Group)."""
    return [prop(f"{kind}.ObjectID", object_id), prop(f"{kind}.DisplayName", display_name),
            *extra, prop(f"{kind}.WellKnownObjectName", "TenantAdmins" if kind == "Role" else "")]


def licence_properties(t: Tenant) -> list[dict]:
    """ModifiedProperties of a licence (re)provisioning ``Update user.`` by a service."""
    plan = json_in_string({"SubscribedPlanId": stable_guid(t.org_id, "plan"),
                           "ServiceInstance": f"exchange/{t.spec.exchange_forest.lower()}-01",
                           "CapabilityStatus": 0,
                           "ServicePlanId": "efb87545-963c-4e0d-99df-69c6916d9eb0"})
    return [prop("AssignedPlan", plan, "[]"), prop("Included Updated Properties", "AssignedPlan")]


def exchange_admin(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
                   actor: Person | str, object_id: str, parameters: list[dict],
                   client_ip: str = "", app_id: str = "") -> dict:
    """An Exchange admin cmdlet record (RecordType 1); ``actor`` a Person or a system account."""
    if isinstance(actor, Person):
        rec = _envelope(t, ts, rid, operation, 1, "Exchange", actor.upn, actor.puid, 2)
        rec |= {"ResultStatus": "True", "ClientIP": client_ip, "ObjectId": object_id,
                "UserId": actor.upn, "AppId": app_id, "ClientAppId": "", "ExternalAccess": False}
    else:
        rec = _envelope(t, ts, rid, operation, 1, "Exchange", actor, actor, 3)
        rec |= {"ResultStatus": "True", "ObjectId": object_id, "UserId": actor, "AppId": "",
                "ClientAppId": "", "ExternalAccess": True}
    rec |= {"OrganizationName": t.onmicrosoft, "OriginatingServer": rng.choice(t.spec.servers),
            "Parameters": parameters}
    return rec


def params(*pairs: tuple[str, str]) -> list[dict]:
    """An Exchange ``Parameters`` list in the given order."""
    return [{"Name": name, "Value": value} for name, value in pairs]


@dataclass(frozen=True)
class Access:
    """Where a mailbox or SharePoint action came from: address as logged, sessions, client."""

    client_ip: str
    session: str
    device: Device
    non_owner_logon_type: int = 2  # LogonType in another's mailbox: 1 admin, 2 delegate

    @property
    def plain_ip(self) -> str:
        """The bare address (no port, brackets or IPv4-mapped prefix)."""
        ip = self.client_ip
        if ip.startswith("["):
            ip = ip[1:ip.index("]")]
        elif ip.count(":") == 1:
            ip = ip.split(":")[0]
        return ip.removeprefix("::ffff:")


def _mailbox(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
             record_type: int, actor: Person, owner: Person, access: Access) -> dict:
    logon_type = 0 if actor is owner else access.non_owner_logon_type
    rec = _envelope(t, ts, rid, operation, record_type, "Exchange", actor.upn, actor.puid, 0)
    rec |= {
        "ResultStatus": "Succeeded", "ClientIP": access.client_ip, "UserId": actor.upn,
        "AppId": access.device.app_id, "ClientAppId": "", "ClientIPAddress": access.plain_ip,
        "ClientInfoString": access.device.client_info, "ExternalAccess": False,
        "InternalLogonType": logon_type, "LogonType": logon_type, "LogonUserSid": actor.sid,
        "MailboxGuid": owner.mailbox_guid, "MailboxOwnerSid": owner.sid,
        "MailboxOwnerUPN": owner.upn, "OrganizationName": t.onmicrosoft,
        "OriginatingServer": rng.choice(t.spec.servers),
        "SessionId": stable_guid(access.session, "exchange"),
        "AppAccessContext": {"AADSessionId": access.session,
                             "IssuedAtTime": iso(ts - timedelta(minutes=rng.randrange(2, 50))),
                             "UniqueTokenId": _token(rng, 16)},
    }
    return rec


def _message_id(t: Tenant, rng: random.Random) -> str:
    server = rng.choice(t.spec.servers).split(" ")[0]
    return f"<{rng.getrandbits(120):030X}@{server}.prod.outlook.com>"


def _folder(owner: Person, path: str) -> dict:
    return {"Id": "LgAAAA" + stable_guid(owner.mailbox_guid, path).replace("-", "").upper(),
            "Path": path}


def mail_item(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
              actor: Person, owner: Person, access: Access, subject: str, folder: str,
              modified: list[str] | None = None) -> dict:
    """A single-item mailbox record (RecordType 2): Send, SendAs, Create, Update."""
    rec = _mailbox(t, rng, ts, rid, operation, 2, actor, owner, access)
    rec["Item"] = {"Id": _exchange_id(rng, "RgAAAAD"), "InternetMessageId": _message_id(t, rng),
                   "IsRecord": False, "ParentFolder": _folder(owner, folder),
                   "SizeInBytes": rng.randrange(4_000, 90_000), "Subject": subject}
    if modified is not None:
        rec["ModifiedProperties"] = modified
    if operation == "SendAs":
        rec |= {"SendAsUserMailboxGuid": owner.mailbox_guid, "SendAsUserSmtp": owner.upn}
    return rec


def mail_group(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
               actor: Person, owner: Person, access: Access, subject: str,
               folder: str = "\\Inbox") -> dict:
    """A deletion record over items (RecordType 3): MoveToDeletedItems, SoftDelete, HardDelete."""
    rec = _mailbox(t, rng, ts, rid, operation, 3, actor, owner, access)
    rec |= {"AffectedItems": [{"Id": _exchange_id(rng, "RgAAAAD"),
                               "InternetMessageId": _message_id(t, rng),
                               "ParentFolder": _folder(owner, folder), "Subject": subject}],
            "CrossMailboxOperation": False, "Folder": _folder(owner, folder)}
    if operation == "MoveToDeletedItems":
        rec["DestFolder"] = _folder(owner, "\\Deleted Items")
    return rec


def mail_items_accessed(t: Tenant, rng: random.Random, ts: datetime, rid: str, actor: Person,
                        owner: Person, access: Access, bind_items: int = 0,
                        folder: str = "\\Inbox") -> dict:
    """A ``MailItemsAccessed`` record (RecordType 50): a Sync, or a Bind of ``bind_items`` items."""
    rec = _mailbox(t, rng, ts, rid, "MailItemsAccessed", 50, actor, owner, access)
    entry = _folder(owner, folder)
    if bind_items:
        entry["FolderItems"] = [{"InternetMessageId": _message_id(t, rng),
                                 "SizeInBytes": rng.randrange(6_000, 250_000)}
                                for _ in range(bind_items)]
    rec |= {"OperationProperties": [{"Name": "MailAccessType",
                                     "Value": "Bind" if bind_items else "Sync"},
                                    {"Name": "IsThrottled", "Value": "False"}],
            "Folders": [entry], "OperationCount": bind_items or 1}
    return rec


def sharepoint(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
               record_type: int, actor: Person, access: Access, site_url: str,
               relative: str = "", extra: dict | None = None) -> dict:
    """A SharePoint / OneDrive record; file operations when ``relative`` names a file."""
    workload = "OneDrive" if "-my.sharepoint.com" in site_url else "SharePoint"
    rec = _envelope(t, ts, rid, operation, record_type, workload, actor.sharepoint_id,
                    f"i:0h.f|membership|{actor.puid.lower()}@live.com", 0)
    object_id = f"{site_url}/{relative}" if relative else site_url
    rec |= {"ClientIP": access.plain_ip, "ObjectId": object_id, "UserId": actor.sharepoint_id,
            "CorrelationId": random_guid(rng), "EventSource": "SharePoint",
            "ItemType": "File" if relative else "Site", "Site": stable_guid(site_url, "site"),
            "UserAgent": access.device.user_agent, "WebId": stable_guid(site_url, "web"),
            "SiteUrl": site_url + "/",
            "AppAccessContext": {"AADSessionId": access.session,
                                 "CorrelationId": random_guid(rng),
                                 "UniqueTokenId": _token(rng, 16)}}
    if relative:
        folder, _, name = relative.rpartition("/")
        rec |= {"ListId": stable_guid(site_url, "list"), "ListItemUniqueId": random_guid(rng),
                "SourceFileExtension": name.rpartition(".")[2], "SourceFileName": name,
                "SourceRelativeUrl": folder}
    return rec | (extra or {})


# --------------------------------------------------------------------------------------------
# The planted story


@dataclass
class Planted:
    """One attacker record of the story, with what it shows and its ATT&CK technique(s)."""

    case: str
    record: dict
    what: str
    technique: str


BLOCK_WORDS = ("Exchange admin privilege;Global Administrator;AddMailboxPermission;"
               "Add Mailbox Permissions;Add-MailboxPermission;User at risk detected;Risky sign-in;"
               "Mailbox Permission Changed;High-severity alert;[REDACTED BANKING SUBJECT LINE]")
SPOOFING_WORDS = ("Exchange admin privilege;A user account has been created or modified;"
                  "Suspicious Inbox Rule;AddMailboxPermission;Add Mailbox Permissions;"
                  "Add-MailboxPermission;High-severity alert;InsightIDR Incident Alert;"
                  "Granted mailbox permission;New-InboxRule;{admin} ")


class Story:
    """Builds one tenant's planted attacker records with seed-stable ids."""

    def __init__(self, tenant: Tenant):
        self.t = tenant
        self.rng = random.Random(f"{tenant.seed}/{tenant.key}/story")
        self.steps: list[Planted] = []
        self.admin = tenant.person("CompromisedAdmin")
        self.target = tenant.person("TargetUser")

    def rid(self, key: str) -> str:
        """The stable record id of story step ``key``."""
        return stable_guid(self.t.seed, self.t.key, "story", key)

    def add(self, record: dict, what: str, technique: str) -> None:
        """Append one planted record."""
        self.steps.append(Planted(self.t.key, record, what, technique))

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

    def mailbox_abuse(self, when: str, access: Access, draft: str, sent: str,
                      deleted: tuple[str, str, str]) -> None:
        """Reading, writing, sending as and deleting in TargetUser's mailbox."""
        t, rng, admin, target = self.t, self.rng, self.admin, self.target
        self.add(mail_items_accessed(t, rng, at(when), self.rid("mail-read"), admin, target,
                                     access, bind_items=4),
                 "CompromisedAdmin reads 4 items in TargetUser's Inbox", "T1114.002")
        rec = mail_item(t, rng, at(plus(when, 240)), self.rid("mail-create"), "Create", admin,
                        target, access, draft, "\\Drafts")
        self.add(rec, f"draft '{draft}' created in TargetUser's mailbox", "T1114.002")
        rec = mail_item(t, rng, at(plus(when, 355)), self.rid("mail-update"), "Update", admin,
                        target, access, draft, "\\Drafts",
                        ["RecipientCollection", "Subject", "HtmlBody", "RtfBody", "TextBody"])
        self.add(rec, f"draft '{draft}' edited in TargetUser's mailbox", "T1114.002")
        rec = mail_item(t, rng, at(plus(when, 410)), self.rid("mail-sendas"), "SendAs", admin,
                        target, access, sent, "\\Sent Items")
        self.add(rec, f"'{sent}' sent as TargetUser", "T1114.002")
        for offset, (key, operation, subject) in enumerate(zip(
                ("delete-move", "delete-hard", "delete-soft"),
                ("MoveToDeletedItems", "HardDelete", "SoftDelete"), deleted)):
            rec = mail_group(t, rng, at(plus(when, 800 + offset * 130)), self.rid(key),
                             operation, admin, target, access, subject)
            self.add(rec, f"'{subject}' deleted from TargetUser's Inbox", "T1070.008")


def at(text: str) -> datetime:
    """A story timestamp from ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.fromisoformat(text)


def plus(text: str, seconds: int) -> str:
    """``text`` moved on by ``seconds``."""
    return (at(text) + timedelta(seconds=seconds)).isoformat(sep=" ")


def _story_a(s: Story) -> None:
    t = s.t
    original, admin, target = t.person("OriginalAdmin"), s.admin, s.target
    ip1, ip2, ip3 = ATTACKER_IPS
    s.create_account("create-admin", "2022-12-05 15:42:18", original, admin,
                     "CompromisedAdmin created by the tenant's original admin account")
    s.grant_global_admin("grant-admin", "2022-12-05 15:44:51", original, admin)
    s.sign_in("original-failed", "2023-01-31 21:07:33", original, ip3,
              "failed sign-in of the original admin account",
              ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("original-login", "2023-01-31 21:08:02", original, ip3,
              "original admin account signs in from a shared attacker IP")
    old = json_in_string({"PhoneNumber": "+1 6175550143", "AlternativePhoneNumber": None,
                          "Email": None, "VoiceOnlyPhoneNumber": None})
    new = old.replace("6175550143", "2025550186")
    s.add(directory_change(t, s.rng, at("2023-01-31 21:13:40"), s.rid("phone-change"),
                           "Update user.", original, target,
                           [prop("StrongAuthenticationUserDetails", new, old),
                            prop("MobilePhone", json_in_string("+1 202 555 0186"),
                                 json_in_string("+1 617 555 0143")),
                            prop("Included Updated Properties",
                                 "StrongAuthenticationUserDetails, MobilePhone"),
                            prop("TargetId.UserType", "Member")]),
          "TargetUser's MFA and mobile phone number replaced", "T1098")
    s.sign_in("admin-login-1", "2023-02-20 14:55:09", admin, ip1,
              "first CompromisedAdmin activity, 77 days after its creation")
    s.create_account("create-helpdesk", "2023-02-20 14:58:27", admin, t.person("NewHelpdesk"),
                     "CompromisedAdmin creates NewHelpdesk")
    s.mailbox_permissions("2023-02-20 15:03:44", f"{ip1}:53211")
    s.add(mail_items_accessed(t, s.rng, at("2023-02-20 15:21:05"), s.rid("mail-sync"), admin,
                              target, s.access(f"{ip1}:53228", "admin-login-1")),
          "CompromisedAdmin syncs TargetUser's Inbox", "T1114.002")
    s.spoof_allow("spoof-botasso", "2023-02-20 15:40:00", "botasso.cl", f"{ip1}:53240")
    s.sign_in("admin-login-2", "2023-02-21 13:12:40", admin, ip2,
              "CompromisedAdmin signs in from the Azure address")
    s.onedrive_takeover("2023-02-21 13:15:02", s.access(ip2, "admin-login-2"))
    exo = f"::ffff:{ip2}"
    redirect = ("RedirectMessageTo", admin.upn)
    s.transport_rule("rule-block-phishing", "2023-02-21 13:40:11", "New-TransportRule",
                     "Block Phishing",
                     (("ModerateMessageByUser", admin.upn), ("SubjectOrBodyContainsWords",
                                                            BLOCK_WORDS),
                      ("DeleteMessage", "False")), exo,
                     "alert mail held for moderation by CompromisedAdmin",
                     "T1114.003, T1564.008")
    s.transport_rule("rule-block-phishing-on", "2023-02-21 13:41:02", "Enable-TransportRule",
                     "Block Phishing", (), exo, "rule Block Phishing enabled")
    s.transport_rule("rule-display-name", "2023-02-21 13:52:37", "New-TransportRule",
                     "Display name spoofing",
                     (("SubjectOrBodyContainsWords", SPOOFING_WORDS.format(admin=admin.upn)),
                      ("DeleteMessage", "True"), ("RedirectMessageTo", ""), ("ExceptIfFrom", ""),
                      ("HeaderMatchesMessageHeader", ""), ("HeaderMatchesPatterns", "")), exo,
                     "alerts about the intrusion deleted in transport",
                     "T1114.003, T1070.008, T1564.008")
    s.transport_rule("rule-warn-audit", "2023-02-21 14:05:19", "Set-TransportRule",
                     "WarnAuditHigh-RiskPhishingPatterns",
                     (("SubjectOrBodyContainsWords", "Unusual sign-in activity;Suspicious sign-in;"
                                                     "Password reset"),
                      ("DeleteMessage", "True")), exo,
                     "existing rule edited to delete sign-in alerts",
                     "T1114.003, T1070.008, T1564.008")
    s.transport_rule("rule-copy-warn-audit", "2023-02-21 14:07:48", "New-TransportRule",
                     "Copy of WarnAuditHigh-RiskPhishingPatterns",
                     (("SubjectOrBodyContainsWords", "OnlineBanking;Online Banking;admin"),
                      redirect, ("DeleteMessage", "False")), exo,
                     "banking and admin mail redirected to CompromisedAdmin")
    s.transport_rule("rule-copy-warn-audit-on", "2023-02-21 14:08:30", "Enable-TransportRule",
                     "Copy of WarnAuditHigh-RiskPhishingPatterns", (), exo,
                     "rule Copy of WarnAuditHigh-RiskPhishingPatterns enabled")
    s.transport_rule("rule-banking", "2023-02-21 14:30:55", "New-TransportRule",
                     "[REDACTED // BANKING]",
                     (("HeaderContainsMessageHeader", "Subject"),
                      ("HeaderContainsWords", "OnlineBanking;Online Banking"), redirect), exo,
                     "banking mail redirected to CompromisedAdmin")
    for minute, (key, infra) in enumerate((("spoof-emailsrvr", "iad3a.emailsrvr.com"),
                                           ("spoof-continental", "continental-database.com"),
                                           ("spoof-ip", ip1))):
        s.spoof_allow(key, f"2023-02-21 14:4{5 + minute}:12", infra, exo)
    s.sign_in("admin-failed-1", "2023-02-22 16:02:11", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("admin-failed-2", "2023-02-22 16:02:49", admin, ip3,
              "failed CompromisedAdmin sign-in (account locked)", ("50053", "IdsLocked"))
    s.sign_in("admin-login-3", "2023-02-22 16:03:30", admin, ip3,
              "CompromisedAdmin signs in from the leased IPXO address")
    s.mailbox_abuse("2023-02-22 16:10:04", s.access(ip3, "admin-login-3"),
                    "[BANK NAME REDACTED] Passcode", "Accepted: [BANK NAME REDACTED] Passcode",
                    ("Microsoft 365 security: You have messages in quarantine",
                     "Reset your Online Banking password",
                     "Your account has been locked"))


def _story_b(s: Story) -> None:
    t = s.t
    original, admin, target = t.person("OriginalAdmin"), s.admin, s.target
    finance = t.person("FinanceUser")
    ip1, ip2, ip3 = ATTACKER_IPS
    s.create_account("create-admin", "2022-12-02 10:14:37", original, admin,
                     "CompromisedAdmin created by the tenant's original admin account")
    s.grant_global_admin("grant-admin", "2022-12-02 10:16:02", original, admin)
    s.sign_in("admin-failed-1", "2023-02-17 09:31:12", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"))
    s.sign_in("admin-failed-2", "2023-02-17 09:31:58", admin, ip3,
              "failed CompromisedAdmin sign-in", ("50126", "InvalidUserNameOrPassword"), "Failed")
    s.sign_in("admin-login-1", "2023-02-17 09:32:40", admin, ip3,
              "first CompromisedAdmin activity, 77 days after its creation")
    s.create_account("create-servicedesk", "2023-02-17 09:36:05", admin,
                     t.person("ServiceDesk2"), "CompromisedAdmin creates ServiceDesk2")
    s.mailbox_permissions("2023-02-17 09:41:19", f"{ip3}:49822")
    s.spoof_allow("spoof-botasso", "2023-02-17 09:55:31", "botasso.cl", f"{ip3}:49830")
    s.sign_in("admin-login-2", "2023-02-18 11:03:26", admin, ip1,
              "CompromisedAdmin signs in from the ioflood address")
    s.add(mail_items_accessed(t, s.rng, at("2023-02-18 11:10:44"), s.rid("mail-sync"), admin,
                              target, s.access(f"{ip1}:53211", "admin-login-2")),
          "CompromisedAdmin syncs TargetUser's Inbox", "T1114.002")
    exo = f"{ip1}:53260"
    redirect = ("RedirectMessageTo", admin.upn)
    rules = (
        ("rule-block-spoofing", "11:20:15", "Block Spoofing",
         (("ModerateMessageByUser", admin.upn), ("SubjectOrBodyContainsWords", BLOCK_WORDS),
          ("DeleteMessage", "False")),
         "alert mail held for moderation by CompromisedAdmin", "T1114.003, T1564.008"),
        ("rule-display-name", "11:28:40", "Display name spoofing",
         (("SubjectOrBodyContainsWords", SPOOFING_WORDS.format(admin=admin.upn)),
          ("DeleteMessage", "True"), ("RedirectMessageTo", ""), ("ExceptIfFrom", "")),
         "alerts about the intrusion deleted in transport", "T1114.003, T1070.008, T1564.008"),
        ("rule-bypass-spam", "11:35:02", "Bypass SPAM Filter",
         (("SenderDomainIs", "botasso.cl"), ("SetSCL", "-1"), ("DeleteMessage", "False")),
         "spam filtering switched off for the spoofing infrastructure", "T1114.003, T1562.001"),
        ("rule-compromise", "11:41:27", "[REDACTED] Compromise",
         (("SubjectOrBodyContainsWords", "compromise;compromised;suspicious activity;"
                                         "unusual sign-in"), ("DeleteMessage", "True")),
         "compromise warnings deleted in transport", "T1114.003, T1070.008, T1564.008"),
        ("rule-redirect-dc", "11:50:09", "redirect [REDACTED] email to DC",
         (("SubjectOrBodyContainsWords", "admin;OnlineBanking"), redirect),
         "admin and banking mail redirected to CompromisedAdmin", "T1114.003"),
        ("rule-escape", "11:58:33", "Junk cleanup\x1b[2J",
         (("SubjectOrBodyContainsWords", "Microsoft 365 security;quarantine"),
          ("DeleteMessage", "True")),
         "rule whose name carries a terminal escape (ESC [2J); quarantine notices deleted",
         "T1114.003, T1070.008, T1564.008"),
    )
    for key, clock, name, settings, what, technique in rules:
        s.transport_rule(key, f"2023-02-18 {clock}", "New-TransportRule", name, settings, exo,
                         what, technique)
    s.transport_rule("rule-block-spoofing-on", "2023-02-18 11:21:01", "Enable-TransportRule",
                     "Block Spoofing", (), exo, "rule Block Spoofing enabled")
    s.transport_rule("rule-redirect-dc-on", "2023-02-18 11:50:52", "Enable-TransportRule",
                     "redirect [REDACTED] email to DC", (), exo,
                     "rule redirect [REDACTED] email to DC enabled")
    s.sign_in("finance-failed", "2023-02-20 08:12:03", finance, ip2,
              "failed FinanceUser sign-in from the Azure address",
              ("50126", "InvalidUserNameOrPassword"))
    s.sign_in("finance-login", "2023-02-20 08:13:17", finance, ip2,
              "FinanceUser (second compromised account) signs in from the Azure address")
    s.add(mail_items_accessed(t, s.rng, at("2023-02-20 08:20:41"), s.rid("finance-mail-read"),
                              finance, finance, s.access(f"::ffff:{ip2}", "finance-login"),
                              bind_items=6),
          "FinanceUser's own mailbox read from the attacker address", "T1114.002")
    s.sign_in("admin-login-3", "2023-02-21 19:44:50", admin, ip2,
              "CompromisedAdmin signs in from the Azure address")
    s.onedrive_takeover("2023-02-21 19:50:13", s.access(ip2, "admin-login-3"))
    s.mailbox_abuse("2023-02-22 20:05:38", s.access(f"::ffff:{ip2}", "admin-login-3"),
                    "Wire details", "RE: Wire details [bold red]x[/]",
                    ("Microsoft 365 security: You have messages in quarantine",
                     "Reset your Online Banking password",
                     "Your password has been reset"))


def planted_steps(tenant: str, seed: int = SEED) -> list[Planted]:
    """The attacker records of case ``tenant`` (``a`` or ``b``), in time order."""
    story = Story(build_tenant(tenant, seed))
    (_story_a if tenant == "a" else _story_b)(story)
    return sorted(story.steps, key=lambda step: step.record["CreationTime"])


# --------------------------------------------------------------------------------------------
# Benign background


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


# --------------------------------------------------------------------------------------------
# Streams of records


def _sort_key(record: dict) -> tuple[str, str]:
    return record["CreationTime"], record["Id"]


class RecordStream:
    """All records of one tenant, produced a day at a time; ``len()`` is known up front."""

    def __init__(self, tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False):
        self.t = build_tenant(tenant, seed)
        background = BACKGROUND_EVENTS[tenant] if background is None else background
        story = [step.record for step in planted_steps(tenant, seed)]
        script = [item.record for item in benign_script(self.t)][:background]
        self.fixed: dict[str, list[dict]] = {}
        for record in story + script:
            self.fixed.setdefault(record["CreationTime"][:10], []).append(record)
        self.counts = allocate(background - len(script), self.t)
        self.newest_first = newest_first
        self.total = background + len(story)

    def __len__(self) -> int:
        return self.total

    def __iter__(self) -> Iterator[dict]:
        for day in self.days():
            yield from self.day_records(day)

    def days(self) -> list[date]:
        """The days in output order."""
        days = export_days()
        return days[::-1] if self.newest_first else days

    def day_size(self, day: date) -> int:
        """How many records ``day`` holds."""
        return self.counts[day] + len(self.fixed.get(day.isoformat(), ()))

    def day_records(self, day: date) -> list[dict]:
        """The records of ``day`` in output order."""
        records = background_day(self.t, day, self.counts[day])
        records += self.fixed.get(day.isoformat(), [])
        records.sort(key=_sort_key, reverse=self.newest_first)
        return records


def iter_records(tenant: str = "a", background: int | None = None, seed: int = SEED,
                 newest_first: bool = False) -> RecordStream:
    """A stream of ``background`` benign records plus the planted story of ``tenant``."""
    return RecordStream(tenant, background, seed, newest_first)


def generate_case(tenant: str, seed: int = SEED, background: int | None = None) -> list[dict]:
    """Every record of case ``tenant`` (``a`` or ``b``) in time order."""
    return list(iter_records(tenant, background, seed))


# --------------------------------------------------------------------------------------------
# Writers


def purview_date(ts: str) -> str:
    """Purview's ``CreationDate``: ``2023-02-21T14:03:11.0000000Z``."""
    return f"{ts}.0000000Z"


def legacy_date(ts: str) -> str:
    """Search-UnifiedAuditLog's ``CreationDate`` in en-US form: ``2/21/2023 2:03:11 PM``."""
    dt = datetime.fromisoformat(ts)
    hour = dt.hour % 12 or 12
    return (f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt.minute:02d}:{dt.second:02d} "
            f"{'PM' if dt.hour >= 12 else 'AM'}")


def record_type_name(record: dict) -> str:
    """The RecordType name a CSV export shows (the number when unknown)."""
    return RECORD_TYPES.get(record["RecordType"], str(record["RecordType"]))


def purview_row(record: dict) -> list[str]:
    """One row of a Purview audit search CSV export."""
    return [record["Id"], purview_date(record["CreationTime"]), record_type_name(record),
            record["Operation"], record["UserId"], to_json(record), "", ""]


def graph_record(record: dict) -> dict:
    """``record`` wrapped as a Microsoft Graph ``auditLogRecord``."""
    data_type = GRAPH_AUDIT_DATA_TYPES.get(record["RecordType"], "defaultAuditData")
    client_ip = record.get("ClientIP") or record.get("ActorIpAddress") or ""
    return {
        "id": record["Id"], "createdDateTime": record["CreationTime"] + "Z",
        "auditLogRecordType": record_type_name(record)[0].lower() + record_type_name(record)[1:],
        "operation": record["Operation"], "organizationId": record["OrganizationId"],
        "userType": GRAPH_USER_TYPES[record["UserType"]], "userId": record["UserId"],
        "service": record["Workload"], "objectId": record.get("ObjectId", ""),
        "userPrincipalName": record["UserId"], "clientIp": client_ip, "administrativeUnits": [],
        "auditData": {"@odata.type": f"#microsoft.graph.security.{data_type}", **record},
    }


_NEEDS_QUOTES = re.compile(r'[,"\r\n]')


def csv_line(fields: Iterable[object], quote_all: bool = False) -> str:
    """One RFC 4180 line (CRLF), quoting fields that need it (or all of them)."""
    out = []
    for value in fields:
        text = str(value)
        if quote_all or _NEEDS_QUOTES.search(text):
            text = '"' + text.replace('"', '""') + '"'
        out.append(text)
    return ",".join(out) + "\r\n"


def _jsonl_row(record: dict, index: int, total: int) -> str:
    return to_json(record) + "\n"


def _json_row(record: dict, index: int, total: int) -> str:
    return to_json(record)


def _graph_row(record: dict, index: int, total: int) -> str:
    return to_json(graph_record(record))


def _purview_row(record: dict, index: int, total: int) -> str:
    return csv_line(purview_row(record))


_RUNSPACE = stable_guid("runspace")


def _legacy_row(r: dict, index: int, total: int) -> str:
    return csv_line([_RUNSPACE, record_type_name(r), legacy_date(r["CreationTime"]), r["UserId"],
                     r["Operation"], to_json(r), index, total, r["Id"], "True", "Unchanged"],
                    quote_all=True)


@dataclass(frozen=True)
class Shape:
    """How a format frames records: ``head``, rows joined by ``sep``, ``tail``.

    ``row(record, index, total)`` gets the 1-based position and the record count.
    """

    head: str
    row: Callable[[dict, int, int], str]
    sep: str = ""
    tail: str = ""


_GRAPH_CONTEXT = ("https://graph.microsoft.com/beta/$metadata#security/auditLog/"
                  f"queries('{stable_guid('graph-query')}')/records")
SHAPES = {
    "jsonl": Shape("", _jsonl_row),
    "purview-csv": Shape("\ufeff" + csv_line(PURVIEW_HEADER), _purview_row),
    "legacy-csv": Shape(csv_line(LEGACY_HEADER, quote_all=True), _legacy_row),
    "mgmt-json": Shape("[\n", _json_row, ",\n", "\n]\n"),
    "graph-json": Shape(f'{{"@odata.context":{to_json(_GRAPH_CONTEXT)},"value":[\n', _graph_row,
                        ",\n", "\n]}\n"),
}


def _shape(fmt: str) -> Shape:
    if fmt not in SHAPES:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return SHAPES[fmt]


@contextlib.contextmanager
def _atomic_open(path: str | Path) -> Iterator[TextIO]:
    """A UTF-8 text file (no newline translation) that replaces ``path`` only when complete."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            yield fh
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_chunks(path: str | Path, shape: Shape, chunks: Iterable[str]) -> None:
    """Write ``head``, the non-empty ``chunks`` joined by ``sep`` and ``tail``, atomically."""
    with _atomic_open(path) as fh:
        fh.write(shape.head)
        sep = ""
        for chunk in chunks:
            if chunk:
                fh.write(sep)
                fh.write(chunk)
                sep = shape.sep
        fh.write(shape.tail)


def write(records: Iterable[dict], fmt: str, path: str | Path) -> None:
    """Write ``records`` to ``path`` in shape ``fmt`` (one of ``FORMATS``), atomically.

    ``legacy-csv`` needs ``len(records)`` (its ResultCount column): pass a list or a RecordStream.
    """
    shape = _shape(fmt)
    total = len(records) if fmt == "legacy-csv" else 0  # type: ignore[arg-type]
    _write_chunks(path, shape, (shape.row(r, i, total) for i, r in enumerate(records, start=1)))


_WORKER: tuple[RecordStream, Shape] | None = None


def _init_worker(stream: RecordStream, shape: Shape) -> None:
    global _WORKER
    _WORKER = (stream, shape)


def _day_chunk(task: tuple[date, int]) -> str:
    """One day of the worker's stream serialised, its rows numbered from ``task[1]``."""
    assert _WORKER is not None
    stream, shape = _WORKER
    day, first = task
    return shape.sep.join(shape.row(r, i, stream.total)
                          for i, r in enumerate(stream.day_records(day), start=first))


def write_stream(stream: RecordStream, fmt: str, path: str | Path, jobs: int = 1) -> None:
    """Write ``stream`` like ``write``, serialising days in ``jobs`` processes (same bytes)."""
    shape = _shape(fmt)
    tasks, first = [], 1
    for day in stream.days():
        tasks.append((day, first))
        first += stream.day_size(day)
    if jobs <= 1:
        _init_worker(stream, shape)
        _write_chunks(path, shape, map(_day_chunk, tasks))
        return
    with multiprocessing.get_context("fork").Pool(jobs, _init_worker, (stream, shape)) as pool:
        _write_chunks(path, shape, pool.imap(_day_chunk, tasks))


# --------------------------------------------------------------------------------------------
# The committed samples


def split_case_b(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Case B as two overlapping exports: (Management API records, Graph query records).

    The Graph query holds the Exchange admin records of ``GRAPH_WINDOW``; every third of them is
    missing from the Management API export, the rest are in both.
    """
    start, end = (iso(ts) for ts in GRAPH_WINDOW)
    graph = [r for r in records if r["RecordType"] == 1 and start <= r["CreationTime"] <= end]
    graph_only = {r["Id"] for r in graph[2::3]}
    return [r for r in records if r["Id"] not in graph_only], graph


def broken_rows(seed: int = SEED) -> tuple[str, list[tuple[int, str]]]:
    """The text of ``broken/broken_rows.csv`` and (line, problem) for each bad line."""
    t = build_tenant("a", seed)
    rng = random.Random(f"{seed}/broken")
    person = t.person("SalesUser1")
    access = Access(t.office_ip, random_guid(rng), person.desktop)

    def login(minute: int) -> dict:
        return sts_logon(t, rng, datetime(2023, 2, 21, 14, minute, 5), random_guid(rng), person,
                         t.office_ip, access.session, person.desktop)

    broken_json, unknown_type, no_time, empty = (purview_row(login(m)) for m in (2, 3, 4, 5))
    broken_json[5] = broken_json[5][:180]
    record = json.loads(unknown_type[5]) | {"RecordType": 99999,
                                            "Operation": "FutureWorkloadEvent"}
    unknown_type[2:4], unknown_type[5] = ["99999", "FutureWorkloadEvent"], to_json(record)
    record = json.loads(no_time[5])
    del record["CreationTime"]
    no_time[1], no_time[5] = "", to_json(record)
    empty[5] = ""
    read = mail_items_accessed(t, rng, datetime(2023, 2, 21, 14, 7, 40), random_guid(rng),
                               person, person, access)
    rows = [(purview_row(login(1)), ""),
            (broken_json, "AuditData is broken JSON (cut off mid-object)"),
            (unknown_type, "unknown RecordType 99999 (column and AuditData); otherwise valid: "
                           "should load"),
            (no_time, "AuditData has no CreationTime and CreationDate is empty"),
            (empty, "AuditData cell is empty"),
            (purview_row(login(6)), ""), (purview_row(read), "")]
    problems = [(line, problem) for line, (_, problem) in enumerate(rows, start=2) if problem]
    problems.append((len(rows) + 2, "truncated last line: unterminated quote, no final newline"))
    last = csv_line(purview_row(login(9)))
    text = "".join(csv_line(row) for row in [PURVIEW_HEADER, *(row for row, _ in rows)])
    return "\ufeff" + text + last[: len(last) // 2], problems


def write_samples(out_dir: str | Path | None = None, seed: int = SEED) -> dict[str, int]:
    """Regenerate every committed sample file (and the README) under ``out_dir``.

    Returns the number of data rows per written file, keyed by path relative to ``out_dir``.
    """
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    for sub in ("case-a", "case-b", "broken"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    case_a = generate_case("a", seed)
    case_b = generate_case("b", seed)
    mgmt, graph = split_case_b(case_b)
    write(sorted(case_a, key=_sort_key, reverse=True), "purview-csv",
          out / "case-a/purview_audit_export.csv")
    write(mgmt, "jsonl", out / "case-b/management_api.jsonl")
    write(graph, "graph-json", out / "case-b/graph_audit_query.json")
    broken_text, problems = broken_rows(seed)
    with _atomic_open(out / "broken/broken_rows.csv") as fh:
        fh.write(broken_text)
    rows = {"case-a/purview_audit_export.csv": len(case_a),
            "case-b/management_api.jsonl": len(mgmt),
            "case-b/graph_audit_query.json": len(graph),
            "broken/broken_rows.csv": len(broken_text.split("\r\n")) - 1}
    with _atomic_open(out / "README.md") as fh:
        fh.write(render_readme(seed, rows, {"a": case_a, "b": case_b}, mgmt, graph, problems))
    return rows


# --------------------------------------------------------------------------------------------
# README


def _cell(text: object) -> str:
    """Markdown table cell text: pipes escaped, control characters shown as escapes."""
    out = str(text).replace("|", "\\|")
    return "".join(f"\\u{ord(ch):04x}" if ord(ch) < 32 else ch for ch in out)


def _table(header: list[str], rows: Iterable[list[object]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return lines


def _span(records: list[dict]) -> str:
    times = [r["CreationTime"] for r in records]
    return f"{min(times)} .. {max(times)}"


def render_readme(seed: int, rows: dict[str, int], cases: dict[str, list[dict]],
                  mgmt: list[dict], graph: list[dict], problems: list[tuple[int, str]]) -> str:
    """The sample_logs README, generated so that every id in it matches the files."""
    tenants = {key: build_tenant(key, seed) for key in ("a", "b")}
    mgmt_ids = {r["Id"] for r in mgmt}
    graph_ids = {r["Id"] for r in graph}
    overlap = len(graph_ids & mgmt_ids)
    lines = [
        "# Sample logs",
        "",
        "Synthetic Microsoft 365 unified audit logs of the reference case: one actor attacking two",
        "tenants the way the Sophos X-Ops article \"Investigator, API Yourself\" describes, inside",
        "benign background activity. Written by `python sample_logs/generate.py` (seed "
        f"{seed}); do not edit by hand: change the generator and run it again. This README is "
        "generated too.",
        "",
        "## Files",
        "",
    ]
    lines += _table(["file", "format", "tenant", "records", "time range (UTC)", "notes"], [
        ["case-a/purview_audit_export.csv", "Purview audit search CSV export", "A (example.com)",
         rows["case-a/purview_audit_export.csv"], _span(cases["a"]),
         "UTF-8 with BOM, CRLF, RFC 4180, AuditData JSON in one quoted field, newest first"],
        ["case-b/management_api.jsonl", "Management Activity API, JSON Lines", "B (example.net)",
         rows["case-b/management_api.jsonl"], _span(mgmt),
         "one AuditData object per line, LF, oldest first"],
        ["case-b/graph_audit_query.json", "Microsoft Graph audit log query result",
         "B (example.net)", rows["case-b/graph_audit_query.json"], _span(graph),
         f"Exchange admin records from {iso(GRAPH_WINDOW[0])[:10]}; {overlap} of them are also "
         f"in management_api.jsonl (same id), {len(graph_ids - mgmt_ids)} only here"],
        ["broken/broken_rows.csv", "Purview CSV with bad rows", "A", rows["broken/broken_rows.csv"],
         "2023-02-21", "see below"],
    ])
    lines += ["", "Case B's full story needs both of its files: the Graph query holds records the "
              "Management API export lacks, and repeats others (deduplicate on the record id).",
              "", "## Tenants", ""]
    lines += _table(["case", "domain", "OrganizationId", "time zone of staff", "staff"], [
        [f"case-{k}", t.spec.domain, t.org_id, f"UTC{t.spec.utc_offset:+d}", len(t.spec.staff)]
        for k, t in tenants.items()])
    lines += [
        "",
        "Accounts that matter: `CompromisedAdmin@` (attacker-created Global Administrator),",
        "`TargetUser@` (victim mailbox and OneDrive), `admin@<tenant>.onmicrosoft.com` (the",
        "tenant's original admin account, compromised before the logs begin), `FinanceUser@`",
        "(case B: second compromised account), `NewHelpdesk@example.com` / `ServiceDesk2@example.net`",
        "(created by the attacker), `ITAdmin@` and `HelpdeskAdmin@` (the real admins),",
        "`reception@example.com` / `accounts@example.net` (shared mailboxes).",
        "",
        "The attacker's three shared addresses are " + ", ".join(f"`{ip}`" for ip in ATTACKER_IPS)
        + ". The attacker always uses Firefox 110 on Windows (no staff member does).",
        "",
        "## Planted attacker steps",
        "",
        "Every attacker record in the samples, and nothing else. Techniques follow the article;",
        "T1562.001 is not in the Office Suite matrix v18.1 (its parent T1562 is).",
        "",
    ]
    story_rows = []
    for key in ("a", "b"):
        for step in planted_steps(key, seed):
            r = step.record
            if key == "a":
                where = "purview_audit_export.csv"
            else:
                where = " + ".join(name for name, ids in (("management_api.jsonl", mgmt_ids),
                                                          ("graph_audit_query.json", graph_ids))
                                   if r["Id"] in ids)
            story_rows.append([f"case-{key}", r["CreationTime"].replace("T", " "), r["Id"],
                               r["UserId"], r["Operation"], step.what, step.technique, where])
    lines += _table(["case", "time (UTC)", "record id", "user", "operation", "what it shows",
                     "ATT&CK", "file"], story_rows)
    lines += ["", "## Benign look-alikes", "",
              "Routine records that resemble attack steps; a hunt that flags them needs a reason.",
              ""]
    lines += _table(["case", "time (UTC)", "record id", "user", "operation", "why it is benign"],
                    [[f"case-{k}", b.record["CreationTime"].replace("T", " "), b.record["Id"],
                      b.record["UserId"], b.record["Operation"], b.why]
                     for k, t in tenants.items() for b in benign_script(t)])
    lines += [
        "",
        "Also in the background: delegates reading the shared mailbox (LogonType 2), staff",
        "deleting their own newsletters (LogonType 0), system accounts (`NT AUTHORITY\\SYSTEM`,",
        "service principals) changing mailboxes and users, one failed sign-in now and then.",
        "",
        "## Broken rows (`broken/broken_rows.csv`)",
        "",
        "Line numbers count the header as line 1; every record is one line. Lines not listed are "
        "good records.",
        "",
    ]
    lines += _table(["line", "problem"], [[line, problem] for line, problem in problems])
    lines += [
        "",
        "## Quirks kept on purpose (as in real exports)",
        "",
        "- `ResultStatus` varies: `Success`, `Succeeded`, `Failed`, `True`; some `UserLoginFailed` "
        "say `Success`.",
        "- Client IP shapes: `1.2.3.4`, `1.2.3.4:53211`, `::ffff:1.2.3.4`, `[2601:…]:51234`, bare "
        "IPv6, empty, `<null>`.",
        "- User case differs by workload: `TargetUser@example.com` in Azure AD and Exchange,",
        "  `targetuser@example.com` in SharePoint. One joiner is created with `Add User.`.",
        "- Exchange mailbox `Update` records list ModifiedProperties as plain strings; directory",
        "  records as `{Name, NewValue, OldValue}` with JSON-in-string values.",
        "- Mailbox LogonType: 0 owner, 1 admin (the attacker, a Global Admin with FullAccess), 2",
        "  delegate (staff on the shared mailbox).",
        "- Graph `auditData` carries an `@odata.type` member the other shapes lack.",
        "- Exchange mailbox records have both `SessionId` (Exchange's) and",
        "  `AppAccessContext.AADSessionId` (the sign-in's `DeviceProperties` `SessionId`).",
        "",
        "## Benchmark files",
        "",
        "```",
        "python sample_logs/generate.py --events 1000000 --format purview-csv --out /tmp/big.csv",
        "```",
        "",
        "writes N background events plus case A's story (`--tenant b` for case B, `--seed N`) in",
        f"one of: {', '.join(FORMATS)}. Rows are streamed a day at a time.",
        "",
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: list[str] | None = None) -> int:
    """Regenerate the committed samples, or write one benchmark file with ``--events``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, help="background events of a benchmark file")
    parser.add_argument("--format", choices=FORMATS, help="shape of the benchmark file")
    parser.add_argument("--out", type=Path, help="benchmark file to write")
    parser.add_argument("--tenant", choices=("a", "b"), default="a",
                        help="whose story the benchmark file holds (default a)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes serialising a benchmark file (default: one per CPU)")
    parser.add_argument("--out-dir", type=Path,
                        help="where to regenerate the samples (default: beside this script)")
    args = parser.parse_args(argv)
    if args.events is None:
        for path, count in write_samples(args.out_dir, args.seed).items():
            print(f"{path}: {count} records")
        return 0
    if args.format is None or args.out is None or args.events < 0:
        parser.error("--events N needs --format and --out (and N >= 0)")
    newest_first = args.format in ("purview-csv", "legacy-csv")
    stream = iter_records(args.tenant, args.events, args.seed, newest_first)
    write_stream(stream, args.format, args.out, args.jobs)
    print(f"{args.out}: {len(stream)} records ({args.events} background + "
          f"{len(stream) - args.events} planted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
