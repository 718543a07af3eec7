"""Provides the export shapes of the Entra ID records and the writer of the committed Entra samples.

Shapes (field names and layout from Microsoft's documentation of each; see sample_logs/README.md):
- the Entra admin center's sign-in log *Download* as CSV (display-name headers), interactive and
  non-interactive user sign-ins in separate files;
- Microsoft Graph ``GET /v1.0/auditLogs/directoryAudits`` response pages (``@odata.context``,
  ``value``, ``@odata.nextLink``), two pages appended in one file;
- Azure Monitor diagnostic-setting records as a storage account holds them (``PT1H.json``: one JSON
  record per line; ``time``, ``category``, ``tenantId``, ``properties`` ...), one file per category:
  SignInLogs, NonInteractiveUserSignInLogs, AuditLogs;
- a Log Analytics portal CSV export of a ``SigninLogs`` query (``TimeGenerated [UTC]``, dynamic
  columns as JSON text).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .entra import Audit, EntraCase, SignIn, build_entra
from .ids import stable_guid
from .writers import atomic_open, csv_line

DOWNLOAD_HEADER = [
    "Date (UTC)", "Request ID", "User agent", "Correlation ID", "User ID", "User", "Username",
    "User type", "Cross tenant access type", "Incoming token type", "Authentication Protocol",
    "Unique token identifier", "Original transfer method", "Client credential type",
    "Token Protection - Sign In Session", "Token Protection - Sign In Session StatusCode",
    "Application", "Application ID ", "Resource", "Resource ID ", "Resource tenant ID",
    "Home tenant ID", "Home tenant name", "IP address", "Location", "Status", "Sign-in error code",
    "Failure reason", "Client app", "Device ID", "Browser", "Operating System", "Compliant",
    "Managed", "Join Type", "Multifactor authentication result",
    "Multifactor authentication auth method", "Multifactor authentication auth detail",
    "Authentication requirement", "Sign-in identifier", "Session ID",
    "IP address (seen by resource)", "Through Global Secure Access",
    "Global Secure Access IP address", "Autonomous system  number", "Flagged for review",
    "Token issuer type", "Incoming token type", "Token issuer name", "Latency", "Conditional Access",
    "Managed Identity type", "Associated Resource Id", "Federated Token Id", "Federated Token Issuer",
]
LA_SIGNIN_HEADER = [
    "TenantId", "SourceSystem", "TimeGenerated [UTC]", "ResourceId", "OperationName",
    "OperationVersion", "Category", "ResultType", "ResultSignature", "ResultDescription",
    "DurationMs", "CorrelationId", "Resource", "ResourceGroup", "ResourceProvider", "Identity",
    "Level", "Location", "AlternateSignInName", "AppDisplayName", "AppId",
    "AuthenticationContextClassReferences", "AuthenticationDetails", "AuthenticationMethodsUsed",
    "AuthenticationProcessingDetails", "AuthenticationRequirement",
    "AuthenticationRequirementPolicies", "ClientAppUsed", "ConditionalAccessPolicies",
    "ConditionalAccessStatus", "CreatedDateTime [UTC]", "DeviceDetail", "IsInteractive", "Id",
    "IPAddress", "IsRisky", "LocationDetails", "MfaDetail", "NetworkLocationDetails",
    "OriginalRequestId", "ProcessingTimeInMilliseconds", "RiskDetail", "RiskEventTypes",
    "RiskEventTypes_V2", "RiskLevelAggregated", "RiskLevelDuringSignIn", "RiskState",
    "ResourceDisplayName", "ResourceIdentity", "ResourceServicePrincipalId", "ServicePrincipalId",
    "ServicePrincipalName", "Status", "TokenIssuerName", "TokenIssuerType", "UserAgent",
    "UserDisplayName", "UserId", "UserPrincipalName", "AADTenantId", "UserType",
    "FlaggedForReview", "IPAddressFromResourceProvider", "SignInIdentifier", "SignInIdentifierType",
    "ResourceTenantId", "HomeTenantId", "UniqueTokenIdentifier", "SessionLifetimePolicies",
    "AutonomousSystemNumber", "AuthenticationProtocol", "CrossTenantAccessType",
    "AppliedEventListeners", "RiskLevel", "SessionId", "Type",
]
# What the admin center shows for Graph's enum values.
_SHOWN = {"none": "None", "refreshToken": "Refresh Token", "oAuth2": "OAuth 2.0",
          "success": "Success", "failure": "Failure", "notApplied": "Not Applied",
          "singleFactorAuthentication": "Single-factor authentication",
          "multiFactorAuthentication": "Multifactor authentication"}
_COMPACT = (",", ":")
AAD_RESOURCE = "/tenants/{org}/providers/Microsoft.aadiam"
# Case B's Log Analytics export: the SigninLogs query window; the storage account lacks one blob.
LA_WINDOW = (datetime(2023, 2, 15), datetime(2023, 2, 24, 23, 59, 59))
MISSING_BLOB_HOUR = datetime(2023, 2, 20, 8)
GRAPH_PAGE_SIZE = 40


def _json(value: object) -> str:
    return json.dumps(value, separators=_COMPACT, ensure_ascii=False)


def _iso(s: SignIn, suffix: str = "Z") -> str:
    return f"{s.when.isoformat()}.{s.fraction:07d}{suffix}"


def graph_sign_in(s: SignIn, offset_time: bool = False) -> dict:
    """The sign-in as a Microsoft Graph (beta) ``signIn`` object; Azure Monitor's ``properties``
    write ``createdDateTime`` with a ``+00:00`` offset (``offset_time``)."""
    code, reason, details = s.status
    method, detail = s.mfa_detail
    return {
        "id": s.id, "createdDateTime": _iso(s, "+00:00" if offset_time else "Z"),
        "userDisplayName": s.display_name, "userPrincipalName": s.user_principal_name,
        "userId": s.person.object_id, "appId": s.app.id, "appDisplayName": s.app.name,
        "ipAddress": s.ip, "ipAddressFromResourceProvider": None,
        "status": {"errorCode": code, "failureReason": reason, "additionalDetails": details},
        "clientAppUsed": s.client.client_app, "userAgent": s.user_agent,
        "deviceDetail": {"deviceId": "", "displayName": "", "operatingSystem": s.client.os,
                         "browser": s.client.browser, "isCompliant": False, "isManaged": False,
                         "trustType": ""},
        "location": {"city": s.net.city, "state": s.net.state, "countryOrRegion": s.net.country,
                     "geoCoordinates": {"altitude": None, "latitude": s.net.lat,
                                        "longitude": s.net.lon}},
        "correlationId": s.correlation, "conditionalAccessStatus": s.ca_status,
        "appliedConditionalAccessPolicies": [
            {"id": p.id, "displayName": p.name, "enforcedGrantControls": [p.grant],
             "enforcedSessionControls": [], "result": result} for p, result in s.ca],
        "originalRequestId": s.original_request, "isInteractive": s.interactive,
        "authenticationProcessingDetails": [
            {"key": "Login Hint Present", "value": "True"} if s.interactive
            else {"key": "Is CAE Token", "value": "False"}],
        "networkLocationDetails": [{"networkType": "trustedNamedLocation", "networkNames": ["Office"]}]
        if s.trusted_location else [],
        "processingTimeInMilliseconds": s.latency, "riskDetail": "hidden",
        "riskLevelAggregated": "hidden", "riskLevelDuringSignIn": "hidden", "riskState": "none",
        "riskEventTypes": [], "riskEventTypes_v2": [],
        "resourceDisplayName": s.resource.name, "resourceId": s.resource.id,
        "resourceTenantId": s.org, "homeTenantId": s.org, "tokenIssuerName": "",
        "tokenIssuerType": "AzureAD", "authenticationDetails": s.steps(),
        "authenticationRequirementPolicies": [
            {"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}]
        if s.requirement == "multiFactorAuthentication" else [],
        "authenticationRequirement": s.requirement, "authenticationMethodsUsed": s.methods_used,
        "authenticationProtocol": s.protocol, "originalTransferMethod": "none",
        "incomingTokenType": s.incoming, "clientCredentialType": "none",
        "signInIdentifier": s.identifier,
        "signInIdentifierType": "userPrincipalName" if s.identifier else None,
        "servicePrincipalId": "", "userType": "Member", "flaggedForReview": False,
        "isTenantRestricted": False, "autonomousSystemNumber": s.net.asn,
        "crossTenantAccessType": "none", "uniqueTokenIdentifier": s.token, "sessionId": s.session,
        "signInEventTypes": ["interactiveUser" if s.interactive else "nonInteractiveUser"],
        "mfaDetail": {"authMethod": method, "authDetail": detail},
        "sessionLifetimePolicies": [], "privateLinkDetails": {}, "ssoExtensionVersion": "",
    }


def azure_sign_in(s: SignIn) -> dict:
    """The sign-in as an Azure Monitor diagnostic record (category SignInLogs or
    NonInteractiveUserSignInLogs)."""
    code, reason, _ = s.status
    record = {
        "time": _iso(s), "resourceId": AAD_RESOURCE.format(org=s.org),
        "operationName": "Sign-in activity", "operationVersion": "1.0",
        "category": "SignInLogs" if s.interactive else "NonInteractiveUserSignInLogs",
        "tenantId": s.org, "resultType": str(code), "resultSignature": "None",
    }
    if reason:
        record["resultDescription"] = reason
    record |= {"durationMs": 0, "callerIpAddress": s.ip, "correlationId": s.correlation,
               "identity": s.display_name, "Level": 4, "location": s.net.country,
               "properties": graph_sign_in(s, offset_time=True)}
    return record


def download_row(s: SignIn) -> list[str]:
    """One row of the admin center's sign-in Download (CSV), in ``DOWNLOAD_HEADER`` order."""
    code, reason, _ = s.status
    method, detail = s.mfa_detail
    if s.mfa == "claim":
        method = "Previously satisfied"
    incoming = _SHOWN[s.incoming]
    return [
        f"{s.when.isoformat()}Z", s.id, s.user_agent, s.correlation, s.person.object_id,
        s.display_name, s.user_principal_name, "Member", "None", incoming, _SHOWN[s.protocol],
        s.token, "None", "None", "", "", s.app.name, s.app.id, s.resource.name, s.resource.id,
        s.org, s.org, "", s.ip, s.net.text, s.status_word, str(code) if code else "",
        reason or "", s.client.client_app, "", s.client.browser, s.client.os, "false", "false", "",
        s.mfa_result, method or "", detail or "", _SHOWN[s.requirement], s.identifier, s.session,
        "", "false", "", str(s.net.asn), "false", "Azure AD", incoming, "", str(s.latency),
        _SHOWN[s.ca_status], "", "", "", "",
    ]


