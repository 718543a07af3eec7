"""Provides `exposure`: what the attacker read, synced, searched, opened or downloaded, sent and deleted, per
mailbox, down to the message, for breach notification.

The mailbox and file activity (mail_items.py) is attributed (attribution.py) and kept when it is the attacker's
(or uncertain, flagged so) inside the window, by default from the first to the last attacker-attributed record of
any source. Messages read get their subject, sender and received time from the message trace (the `messages`
frame), else the subject from other audit records of the same message id; messages sent get one row per
recipient from the trace, whether the recipient is outside the tenant's domains and whether it was delivered.
What cannot be known is said in `notes`: throttled auditing (no items recorded for 24 hours: assume the whole
mailbox), records with neither session id nor IP, sent messages missing from the trace.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from hunts.model import as_text
from workbench.core.attribution import ATTACKER, Attribution, attribute, attributed_rows, shared_sessions
from workbench.core.mail_items import ACTIVITIES, CARRIED
from workbench.core.schema import UTC_TIME

#: What auditing stops recording after a throttled `MailItemsAccessed` record.
THROTTLE_PERIOD = timedelta(hours=24)
#: Each kind of exposure: its title and the columns shown for it (CLI, TUI and report).
SECTIONS = {
    "read": ("messages read", ("mailbox", "time", "subject", "sender", "received", "folder", "message_id", "times")),
    "sync": ("folders synced (every item in them downloaded)", ("mailbox", "time", "folder", "times")),
    "search": ("searches", ("mailbox", "time", "search_terms", "operation")),
    "file": ("files opened or downloaded", ("mailbox", "time", "operation", "file")),
    "sent": ("messages sent", ("mailbox", "time", "subject", "recipient", "outside", "status", "message_id")),
    "deleted": ("messages deleted", ("mailbox", "time", "operation", "subject", "folder", "message_id")),
    "throttled": ("throttled auditing (items not recorded)", ("mailbox", "time", "until")),
}
#: The kinds of exposure, in the order shown.
KINDS = tuple(SECTIONS)
#: One row per thing exposed.
EXPOSURE_SCHEMA: dict[str, pl.DataType] = {
    "mailbox": pl.String(), "kind": pl.String(), "time": UTC_TIME, "until": UTC_TIME, "message_id": pl.String(),
    "subject": pl.String(), "sender": pl.String(), "received": UTC_TIME, "folder": pl.String(),
    "recipient": pl.String(), "outside": pl.Boolean(), "status": pl.String(), "search_terms": pl.String(),
    "file": pl.String(), "operation": pl.String(), "times": pl.Int64(), "attribution": pl.String(),
    "reason": pl.String(), "client_ip": pl.String(), "session_id": pl.String(), "case": pl.String(),
    "record_ids": pl.List(pl.String()),
}
_ITEM_KIND = {"read": "read", "sync": "sync", "search": "search", "file": "file", "send": "sent", "delete": "deleted"}
#: The `CARRIED` columns of a record the exposure reads of its items (not the file, row, tenant or apps: at 10M
#: exchange events, joining those onto 3.7M items took more memory than any other step).
ITEM_RECORD_COLUMNS = tuple(name for name in CARRIED if name not in (
    "organization_id", "app_id", "client_app_id", "source_file", "source_row"))
MESSAGE_COLUMNS = {"received": UTC_TIME, "sender": pl.String(), "recipient": pl.String(), "subject": pl.String(),
                   "status": pl.String(), "message_id": pl.String()}


@dataclass
class Exposure:
    """The exposure found: its rows, per-mailbox counts, what could not be known, the attribution and window."""

    rows: pl.DataFrame
    attribution: Attribution
    start: datetime | None
    end: datetime | None
    notes: list[str]

    def summary(self) -> pl.DataFrame:
        """Per mailbox (and `all mailboxes`), the count of each kind of exposure by the attacker."""
        attacker = self.rows.filter(pl.col("attribution") == ATTACKER)
        counted = _counts(attacker).with_columns(pl.col("mailbox").cast(pl.String))
        total = _counts(attacker.with_columns(pl.lit("all mailboxes").alias("mailbox")))
        return pl.concat([counted.sort("mailbox"), total], how="vertical_relaxed") if counted.height else counted

    def as_dict(self, with_rows: bool = True) -> dict:
        """The JSON shape: window, attribution (with the rule), notes, summary and rows (an empty list without
        `with_rows`)."""
        return {"from": self.start, "to": self.end, "attribution": self.attribution.as_dict(), "notes": self.notes,
                "summary": self.summary().to_dicts(), "rows": self.rows.to_dicts() if with_rows else []}


def _counts(rows: pl.DataFrame) -> pl.DataFrame:
    measures = {
        "read": pl.col("message_id").filter(pl.col("kind") == "read").n_unique(),
        "synced": (pl.col("kind") == "sync").sum(), "searches": (pl.col("kind") == "search").sum(),
        "files": pl.col("file").filter(pl.col("kind") == "file").n_unique(),
        "sent": pl.col("message_id").filter(pl.col("kind") == "sent").n_unique(),
        "outside": pl.col("recipient").filter((pl.col("kind") == "sent") & pl.col("outside")).n_unique(),
        "deleted": pl.col("message_id").filter(pl.col("kind") == "deleted").n_unique(),
        "throttled": (pl.col("kind") == "throttled").sum(),
    }
    return rows.group_by("mailbox").agg(**measures).with_columns(pl.col(name).cast(pl.Int64) for name in measures)


def _mailboxes(activity: pl.DataFrame | pl.LazyFrame) -> pl.Series:
    """The mailboxes of the case's audit records (lower-cased)."""
    owners = pl.col("mailbox_owner_upn").drop_nulls().unique()
    return activity.lazy().select(owners).collect().to_series().cast(pl.String).str.to_lowercase().unique()


