"""Provides the declared schemas of the case's frames (DESIGN.md §2b, §3) and the RecordType names."""

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

#: Columns of the events frame, in order, with their declared dtypes.
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "creation_time": UTC_TIME,
    "operation": pl.String(),
    "workload": pl.String(),
    "record_type": pl.Int64(),
    "record_type_name": pl.String(),
    "user_id": pl.String(),
    "user_key": pl.String(),
    "user_type": pl.Int64(),
    "client_ip": pl.String(),
    "client_ip_raw": pl.String(),
    "result_status": pl.String(),
    "object_id": pl.String(),
    "mailbox_owner_upn": pl.String(),
    "target": pl.String(),
    "parameters": pl.String(),
    "modified_properties": pl.String(),
    "affected_items": pl.String(),
    "item": pl.String(),
    "extended_properties": pl.String(),
    "device_properties": pl.String(),
    "operation_count": pl.Int64(),
    "throttled": pl.Boolean(),
    "logon_error": pl.String(),
    "error_number": pl.String(),
    "actor": pl.String(),
    "user_agent": pl.String(),
    "session_id": pl.String(),
    "app_id": pl.String(),
    "app_name": pl.String(),
    "client_app_id": pl.String(),
    "client_app_name": pl.String(),
    "organization_id": pl.String(),
    "case": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "audit_data": pl.String(),
}

#: Bulky columns kept on disk in the case's Parquet and read when an event is opened.
ON_DISK_COLUMNS = ("audit_data",)

#: Entra ID sign-ins (interactive, non-interactive, service principal, managed identity), one row per sign-in id.
#: Lists and objects (`auth_details`, `ca_policies`, `risk_event_types`) are JSON text.
SIGN_IN_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "creation_time": UTC_TIME,
    "sign_in_type": pl.String(),
    "user_principal_name": pl.String(),
    "user_key": pl.String(),
    "user_display_name": pl.String(),
    "user_object_id": pl.String(),
    "user_type": pl.String(),
    "service_principal": pl.String(),
    "app_id": pl.String(),
    "app_name": pl.String(),
    "resource_id": pl.String(),
    "resource_name": pl.String(),
    "client_app": pl.String(),
    "auth_protocol": pl.String(),
    "transfer_method": pl.String(),
    "incoming_token_type": pl.String(),
    "client_ip": pl.String(),
    "client_ip_raw": pl.String(),
    "asn": pl.Int64(),
    "country": pl.String(),
    "state": pl.String(),
    "city": pl.String(),
    "latitude": pl.Float64(),
    "longitude": pl.Float64(),
    "device_id": pl.String(),
    "device_name": pl.String(),
    "device_os": pl.String(),
    "browser": pl.String(),
    "compliant": pl.Boolean(),
    "managed": pl.Boolean(),
    "trust_type": pl.String(),
    "user_agent": pl.String(),
    "status_code": pl.Int64(),
    "status_kind": pl.String(),
    "status_meaning": pl.String(),
    "failure_reason": pl.String(),
    "additional_details": pl.String(),
    "mfa_requirement": pl.String(),
    "mfa_method": pl.String(),
    "mfa_result": pl.String(),
    "auth_details": pl.String(),
    "ca_status": pl.String(),
    "ca_policies": pl.String(),
    "risk_level": pl.String(),
    "risk_level_aggregated": pl.String(),
    "risk_state": pl.String(),
    "risk_event_types": pl.String(),
    "session_id": pl.String(),
    "unique_token_id": pl.String(),
    "correlation_id": pl.String(),
    "token_issuer": pl.String(),
    "organization_id": pl.String(),
    "case": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "raw": pl.String(),
}

