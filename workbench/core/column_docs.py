"""Provides the one-line meaning of every column a query can read: the case's frames (schema.py), the
conflicting duplicates, hunt hits and IP enrichment, and the Sentinel-named views (derived from their SQL).

A repository test holds every column of every frame schema to having a meaning here.
"""

import sqlglot
from sqlglot import exp

#: The events frame (DESIGN.md §3), one row per audit record.
EVENT_MEANINGS = {
    "record_id": "the record's Id (a stable hash of the record when it has none)",
    "creation_time": "when it happened (AuditData.CreationTime), UTC",
    "operation": "what was done, as logged: UserLoggedIn, Add-MailboxPermission, Update user. ...",
    "workload": "the service that logged it: Exchange, SharePoint, AzureActiveDirectory, ...",
    "record_type": "RecordType, the number (15 = AzureActiveDirectoryStsLogon, ...)",
    "record_type_name": "RecordType's name: ExchangeAdmin, SharePointFileOperation, ...",
    "user_id": "UserId, the account that acted, as logged",
    "user_key": "user_id in lower case, to group one account's events",
    "user_type": "UserType: 0 regular user, 2 admin, 3 Microsoft datacenter, 4 system, 5 application, ...",
    "client_ip": "the client's address, normalised (no port or brackets, IPv4-mapped IPv6 as IPv4)",
    "client_ip_raw": "the client IP field as logged (ClientIP, ClientIPAddress or ActorIpAddress)",
    "result_status": "ResultStatus as logged (True, Succeeded, Success, failed: not normalised)",
    "object_id": "ObjectId: the mailbox, file, URL or directory object acted on",
    "mailbox_owner_upn": "MailboxOwnerUPN: whose mailbox an Exchange item event is in",
    "target": "Target, JSON text: the directory objects acted on",
    "parameters": "Parameters, JSON text: a cmdlet's [{Name, Value}] (or a plain string)",
    "modified_properties": "ModifiedProperties, JSON text: [{Name, NewValue, OldValue}] or property names",
    "affected_items": "AffectedItems, JSON text: the mail items moved or deleted (Subject, ...)",
    "item": "Item, JSON text: the mail item sent, created or updated (Subject, ...)",
    "extended_properties": "ExtendedProperties, JSON text: [{Name, Value}] (UserAgent, RequestType, ...)",
    "device_properties": "DeviceProperties, JSON text: OS, browser, device id, session id of a sign-in",
    "operation_count": "OperationCount: the accesses one aggregated mailbox record counts (MailItemsAccessed)",
    "throttled": "OperationProperties IsThrottled of a mailbox record: auditing stopped recording its items for 24 hours",
    "logon_error": "LogonError of an Entra ID logon record (UserLoginFailed): InvalidPassword, IdsLocked, ...",
    "error_number": "ErrorNumber of an Entra ID logon record: the sign-in error code (50126, 500121, ...)",
    "actor": "Actor, JSON text: who acted, as ids and names",
    "user_agent": "the client's user agent (ExtendedProperties.UserAgent, ClientInfoString or UserAgent)",
    "session_id": "the sign-in session that links sign-in, Exchange and SharePoint records",
    "app_id": "the application the event came through (ApplicationId or AppId), lower case",
    "app_name": "app_id's name, for Microsoft's first-party applications",
    "client_app_id": "the client application that called it (ClientAppId), lower case",
    "client_app_name": "client_app_id's name, for Microsoft's first-party applications",
    "organization_id": "OrganizationId: the tenant",
    "case": "the case label",
    "source_file": "the input file the row came from",
    "source_row": "the row or line of source_file",
    "audit_data": "the whole original record, JSON text (read it with json_extract_string)",
}

