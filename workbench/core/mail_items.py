"""Provides `mail_items`: the mailbox and file activity of audit records decoded into one row per item touched.

What the attacker read, searched, downloaded, sent and deleted is spread over the nested fields of a few
operations, kept only in the original record (`audit_data`):
- `MailItemsAccessed`: `OperationProperties` say the access type (`Bind`: messages opened one by one, each
  listed under `Folders[].FolderItems[]`; `Sync`: a whole folder downloaded by a client, no items) and whether
  auditing was throttled (`IsThrottled`: no items are recorded for the next 24 hours);
- `Send`, `SendAs`, `SendOnBehalf`, `Create`, `Update`: the one `Item` (message id, subject, folder, size);
- `MoveToDeletedItems`, `SoftDelete`, `HardDelete`: the `AffectedItems` and their `Folder`;
- `SearchQueryInitiatedExchange`/`SharePoint`, `SearchQueryPerformed`: the search text (`QueryText`, else
  `SearchQuery`);
- SharePoint and OneDrive `FileAccessed`, `FileDownloaded`, `FileSyncDownloadedFull`, `FilePreviewed`: the
  file's URL (`ObjectId`).

The records are decoded by DuckDB's `json_transform` into a declared structure (a field of another type reads
as null, never an error), then exploded into rows by Polars.
"""

import json

import polars as pl

from workbench.core.duck import connect, quiet
from workbench.core.schema import UTC_TIME

#: The kind of activity (`activity` column) of each operation decoded.
ACTIVITIES = {
    "MailItemsAccessed": "read", "MessageBind": "read",
    "SearchQueryInitiatedExchange": "search", "SearchQueryInitiatedSharePoint": "search",
    "SearchQueryPerformed": "search",
    "Send": "send", "SendAs": "send", "SendOnBehalf": "send",
    "Create": "create", "Update": "update",
    "MoveToDeletedItems": "delete", "SoftDelete": "delete", "HardDelete": "delete",
    "FileAccessed": "file", "FileDownloaded": "file", "FileSyncDownloadedFull": "file", "FilePreviewed": "file",
}
#: Columns of the events frame a mail item carries over.
CARRIED = ("record_id", "creation_time", "case", "organization_id", "operation", "user_key", "client_ip",
           "session_id", "user_agent", "app_id", "client_app_id", "source_file", "source_row")
#: One row per item touched (a record without items, such as a Sync or a search, is one row).
MAIL_ITEM_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(), "creation_time": UTC_TIME, "case": pl.String(), "organization_id": pl.String(),
    "operation": pl.String(), "activity": pl.String(), "user_key": pl.String(), "mailbox": pl.String(),
    "client_ip": pl.String(), "session_id": pl.String(), "user_agent": pl.String(), "app_id": pl.String(),
    "client_app_id": pl.String(), "access_type": pl.String(), "throttled": pl.Boolean(),
    "operation_count": pl.Int64(), "folder": pl.String(), "message_id": pl.String(), "subject": pl.String(),
    "size": pl.Int64(), "file": pl.String(), "search_terms": pl.String(), "source_file": pl.String(),
    "source_row": pl.Int64(),
}

_ITEM = {"InternetMessageId": "VARCHAR", "Subject": "VARCHAR", "SizeInBytes": "VARCHAR",
         "ParentFolder": {"Path": "VARCHAR"}}
_STRUCTURE = {
    "MailboxOwnerUPN": "VARCHAR", "SendAsUserSmtp": "VARCHAR", "SendOnBehalfOfUserSmtp": "VARCHAR",
    "OperationCount": "VARCHAR", "OperationProperties": [{"Name": "VARCHAR", "Value": "VARCHAR"}],
    "Folders": [{"Path": "VARCHAR", "FolderItems": [{"InternetMessageId": "VARCHAR", "SizeInBytes": "VARCHAR",
                                                     "Subject": "VARCHAR"}]}],
    "Item": _ITEM, "AffectedItems": [_ITEM], "Folder": {"Path": "VARCHAR"},
    "QueryText": "VARCHAR", "SearchQuery": "VARCHAR", "ObjectId": "VARCHAR",
}
_QUERY = f"SELECT try(json_transform(audit_data, '{json.dumps(_STRUCTURE)}')) AS j FROM records"
_DATABASE = connect()


