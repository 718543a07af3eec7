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

The records are decoded by DuckDB's `json_transform` into a declared structure (a field of another type, or a
record that is not JSON, reads as null, never an error), then exploded into rows by Polars. The loader decodes
every record once and stores the rows in the case (mail_item_frame.py).
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
#: The columns of the events a record's items are found by and read in order with.
ITEM_KEYS = ("case", "record_id", "creation_time")
#: What the case stores of each item (mail_item_frame.py): its own columns and `ITEM_KEYS`; the other `CARRIED`
#: columns (long texts such as the user agent, the same for every item of a record) are joined back from the
#: record's row of the events when the items are read.
STORED_ITEM_SCHEMA = {name: dtype for name, dtype in MAIL_ITEM_SCHEMA.items() if name in ITEM_KEYS or name not in CARRIED}

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
        con.register("records", rows.select("audit_data").to_arrow())
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
    """One row per item touched by `exposure_rows` (collected), in `MAIL_ITEM_SCHEMA`, in time order (then record
    id, then the items' order in the record); a record that names no item (a Sync, a search, a file access) is one
    row."""
    return in_item_order(decoded_items(rows))


def in_item_order(items: pl.DataFrame) -> pl.DataFrame:
    """Mail items (of `decoded_items`, or read back from the case) in `mail_items`' order."""
    return items.sort("creation_time", "record_id", maintain_order=True)


def decoded_items(rows: pl.DataFrame) -> pl.DataFrame:
    """`mail_items` in no particular order."""
    return _items(rows, MAIL_ITEM_SCHEMA)


def items_to_store(events: pl.DataFrame) -> pl.DataFrame:
    """The items of a chunk of the events (with `audit_data`) as the case stores them: `STORED_ITEM_SCHEMA`, in no
    particular order; of a record id the chunk holds twice, only the first row's (the one the loader keeps)."""
    rows = events.filter(pl.col("operation").is_in(list(ACTIVITIES))).unique("record_id", keep="first", maintain_order=True)
    return _items(rows.select(*ITEM_KEYS, "operation", "mailbox_owner_upn", "audit_data"), STORED_ITEM_SCHEMA)


def _items(rows: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The items of `rows` (`ITEM_KEYS`, `operation`, `mailbox_owner_upn`, `audit_data` and any other `CARRIED`
    columns) in `schema`."""
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
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
                     how="diagonal_relaxed").select(schema.keys()).cast(schema)


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