#: Entra ID sign-ins, one row per sign-in id.
SIGN_IN_MEANINGS = {
    "record_id": "the sign-in's id",
    "creation_time": "when the sign-in happened, UTC",
    "sign_in_type": "interactive, non_interactive, service_principal or managed_identity",
    "user_principal_name": "the account signing in, as logged",
    "user_key": "user_principal_name in lower case, to group one account's events",
    "user_display_name": "the account's display name",
    "user_object_id": "the account's object id in Entra ID",
    "user_type": "Member or Guest",
    "service_principal": "the service principal signing in (service principal and managed identity sign-ins)",
    "app_id": "the application signed in to, by id",
    "app_name": "the application signed in to, by name",
    "resource_id": "the resource the token is for, by id",
    "resource_name": "the resource the token is for (Microsoft Graph, Office 365 Exchange Online, ...)",
    "client_app": "the client kind: Browser, Mobile Apps and Desktop clients, Exchange ActiveSync, IMAP4, ...",
    "auth_protocol": "the authentication protocol: deviceCode, ropc, none, ...",
    "transfer_method": "the original transfer method: deviceCodeFlow, authenticationTransfer, none",
    "incoming_token_type": "the token presented: primaryRefreshToken, refreshToken, none, ...",
    "client_ip": "the client's address, normalised",
    "client_ip_raw": "the client's address as logged",
    "asn": "the autonomous system number of client_ip",
    "country": "the country of client_ip (two letters)",
    "state": "the state or region of client_ip",
    "city": "the city of client_ip",
    "latitude": "the latitude of client_ip",
    "longitude": "the longitude of client_ip",
    "device_id": "the device's id in Entra ID (empty for unregistered devices)",
    "device_name": "the device's name",
    "device_os": "the device's operating system",
    "browser": "the browser and its version",
    "compliant": "whether the device is compliant (Intune)",
    "managed": "whether the device is managed",
    "trust_type": "how the device is joined: Azure AD joined, Hybrid Azure AD joined, Azure AD registered",
    "user_agent": "the client's user agent",
    "status_code": "the error code: 0 success, 50126 wrong password, 50074 MFA required, ...",
    "status_kind": "success, failure or interrupt (from status_code)",
    "status_meaning": "what status_code means, in words",
    "failure_reason": "the failure reason as logged",
    "additional_details": "more about the result, as logged",
    "mfa_requirement": "singleFactorAuthentication or multiFactorAuthentication",
    "mfa_method": "the MFA method used (Mobile app notification, Text message, ...)",
    "mfa_result": "the MFA result as logged (MFA completed in Azure AD, MFA requirement satisfied by claim ...)",
    "auth_details": "the authentication steps, JSON text",
    "ca_status": "conditional access: success, failure or notApplied",
    "ca_policies": "the conditional access policies evaluated and their results, JSON text",
    "risk_level": "the risk level during the sign-in: none, low, medium, high",
    "risk_level_aggregated": "the aggregated risk level",
    "risk_state": "the risk state: none, atRisk, confirmedCompromised, remediated, dismissed, ...",
    "risk_event_types": "the risk detections, JSON text (unfamiliarFeatures, anonymizedIPAddress, ...)",
    "session_id": "the sign-in session, shared with the audit log's records of that session",
    "unique_token_id": "the token's unique id (links to the audit log's token use)",
    "correlation_id": "the request's correlation id",
    "token_issuer": "who issued the token (AzureAD, an ADFS server)",
    "organization_id": "the tenant",
    "case": "the case label",
    "source_file": "the input file the row came from",
    "source_row": "the row or line of source_file",
    "raw": "the whole original record, JSON text",
}

#: Entra ID directory audits, one row per audit id.
DIRECTORY_AUDIT_MEANINGS = {
    "record_id": "the audit record's id",
    "creation_time": "when it happened, UTC",
    "activity": "what was done: Add user, Update user, Consent to application, ...",
    "category": "the area: UserManagement, ApplicationManagement, RoleManagement, Policy, ...",
    "operation_type": "Add, Update, Delete, Assign, ...",
    "result": "success or failure",
    "result_reason": "why it failed, as logged",
    "initiator_user": "the account that did it (user principal name)",
    "initiator_user_id": "the object id of the account that did it",
    "initiator_app": "the application that did it, when no user did",
    "user_key": "initiator_user in lower case, to group one account's events",
    "client_ip": "the initiator's address, normalised",
    "client_ip_raw": "the initiator's address as logged",
    "target_names": "the names of the objects acted on",
    "targets": "the objects acted on, JSON text",
    "modified_properties": "[{target, name, old, new}], JSON text, values unwrapped",
    "additional_details": "more about the activity, JSON text",
    "correlation_id": "the request's correlation id",
    "logged_by_service": "the service that logged it: Core Directory, Authentication Methods, ...",
    "organization_id": "the tenant",
    "case": "the case label",
    "source_file": "the input file the row came from",
    "source_row": "the row or line of source_file",
    "raw": "the whole original record, JSON text",
}