#: Entra ID directory audits (the Entra audit log), one row per audit id. `targets` and `additional_details`
#: are the records' JSON text; `modified_properties` is `[{target, name, old, new}]` as JSON text with values
#: that were JSON inside a string unwrapped.
DIRECTORY_AUDIT_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "creation_time": UTC_TIME,
    "activity": pl.String(),
    "category": pl.String(),
    "operation_type": pl.String(),
    "result": pl.String(),
    "result_reason": pl.String(),
    "initiator_user": pl.String(),
    "initiator_user_id": pl.String(),
    "initiator_app": pl.String(),
    "user_key": pl.String(),
    "client_ip": pl.String(),
    "client_ip_raw": pl.String(),
    "target_names": pl.String(),
    "targets": pl.String(),
    "modified_properties": pl.String(),
    "additional_details": pl.String(),
    "correlation_id": pl.String(),
    "logged_by_service": pl.String(),
    "organization_id": pl.String(),
    "case": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "raw": pl.String(),
}

#: Message trace, one row per (message, recipient) (sources/messages.py). `received` is when Exchange Online
#: received the message; `message_id` is the InternetMessageId in angle brackets, as the audit log writes it.
MESSAGE_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),
    "received": UTC_TIME,
    "sender": pl.String(),
    "sender_key": pl.String(),
    "recipient": pl.String(),
    "recipient_key": pl.String(),
    "subject": pl.String(),
    "status": pl.String(),
    "delivery_events": pl.String(),
    "direction": pl.String(),
    "from_ip": pl.String(),
    "to_ip": pl.String(),
    "size": pl.Int64(),
    "message_id": pl.String(),
    "message_trace_id": pl.String(),
    "network_message_id": pl.String(),
    "connector_id": pl.String(),
    "organization": pl.String(),
    "organization_id": pl.String(),
    "case": pl.String(),
    "source_file": pl.String(),
    "source_row": pl.Int64(),
    "raw": pl.String(),
}

#: Every frame of a case by name, its schema and the bulky column kept on disk (the original record).
FRAME_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "events": EVENT_SCHEMA, "sign_ins": SIGN_IN_SCHEMA, "directory_audits": DIRECTORY_AUDIT_SCHEMA,
    "messages": MESSAGE_SCHEMA,
}
RECORD_COLUMN = {"events": "audit_data", "sign_ins": "raw", "directory_audits": "raw", "messages": "raw"}
#: The column that says when a frame's row happened (a message trace says when the message was received).
TIME_COLUMN = {"events": "creation_time", "sign_ins": "creation_time", "directory_audits": "creation_time",
               "messages": "received"}

#: Fields read from each AuditData record, declared so that no first row ever decides a type
#: (DESIGN.md §2): all as text, nested values as JSON text, except that only the session id is
#: read from `AppAccessContext` (which is not a column of its own).
AUDIT_FIELDS = (
    "Id", "CreationTime", "Operation", "Workload", "RecordType", "UserId", "UserType",
    "ClientIP", "ClientIPAddress", "ActorIpAddress", "ResultStatus", "ObjectId",
    "MailboxOwnerUPN", "Target", "Parameters", "ModifiedProperties", "AffectedItems", "Item",
    "ExtendedProperties", "DeviceProperties", "Actor", "ClientInfoString", "UserAgent",
    "SessionId", "AppAccessContext", "OrganizationId", "AppId", "ApplicationId", "ClientAppId", "LogonError",
    "ErrorNumber",
)
AUDIT_SCHEMA = {name: pl.String() for name in AUDIT_FIELDS} | {"AppAccessContext": pl.Struct({"AADSessionId": pl.String()})}

