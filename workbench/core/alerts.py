"""Provides Microsoft's own alerts in the unified audit log: which records are alerts, their fields as the events
frame carries them, and their decoding for the drill-down.

The alert policies of Microsoft 365 (Defender for Office 365, Purview) write `AlertTriggered` when an alert fires,
`AlertEntityGenerated` for each entity it names (a user, mailbox, IP, URL, file, message) and `AlertUpdated` when
its status changes, all of record type SecurityComplianceAlerts (40); Defender for Cloud Apps writes its alerts as
MCASAlerts (98). An alert record has no Parameters: the loader writes its fields there as `Alert*` name/value
pairs (`AlertName`, `AlertSeverity`, `AlertCategory`, `AlertStatus`, `AlertSource`, `AlertId`, `AlertEntityType`,
`AlertEntityId`), so that hunts test them with `parameter = "AlertName"` and exports show them; its object
(`object_id`) is the entity it names, else the alert's name. The drill-down decodes the whole record
(`alert_detail.py`).
"""

import polars as pl

#: Record types whose records are alerts.
ALERT_RECORD_TYPES = (40, 98)
#: Operations of alert records (lower-cased).
ALERT_OPERATIONS = ("alerttriggered", "alertentitygenerated", "alertupdated")
#: AuditData fields of an alert and the parameter name each is written under, in that order.
ALERT_FIELDS = {"Name": "AlertName", "Severity": "AlertSeverity", "Category": "AlertCategory", "Status": "AlertStatus",
                "Source": "AlertSource", "AlertId": "AlertId", "EntityType": "AlertEntityType",
                "AlertEntityId": "AlertEntityId"}


def is_alert() -> pl.Expr:
    """Over the `operation` and `record_type` columns: whether a record is one of Microsoft's alerts."""
    return (pl.col("operation").str.to_lowercase().is_in(ALERT_OPERATIONS)
            | pl.col("record_type").is_in(ALERT_RECORD_TYPES)).fill_null(False)


def _filled(name: str) -> pl.Expr:
    return pl.when(pl.col(name).str.strip_chars() != "").then(pl.col(name))


def _alert_parameters() -> pl.Expr:
    """Over an alert's fields: those present as `[{Name, Value}]` JSON text."""
    pairs = pl.concat_list([pl.struct(pl.lit(name).alias("Name"), pl.col(field).alias("Value"))
                            for field, name in ALERT_FIELDS.items()])
    present = pairs.list.eval(pl.element().filter(pl.element().struct.field("Value").str.strip_chars() != ""))
    text = pl.struct(present.alias("p")).struct.json_encode().str.strip_prefix('{"p":').str.strip_suffix("}")
    return pl.when(present.list.len() > 0).then(text)


def with_alert_fields(frame: pl.DataFrame) -> pl.DataFrame:
    """A loader chunk (`operation`, `record_type`, `audit_data`, `Parameters`, `ObjectId`) with each alert record's
    fields written to its Parameters and the entity it names (else its name) to its ObjectId, where the record has
    none of its own. The fields are read from the record text of the alert rows only (they are few)."""
    alerts = frame.select(is_alert()).to_series()
    if not alerts.any():
        return frame
    rows = alerts.arg_true()
    texts = frame["audit_data"].gather(rows)
    fields = pl.DataFrame({field: texts.str.json_path_match(f"$.{field}") for field in ALERT_FIELDS})
    written = fields.select(_alert_parameters().alias("parameters"),
                            pl.coalesce(_filled("AlertEntityId"), _filled("Name")).alias("object"))
    own = frame.select(pl.col("Parameters").gather(rows), _filled("ObjectId").gather(rows))
    return frame.with_columns(
        frame["Parameters"].scatter(rows, own["Parameters"].fill_null(written["parameters"])),
        frame["ObjectId"].scatter(rows, own["ObjectId"].fill_null(written["object"])))
