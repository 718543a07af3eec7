"""Provides `ValueIndex`: per column of one frame, its distinct values and each row's code into them.

A test on one column's value (a filter term, a hunt predicate) is then decided once per distinct value and mapped
back to the rows by code, which keeps it fast at a million rows whatever the test costs: the columns responders
filter and hunt on (operation, status, client app, user agent, address) hold few distinct values.
"""

import threading

import polars as pl


#: Rows sampled to judge whether a column is worth indexing.
SAMPLE = 10_000
#: At most this many distinct values in the sample: the sample probably holds all of them, tried first.
FEW = 100


def _mostly_distinct(series: pl.Series) -> bool:
    """Whether more than half the values of `series` (nulls aside) are distinct from each other."""
    return series.n_unique() > series.len() // 2


def _coded_as_numbers(dtype: pl.DataType) -> bool:
    """Whether a column of this type is coded in its own type (integers, booleans) rather than as text."""
    return dtype.is_integer() or dtype == pl.Boolean


def _categories_coded(frame: pl.DataFrame, column: str) -> tuple[pl.Series, pl.Series]:
    """(distinct values as text, each row's code into them) of a categorical column, from its categories' own numbers:
    no text is made of its rows."""
    numbers = pl.col(column).to_physical()
    present = frame.select(pl.col(column).unique().drop_nulls()).select(pl.first().cast(pl.String), numbers.alias("_n")).sort("_n")
    series = frame.select(numbers).to_series()
    codes = present["_n"].search_sorted(series).scatter(series.is_null().arg_true(), None)
    return present.to_series(), _narrowest(codes, present.height)


def _coded(frame: pl.DataFrame, column: pl.Expr, sample: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(distinct values in their own type, each row's code into them in the narrowest unsigned type that holds them;
    null for a null) of `column` of `frame`.

    Numbers and booleans are coded by binary search in their sorted values (no text made of a million of them); text
    is cast to an enum of its values, first of the sample's values when it has few (one pass when it holds them all).
    The column is read through expressions, so that a column the frame holds as a literal (one value in every row)
    is never made into a column of texts.
    """
    if _coded_as_numbers(frame.schema[column.meta.output_name()]):
        values = frame.select(column.unique().drop_nulls().sort()).to_series()
        series = frame.select(column).to_series()
        return values, _narrowest(values.search_sorted(series).scatter(series.is_null().arg_true(), None), values.len())
    nulls = frame.select(column.null_count()).item()
    if sample.n_unique() <= FEW:
        values = sample.unique()
        codes = frame.select(column.cast(pl.Enum(values), strict=False).to_physical()).to_series()
        if codes.null_count() == nulls:
            return values, _narrowest(codes, values.len())
    values = frame.select(column.unique().drop_nulls()).to_series()
    return values, _narrowest(frame.select(column.cast(pl.Enum(values)).to_physical()).to_series(), values.len())


def _narrowest(codes: pl.Series, distinct: int) -> pl.Series:
    """Codes as one byte a row where there are few values, two where there are some (rather than four)."""
    for dtype, most in ((pl.UInt8, 255), (pl.UInt16, 65_535)):
        if distinct <= most:
            return codes.cast(dtype)
    return codes


class ValueIndex:
    """Per column of one frame: its distinct values (as text) and each row's code into them, built on first use."""

    def __init__(self, frame: pl.DataFrame, unindexed: tuple[str, ...] = ()):
        self.frame, self.unindexed = frame, unindexed  # `unindexed`: columns never covered (records, all distinct)
        self._columns: dict[str, tuple[pl.DataFrame, pl.Series] | None] = {}
        self._lock = threading.Lock()

    def _distinct(self, column: str) -> tuple[pl.DataFrame, pl.Series] | None:
        """(distinct values, row codes) of `column`; None when most of its values are distinct (nothing to gain),
        unless the column is categorical (held as codes already)."""
        if column in self.unindexed:
            return None
        with self._lock:
            if column not in self._columns and self.frame.schema[column] == pl.Categorical:
                values, codes = _categories_coded(self.frame, column)  # coded already: always worth it
                self._columns[column] = (values.to_frame(), codes)
            if column not in self._columns:
                expression = pl.col(column)
                if not _coded_as_numbers(self.frame.schema[column]):
                    expression = expression.cast(pl.String)
                self._columns[column] = None
                height = self.frame.height
                sample = self.frame.select(expression.gather_every(max(1, height // SAMPLE))).to_series().drop_nulls()
                if _mostly_distinct(sample):
                    return None  # judged on a sample first: finding all distinct values of such a column is the cost
                values, codes = _coded(self.frame, expression, sample)
                if values.len() <= (height - codes.null_count()) // 2:
                    self._columns[column] = (values.cast(pl.String).to_frame(), codes)
            return self._columns[column]

    def covers(self, column: str) -> bool:
        """Whether `column` is indexed: a column of the frame with few enough distinct values to gain by it."""
        return column in self.frame.columns and self._distinct(column) is not None

    def warm(self, columns: list[str]) -> None:
        """Build these columns' codes (for a worker thread, before the first filter)."""
        for column in columns:
            self._distinct(column)

    def codes(self, column: str, empty_as_null: bool = False) -> pl.Series | None:
        """Per row of the frame, a number for its value (equal numbers for equal values; null for a null, and with
        `empty_as_null` for an empty text too), to group and count by; None when the column is not covered."""
        distinct = self._distinct(column)
        if distinct is None:
            return None
        values, codes = distinct
        empty = values.to_series().eq("").arg_true()
        if empty_as_null and empty.len():
            codes = codes.to_frame().select(pl.when(pl.first() != empty[0]).then(pl.first())).to_series()
        return codes.alias(column)

    def match(self, column: str, expression: pl.Expr) -> pl.Expr:
        """Per row of the frame, whether `expression` (over `column` only, as text) holds, decided on the distinct
        values (an empty value by what the expression says of it): a literal of the frame's height, or the expression
        itself when the column is not covered."""
        distinct = self._distinct(column)
        if distinct is None:
            return expression
        values, codes = distinct
        holds = expression.fill_null(False)
        hits = values.select(holds.arg_true()).to_series()
        empty = pl.DataFrame({column: [None]}, schema=values.schema).select(holds).item()
        return pl.lit(codes.is_in(hits.cast(codes.dtype).implode()).fill_null(empty))
