"""Provides the message trace shapes: which one a record or CSV header is, from its field names alone.

- `cmdlet`: `Get-MessageTrace` / `Get-MessageTraceV2` piped to `Export-Csv` (`Received, SenderAddress,
  RecipientAddress, ..., MessageTraceId`), and the Reporting Web Service `MessageTrace` report, whose JSON
  (`{"d": {"results": [...]}}` or `{"value": [...]}`) names its fields as the cmdlets do;
- `graph-trace`: Microsoft Graph `GET /admin/exchange/tracing/messageTraces` (exchangeMessageTrace: `id,
  receivedDateTime, senderAddress, recipientAddress, ...`);
- `eac-summary`: the Exchange admin center's downloadable summary / enhanced summary report (`origin_timestamp_utc,
  sender_address, recipient_status` with every recipient as `address##events`);
- `eac-extended`: its extended report (`date_time_utc, event_id, recipient_address, ...`: one row per event).

Kept apart from the reading (messages.py) so that the Entra exports' detection (exports.py) can tell a message
trace from its own shapes, and a file mixing them apart, without importing the reader.
"""

#: Each dialect with the (lower-cased) field names that must all be present, tried in this order.
_REQUIRED = (
    ("eac-extended", {"date_time_utc", "event_id", "recipient_address"}),
    ("eac-summary", {"sender_address", "recipient_status"}),
    ("graph-trace", {"receiveddatetime", "senderaddress", "recipientaddress"}),
    ("cmdlet", {"received", "senderaddress", "recipientaddress"}),
)
#: The summary report's time column, as the documentation names it and as some downloads do.
SUMMARY_TIMES = ("origin_timestamp_utc", "origin_timestamp")

#: The name of each dialect in the load report's format (with the container: `-csv`, `-json`, `-jsonl`).
FORMAT_NAMES = {"cmdlet": "messagetrace", "graph-trace": "graph-messagetraces", "eac-summary": "eac-summary",
                "eac-extended": "eac-extended"}
#: How each dialect is named in a message about a file that mixes shapes.
KIND_NAMES = {"cmdlet": "a Get-MessageTrace / Reporting Web Service message trace row",
              "graph-trace": "a Microsoft Graph message trace", "eac-summary": "an Exchange admin center summary report row",
              "eac-extended": "an Exchange admin center extended report row"}


def message_dialect(keys: set[str]) -> str | None:
    """The message trace dialect of a record or CSV header given its lower-cased field names, else None."""
    for dialect, required in _REQUIRED:
        if required <= keys and (dialect != "eac-summary" or keys & set(SUMMARY_TIMES)):
            return dialect
    return None
