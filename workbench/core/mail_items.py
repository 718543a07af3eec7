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
_FOLDER_ITEM = pl.Struct({"InternetMessageId": pl.String(), "SizeInBytes": pl.String(), "Subject": pl.String()})
_ITEM = pl.Struct({"InternetMessageId": pl.String(), "Subject": pl.String(), "SizeInBytes": pl.String(),
                   "ParentFolder": pl.Struct({"Path": pl.String()})})
#: What the case stores of each mailbox or file record (mail_item_frame.py): `ITEM_KEYS`, the record's own columns of
#: `MAIL_ITEM_SCHEMA`, and its items as the record names them (`folders`, `item`, `affected_items`, and
#: `record_folder`, a delete's `Folder`), made rows when read (`items_query`). The other `CARRIED` columns (long texts
#: such as the user agent) are joined back from the record's row of the events.
RECORD_ITEM_SCHEMA: dict[str, pl.DataType] = {
    "case": pl.String(), "record_id": pl.String(), "creation_time": UTC_TIME, "activity": pl.String(),
    "mailbox": pl.String(), "access_type": pl.String(), "throttled": pl.Boolean(), "operation_count": pl.Int64(),
    "file": pl.String(), "search_terms": pl.String(), "record_folder": pl.String(),
    "folders": pl.List(pl.Struct({"Path": pl.String(), "FolderItems": pl.List(_FOLDER_ITEM)})),
    "item": _ITEM, "affected_items": pl.List(_ITEM),
}
#: The columns of an item made of a stored record: `ITEM_KEYS` and its own.
STORED_ITEM_SCHEMA = {name: dtype for name, dtype in MAIL_ITEM_SCHEMA.items() if name in ITEM_KEYS or name not in CARRIED}


#: The order of an item within its record (`items_query`'s `_item_order`): folder items by folder and place, then the
#: `Item`, then the affected items by place.
_FOLDER_PLACE, _SINGLE_ITEM, _AFFECTED_ITEMS = 2**20, 2**40, 2**41


def _item_columns(folder: str, item: str) -> str:
    return (f"{folder} AS folder, {item}.InternetMessageId AS message_id, {item}.Subject AS subject, "
            f"{item}.SizeInBytes AS size")


def items_query(records: str) -> str:
    """DuckDB's query of the items of the records of the relation `records` (`RECORD_ITEM_SCHEMA`, with any other
    columns, which each item carries): one row per folder item (a folder without items is one row), per `Item` and
    per affected item; a record that names none (a Sync, a search, a file access) is one row. `_item_order` orders
    the items of a record as it lists them."""
    own = "* EXCLUDE (record_folder, folders, item, affected_items)"
    listed = "coalesce(len(folders) > 0, false) OR item IS NOT NULL OR coalesce(len(affected_items) > 0, false)"
    return f"""WITH records AS NOT MATERIALIZED (SELECT * FROM {records})
SELECT * EXCLUDE (size), TRY_CAST(size AS BIGINT) AS size FROM (
    SELECT * EXCLUDE (f, fi, i, ii), {_item_columns("f.Path", "i")}, fi * {_FOLDER_PLACE} + ii AS _item_order FROM (
        SELECT *, unnest(CASE WHEN len(f.FolderItems) > 0 THEN f.FolderItems ELSE [NULL] END) AS i,
            unnest(CASE WHEN len(f.FolderItems) > 0 THEN range(len(f.FolderItems)) ELSE [0] END) AS ii
        FROM (SELECT {own}, unnest(folders) AS f, unnest(range(len(folders))) AS fi FROM records WHERE len(folders) > 0))
    UNION ALL BY NAME
    SELECT {own}, {_item_columns("item.ParentFolder.Path", "item")}, {_SINGLE_ITEM} AS _item_order
    FROM records WHERE item IS NOT NULL
    UNION ALL BY NAME
    SELECT * EXCLUDE (a, ai, record_folder, folders, item, affected_items),
        {_item_columns("coalesce(a.ParentFolder.Path, record_folder)", "a")}, {_AFFECTED_ITEMS} + ai AS _item_order
    FROM (SELECT *, unnest(affected_items) AS a, unnest(range(len(affected_items))) AS ai FROM records
          WHERE len(affected_items) > 0)
    UNION ALL BY NAME
    SELECT {own}, NULL::VARCHAR AS folder, NULL::VARCHAR AS message_id, NULL::VARCHAR AS subject,
        NULL::VARCHAR AS size, 0 AS _item_order
    FROM records WHERE NOT ({listed}))"""


_ITEM_JSON = json.dumps({"InternetMessageId": "VARCHAR", "Subject": "VARCHAR", "SizeInBytes": "VARCHAR",
                         "ParentFolder": {"Path": "VARCHAR"}})