def _la_time(s: SignIn) -> str:
    """Log Analytics' CSV datetime: ``2/20/2023, 8:13:17.123 AM``."""
    t = s.when
    hour = t.hour % 12 or 12
    return (f"{t.month}/{t.day}/{t.year}, {hour}:{t.minute:02d}:{t.second:02d}."
            f"{s.fraction // 10_000:03d} {'PM' if t.hour >= 12 else 'AM'}")


def la_row(s: SignIn, workspace: str) -> list[str]:
    """One row of a Log Analytics portal CSV export of ``SigninLogs`` (``LA_SIGNIN_HEADER``)."""
    g = graph_sign_in(s)
    code, reason, _ = s.status
    resource_sp = stable_guid(s.org, "service-principal", s.resource.id)
    values = {
        "TenantId": workspace, "SourceSystem": "Azure AD", "TimeGenerated [UTC]": _la_time(s),
        "ResourceId": AAD_RESOURCE.format(org=s.org), "OperationName": "Sign-in activity",
        "OperationVersion": "1.0", "Category": "SignInLogs", "ResultType": str(code),
        "ResultSignature": "None", "ResultDescription": reason or "", "DurationMs": "0",
        "CorrelationId": s.correlation, "Resource": "Microsoft.aadiam",
        "ResourceGroup": "Microsoft.aadiam", "ResourceProvider": "Microsoft.aadiam",
        "Identity": s.display_name, "Level": "4", "Location": s.net.country,
        "AlternateSignInName": s.identifier, "AppDisplayName": s.app.name, "AppId": s.app.id,
        "AuthenticationContextClassReferences": "[]",
        "AuthenticationDetails": _json(g["authenticationDetails"]),
        "AuthenticationMethodsUsed": _json(g["authenticationMethodsUsed"]),
        "AuthenticationProcessingDetails": _json(g["authenticationProcessingDetails"]),
        "AuthenticationRequirement": s.requirement,
        "AuthenticationRequirementPolicies": _json(g["authenticationRequirementPolicies"]),
        "ClientAppUsed": s.client.client_app,
        "ConditionalAccessPolicies": _json(g["appliedConditionalAccessPolicies"]),
        "ConditionalAccessStatus": s.ca_status, "CreatedDateTime [UTC]": _la_time(s),
        "DeviceDetail": _json(g["deviceDetail"]), "IsInteractive": "true", "Id": s.id,
        "IPAddress": s.ip, "LocationDetails": _json(g["location"]), "MfaDetail": _json(g["mfaDetail"]),
        "NetworkLocationDetails": _json(g["networkLocationDetails"]),
        "OriginalRequestId": s.original_request, "ProcessingTimeInMilliseconds": str(s.latency),
        "RiskDetail": "hidden", "RiskEventTypes": "[]", "RiskEventTypes_V2": "[]",
        "RiskLevelAggregated": "hidden", "RiskLevelDuringSignIn": "hidden", "RiskState": "none",
        "ResourceDisplayName": s.resource.name, "ResourceIdentity": s.resource.id,
        "ResourceServicePrincipalId": resource_sp, "Status": _json(g["status"]),
        "TokenIssuerType": "AzureAD", "UserAgent": s.user_agent, "UserDisplayName": s.display_name,
        "UserId": s.person.object_id, "UserPrincipalName": s.user_principal_name,
        "AADTenantId": s.org, "UserType": "Member", "FlaggedForReview": "false",
        "SignInIdentifier": s.identifier, "SignInIdentifierType": "userPrincipalName",
        "ResourceTenantId": s.org, "HomeTenantId": s.org, "UniqueTokenIdentifier": s.token,
        "SessionLifetimePolicies": "[]", "AutonomousSystemNumber": str(s.net.asn),
        "AuthenticationProtocol": s.protocol, "CrossTenantAccessType": "none",
        "SessionId": s.session, "Type": "SigninLogs",
    }
    return [values.get(name, "") for name in LA_SIGNIN_HEADER]


