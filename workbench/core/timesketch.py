"""Provides `timesketch_rows`: an events export in the shape Timesketch imports from CSV or JSON Lines.

Timesketch needs three fields on every event (its "Create timeline from JSON/JSONL/CSV file" guide):
`message` (what happened, one line), `datetime` (ISO 8601 with a time zone, `2023-02-20T15:03:44.000000+00:00`)
and `timestamp_desc` (what the time means). `timestamp` (microseconds since 1970) is added too, and every
column of the export follows as a field of its own.
"""

import polars as pl

#: What `creation_time` means in each log (`source` of the activity projection).
TIMESTAMP_DESCRIPTIONS = {"ual": "Event Recorded", "signin": "Sign-in", "audit": "Directory audit",
                          "message": "Message received"}
FIRST_COLUMNS = ("message", "datetime", "timestamp", "timestamp_desc")


def message() -> pl.Expr:
    """`<user> <operation> <what it touched> from <ip>`, leaving out the parts an event lacks."""
    touched = pl.when(pl.col("summary") != "").then(pl.col("summary"))
    return pl.concat_str(
        [pl.col("user_id"), pl.col("operation"), touched, pl.lit("from ") + pl.col("client_ip")],
        separator=" ", ignore_nulls=True,
    ).alias("message")


def timesketch_rows(table: pl.DataFrame) -> pl.DataFrame:
    """`table` (an annotated events export) with Timesketch's fields first."""
    source = pl.col("source") if "source" in table.columns else pl.lit("ual")
    return table.select(
        message(),
        pl.col("creation_time").dt.convert_time_zone("UTC").dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00").alias("datetime"),
        pl.col("creation_time").dt.epoch("us").alias("timestamp"),
        source.replace_strict(TIMESTAMP_DESCRIPTIONS, default="Event Recorded", return_dtype=pl.String)
        .alias("timestamp_desc"),
        pl.all(),
    )