#: Message trace, one row per (message, recipient) (sources/messages.py).
MESSAGE_MEANINGS = {
    "record_id": "message_id|recipient_key, lower-cased (trace:<trace id>|recipient without a message id): one "
                 "message to one recipient, the same in every export shape",
    "received": "when Exchange Online received the message, UTC (the extended report's first event)",
    "sender": "the sender's address, as logged",
    "sender_key": "sender in lower case (join events on user_key)",
    "recipient": "the recipient's address, as logged",
    "recipient_key": "recipient in lower case",
    "subject": "the subject as logged (attacker-controlled text)",
    "status": "delivered, failed, pending, expanded, quarantined, filteredasspam, gettingstatus, ...; from the admin "
              "center's events: DELIVER/SEND delivered, FAIL/DROP failed, DEFER pending, else the last event (receive)",
    "delivery_events": "the admin center reports' events for this recipient in order (Receive, Deliver); null in "
                       "the cmdlets' and Graph's traces",
    "direction": "inbound, outbound or internal, from the admin center reports' directionality (internal: sent from "
                 "the tenant and delivered to a mailbox of it); null for Get-MessageTrace, the Reporting Web Service "
                 "and Graph, which do not say it",
    "from_ip": "the address that handed the message to Exchange Online (the client or sending server), normalised",
    "to_ip": "the address of the server the message was sent on to, normalised; null when delivered to a mailbox",
    "size": "the message's size in bytes",
    "message_id": "the InternetMessageId in angle brackets, as the audit log writes it (join events on it)",
    "message_trace_id": "the trace's id (MessageTraceId; Graph's id), lower-cased",
    "network_message_id": "the admin center reports' network message id, lower-cased",
    "connector_id": "the connector the message came in or went out by, where the report says",
    "organization": "the tenant's domain as the trace names it (Organization: example.onmicrosoft.com)",
    "organization_id": "the tenant id, where the export gives it (the extended report's tenant_id)",
    "case": "the case label",
    "source_file": "the input file the row came from",
    "source_row": "the row or line of source_file (the reports' rows count once per recipient)",
    "raw": "the original row or record, JSON text (the extended report: its final event's row)",
}

#: Meanings of the columns of each frame of a case, by frame name (schema.FRAME_SCHEMAS).
FRAME_MEANINGS = {"events": EVENT_MEANINGS, "sign_ins": SIGN_IN_MEANINGS, "directory_audits": DIRECTORY_AUDIT_MEANINGS,
                  "messages": MESSAGE_MEANINGS}

#: The mail items table (mail_items.py): one row per item a mailbox or file record touched.
MAIL_ITEM_MEANINGS = {
    "record_id": "the audit record (join events on record_id)",
    "creation_time": "when the record happened, UTC",
    "case": "the case label",
    "organization_id": "the tenant id",
    "operation": "the record's operation (MailItemsAccessed, Send, SoftDelete, FileDownloaded, ...)",
    "activity": "read, sync, search, send, create, update, delete or file",
    "user_key": "the account that acted, lower-cased",
    "mailbox": "the mailbox acted on (SendAs / SendOnBehalf: the mailbox sent as), lower-cased",
    "client_ip": "the client's address, normalised",
    "session_id": "the sign-in session (AppAccessContext.AADSessionId)",
    "user_agent": "the client's user agent or ClientInfoString",
    "app_id": "the application (AppId)",
    "client_app_id": "the client application (ClientAppId)",
    "access_type": "MailItemsAccessed: Bind (messages opened one by one) or Sync (a whole folder downloaded)",
    "throttled": "MailItemsAccessed: auditing throttled (no items recorded for 24 hours)",
    "operation_count": "MailItemsAccessed: how many accesses the record aggregates",
    "folder": "the folder path of the item",
    "message_id": "the item's InternetMessageId (join messages on message_id)",
    "subject": "the item's subject, where the record gives it",
    "size": "the item's size in bytes, where the record gives it",
    "file": "FileAccessed / FileDownloaded: the file's URL",
    "search_terms": "a search's text (QueryText or SearchQuery)",
    "source_file": "the input file of the record",
    "source_row": "the row or line of source_file",
}

