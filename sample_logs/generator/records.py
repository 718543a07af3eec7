"""Provides the record builders: one unified-audit-log AuditData object each, with the fields real
records of that kind carry."""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from .ids import random_guid, stable_guid
from .tenants import Device, Person, Tenant


def _token(rng: random.Random, nbytes: int) -> str:
    return base64.urlsafe_b64encode(rng.randbytes(nbytes)).decode().rstrip("=")


def _exchange_id(rng: random.Random, prefix: str) -> str:
    return prefix + base64.b64encode(rng.randbytes(45)).decode()


def iso(ts: datetime) -> str:
    """``CreationTime`` format: ISO 8601 without zone (UTC)."""
    return ts.isoformat(timespec="seconds")


def _envelope(t: Tenant, ts: datetime, rid: str, operation: str, record_type: int, workload: str,
              user_key: str, user_type: int) -> dict:
    return {"CreationTime": iso(ts), "Id": rid, "Operation": operation,
            "OrganizationId": t.org_id, "RecordType": record_type, "UserKey": user_key,
            "UserType": user_type, "Version": 1, "Workload": workload}


def sts_logon(t: Tenant, rng: random.Random, ts: datetime, rid: str, person: Person, ip: str,
              session: str, device: Device, error: tuple[str, str] | None = None,
              result_status: str = "Success") -> dict:
    """A ``UserLoggedIn`` record, or ``UserLoginFailed`` when ``error`` is (number, LogonError)."""
    failed = error is not None
    rec = _envelope(t, ts, rid, "UserLoginFailed" if failed else "UserLoggedIn", 15,
                    "AzureActiveDirectory", person.object_id, 0)
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
    rec = _envelope(t, ts, rid, operation, 8, "AzureActiveDirectory", user_key, user_type)
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
        rec = _envelope(t, ts, rid, operation, 1, "Exchange", actor.puid, 2)
        rec |= {"ResultStatus": "True", "ClientIP": client_ip, "ObjectId": object_id,
                "UserId": actor.upn, "AppId": app_id, "ClientAppId": "", "ExternalAccess": False}
    else:
        rec = _envelope(t, ts, rid, operation, 1, "Exchange", actor, 3)
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
    rec = _envelope(t, ts, rid, operation, record_type, "Exchange", actor.puid, 0)
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
              modified: list[str] | None = None, message: tuple[str, int] | None = None) -> dict:
    """A single-item mailbox record (RecordType 2): Send, SendAs, Create, Update.

    ``message`` is the item's (InternetMessageId, SizeInBytes) when it must match other records or
    the message trace; else both are drawn from ``rng``.
    """
    rec = _mailbox(t, rng, ts, rid, operation, 2, actor, owner, access)
    item_id = _exchange_id(rng, "RgAAAAD")
    message_id, size = message if message else (_message_id(t, rng), rng.randrange(4_000, 90_000))
    rec["Item"] = {"Id": item_id, "InternetMessageId": message_id,
                   "IsRecord": False, "ParentFolder": _folder(owner, folder),
                   "SizeInBytes": size, "Subject": subject}
    if modified is not None:
        rec["ModifiedProperties"] = modified
    if operation == "SendAs":
        rec |= {"SendAsUserMailboxGuid": owner.mailbox_guid, "SendAsUserSmtp": owner.upn}
    return rec


def mail_group(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
               actor: Person, owner: Person, access: Access, subject: str,
               message_id: str | None = None) -> dict:
    """An Inbox deletion record (RecordType 3): MoveToDeletedItems, SoftDelete, HardDelete."""
    rec = _mailbox(t, rng, ts, rid, operation, 3, actor, owner, access)
    inbox = _folder(owner, "\\Inbox")
    item_id = _exchange_id(rng, "RgAAAAD")
    rec |= {"AffectedItems": [{"Id": item_id,
                               "InternetMessageId": message_id or _message_id(t, rng),
                               "ParentFolder": inbox, "Subject": subject}],
            "CrossMailboxOperation": False, "Folder": inbox}
    if operation == "MoveToDeletedItems":
        rec["DestFolder"] = _folder(owner, "\\Deleted Items")
    return rec


def mail_items_accessed(t: Tenant, rng: random.Random, ts: datetime, rid: str, actor: Person,
                        owner: Person, access: Access, bind_items: int = 0,
                        folders: list[tuple[str, list[tuple[str, int]]]] | None = None,
                        throttled: bool = False) -> dict:
    """A ``MailItemsAccessed`` record (RecordType 50): a Sync of the Inbox, or a Bind of items.

    ``bind_items`` random Inbox items, or ``folders`` as (path, [(InternetMessageId, size)]): a Bind
    of those items (a folder with no items names the folder only, as a throttled record does).
    ``throttled`` sets ``IsThrottled``: Exchange stops recording the mailbox's MailItemsAccessed for
    24 hours after this record.
    """
    rec = _mailbox(t, rng, ts, rid, "MailItemsAccessed", 50, actor, owner, access)
    if folders is None:
        entry = _folder(owner, "\\Inbox")
        if bind_items:
            entry["FolderItems"] = [{"InternetMessageId": _message_id(t, rng),
                                     "SizeInBytes": rng.randrange(6_000, 250_000)}
                                    for _ in range(bind_items)]
        entries, bind, count = [entry], bool(bind_items), bind_items or 1
    else:
        entries = []
        for path, items in folders:
            entry = _folder(owner, path)
            if items:
                entry["FolderItems"] = [{"InternetMessageId": mid, "SizeInBytes": size}
                                        for mid, size in items]
            entries.append(entry)
        bind, count = True, max(1, sum(len(items) for _, items in folders))
    rec |= {"OperationProperties": [{"Name": "MailAccessType", "Value": "Bind" if bind else "Sync"},
                                    {"Name": "IsThrottled", "Value": str(throttled)}],
            "Folders": entries, "OperationCount": count}
    return rec


def search_query(t: Tenant, rng: random.Random, ts: datetime, rid: str, actor: Person,
                 owner: Person, access: Access, text: str, source: str = "Owa") -> dict:
    """A ``SearchQueryInitiatedExchange`` record (RecordType 101, ExchangeSearch): the search text
    typed in Outlook (``QueryText``) and which Outlook it came from (``QuerySource``)."""
    rec = _mailbox(t, rng, ts, rid, "SearchQueryInitiatedExchange", 101, actor, owner, access)
    rec |= {"QueryText": text, "QuerySource": source,
            "SearchResponseId": random_guid(rng).upper()}
    return rec


def sharepoint(t: Tenant, rng: random.Random, ts: datetime, rid: str, operation: str,
               record_type: int, actor: Person, access: Access, site_url: str,
               relative: str = "", extra: dict | None = None) -> dict:
    """A SharePoint / OneDrive record; file operations when ``relative`` names a file."""
    workload = "OneDrive" if "-my.sharepoint.com" in site_url else "SharePoint"
    rec = _envelope(t, ts, rid, operation, record_type, workload,
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