#: The fields of a record its items are made of, beyond the events' own (`AUDIT_FIELDS`), as DuckDB reads them.
RECORD_FIELDS = {
    "SendAsUserSmtp": "VARCHAR", "SendOnBehalfOfUserSmtp": "VARCHAR", "OperationCount": "VARCHAR",
    "OperationProperties": "STRUCT(Name VARCHAR, Value VARCHAR)[]",
    "Folders": "STRUCT(Path VARCHAR, FolderItems STRUCT(InternetMessageId VARCHAR, SizeInBytes VARCHAR, "
               "Subject VARCHAR)[])[]",
    "Folder": "STRUCT(Path VARCHAR)", "QueryText": "VARCHAR", "SearchQuery": "VARCHAR",
}
#: Those fields and the events' fields `mail_records` reads (`Item` and `AffectedItems` as JSON text).
_STRUCTURE = json.dumps({"Operation": "VARCHAR", "MailboxOwnerUPN": "VARCHAR", "ObjectId": "VARCHAR", "Item": "JSON",
                         "AffectedItems": "JSON"} | RECORD_FIELDS)
_RECORDS_QUERY = f"SELECT try(json_transform(audit_data, '{_STRUCTURE}')) AS record FROM records"
_MESSAGES_QUERY = (f"SELECT try(json_transform(Item, '{_ITEM_JSON}')) AS item, "
                   f"try(json_transform(AffectedItems, '[{_ITEM_JSON}]')) AS affected_items FROM messages")
_DATABASE = connect()
#: Records made items by one DuckDB query: all at once, 1.9M records (3.7M items) took 3.5 GB beside their 0.6 GB.
ITEM_BATCH = 100_000


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


def mail_records(fields: pl.DataFrame) -> pl.Series:
    """What the items of each record are made of (`mail_record`, read by `mail_items`) from its fields as DuckDB read
    them (`RECORD_FIELDS`, `Operation`, `MailboxOwnerUPN`, `ObjectId`, and `Item` and `AffectedItems` as JSON text);
    null for a record of an operation that names no items. A field of another type reads as null."""
    read = pl.col("Operation").is_null() | pl.col("Operation").is_in(list(ACTIVITIES))
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


def mail_items(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per item touched by `exposure_rows` (collected), in `MAIL_ITEM_SCHEMA`, in time order (then record
    id, then the items' order in the record); a record that names no item (a Sync, a search, a file access) is one
    row."""
    if "mail_record" not in rows.columns:
        rows = rows.drop("audit_data").with_columns(decoded_mail_records(rows))
    return in_item_order(record_items(rows, MAIL_ITEM_SCHEMA))


def in_item_order(items: pl.DataFrame) -> pl.DataFrame:
    """Mail items (of `record_items`, or read back from the case) in `mail_items`' order."""
    return items.sort("creation_time", "record_id", maintain_order=True)


def items_to_store(events: pl.DataFrame) -> pl.DataFrame:
    """The mailbox and file records of a chunk of the events (with the `mail_record` `normalise` gives them) as the
    case stores them: `RECORD_ITEM_SCHEMA`, in no particular order; of a record id the chunk holds twice, only the
    first row's (the one the loader keeps)."""
    rows = (events.select(*ITEM_KEYS, "operation", "mailbox_owner_upn", "mail_record")  # before filtering: 4x faster
            .filter(pl.col("operation").is_in(list(ACTIVITIES))).filter(pl.col("record_id").is_first_distinct()))
    return record_columns(rows).select(RECORD_ITEM_SCHEMA.keys()).cast(RECORD_ITEM_SCHEMA)


def record_items(records: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """The items (`items_query`) of `records`, in `schema`: stored records (`RECORD_ITEM_SCHEMA`), or rows of the
    events with their `mail_record` (made `record_columns` first), the other `CARRIED` columns carried along."""
    if "mail_record" in records.columns:
        records = record_columns(records)
    if records.is_empty():
        return pl.DataFrame(schema=schema)
    return pl.concat([_batch_items(records.slice(start, ITEM_BATCH), schema)
                      for start in range(0, records.height, ITEM_BATCH)])


def _batch_items(records: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    items = _query(items_query("records"), "records", records)
    return items.sort("creation_time", "record_id", "_item_order").select(schema.keys()).cast(schema)


def record_columns(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows of the events (`ITEM_KEYS`, `operation`, `mailbox_owner_upn`, `mail_record`, maybe other `CARRIED`
    columns) with the columns of `RECORD_ITEM_SCHEMA` in place of the `mail_record` and the owner."""
    record = pl.col("mail_record").struct
    sync = (pl.col("operation") == "MailItemsAccessed") & (record.field("access_type").str.to_lowercase() == "sync")
    return rows.with_columns(
        pl.when(sync).then(pl.lit("sync"))
        .otherwise(pl.col("operation").replace_strict(ACTIVITIES, default=None)).alias("activity"),
        pl.coalesce(record.field("mailbox"), pl.col("mailbox_owner_upn")).str.to_lowercase().alias("mailbox"),
        record.field("access_type"),
        (record.field("throttled").str.to_lowercase() == "true").fill_null(False).alias("throttled"),
        record.field("operation_count").cast(pl.Int64, strict=False).alias("operation_count"),
        record.field("search_terms"),
        pl.when(pl.col("operation").str.starts_with("File")).then(record.field("object_id")).alias("file"),
        record.field("folder").alias("record_folder"), record.field("folders"), record.field("item"),
        record.field("affected_items"),
    ).drop("mail_record", "mailbox_owner_upn")
