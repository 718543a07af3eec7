"""Provides the `sign_ins` frame: Entra ID sign-ins from any export dialect, normalised to `SIGN_IN_SCHEMA`.

Status codes are decoded with `signin_status` (success, failure, or an interrupt: a prompt in a sign-in that
goes on, never counted as a failure).
"""

import polars as pl

from workbench.core.schema import SIGN_IN_SCHEMA
from workbench.core.signin_status import status_kind, status_meaning
from workbench.core.sources.fields import Spec, as_bool, as_int, finished, lower, merge, pick, split_untimed, under

GRAPH: Spec = {
    "record_id": ("id",),
    "time": ("createdDateTime",),
    "user_principal_name": ("userPrincipalName",),
    "user_display_name": ("userDisplayName",),
    "user_object_id": ("userId",),
    "user_type": ("userType",),
    "service_principal": ("servicePrincipalName", "servicePrincipalId"),
    "app_id": ("appId",),
    "app_name": ("appDisplayName",),
    "resource_id": ("resourceId",),
    "resource_name": ("resourceDisplayName",),
    "client_app": ("clientAppUsed",),
    "auth_protocol": ("authenticationProtocol",),
    "transfer_method": ("originalTransferMethod",),
    "incoming_token_type": ("incomingTokenType",),
    "ip": ("ipAddress",),
    "asn": ("autonomousSystemNumber",),
    "country": ("location/countryOrRegion",),
    "state": ("location/state",),
    "city": ("location/city",),
    "location_text": (),
    "latitude": ("location/geoCoordinates/latitude",),
    "longitude": ("location/geoCoordinates/longitude",),
    "device_id": ("deviceDetail/deviceId",),
    "device_name": ("deviceDetail/displayName",),
    "device_os": ("deviceDetail/operatingSystem",),
    "browser": ("deviceDetail/browser",),
    "compliant": ("deviceDetail/isCompliant",),
    "managed": ("deviceDetail/isManaged",),
    "trust_type": ("deviceDetail/trustType",),
    "user_agent": ("userAgent",),
    "status_code": ("status/errorCode",),
    "status_text": (),
    "failure_reason": ("status/failureReason",),
    "additional_details": ("status/additionalDetails",),
    "mfa_requirement": ("authenticationRequirement",),
    "mfa_method": ("mfaDetail/authMethod",),
    "mfa_result": ("mfaDetail/authDetail",),
    "auth_details": ("authenticationDetails",),
    "ca_status": ("conditionalAccessStatus",),
    "ca_policies": ("appliedConditionalAccessPolicies",),
    "risk_level": ("riskLevelDuringSignIn",),
    "risk_level_aggregated": ("riskLevelAggregated",),
    "risk_state": ("riskState",),
    "risk_event_types": ("riskEventTypes_v2", "riskEventTypes"),
    "session_id": ("sessionId",),
    "unique_token_id": ("uniqueTokenIdentifier",),
    "correlation_id": ("correlationId",),
    "token_issuer": ("tokenIssuerName", "tokenIssuerType"),
    "organization_id": ("homeTenantId", "resourceTenantId"),
    "kind": ("signInEventTypes",),
    "interactive": ("isInteractive",),
}

#: Azure Monitor diagnostic records: the sign-in under `properties`, the envelope's fields where it lacks them.
AZURE: Spec = merge(under("properties", GRAPH), {
    "time": ("time",), "ip": ("callerIpAddress",), "status_code": ("resultType",),
    "failure_reason": ("resultDescription",), "correlation_id": ("correlationId",), "organization_id": ("tenantId",),
    "kind": ("category",),
})

