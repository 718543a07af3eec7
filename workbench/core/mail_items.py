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
record that is not JSON, reads as null, never an error), then exploded into rows by Polars. The loader decodes only
the two fields the events keep as columns (`operation_count`, `throttled`: `access_columns`); the items are decoded
when asked (mail_item_frame.py).
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
#: What the index of a case holds of each item (mail_item_frame.py): its own columns and `ITEM_KEYS`; the other
#: `CARRIED` columns (long texts such as the user agent, the same for every item of a record) are joined back from
#: the record's row of the events when the items are read.
STORED_ITEM_SCHEMA = {name: dtype for name, dtype in MAIL_ITEM_SCHEMA.items() if name in ITEM_KEYS or name not in CARRIED}

_ITEM = json.dumps({"InternetMessageId": "VARCHAR", "Subject": "VARCHAR", "SizeInBytes": "VARCHAR",
                    "ParentFolder": {"Path": "VARCHAR"}})
#: The fields of a record the events' `operation_count` and `throttled` are read from (`access_columns`), as DuckDB
#: reads them.
ACCESS_FIELDS = {"OperationCount": "VARCHAR", "OperationProperties": "STRUCT(Name VARCHAR, Value VARCHAR)[]"}
#: The fields of a record its items are made of, beyond the events' own (`AUDIT_FIELDS`), as DuckDB reads them.
RECORD_FIELDS = ACCESS_FIELDS | {
    "SendAsUserSmtp": "VARCHAR", "SendOnBehalfOfUserSmtp": "VARCHAR",
    "Folders": "STRUCT(Path VARCHAR, FolderItems STRUCT(InternetMessageId VARCHAR, SizeInBytes VARCHAR, "
               "Subject VARCHAR)[])[]",
    "Folder": "STRUCT(Path VARCHAR)", "QueryText": "VARCHAR", "SearchQuery": "VARCHAR",
}
#: Those fields and the events' fields `mail_records` reads (`Item` and `AffectedItems` as JSON text).
_STRUCTURE = json.dumps({"Operation": "VARCHAR", "MailboxOwnerUPN": "VARCHAR", "ObjectId": "VARCHAR", "Item": "JSON",
                         "AffectedItems": "JSON"} | RECORD_FIELDS)
_RECORDS_QUERY = f"SELECT try(json_transform(audit_data, '{_STRUCTURE}')) AS record FROM records"
_ACCESS_QUERY = ("SELECT try(json_transform(audit_data, '" + json.dumps({"Operation": "VARCHAR"} | ACCESS_FIELDS)
                 + "')) AS record FROM records")
_MESSAGES_QUERY = (f"SELECT try(json_transform(Item, '{_ITEM}')) AS item, "
                   f"try(json_transform(AffectedItems, '[{_ITEM}]')) AS affected_items FROM messages")
_DATABASE = connect()


def _query(query: str, name: str, frame: pl.DataFrame) -> pl.DataFrame:
    con = quiet(_DATABASE.cursor())  # one per call: chunks are decoded on several threads
    try:
        con.register(name, frame.to_arrow())
        return pl.from_arrow(con.sql(query).to_arrow_table())
    finally:
        con.close()


def _property(name: str) -> pl.Expr:
    """The value of an `OperationProperties` entry."""
    return pl.col("OperationProperties").list.eval(
        pl.element().filter(pl.element().struct.field("Name") == name).struct.field("Value")).list.first()


def _names_items() -> pl.Expr:
    """Whether a record's operation is one whose items are decoded (or the record names no operation)."""
    return pl.col("Operation").is_null() | pl.col("Operation").is_in(list(ACTIVITIES))


def access_columns(fields: pl.DataFrame) -> pl.DataFrame:
    """The events' `operation_count` and `throttled` (`IsThrottled` of `OperationProperties`) of records from their
    fields as DuckDB read them (`Operation` and `ACCESS_FIELDS`); null for an operation that names no items."""
    read = _names_items()
    return fields.select(
        pl.when(read).then(pl.col("OperationCount")).cast(pl.Int64, strict=False).alias("operation_count"),
        (pl.when(read).then(_property("IsThrottled")).str.to_lowercase() == "true").alias("throttled"))


def decoded_access_columns(texts: pl.Series) -> pl.DataFrame:
    """`access_columns` of AuditData texts (all null where a text is not JSON)."""
    records = _query(_ACCESS_QUERY, "records", texts.alias("audit_data").to_frame())
    return access_columns(records.select(pl.col("record").struct.unnest()))


