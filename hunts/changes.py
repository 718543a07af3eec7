"""Provides `one_finding_per_change`: a directory change the unified audit log records (its AzureActiveDirectory
records, e.g. `Add member to role.`) and the Entra directory audits record too (`Add member to role`) is one finding.

Two hits are of the same change when one reads an AzureActiveDirectory audit log record and the other a directory
audit, their activities are the same (case and a trailing dot aside), the audit log record's object (ObjectId) is
one of the directory audit's targets (or the record names none), both happened within `TOLERANCE` of each other,
their actors do not differ (when both are accounts), and their hunts share an ATT&CK matrix cell. Of such a pair
the hit of the more severe hunt stays (the directory audit's on a tie: it carries the correlation id and every
target) and says in `why` which record of the other source recorded the same change.
"""

import polars as pl

from hunts.model import SEVERITIES, as_text

#: How far apart the two records of one change may be.
TOLERANCE = pl.duration(minutes=2)
#: The columns of each source the change key reads (besides the hit's own).
CHANGE_COLUMNS = {"events": ("workload", "object_id"), "directory_audits": ("target_names",)}
_HIT = ["hunt_id", "source", "record_id", "case"]


def _activity(column: str) -> pl.Expr:
    return pl.col(column).str.to_lowercase().str.strip_chars().str.strip_chars_end(".")


def _records(frame: pl.DataFrame, hits: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The `columns` of the frame's rows that are hits (each once), as text (a hunted frame's are categories; its
    record ids are text)."""
    keys = ["record_id", "case"]
    rows = as_text(frame.select(*keys, *columns).join(hits.select("record_id"), on="record_id", how="semi"))
    return rows.join(hits.select(keys), on=keys, how="semi", nulls_equal=True).unique(keys, keep="first")


def _audit_log_side(hits: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    hits = hits.filter(pl.col("source") == "events")
    records = (_records(events, hits, ["workload", "object_id"])
               .filter(pl.col("workload").str.contains(r"(?i)^azureactivedirectory$")))
    return (hits.join(records, on=["record_id", "case"], how="inner", nulls_equal=True)
            .select(*_HIT, "severity", "creation_time", "user_id", "techniques", _activity("operation").alias("_activity"),
                    pl.col("object_id").str.to_lowercase().str.strip_chars().fill_null("").alias("_target")))


def _directory_side(hits: pl.DataFrame, audits: pl.DataFrame) -> pl.DataFrame:
    hits = hits.filter(pl.col("source") == "directory_audits")
    records = _records(audits, hits, ["target_names"])
    targets = pl.concat_list(pl.col("target_names").str.to_lowercase().str.split(", ").fill_null([]), pl.lit([""]))
    return (hits.join(records, on=["record_id", "case"], how="inner", nulls_equal=True)
            .select(*_HIT, "severity", "creation_time", "user_id", "techniques", _activity("operation").alias("_activity"),
                    targets.list.eval(pl.element().str.strip_chars()).alias("_target"))
            .explode("_target"))


def _cells(column: str) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().struct.field("matrix_technique_id"))


def same_change_pairs(hits: pl.DataFrame, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Pairs of hits (`_a` the audit log's, `_d` the directory audit's) that are one directory change."""
    if "events" not in frames or "directory_audits" not in frames:
        return pl.DataFrame()
    directory = _directory_side(hits, frames["directory_audits"])
    ual = _audit_log_side(hits, frames["events"]) if directory.height else directory
    if ual.height == 0 or directory.height == 0:
        return pl.DataFrame()
    pairs = ual.join(directory, on=["_activity", "_target"], suffix="_d").rename(
        {name: f"{name}_a" for name in ("hunt_id", "source", "record_id", "case", "severity", "creation_time", "user_id",
                                        "techniques")})
    accounts = pl.col("user_id_a").str.contains("@") & pl.col("user_id_d").str.contains("@")
    return pairs.filter(
        (pl.col("creation_time_a") - pl.col("creation_time_d")).abs() <= TOLERANCE,
        ~(accounts & (pl.col("user_id_a").str.to_lowercase() != pl.col("user_id_d").str.to_lowercase())).fill_null(False),
        _cells("techniques_a").list.set_intersection(_cells("techniques_d")).list.len() > 0,
    ).unique([f"{name}_{side}" for side in "ad" for name in _HIT])


def one_finding_per_change(hits: pl.DataFrame, frames: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The hits, in their order, with each same-change pair kept once (see the module's docstring); the kept hit's `why` names the
    other record."""
    pairs = same_change_pairs(hits, frames)
    if pairs.height == 0:
        return hits
    rank = {name: index for index, name in enumerate(SEVERITIES)}
    keep_directory = (pl.col("severity_d").replace_strict(rank, return_dtype=pl.Int8)
                      >= pl.col("severity_a").replace_strict(rank, return_dtype=pl.Int8))
    decided = []
    for directory_wins in (True, False):
        winner, loser = ("d", "a") if directory_wins else ("a", "d")
        chosen = pairs.filter(keep_directory == directory_wins)
        decided.append(chosen.select(
            *(pl.col(f"{name}_{winner}").alias(name) for name in _HIT),
            *(pl.col(f"{name}_{loser}").alias(f"_drop_{name}") for name in _HIT)))
    decided = pl.concat(decided)
    dropped = decided.select(pl.col(f"_drop_{name}").alias(name) for name in _HIT).unique()
    notes = decided.group_by(_HIT, maintain_order=True).agg(
        pl.concat_str([pl.lit("same change as "), pl.col("_drop_source"), pl.lit(" "), pl.col("_drop_record_id"),
                       pl.lit(" ("), pl.col("_drop_hunt_id"), pl.lit(")")]).unique(maintain_order=True)
        .str.join("; ").alias("_same"))
    kept = hits.join(dropped, on=_HIT, how="anti", nulls_equal=True, maintain_order="left")
    return kept.join(notes, on=_HIT, how="left", maintain_order="left", nulls_equal=True).with_columns(
        pl.concat_str([pl.col("why"), pl.col("_same")], separator="; ", ignore_nulls=True).alias("why")).drop("_same")