#: Log Analytics tables SigninLogs, AADNonInteractiveUserSignInLogs, AADServicePrincipalSignInLogs,
#: AADManagedIdentitySignInLogs (the portal's CSV names times `TimeGenerated [UTC]`).
SENTINEL: Spec = {
    "record_id": ("Id",),
    "time": ("CreatedDateTime", "CreatedDateTime [UTC]", "TimeGenerated", "TimeGenerated [UTC]"),
    "user_principal_name": ("UserPrincipalName",),
    "user_display_name": ("UserDisplayName",),
    "user_object_id": ("UserId",),
    "user_type": ("UserType",),
    "service_principal": ("ServicePrincipalName", "ServicePrincipalId"),
    "app_id": ("AppId",),
    "app_name": ("AppDisplayName",),
    "resource_id": ("ResourceIdentity",),
    "resource_name": ("ResourceDisplayName",),
    "client_app": ("ClientAppUsed",),
    "auth_protocol": ("AuthenticationProtocol",),
    "transfer_method": ("OriginalTransferMethod",),
    "incoming_token_type": ("IncomingTokenType",),
    "ip": ("IPAddress",),
    "asn": ("AutonomousSystemNumber",),
    "country": ("LocationDetails/countryOrRegion", "Location"),
    "state": ("LocationDetails/state",),
    "city": ("LocationDetails/city",),
    "location_text": (),
    "latitude": ("LocationDetails/geoCoordinates/latitude",),
    "longitude": ("LocationDetails/geoCoordinates/longitude",),
    "device_id": ("DeviceDetail/deviceId",),
    "device_name": ("DeviceDetail/displayName",),
    "device_os": ("DeviceDetail/operatingSystem",),
    "browser": ("DeviceDetail/browser",),
    "compliant": ("DeviceDetail/isCompliant",),
    "managed": ("DeviceDetail/isManaged",),
    "trust_type": ("DeviceDetail/trustType",),
    "user_agent": ("UserAgent",),
    "status_code": ("ResultType", "Status/errorCode"),
    "status_text": (),
    "failure_reason": ("Status/failureReason", "ResultDescription"),
    "additional_details": ("Status/additionalDetails",),
    "mfa_requirement": ("AuthenticationRequirement",),
    "mfa_method": ("MfaDetail/authMethod",),
    "mfa_result": ("MfaDetail/authDetail",),
    "auth_details": ("AuthenticationDetails",),
    "ca_status": ("ConditionalAccessStatus",),
    "ca_policies": ("ConditionalAccessPolicies",),
    "risk_level": ("RiskLevelDuringSignIn",),
    "risk_level_aggregated": ("RiskLevelAggregated",),
    "risk_state": ("RiskState",),
    "risk_event_types": ("RiskEventTypes_V2", "RiskEventTypes"),
    "session_id": ("SessionId",),
    "unique_token_id": ("UniqueTokenIdentifier",),
    "correlation_id": ("CorrelationId",),
    "token_issuer": ("TokenIssuerName", "TokenIssuerType"),
    "organization_id": ("AADTenantId", "HomeTenantId", "ResourceTenantId"),
    "kind": ("Type", "Category"),
    "interactive": ("IsInteractive",),
}

#: The Entra admin center's Download of sign-ins (CSV headers, display names).
DOWNLOAD: Spec = {
    "record_id": ("Request ID",),
    "time": ("Date (UTC)", "Date"),
    "user_principal_name": ("Username", "User principal name"),
    "user_display_name": ("User",),
    "user_object_id": ("User ID",),
    "user_type": ("User type",),
    "service_principal": ("Service principal name", "Service principal ID"),
    "app_id": ("Application ID",),
    "app_name": ("Application",),
    "resource_id": ("Resource ID",),
    "resource_name": ("Resource",),
    "client_app": ("Client app",),
    "auth_protocol": ("Authentication Protocol",),
    "transfer_method": ("Original transfer method",),
    "incoming_token_type": ("Incoming token type",),
    "ip": ("IP address",),
    "asn": ("Autonomous system  number", "Autonomous system number"),
    "country": (),
    "state": (),
    "city": (),
    "location_text": ("Location",),
    "latitude": (),
    "longitude": (),
    "device_id": ("Device ID",),
    "device_name": ("Device",),
    "device_os": ("Operating System",),
    "browser": ("Browser",),
    "compliant": ("Compliant",),
    "managed": ("Managed",),
    "trust_type": ("Join Type",),
    "user_agent": ("User agent",),
    "status_code": ("Sign-in error code",),
    "status_text": ("Status",),
    "failure_reason": ("Failure reason",),
    "additional_details": ("Additional Details",),
    "mfa_requirement": ("Authentication requirement",),
    "mfa_method": ("Multifactor authentication auth method",),
    "mfa_result": ("Multifactor authentication result",),
    "auth_details": (),
    "ca_status": ("Conditional Access",),
    "ca_policies": (),
    "risk_level": ("Risk level during sign-in",),
    "risk_level_aggregated": ("Aggregated risk level", "Risk level aggregated"),
    "risk_state": ("Risk state",),
    "risk_event_types": ("Risk event types",),
    "session_id": ("Session ID",),
    "unique_token_id": ("Unique token identifier",),
    "correlation_id": ("Correlation ID",),
    "token_issuer": ("Token issuer name", "Token issuer type"),
    "organization_id": ("Home tenant ID", "Resource tenant ID"),
    "kind": ("Sign-in event types",),
    "interactive": ("Is Interactive", "Interactive"),
}