def mail_records(fields: pl.DataFrame) -> pl.Series:
    """What the items of each record are made of (`mail_record`, read by `mail_items`) from its fields as DuckDB read
    them (`RECORD_FIELDS`, `Operation`, `MailboxOwnerUPN`, `ObjectId`, and `Item` and `AffectedItems` as JSON text);
    null for a record of an operation that names no items. A field of another type reads as null."""
    read = _names_items()
    messages = _query(_MESSAGES_QUERY, "messages", fields.select(pl.when(read).then(pl.col("Item", "AffectedItems"))))
    return fields.hstack(messages).select(pl.when(read).then(pl.struct(
        pl.coalesce("SendAsUserSmtp", "SendOnBehalfOfUserSmtp", "MailboxOwnerUPN").alias("mailbox"),
        _property("MailAccessType").alias("access_type"), _property("IsThrottled").alias("throttled"),
        pl.col("OperationCount").alias("operation_count"), pl.coalesce("QueryText", "SearchQuery").alias("search_terms"),
        pl.col("ObjectId").alias("object_id"), pl.col("Folders").alias("folders"),
        pl.col("Folder").struct.field("Path").alias("folder"), "item", "affected_items",
    )).alias("mail_record")).to_series()


def exposure_rows(scan: pl.LazyFrame) -> pl.LazyFrame:
    """The rows of the events (a lazy frame with `audit_data`) whose operation `mail_items` decodes."""
    return scan.filter(pl.col("operation").is_in(list(ACTIVITIES))).select(*CARRIED, "mailbox_owner_upn", "audit_data")


def decoded_mail_records(rows: pl.DataFrame) -> pl.Series:
    """The `mail_record` of each row's `audit_data` (all null where a record is not JSON)."""
    records = _query(_RECORDS_QUERY, "records", rows.select("audit_data"))
    return mail_records(records.select(pl.col("record").struct.unnest()))


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


def _items(rows: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The items of `rows` (`ITEM_KEYS`, `operation`, `mailbox_owner_upn`, `audit_data` or its `mail_record`, and any
    other `CARRIED` columns) in `schema`."""
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    if "mail_record" not in rows.columns:
        rows = rows.drop("audit_data").with_columns(decoded_mail_records(rows))
    record = pl.col("mail_record").struct
    frame = rows.with_columns(
        pl.col("operation").replace_strict(ACTIVITIES, default=None).alias("activity"),
        pl.coalesce(record.field("mailbox"), pl.col("mailbox_owner_upn")).str.to_lowercase().alias("mailbox"),
        record.field("access_type"),
        (record.field("throttled").str.to_lowercase() == "true").fill_null(False).alias("throttled"),
        _size(record.field("operation_count")).alias("operation_count"),
        record.field("search_terms"),
        pl.when(pl.col("operation").str.starts_with("File")).then(record.field("object_id")).alias("file"),
        record.field("folders"), record.field("folder").alias("_folder"), record.field("item").alias("_item"),
        record.field("affected_items"),
    ).drop("mail_record")
    frame = frame.with_columns(
        pl.when((pl.col("operation") == "MailItemsAccessed") & (pl.col("access_type").str.to_lowercase() == "sync"))
        .then(pl.lit("sync")).otherwise("activity").alias("activity"))
    parts = [_folder_items(frame), _single_items(frame), _affected_items(frame), _itemless(frame)]
    return pl.concat([part.select([name for name in schema if name in part.columns]) for part in parts],
                     how="diagonal_relaxed").select(schema.keys()).cast(schema)


def _folder_items(frame: pl.DataFrame) -> pl.DataFrame:
    """`MailItemsAccessed`: one row per folder item (a folder without items is one row)."""
    # The folder's path and items are taken out before its items are exploded: carried into that explode, the folder
    # (every item of it) was copied into each of its items' rows.
    folders = (frame.filter(pl.col("folders").list.len() > 0).drop("_item", "affected_items").explode("folders")
               .select(pl.exclude("folders"), pl.col("folders").struct.field("Path").alias("folder"),
                       pl.col("folders").struct.field("FolderItems").alias("i"))
               .explode("i"))
    item = pl.col("i").struct
    return folders.with_columns(item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
                                _size(item.field("SizeInBytes")).alias("size"))


def _single_items(frame: pl.DataFrame) -> pl.DataFrame:
    """Send, SendAs, SendOnBehalf, Create, Update: the record's one `Item`."""
    item = pl.col("_item").struct
    return frame.filter(pl.col("_item").is_not_null()).with_columns(
        item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
        item.field("ParentFolder").struct.field("Path").alias("folder"), _size(item.field("SizeInBytes")).alias("size"))


def _affected_items(frame: pl.DataFrame) -> pl.DataFrame:
    """Deletions: one row per affected item."""
    rows = frame.filter(pl.col("affected_items").list.len() > 0).explode("affected_items")
    item = pl.col("affected_items").struct
    return rows.with_columns(
        item.field("InternetMessageId").alias("message_id"), item.field("Subject").alias("subject"),
        pl.coalesce(item.field("ParentFolder").struct.field("Path"), pl.col("_folder")).alias("folder"),
        _size(item.field("SizeInBytes")).alias("size"))


def _itemless(frame: pl.DataFrame) -> pl.DataFrame:
    """Records that name no item: searches, file accesses, and anything whose items could not be read."""
    named = ((pl.col("folders").list.len() > 0) | pl.col("_item").is_not_null()
             | (pl.col("affected_items").list.len() > 0)).fill_null(False)
    return frame.filter(~named)
