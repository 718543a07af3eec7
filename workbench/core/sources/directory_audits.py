"""Provides the `directory_audits` frame: the Entra ID audit log from any export dialect, normalised to
`DIRECTORY_AUDIT_SCHEMA`, with each target's modified properties as `[{target, name, old, new}]`.

Entra writes a modified property's old and new values as JSON inside a string (`"[\\"+1 555 0100\\"]"`);
they are unwrapped to what a responder reads: a string's text, a list of strings joined with `, `; objects
and lists of objects stay JSON.
"""

import polars as pl

from workbench.core.schema import DIRECTORY_AUDIT_SCHEMA
from workbench.core.sources.fields import Spec, finished, lower, merge, pick, split_untimed, under

GRAPH: Spec = {
    "record_id": ("id",),
    "time": ("activityDateTime",),
    "activity": ("activityDisplayName",),
    "category": ("category",),
    "operation_type": ("operationType",),
    "result": ("result",),
    "result_reason": ("resultReason",),
    "initiator_user": ("initiatedBy/user/userPrincipalName", "initiatedBy/user/displayName"),
    "initiator_user_id": ("initiatedBy/user/id",),
    "initiator_app": ("initiatedBy/app/displayName", "initiatedBy/app/servicePrincipalName", "initiatedBy/app/appId"),
    "ip": ("initiatedBy/user/ipAddress", "initiatedBy/app/ipAddress"),
    "targets": ("targetResources",),
    "additional_details": ("additionalDetails",),
    "correlation_id": ("correlationId",),
    "logged_by_service": ("loggedByService",),
    "organization_id": ("tenantId",),
}
AZURE: Spec = merge(under("properties", GRAPH), {
    "time": ("time",), "activity": ("operationName",), "ip": ("callerIpAddress",),
    "correlation_id": ("correlationId",), "organization_id": ("tenantId",),
})
SENTINEL: Spec = {
    "record_id": ("Id",),
    "time": ("ActivityDateTime", "ActivityDateTime [UTC]", "TimeGenerated", "TimeGenerated [UTC]"),
    "activity": ("ActivityDisplayName", "OperationName"),
    "category": ("Category",),
    "operation_type": ("AADOperationType",),
    "result": ("Result",),
    "result_reason": ("ResultReason", "ResultDescription"),
    "initiator_user": ("InitiatedBy/user/userPrincipalName", "InitiatedBy/user/displayName"),
    "initiator_user_id": ("InitiatedBy/user/id",),
    "initiator_app": ("InitiatedBy/app/displayName", "InitiatedBy/app/servicePrincipalName", "InitiatedBy/app/appId"),
    "ip": ("InitiatedBy/user/ipAddress", "InitiatedBy/app/ipAddress"),
    "targets": ("TargetResources",),
    "additional_details": ("AdditionalDetails",),
    "correlation_id": ("CorrelationId",),
    "logged_by_service": ("LoggedByService",),
    "organization_id": ("AADTenantId",),
}
SPECS = {"graph": GRAPH, "azure": AZURE, "sentinel": SENTINEL}

_TARGET = pl.Struct({
    "displayName": pl.String, "userPrincipalName": pl.String, "id": pl.String,
    "modifiedProperties": pl.List(pl.Struct({"displayName": pl.String, "oldValue": pl.String, "newValue": pl.String})),
})
_STRINGS_LIST = r'^\s*\[\s*"(?:[^"\\]|\\.)*"\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*)*\]\s*$'
_STRING = r'^\s*"(?:[^"\\]|\\.)*"\s*$'


def _unwrapped(column: str) -> pl.Expr:
    """A modified-property value as a responder reads it (see the module docstring)."""
    text = pl.col(column)
    return (pl.when(text.str.contains(_STRINGS_LIST)).then(text.str.json_decode(pl.List(pl.String)).list.join(", "))
            .when(text.str.contains(_STRING)).then(text.str.json_decode(pl.String))
            .otherwise(text))


def _modified_properties(frame: pl.DataFrame) -> pl.DataFrame:
    """Per row, `target_names` and `modified_properties` (JSON text) from the targets' JSON text."""
    rows = frame.select(pl.int_range(pl.len()).alias("row"), "targets")
    targets = (rows.with_columns(pl.col("targets").str.json_decode(pl.List(_TARGET)))
               .explode("targets").unnest("targets")
               .with_columns(pl.coalesce("userPrincipalName", "displayName", "id").alias("target")))
    names = targets.group_by("row").agg(pl.col("target").drop_nulls().str.join(", ").alias("target_names"))
    changes = (targets.select("row", "target", "modifiedProperties").explode("modifiedProperties")
               .unnest("modifiedProperties").filter(pl.col("displayName").is_not_null())
               .select("row", "target", pl.col("displayName").alias("name"),
                       _unwrapped("oldValue").alias("old"), _unwrapped("newValue").alias("new"))
               .group_by("row", maintain_order=True)
               .agg(pl.struct("target", "name", "old", "new").alias("changes"))
               .with_columns(pl.col("changes").list.eval(pl.element().struct.json_encode()).list.join(",")))
    return (rows.select("row").join(names, on="row", how="left").join(changes, on="row", how="left")
            .sort("row").select("target_names", pl.format("[{}]", pl.col("changes")).alias("modified_properties")))


def _valid_targets(frame: pl.DataFrame) -> pl.Series:
    """The targets' text where it is a JSON list (Polars decodes it), else null."""
    targets = frame["targets"]
    listed = targets.str.contains(r"^\s*\[").fill_null(False)
    return pl.select(pl.when(listed).then(targets)).to_series().alias("targets")


def normalise_directory_audits(raw: pl.DataFrame, values: pl.DataFrame, dialect: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The directory audits of a chunk of records (`source_row`, `record`, `case`, `source_file`) whose fields
    `values` holds (`json_fields.extract` of the dialect's paths), and the rows rejected (`source_row`, `reason`,
    `text`) because they have no readable time."""
    values = pick(values, SPECS[dialect])
    frame, rejects = split_untimed(pl.concat([raw, values], how="horizontal"), "directory audit")
    frame = frame.with_columns(
        lower("record_id").alias("record_id"),
        lower("organization_id").alias("organization_id"),
        pl.col("ip").alias("client_ip_raw"),
        lower("initiator_user").fill_null(lower("initiator_app")).alias("user_key"),
    )
    frame = frame.with_columns(_valid_targets(frame))
    try:
        decoded = _modified_properties(frame)
    except pl.exceptions.PolarsError:  # a target list of another shape: kept as text, not decoded
        decoded = pl.DataFrame({"target_names": [None] * frame.height, "modified_properties": [None] * frame.height},
                               schema={"target_names": pl.String, "modified_properties": pl.String})
    return finished(pl.concat([frame, decoded], how="horizontal"), DIRECTORY_AUDIT_SCHEMA), rejects