#: The columns conflicting duplicates add to an event's.
KEPT_MEANINGS = {
    "kept_file": "the file of the version that was loaded",
    "kept_row": "the row of the version that was loaded",
}

#: The hunt hits table: one row per (hunt, record).
HUNT_HIT_MEANINGS = {
    "hunt_id": "the hunt that matched",
    "title": "the hunt's title",
    "severity": "the hunt's severity",
    "source": "the frame the hunt read: events, sign_ins or directory_audits",
    "tactic_id": "the ATT&CK tactic of the hunt's first pair (TA0001, ...)",
    "tactic": "the ATT&CK tactic's name",
    "technique_id": "the ATT&CK technique of the hunt's first pair (T1078.004, ...)",
    "technique": "the ATT&CK technique's name",
    "techniques": "every ATT&CK pair of the hunt (tactic_id, tactic, technique_id, technique, matrix_technique_id)",
    "matrix_technique_id": "the technique's cell in the matrix",
    "why": "what matched: the values, the count and window, the sequence",
    "record_id": "the event matched (join events, sign_ins or directory_audits on record_id)",
    "creation_time": "when the matched event happened, UTC",
    "user_id": "the matched event's account",
    "operation": "the matched event's operation",
    "client_ip": "the matched event's client address",
    "case": "the case label",
}

#: The IP enrichment table: one row per distinct client IP.
ENRICHMENT_MEANINGS = {
    "ip": "the address (join events on client_ip = ip)",
    "asn": "the autonomous system number, from RDAP (geo_asn: from the offline database)",
    "as_name": "the autonomous system's name, from RDAP",
    "org": "the organisation the address is registered to",
    "country": "the country the address is registered in (RDAP or AbuseIPDB)",
    "abuse_score": "AbuseIPDB's confidence of abuse, 0 to 100",
    "total_reports": "AbuseIPDB's report count",
    "usage_type": "AbuseIPDB's usage type: Data Center/Web Hosting/Transit, ISP, ...",
    "domain": "the domain the address belongs to",
    "hosting": "whether the address is a hosting or VPN provider's",
    "reasons": "why the address is flagged",
    "geo_country": "ISO country code of the address's location, from the offline geolocation database (geoip_city)",
    "geo_country_name": "the country's name, from the offline geolocation database",
    "geo_city": "the city, from the offline geolocation database (null: only the country is known)",
    "geo_latitude": "latitude of the location, from the offline geolocation database",
    "geo_longitude": "longitude of the location, from the offline geolocation database",
    "geo_accuracy_km": "the database's accuracy radius of the location, in km",
    "geo_asn": "the autonomous system number, from the offline ASN database (geoip_asn)",
    "geo_as_org": "the autonomous system's organisation, from the offline ASN database",
}


def view_meanings(statements: list[str], tables: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """The meaning of each column of the views that `statements` (CREATE VIEW ... AS SELECT) create, by view:
    a renamed column means what its source column in `tables` (or an earlier view) means; a computed one
    says which columns it is computed from. `SELECT *` views take their source's meanings."""
    known = dict(tables)
    for statement in statements:
        create = sqlglot.parse_one(statement, read="duckdb")
        select = create.expression
        source = known.get(select.args["from_"].this.name, {}) if select.args.get("from_") else {}
        meanings: dict[str, str] = {}
        for projection in select.expressions:
            if isinstance(projection, exp.Star):
                meanings |= source
                continue
            inner = projection.this if isinstance(projection, exp.Alias) else projection
            if isinstance(inner, exp.Column):
                meanings[projection.alias_or_name] = f"{inner.name}: {source.get(inner.name, '')}"
            elif isinstance(inner, exp.Literal):
                meanings[projection.alias_or_name] = f"always {inner.sql(dialect='duckdb')}"
            else:
                used = ", ".join(dict.fromkeys(column.name for column in inner.find_all(exp.Column)))
                meanings[projection.alias_or_name] = f"computed from {used}" if used else "computed"
        known[create.this.name] = meanings
    return {name: meanings for name, meanings in known.items() if name not in tables}