def tenant_domains(activity: pl.DataFrame | pl.LazyFrame) -> list[str]:
    """The tenant's mail domains: those of its mailboxes and of the accounts that signed in (guests left out)."""
    signed_in = activity.lazy().filter(pl.col("operation").is_in(["UserLoggedIn", "SignIn", "NonInteractiveSignIn"]))
    accounts = pl.concat([_mailboxes(activity),
                          signed_in.select(pl.col("user_key").drop_nulls().unique()).collect().to_series().cast(pl.String)])
    accounts = accounts.filter(~accounts.str.contains("#ext#", literal=True))
    return sorted(accounts.str.extract(r"@([^@\s]+)$").drop_nulls().str.to_lowercase().unique())


def _in_window(column: str, start: datetime | None, end: datetime | None) -> pl.Expr:
    keep = pl.lit(True)
    if start is not None:
        keep &= pl.col(column) >= start
    if end is not None:
        keep &= pl.col(column) <= end
    return keep


def _scoped(frame: pl.DataFrame, users: list[str]) -> pl.DataFrame:
    """Rows of the mailboxes or accounts named (all when none is)."""
    if not users:
        return frame
    wanted = [user.lower() for user in users]
    return frame.filter(pl.col("mailbox").is_in(wanted) | pl.col("user_key").is_in(wanted))


def _onedrive_owners(items: pl.DataFrame, mailboxes: pl.Series) -> pl.DataFrame:
    """File accesses carry the owner of a OneDrive (`/personal/jane_example_com/`) as their mailbox when one of the
    `mailboxes` has that spelling."""
    owners = mailboxes.alias("mailbox").to_frame()
    owners = owners.with_columns(pl.col("mailbox").str.replace_all(r"[@.]", "_").alias("personal"))
    personal = pl.col("file").str.extract(r"/personal/([^/]+)").str.to_lowercase()
    return (items.with_columns(personal.alias("personal"))
            .join(owners.rename({"mailbox": "owner"}), on="personal", how="left")
            .with_columns(pl.coalesce("mailbox", "owner", "user_key").alias("mailbox")).drop("personal", "owner"))