#: AuditLogRecordType values of the Office 365 Management Activity API schema.
RECORD_TYPES: dict[int, str] = {
    1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup", 4: "SharePoint",
    6: "SharePointFileOperation", 7: "OneDrive", 8: "AzureActiveDirectory",
    9: "AzureActiveDirectoryAccountLogon", 10: "DataCenterSecurityCmdlet",
    11: "ComplianceDLPSharePoint", 13: "ComplianceDLPExchange", 14: "SharePointSharingOperation",
    15: "AzureActiveDirectoryStsLogon", 16: "SkypeForBusinessPSTNUsage",
    17: "SkypeForBusinessUsersBlocked", 18: "SecurityComplianceCenterEOPCmdlet",
    19: "ExchangeAggregatedOperation", 20: "PowerBIAudit", 21: "CRM", 22: "Yammer",
    23: "SkypeForBusinessCmdlets", 24: "Discovery", 25: "MicrosoftTeams", 28: "ThreatIntelligence",
    29: "MailSubmission", 30: "MicrosoftFlow", 31: "AeD", 32: "MicrosoftStream",
    33: "ComplianceDLPSharePointClassification", 34: "ThreatFinder", 35: "Project",
    36: "SharePointListOperation", 37: "SharePointCommentOperation", 38: "DataGovernance",
    39: "Kaizala", 40: "SecurityComplianceAlerts", 41: "ThreatIntelligenceUrl",
    42: "SecurityComplianceInsights", 43: "MIPLabel", 44: "WorkplaceAnalytics",
    45: "PowerAppsApp", 46: "PowerAppsPlan", 47: "ThreatIntelligenceAtpContent",
    48: "LabelContentExplorer", 49: "TeamsHealthcare", 50: "ExchangeItemAggregated",
    51: "HygieneEvent", 52: "DataInsightsRestApiAudit", 53: "InformationBarrierPolicyApplication",
    54: "SharePointListItemOperation", 55: "SharePointContentTypeOperation",
    56: "SharePointFieldOperation", 57: "MicrosoftTeamsAdmin", 58: "HRSignal",
    59: "MicrosoftTeamsDevice", 60: "MicrosoftTeamsAnalytics", 61: "InformationWorkerProtection",
    62: "Campaign", 63: "DLPEndpoint", 64: "AirInvestigation", 65: "Quarantine",
    66: "MicrosoftForms", 67: "ApplicationAudit", 68: "ComplianceSupervisionExchange",
    69: "CustomerKeyServiceEncryption", 70: "OfficeNative", 71: "MipAutoLabelSharePointItem",
    72: "MipAutoLabelSharePointPolicyLocation", 73: "MicrosoftTeamsShifts",
    75: "MipAutoLabelExchangeItem", 76: "CortanaBriefing", 78: "WDATPAlerts",
    82: "SensitivityLabelPolicyMatch", 83: "SensitivityLabelAction",
    84: "SensitivityLabeledFileAction", 85: "AttackSim", 86: "AirManualInvestigation",
    87: "SecurityComplianceRBAC", 88: "UserTraining", 89: "AirAdminActionInvestigation",
    90: "MSTIC", 91: "PhysicalBadgingSignal", 93: "AipDiscover", 94: "AipSensitivityLabelAction",
    95: "AipProtectionAction", 96: "AipFileDeleted", 97: "AipHeartBeat", 98: "MCASAlerts",
    99: "OnPremisesFileShareScannerDlp", 100: "OnPremisesSharePointScannerDlp",
    101: "ExchangeSearch", 102: "SharePointSearch", 103: "PrivacyInsights",
    105: "MyAnalyticsSettings", 106: "SecurityComplianceUserChange",
    107: "ComplianceDLPExchangeClassification", 109: "MipExactDataMatch",
    113: "MS365DCustomDetection", 147: "CoreReportingSettings", 148: "ComplianceConnector",
    174: "DataShareOperation", 181: "EduDataLake", 216: "PowerPlatformAdminDlp",
    261: "CopilotInteraction",
}
RECORD_TYPE_IDS: dict[str, int] = {name.lower(): number for number, name in RECORD_TYPES.items()}


def empty_events() -> pl.DataFrame:
    """An events frame with no rows and the declared schema."""
    return pl.DataFrame(schema=EVENT_SCHEMA)


def empty_frame(frame: str) -> pl.DataFrame:
    """A frame of the case (`events`, `sign_ins`, `directory_audits`, `messages`) with no rows and its declared schema."""
    return pl.DataFrame(schema=FRAME_SCHEMAS[frame])
