"""Provides the score of a shared indicator (correlate) and its parts, all in bits but the kind's weight.

    score = kind_weight × (rarity − generic + account_rarity + spread + linked_bits)

- `kind_weight` (0..1): how specific the kind is. An IP, a session id or an allow-list entry names one
  piece of infrastructure; a user agent is shared by everyone on the same browser; a rule keyword is
  often a plain word.
- `rarity`: `−log2(share of the case's events carrying it)`, in the case (or tenant) where it is most
  common (`rarity_per_case` lists each one).
- `generic`: for short dictionary-like values (one or two plain words), how much rarer the value looks as
  an indicator than it is as text: `rarity` minus the rarity of the events whose TEXT_COLUMNS contain
  the word, at least 0. On the samples "admin", set as a rule keyword once per tenant, is in the text of
  one event in nine.
- `account_rarity`: `log2(accounts active in the case / accounts showing it)`, the smallest over its cases.
- `spread`: `log2(cases or tenants sharing it)`.
- `linked_bits`: `log2(1 + linked)`, `linked` counting the other shared indicators seen with the same accounts
  in two cases or more (see correlate.py).
"""

import polars as pl

from workbench.core.memory import in_batches

KIND_WEIGHTS = {
    "ip": 1.0, "session": 1.0, "allow_list": 1.0, "recipient": 0.9, "user_agent": 0.7, "asn": 0.6,
    "rule_name": 0.6, "subject": 0.5, "rule_keyword": 0.3,
}
#: One or two words of letters (a hyphen inside a word allowed), at most this long: "admin", "Password reset".
WORD_LIKE = r"^[A-Za-z]+(?:-[A-Za-z]+)*(?: [A-Za-z]+(?:-[A-Za-z]+)*)?$"
WORD_LENGTH = 20
#: Where a generic word shows up in events besides the indicator itself.
TEXT_COLUMNS = ("operation", "object_id", "user_key", "parameters", "item", "target", "modified_properties")


def kind_weight() -> pl.Expr:
    """The weight of the row's `kind`."""
    return pl.col("kind").replace_strict(KIND_WEIGHTS, default=0.5, return_dtype=pl.Float64)


def bits(share: pl.Expr) -> pl.Expr:
    """`−log2(share)`: how many bits a share of 1/2^n is worth."""
    return -share.log(2)


def word_like() -> pl.Expr:
    """True for short dictionary-like values (see WORD_LIKE)."""
    return pl.col("value").str.contains(WORD_LIKE) & (pl.col("value").str.len_chars() <= WORD_LENGTH)


def text_rarity(events: pl.DataFrame | pl.LazyFrame, words: list[str]) -> pl.DataFrame:
    """(key, text_rarity): `−log2(share of the events whose text columns contain the word)`, case-insensitive;
    `words` are lower-case ASCII. The events are read a batch at a time (`memory.in_batches`), their text columns only."""
    if not words:
        return pl.DataFrame(schema={"key": pl.String, "text_rarity": pl.Float64})
    events = events.lazy()
    names = [name for name in TEXT_COLUMNS if name in events.collect_schema()]
    found = [pl.col(name).fill_null("").str.extract_many(words, ascii_case_insensitive=True, overlapping=True)
             for name in names]
    lowered = pl.concat_list(found).list.eval(pl.element().str.to_lowercase()).list.unique().alias("key")
    counts, height = [], 0
    for part in in_batches(events, names):
        height += part.height
        counts.append(part.select(lowered).explode("key").drop_nulls("key").group_by("key").len())
    counted = pl.concat(counts).group_by("key").agg(pl.col("len").sum()) if counts else pl.DataFrame(
        schema={"key": pl.String, "len": pl.UInt32})
    return pl.DataFrame({"key": words}).join(counted, on="key", how="left").select(
        "key", bits(pl.col("len").fill_null(1) / height).alias("text_rarity"))


def generic_penalty(indicators: pl.DataFrame, events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """(kind, key, generic) for `indicators` (kind, key, value, rarity): the bits a word-like value loses
    because it is common as text in `events` (0 for every other value)."""
    words = indicators.filter(word_like())
    rarity = text_rarity(events, words["key"].unique().sort().to_list())
    penalised = words.join(rarity, on="key", how="left").select(
        "kind", "key", (pl.col("rarity") - pl.col("text_rarity")).clip(lower_bound=0).alias("generic"))
    return indicators.select("kind", "key").join(penalised, on=["kind", "key"], how="left").with_columns(
        pl.col("generic").fill_null(0.0))


def linked_bits() -> pl.Expr:
    """`log2(1 + linked)`: what the other shared indicators seen with the same accounts add."""
    return (1 + pl.col("linked")).log(2)


def score() -> pl.Expr:
    """The score of a row holding `kind_weight, rarity, generic, account_rarity, spread, linked_bits`."""
    rarity = pl.col("rarity") - pl.col("generic") + pl.col("account_rarity")
    return pl.col("kind_weight") * (rarity + pl.col("spread") + pl.col("linked_bits"))
