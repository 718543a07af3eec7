-- Read-only views named and shaped as Microsoft Sentinel's tables, over the case's frames, so that a query
-- translated from KQL reads naturally. Dynamic columns are JSON (read them with json_extract_string).
CREATE VIEW SigninLogs AS SELECT * FROM _sentinel_sign_ins WHERE Category = 'SignInLogs';
CREATE VIEW AADNonInteractiveUserSignInLogs AS SELECT * FROM _sentinel_sign_ins WHERE Category = 'NonInteractiveUserSignInLogs';
CREATE VIEW AADServicePrincipalSignInLogs AS SELECT * FROM _sentinel_sign_ins WHERE Category = 'ServicePrincipalSignInLogs';
CREATE VIEW AADManagedIdentitySignInLogs AS SELECT * FROM _sentinel_sign_ins WHERE Category = 'ManagedIdentitySignInLogs';
CREATE VIEW AuditLogs AS SELECT
    creation_time AS TimeGenerated, creation_time AS ActivityDateTime, record_id AS Id, activity AS OperationName,
    activity AS ActivityDisplayName, category AS Category, result AS Result, result_reason AS ResultReason,
    json_object('user', json_object('userPrincipalName', initiator_user, 'id', initiator_user_id, 'ipAddress', client_ip),
                'app', json_object('displayName', initiator_app)) AS InitiatedBy,
    targets::JSON AS TargetResources, additional_details::JSON AS AdditionalDetails, correlation_id AS CorrelationId,
    logged_by_service AS LoggedByService, operation_type AS AADOperationType, organization_id AS AADTenantId,
    'AuditLogs' AS Type
FROM directory_audits;
CREATE VIEW OfficeActivity AS SELECT
    creation_time AS TimeGenerated, record_id AS OfficeId, operation AS Operation, workload AS OfficeWorkload,
    record_type_name AS RecordType, user_id AS UserId, user_type AS UserType, client_ip AS ClientIP,
    result_status AS ResultStatus, object_id AS OfficeObjectId, mailbox_owner_upn AS MailboxOwnerUPN,
    parameters AS Parameters, modified_properties AS ModifiedProperties, affected_items AS AffectedItems,
    item AS Item, extended_properties AS ExtendedProperties, user_agent AS UserAgent, session_id AS SessionId,
    organization_id AS OrganizationId, organization_id AS OfficeTenantId, 'OfficeActivity' AS Type
FROM events;
