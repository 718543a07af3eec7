"""Provides what the Entra ID sources share: dialects (how each export names a record's fields), picking a
column from the first of several paths that holds a value, and typed values from text."""

import polars as pl

from workbench.core.normalise import client_ips, parse_time
from workbench.core.schema import UTC_TIME
from workbench.core.sources.json_fields import Path, column_name

#: How an export names the fields: Microsoft Graph (camelCase, also inside Azure Monitor's `properties`),
#: Azure Monitor diagnostic records, Log Analytics / Sentinel tables (PascalCase) and the Entra admin
#: center's download (display names).
DIALECTS = ("graph", "azure", "sentinel", "download")

#: column -> the paths that may hold it, first with a value wins ("a/b" is key b inside key a).
Spec = dict[str, tuple[str, ...]]


def paths_of(spec: Spec) -> list[Path]:
    """Every path a spec reads."""
    return list(dict.fromkeys(tuple(path.split("/")) for paths in spec.values() for path in paths))


def under(prefix: str, spec: Spec) -> Spec:
    """The spec of records nested under key `prefix` (Azure Monitor's `properties`)."""
    return {column: tuple(f"{prefix}/{path}" for path in paths) for column, paths in spec.items()}


def merge(first: Spec, then: Spec) -> Spec:
    """A spec that tries `first`'s paths and then `then`'s for each column."""
    return {column: first.get(column, ()) + then.get(column, ()) for column in first | then}


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """The text, null when it is empty (a CSV's empty cell)."""
    return pl.when(expr.str.len_bytes() > 0).then(expr)


def pick(values: pl.DataFrame, spec: Spec) -> pl.DataFrame:
    """One text column per column of `spec`: the first of its paths that holds a value, from the columns
    `json_fields.extract` made of every path of `spec`."""
    return values.select(
        pl.coalesce([blank_to_null(pl.col(column_name(tuple(path.split("/"))))) for path in paths]).alias(column)
        if paths else pl.lit(None, pl.String).alias(column)
        for column, paths in spec.items()
    )


def as_bool(column: str) -> pl.Expr:
    """true/false, yes/no (any case) as a boolean; null otherwise."""
    text = pl.col(column).str.to_lowercase()
    return pl.when(text.is_in(["true", "yes"])).then(True).when(text.is_in(["false", "no"])).then(False)


def as_int(column: str) -> pl.Expr:
    """A whole number written as text (an `AS` prefix, as ASNs are written, ignored)."""
    return pl.col(column).str.replace(r"^(?i:AS)", "").cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)


def lower(column: str) -> pl.Expr:
    """The column in lower case (ids and names for grouping)."""
    return pl.col(column).str.to_lowercase()


#: The time forms the exports write most, tried alone first (a form tried on every row costs what parsing does), each
#: on the texts with the ending it needs: ISO 8601 in UTC, read as RFC 3339 (`%+`, twice as fast as the same form
#: spelt out) only where the text ends in `Z` (so that no other offset is read as one), and the admin center's form.
COMMON_TIMES = (("%+", "Z"), ("%m/%d/%Y, %I:%M:%S%.f %p", "M"))


def _times(text: pl.Series) -> pl.Series:
    """UTC times of a text column: each common form alone on the rows still unread, then every other form."""
    times = pl.Series("creation_time", dtype=UTC_TIME).clear(text.len())
    for form, ending in COMMON_TIMES:
        unread = (times.is_null() & text.str.ends_with(ending)).fill_null(False)
        if not unread.any():
            continue
        # Times are nearly all distinct: a cache by value costs more than it saves (a third of the parse).
        parsed = text.filter(unread).str.to_datetime(form, strict=False, time_unit="us", cache=False)
        times = times.scatter(unread.arg_true(), parsed.dt.convert_time_zone("UTC") if form == "%+"
                              else parsed.dt.replace_time_zone("UTC"))
    unread = times.is_null() & text.is_not_null()
    if unread.any():
        times = times.scatter(unread.arg_true(), text.filter(unread).to_frame("t").select(parse_time("t")).to_series())
    return times


def split_untimed(frame: pl.DataFrame, what: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows whose `time` reads (as `creation_time`), and the others as rejects (`source_row`, `reason`, `text`)."""
    frame = frame.with_columns(_times(frame["time"]))
    bad = frame["creation_time"].is_null()
    rejects = frame.filter(bad).select(
        "source_row",
        pl.when(pl.col("time").is_null()).then(pl.lit(f"{what} without a time"))
        .otherwise(pl.format(f"unreadable {what} time {{}}", pl.col("time"))).alias("reason"),
        pl.col("record").alias("text"),
    )
    return frame.filter(~bad), rejects


def finished(frame: pl.DataFrame, schema: dict[str, pl.DataType], ips: dict[str, str] | None = None) -> pl.DataFrame:
    """The frame's rows with canonical addresses and the original record as `raw`, in `schema`; `ips` names each
    canonical address column and the column holding it as logged (default: `client_ip` from `client_ip_raw`)."""
    ips = ips or {"client_ip": "client_ip_raw"}
    frame = frame.with_columns(*(client_ips(frame[logged]).alias(name) for name, logged in ips.items()),
                               pl.col("record").alias("raw"))
    return frame.select(list(schema)).cast(schema)