def azure_audit(a: Audit, org: str) -> dict:
    """A directory audit as an Azure Monitor diagnostic record (category AuditLogs)."""
    g = a.record
    initiator = g["initiatedBy"]
    user = initiator.get("user")
    properties = dict(g)
    properties["activityDateTime"] = g["activityDateTime"].replace("Z", "+00:00")
    return {
        "time": g["activityDateTime"], "resourceId": AAD_RESOURCE.format(org=org),
        "operationName": g["activityDisplayName"], "operationVersion": "1.0",
        "category": "AuditLogs", "tenantId": org, "resultSignature": "None", "durationMs": 0,
        "callerIpAddress": user["ipAddress"] if user and user["ipAddress"] else "<null>",
        "correlationId": g["correlationId"],
        "identity": user["userPrincipalName"] if user else initiator["app"]["displayName"],
        "Level": 4, "properties": properties,
    }


def graph_audit_pages(audits: list[Audit], page_size: int = GRAPH_PAGE_SIZE) -> list[dict]:
    """``GET /v1.0/auditLogs/directoryAudits`` response pages, newest first."""
    newest = [a.record for a in reversed(audits)]
    context = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits"
    query = ("https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$filter=activityDateTime"
             "%20ge%202022-12-01T00:00:00Z%20and%20activityDateTime%20le%202023-02-24T23:59:59Z"
             f"&$top={page_size}")
    pages = []
    for start in range(0, len(newest), page_size):
        page = {"@odata.context": context, "value": newest[start:start + page_size]}
        if start + page_size < len(newest):
            token = stable_guid("skiptoken", newest[start + page_size - 1]["id"]).replace("-", "")
            page["@odata.nextLink"] = f"{query}&$skiptoken={token}"
        pages.append(page)
    return pages