SPECS = {"graph": GRAPH, "azure": AZURE, "sentinel": SENTINEL, "download": DOWNLOAD}

#: Sign-in types by the names the exports give them (categories, tables, event types), lower-cased.
TYPE_NAMES = {
    "signinlogs": "interactive", "interactiveuser": "interactive",
    "noninteractiveusersigninlogs": "non_interactive", "aadnoninteractiveusersigninlogs": "non_interactive",
    "noninteractiveuser": "non_interactive",
    "serviceprincipalsigninlogs": "service_principal", "aadserviceprincipalsigninlogs": "service_principal",
    "serviceprincipal": "service_principal",
    "managedidentitysigninlogs": "managed_identity", "aadmanagedidentitysigninlogs": "managed_identity",
    "managedidentity": "managed_identity",
}
#: The Download's `Status` words, for rows without an error code.
STATUS_WORDS = {"success": "success", "failure": "failure", "interrupted": "interrupt"}


def _sign_in_type(default: str | None) -> pl.Expr:
    """From the category, table or event types; else `isInteractive`; else the file's kind."""
    named = pl.col("kind").str.extract(r"([A-Za-z]+)").str.to_lowercase()
    by_flag = pl.when(as_bool("interactive")).then(pl.lit("interactive")).when(~as_bool("interactive")).then(
        pl.lit("non_interactive"))
    return pl.coalesce(named.replace_strict(TYPE_NAMES, default=None, return_dtype=pl.String), by_flag,
                       pl.lit(default, pl.String))


def _location_part(index: int) -> pl.Expr:
    """A part of the Download's `City, State, Country` location text, counted from its end."""
    parts = pl.col("location_text").str.split(",")
    part = parts.list.get(index, null_on_oob=True).str.strip_chars()
    return pl.when(parts.list.len() >= -index).then(part)


def normalise_sign_ins(raw: pl.DataFrame, values: pl.DataFrame, dialect: str,
                       default_type: str | None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The sign-ins of a chunk of records (`source_row`, `record`, `case`, `source_file`) whose fields `values`
    holds (`json_fields.extract` of the dialect's paths), and the rows rejected (`source_row`, `reason`, `text`)
    because they have no readable time."""
    values = pick(values, SPECS[dialect])
    frame = pl.concat([raw, values], how="horizontal")
    download_status = pl.col("status_text").str.to_lowercase().replace_strict(STATUS_WORDS, default=None)
    # The Download leaves the error code empty on a success.
    code = pl.coalesce(as_int("status_code"), pl.when(download_status == "success").then(pl.lit(0, pl.Int64)))
    frame, rejects = split_untimed(frame, "sign-in")
    frame = frame.with_columns(code.alias("status_code"), download_status.alias("status_kind"))
    code = pl.col("status_code")
    frame = frame.with_columns(
        pl.coalesce(pl.when(code.is_not_null()).then(status_kind(code)), "status_kind").alias("status_kind"),
        status_meaning(code).alias("status_meaning"),
        _sign_in_type(default_type).alias("sign_in_type"),
        pl.coalesce("country", _location_part(-1)).alias("country"),
        pl.coalesce("state", pl.when(pl.col("location_text").str.count_matches(",") >= 2).then(_location_part(-2))).alias("state"),
        pl.coalesce("city", pl.when(pl.col("location_text").str.count_matches(",") >= 1).then(_location_part(0))).alias("city"),
        as_int("asn").alias("asn"),
        pl.col("latitude").cast(pl.Float64, strict=False),
        pl.col("longitude").cast(pl.Float64, strict=False),
        as_bool("compliant").alias("compliant"),
        as_bool("managed").alias("managed"),
        pl.col("ip").alias("client_ip_raw"),
        lower("user_principal_name").fill_null(lower("service_principal")).alias("user_key"),
        lower("organization_id").alias("organization_id"),
        lower("record_id").alias("record_id"),
    )
    return finished(frame, SIGN_IN_SCHEMA), rejects