def window(attributed: pl.DataFrame, start: datetime | None = None,
           end: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """`start` and `end`, each by default the first or last attacker-attributed record of the `attribute`d activity
    (its rows that are `not_the_owners` suffice)."""
    attacker_times = attributed.filter(pl.col("attribution") == ATTACKER)["creation_time"]
    return (start if start is not None else attacker_times.min()), (end if end is not None else attacker_times.max())


def records_needed(activity: pl.DataFrame | pl.LazyFrame, attributed: pl.DataFrame, start: datetime | None,
                   end: datetime | None) -> pl.DataFrame:
    """The rows of `activity` (their `ITEM_RECORD_COLUMNS`) whose mail items the exposure needs: the mailbox and file
    records in the window that are not the owner's (of `attributed`, the `attribute`d activity, or only its rows that
    are `not_the_owners`), and every `MailItemsAccessed` of the mailboxes they touch from a day before the window (a
    throttled one silences the next 24 hours). The owner's own records, the bulk of a mailbox's, are never read."""
    since = None if start is None else start - THROTTLE_PERIOD
    mailbox_records = (pl.col("source") == "ual") & pl.col("operation").is_in(list(ACTIVITIES))
    touched = attributed.filter(mailbox_records & (pl.col("attribution") != "owner")
                                & _in_window("creation_time", start, end))
    boxes = touched.get_column("mailbox_owner_upn").drop_nulls().str.to_lowercase().unique()
    reads = activity.lazy().filter((pl.col("operation") == "MailItemsAccessed") & (pl.col("source") == "ual")
                                   & _in_window("creation_time", since, end)
                                   & pl.col("mailbox_owner_upn").cast(pl.String).str.to_lowercase().is_in(boxes.implode()))
    # the reads not touched already, in time order as the activity in memory holds them; each step before the collect,
    # as the reads of an attacker on the office's address are 1.9M rows at 10M events
    keys = pl.col("case", "record_id").cast(pl.String)  # as categories in the events view's frame
    reads = (reads.with_columns(keys)
             .join(touched.lazy().select(keys), on=["case", "record_id"], how="anti", maintain_order="left")
             .sort("creation_time", maintain_order=True).select(ITEM_RECORD_COLUMNS))
    return pl.concat([touched.select(ITEM_RECORD_COLUMNS), as_text(reads.collect())])


def exposure(items: pl.DataFrame, activity: pl.DataFrame | pl.LazyFrame, messages: pl.DataFrame, attribution: Attribution,
             users: list[str] = (), start: datetime | None = None, end: datetime | None = None,
             shared: pl.Series | None = None) -> Exposure:
    """The exposure of the `items` (mail_items.py; those of `records_needed` suffice) of the mailboxes or accounts
    named in `users` (all when none), by `attribution`, between `start` and `end` (default: first to last
    attacker-attributed record of `activity`, in memory or the case's scan); `shared`: attribution.shared_sessions,
    when known already."""
    shared = shared_sessions(activity, attribution) if shared is None else shared
    if start is None or end is None:
        start, end = window(attributed_rows(activity, attribution, shared), start, end)
    notes: list[str] = []
    if attribution.empty:
        notes.append("nothing is attributed to the attacker: mark IPs or sessions, or accept the proposal")
    items = _scoped(_onedrive_owners(items, _mailboxes(activity)), list(users))
    touched = attribute(items, attribution, activity, shared)
    chosen = touched.filter(pl.col("attribution") != "owner").filter(_in_window("creation_time", start, end))
    messages = messages.select(MESSAGE_COLUMNS.keys()).cast(MESSAGE_COLUMNS)
    rows = pl.concat([
        _reads(chosen.filter((pl.col("activity") == "read") & (pl.col("message_id").is_not_null() | ~pl.col("throttled"))),
               messages, items),
        _single(chosen.filter(pl.col("activity").is_in(["sync", "search", "file", "delete"]))),
        _sent(chosen.filter(pl.col("activity") == "send"), messages, tenant_domains(activity), notes),
        _throttled(touched, start, end),
    ], how="diagonal_relaxed")
    rows = rows.select(pl.col(name).cast(dtype) if name in rows.columns else pl.lit(None, dtype).alias(name)
                       for name, dtype in EXPOSURE_SCHEMA.items())
    rows = rows.sort(pl.col("kind").replace_strict({kind: n for n, kind in enumerate(KINDS)}, return_dtype=pl.Int64),
                     "mailbox", "time", "message_id", "recipient", "folder", "file", "search_terms", nulls_last=True)
    uncertain = rows.filter(pl.col("attribution") == "uncertain")
    if uncertain.height:
        notes.append(f"{uncertain.height} rows are uncertain (see their reason): neither the attacker's nor the owner's "
                     "by the rule")
    for mailbox, since, until in rows.filter(pl.col("kind") == "throttled").select("mailbox", "time", "until").iter_rows():
        notes.append(f"{mailbox}: auditing throttled from {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC: "
                     "messages read then were not recorded; assume the whole mailbox was exposed")
    return Exposure(rows, attribution, start, end, notes)


def _reads(reads: pl.DataFrame, messages: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """One row per (mailbox, message) read, with the trace's subject, sender and received time (the copy the mailbox
    received first), else the subject other audit records give the message id. (A throttled Bind that names no item
    is the `throttled` row, not a read.)"""
    messages = messages.join(reads.select("message_id").unique(), on="message_id", how="semi")
    grouped = reads.group_by("mailbox", "message_id", "attribution", "attribution_reason", "case").agg(
        pl.col("creation_time").min().alias("time"), pl.len().alias("times"), pl.col("folder").first(),
        pl.col("client_ip").first(), pl.col("session_id").first(), pl.col("subject").drop_nulls().first(),
        pl.col("record_id").unique(maintain_order=True).alias("record_ids"))
    received = (messages.with_columns(pl.col("recipient").str.to_lowercase().alias("mailbox"))
                .sort("received").unique(["mailbox", "message_id"], keep="first", maintain_order=True)
                .select("mailbox", "message_id", "received", "sender", pl.col("subject").alias("trace_subject")))
    anywhere = (messages.sort("received").unique("message_id", keep="first", maintain_order=True)
                .select("message_id", pl.col("received").alias("any_received"), pl.col("sender").alias("any_sender"),
                        pl.col("subject").alias("any_subject")))
    named = (items.filter(pl.col("subject").is_not_null() & pl.col("message_id").is_not_null())
             .unique("message_id", keep="first", maintain_order=True)
             .select("message_id", pl.col("subject").alias("audit_subject")))
    joined = (grouped.join(received, on=["mailbox", "message_id"], how="left")
              .join(anywhere, on="message_id", how="left").join(named, on="message_id", how="left"))
    return joined.select(
        "mailbox", pl.lit("read").alias("kind"), "time", "message_id",
        pl.coalesce("trace_subject", "any_subject", "subject", "audit_subject").alias("subject"),
        pl.coalesce("sender", "any_sender").alias("sender"), pl.coalesce("received", "any_received").alias("received"),
        "folder", "times", "client_ip", "session_id", pl.lit("MailItemsAccessed").alias("operation"),
        "attribution", pl.col("attribution_reason").alias("reason"), "case", "record_ids")


def _single(rows: pl.DataFrame) -> pl.DataFrame:
    """Syncs, searches, file accesses and deletions: one row per item touched."""
    return rows.select(
        "mailbox", pl.col("activity").replace_strict(_ITEM_KIND).alias("kind"), pl.col("creation_time").alias("time"),
        "message_id", "subject", "folder", "search_terms", "file", "operation", "client_ip", "session_id",
        pl.col("operation_count").alias("times"), "attribution", pl.col("attribution_reason").alias("reason"), "case",
        pl.concat_list("record_id").alias("record_ids"))


def _sent(sends: pl.DataFrame, messages: pl.DataFrame, domains: list[str], notes: list[str]) -> pl.DataFrame:
    """One row per (message sent, recipient) from the trace; a message the trace lacks is one row without one."""
    recipients = messages.select("message_id", "recipient", "status", pl.col("received").alias("trace_time"))
    joined = sends.join(recipients, on="message_id", how="left")
    missing = joined.filter(pl.col("recipient").is_null())["message_id"].n_unique()
    if sends.height and messages.is_empty():
        notes.append("no message trace in the case: the recipients and delivery of sent messages are unknown")
    elif missing:
        notes.append(f"{missing} sent messages are not in the message trace: their recipients are unknown")
    domain = pl.col("recipient").str.to_lowercase().str.extract(r"@([^@\s]+)$")
    return joined.select(
        "mailbox", pl.lit("sent").alias("kind"), pl.col("creation_time").alias("time"), "message_id", "subject",
        "folder", "recipient", pl.when(domain.is_not_null()).then(~domain.is_in(domains)).alias("outside"),
        pl.coalesce("status", pl.when(pl.col("recipient").is_null()).then(pl.lit("not in message trace"))).alias("status"),
        "operation", "client_ip", "session_id", "attribution", pl.col("attribution_reason").alias("reason"), "case",
        pl.concat_list("record_id").alias("record_ids"))


def _throttled(items: pl.DataFrame, start: datetime | None, end: datetime | None) -> pl.DataFrame:
    """Each throttled `MailItemsAccessed` record of the mailboxes in scope whose 24 hours meet the window, whoever
    made it: auditing of the whole mailbox stopped recording items."""
    throttled = items.filter(pl.col("throttled")).unique(["case", "record_id"], keep="first", maintain_order=True)
    throttled = throttled.with_columns((pl.col("creation_time") + THROTTLE_PERIOD).alias("until"))
    if start is not None:
        throttled = throttled.filter(pl.col("until") >= start)
    if end is not None:
        throttled = throttled.filter(pl.col("creation_time") <= end)
    return throttled.select(
        "mailbox", pl.lit("throttled").alias("kind"), pl.col("creation_time").alias("time"), "until", "operation",
        "client_ip", "session_id", "attribution",
        pl.lit("auditing throttled: items not recorded for 24 hours").alias("reason"), "case",
        pl.concat_list("record_id").alias("record_ids"))