@dataclass
class EntraFile:
    """One written Entra sample file, as the README's Files table lists it."""

    name: str
    format: str
    tenant: str
    records: int
    span: str
    notes: str


@dataclass
class EntraInfo:
    """What the README says about the Entra samples."""

    files: list[EntraFile] = field(default_factory=list)
    cases: dict[str, EntraCase] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)    # record id -> file(s)
    la_overlap: int = 0
    la_only: int = 0
    missing_blob: int = 0


def _span(times: list[datetime]) -> str:
    return f"{min(times).isoformat()} .. {max(times).isoformat()}"


def write_entra_samples(out: Path, seed: int, ual: dict[str, list[dict]]) -> EntraInfo:
    """Write the Entra samples of both tenants into ``out`` (case-a/, case-b/)."""
    info = EntraInfo()
    a = info.cases["a"] = build_entra("a", seed, ual["a"])
    b = info.cases["b"] = build_entra("b", seed, ual["b"])
    tenant_a, tenant_b = "A (example.com)", "B (example.net)"

    def download(name: str, rows: list[SignIn], kind: str) -> None:
        newest = sorted(rows, key=lambda s: (s.when, s.fraction, s.id), reverse=True)
        with atomic_open(out / name) as fh:
            fh.write("\ufeff" + csv_line(DOWNLOAD_HEADER, quote_all=True))
            for s in newest:
                fh.write(csv_line(download_row(s), quote_all=True))
        info.files.append(EntraFile(
            name, f"Entra admin center sign-in Download (CSV), {kind} user sign-ins", tenant_a,
            len(rows), _span([s.when for s in rows]),
            "UTF-8 with BOM, CRLF, every field quoted, newest first; display-name headers "
            "(`Application ID ` with a trailing space, `Autonomous system  number` with two, "
            "`Incoming token type` twice)"))
        info.where.update({s.id: name.split("/")[1] for s in rows})

    download("case-a/entra_signins_interactive.csv", a.interactive, "interactive")
    download("case-a/entra_signins_noninteractive.csv", a.non_interactive, "non-interactive")
    pages = graph_audit_pages(a.audits)
    with atomic_open(out / "case-a/graph_directory_audits.json") as fh:
        for page in pages:
            fh.write(_json(page) + "\n")
    info.files.append(EntraFile(
        "case-a/graph_directory_audits.json", "Microsoft Graph directoryAudits (v1.0) response pages",
        tenant_a, len(a.audits), _span([x.when for x in a.audits]),
        f"{len(pages)} pages of up to {GRAPH_PAGE_SIZE} appended, one JSON document per line, newest "
        "first; page 1 has `@odata.nextLink`; modified property values are JSON in strings"))
    info.where.update({x.record["id"]: "graph_directory_audits.json" for x in a.audits})

    def blob(name: str, records: list[dict], times: list[datetime], what: str, notes: str) -> None:
        with atomic_open(out / name) as fh:
            for record in records:
                fh.write(_json(record) + "\n")
        info.files.append(EntraFile(name, f"Azure Monitor diagnostic records ({what}), storage "
                                          "account PT1H.json", tenant_b, len(records), _span(times),
                                    notes))

    missing = {s.id for s in b.interactive
               if MISSING_BLOB_HOUR <= s.when < MISSING_BLOB_HOUR.replace(hour=9)}
    stored = [s for s in b.interactive if s.id not in missing]
    info.missing_blob = len(missing)
    blob("case-b/PT1H_signinlogs.json", [azure_sign_in(s) for s in stored],
         [s.when for s in stored], "SignInLogs",
         "one record per line, LF, oldest first; the blob of hour "
         f"{MISSING_BLOB_HOUR:%Y-%m-%d %H}:00 is missing ({len(missing)} sign-ins, only in "
         "loganalytics_signinlogs.csv)")
    blob("case-b/PT1H_noninteractiveusersigninlogs.json", [azure_sign_in(s) for s in b.non_interactive],
         [s.when for s in b.non_interactive], "NonInteractiveUserSignInLogs",
         "one record per line, LF, oldest first; `incomingTokenType` and `sessionId` in `properties`")
    blob("case-b/PT1H_auditlogs.json", [azure_audit(x, b.org) for x in b.audits],
         [x.when for x in b.audits], "AuditLogs",
         "one record per line, LF, oldest first; `properties` is the Graph directoryAudit")
    for s in stored:
        info.where[s.id] = "PT1H_signinlogs.json"
    info.where.update({s.id: "PT1H_noninteractiveusersigninlogs.json" for s in b.non_interactive})
    info.where.update({x.record["id"]: "PT1H_auditlogs.json" for x in b.audits})

    workspace = stable_guid(b.org, "log-analytics-workspace")
    window = [s for s in b.interactive if LA_WINDOW[0] <= s.when <= LA_WINDOW[1]]
    with atomic_open(out / "case-b/loganalytics_signinlogs.csv") as fh:
        fh.write("\ufeff" + csv_line(LA_SIGNIN_HEADER))
        for s in sorted(window, key=lambda s: (s.when, s.fraction, s.id), reverse=True):
            fh.write(csv_line(la_row(s, workspace)))
    info.la_only = sum(1 for s in window if s.id in missing)
    info.la_overlap = len(window) - info.la_only
    for s in window:
        info.where[s.id] = " + ".join(filter(None, (
            "PT1H_signinlogs.json" if s.id not in missing else "", "loganalytics_signinlogs.csv")))
    info.files.append(EntraFile(
        "case-b/loganalytics_signinlogs.csv", "Log Analytics portal CSV export of a SigninLogs query",
        tenant_b, len(window), _span([s.when for s in window]),
        f"UTF-8 with BOM, CRLF, newest first; {info.la_overlap} rows repeat PT1H_signinlogs.json "
        f"records (same `Id`), {info.la_only} are only here; `TenantId` is the workspace, "
        "`AADTenantId` the tenant; dynamic columns as JSON text"))
    return info