def exposure_rows(scan: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of the events (a lazy frame with `audit_data`) whose operation `mail_items` decodes."""
    return scan.filter(pl.col("operation").is_in(list(ACTIVITIES))).select(*CARRIED, "mailbox_owner_upn", "audit_data")


def _decoded(rows: pl.DataFrame) -> pl.DataFrame:
    """The record structure `_STRUCTURE` of each row's `audit_data` (null where a record is not JSON)."""
    con = quiet(_DATABASE.cursor())
    try:
        con.register("records", rows.select(pl.col("audit_data").str.replace(r"^\s*[^{\s].*$", "null")).to_arrow())
        return pl.from_arrow(con.sql(_QUERY).to_arrow_table())
    finally:
        con.close()


def _property(name: str) -> pl.Expr:
    """The value of an `OperationProperties` entry."""
    properties = pl.col("j").struct.field("OperationProperties")
    return properties.list.eval(pl.element().filter(pl.element().struct.field("Name") == name)
                                .struct.field("Value")).list.first()


def _size(text: pl.Expr) -> pl.Expr:
    return text.cast(pl.Int64, strict=False)


def mail_items(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per item touched by `exposure_rows` (collected), in `MAIL_ITEM_SCHEMA`; a record that names no
    item (a Sync, a search, a file access) is one row."""
    if rows.is_empty():
        return pl.DataFrame(schema=MAIL_ITEM_SCHEMA)
    frame = pl.concat([rows.drop("audit_data"), _decoded(rows)], how="horizontal")
    j = pl.col("j")
    access = _property("MailAccessType")
    frame = frame.with_columns(
        pl.col("operation").replace_strict(ACTIVITIES, default=None).alias("activity"),
        pl.coalesce(j.struct.field("SendAsUserSmtp"), j.struct.field("SendOnBehalfOfUserSmtp"),
                    j.struct.field("MailboxOwnerUPN"), pl.col("mailbox_owner_upn")).str.to_lowercase().alias("mailbox"),
        access.alias("access_type"),
        (_property("IsThrottled").str.to_lowercase() == "true").fill_null(False).alias("throttled"),
        _size(j.struct.field("OperationCount")).alias("operation_count"),
        pl.coalesce(j.struct.field("QueryText"), j.struct.field("SearchQuery")).alias("search_terms"),
        pl.when(pl.col("operation").str.starts_with("File")).then(j.struct.field("ObjectId")).alias("file"),
    )
    frame = frame.with_columns(
        pl.when((pl.col("operation") == "MailItemsAccessed") & (pl.col("access_type").str.to_lowercase() == "sync"))
        .then(pl.lit("sync")).otherwise("activity").alias("activity"))
    return pl.concat([_folder_items(frame), _single_items(frame), _affected_items(frame), _itemless(frame)],
                     how="diagonal_relaxed").select(MAIL_ITEM_SCHEMA.keys()).cast(MAIL_ITEM_SCHEMA).sort(
        "creation_time", "record_id", maintain_order=True)


def _folder_items(frame: pl.DataFrame) -> pl.DataFrame:
    """`MailItemsAccessed`: one row per folder item (a folder without items is one row)."""
    reads = frame.filter(pl.col("j").struct.field("Folders").list.len() > 0)
    # The decoded record (`j`, every folder and item) is dropped before exploding: kept, each item's row would copy it.
    folders = reads.with_columns(pl.col("j").struct.field("Folders").alias("f")).drop("j").explode("f").with_columns(
        pl.col("f").struct.field("Path").alias("folder"), pl.col("f").struct.field("FolderItems").alias("i")
    ).drop("f").explode("i")
    item = pl.col("i").struct
    return folders.with_columns(item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
                                _size(item.field("SizeInBytes")).alias("size"))


def _single_items(frame: pl.DataFrame) -> pl.DataFrame:
    """Send, SendAs, SendOnBehalf, Create, Update: the record's one `Item`."""
    item = pl.col("j").struct.field("Item").struct
    return frame.filter(pl.col("j").struct.field("Item").is_not_null()).with_columns(
        item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
        item.field("ParentFolder").struct.field("Path").alias("folder"), _size(item.field("SizeInBytes")).alias("size"))


def _affected_items(frame: pl.DataFrame) -> pl.DataFrame:
    """Deletions: one row per affected item."""
    listed = frame.filter(pl.col("j").struct.field("AffectedItems").list.len() > 0)
    rows = listed.with_columns(pl.col("j").struct.field("AffectedItems").alias("i"),
                               pl.col("j").struct.field("Folder").struct.field("Path").alias("_folder")).drop("j").explode("i")
    item = pl.col("i").struct
    return rows.with_columns(
        item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
        pl.coalesce(item.field("ParentFolder").struct.field("Path"), pl.col("_folder")).alias("folder"),
        _size(item.field("SizeInBytes")).alias("size"))


def _itemless(frame: pl.DataFrame) -> pl.DataFrame:
    """Records that name no item: searches, file accesses, and anything whose items could not be read."""
    j = pl.col("j").struct
    named = ((j.field("Folders").list.len() > 0) | j.field("Item").is_not_null()
             | (j.field("AffectedItems").list.len() > 0)).fill_null(False)
    return frame.filter(~named)
