"""Provides `sequence_queries`: a `sequence` condition as SQL (sqlglot trees), the semantics of `hunts.engine`.

Each step selects its source's rows (the step's row filter) with the step's key lower-cased and trimmed; the chain
joins step after step on (`tenant`, key), each step strictly later than the one before it, then keeps, in this
order: with `first_activity`, only the earliest time of the step per chain so far (the key's first event after
the previous step); with `within`, a gap of at most that; with `after`, a gap of at least that. The flagged steps'
record ids (`flag` first, last or all) are hits of their own source, once each. Times compare as microseconds
since the epoch, so DuckDB and Spark count gaps alike.
"""

from collections.abc import Callable

from sqlglot import exp

from hunts.conditions import FILTER_KEYS

#: What a row filter is: (condition, source) -> boolean SQL expression over the source's table.
RowFilter = Callable[[dict, str], exp.Expression]
#: The characters Polars' `strip_chars()` strips (Unicode White_Space), stripped from step keys.
WHITESPACE = " \t\n\x0b\x0c\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
#: Microseconds per unit of a duration ("30m", "7d").
UNIT_MICROS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000, "d": 86_400_000_000}


def duration_micros(text: str) -> int:
    """A condition's duration ("30m", "1h", "7d") in microseconds."""
    return int(text[:-1]) * UNIT_MICROS[text[-1]]


def micros(column: exp.Expression) -> exp.Expression:
    """Microseconds since the epoch of a timestamp column."""
    return exp.UnixMicros(this=column)


def column(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference (optionally of a table alias)."""
    return exp.column(name, table=table, quoted=True)


def _step_rows(step: dict, index: int, source: str, row_filter: RowFilter) -> exp.Select:
    """The rows one step selects: `tenant`, the lower-cased, trimmed key `_key`, `_t<index>` and `_r<index>`."""
    text = exp.cast(column(step["key"]), exp.DataType.build("text"))
    key = exp.Lower(this=exp.Trim(this=text, expression=exp.Literal.string(WHITESPACE)))
    selected = row_filter({name: step[name] for name in FILTER_KEYS if name in step}, source)
    return (exp.select(column("tenant"), key.as_("_key"), column("creation_time").as_(f"_t{index}"),
                       column("record_id").as_(f"_r{index}"))
            .from_(source)
            .where(exp.and_(selected, key.is_(exp.null()).not_(), exp.NEQ(this=key.copy(), expression=exp.Literal.string("")))))


def _gap(index: int) -> exp.Expression:
    """Microseconds from the previous step to step `index`."""
    return exp.Sub(this=micros(column(f"_t{index}")), expression=micros(column(f"_t{index - 1}")))


def _chain(steps: list[dict], sources: list[str], row_filter: RowFilter) -> exp.Select:
    """The chains of the steps' rows: `tenant`, `_key` and per step `_t<i>`, `_r<i>`."""
    names = ["tenant", "_key", "_t0", "_r0"]
    chain = exp.select(*map(column, names)).from_(_step_rows(steps[0], 0, sources[0], row_filter).subquery("s"))
    for index, step in enumerate(steps[1:], start=1):
        this = _step_rows(step, index, sources[index], row_filter).subquery("s")
        joined = (exp.select(*(column(name, "c") for name in names), column(f"_t{index}", "s"), column(f"_r{index}", "s"))
                  .from_(chain.subquery("c"))
                  .join(this, on=exp.and_(exp.EQ(this=column("tenant", "c"), expression=column("tenant", "s")),
                                          exp.EQ(this=column("_key", "c"), expression=column("_key", "s"))))
                  .where(exp.GT(this=column(f"_t{index}", "s"), expression=column(f"_t{index - 1}", "c"))))
        names += [f"_t{index}", f"_r{index}"]
        if step.get("first_activity"):  # the earliest such row per chain so far: the key's first activity after it
            identity = [column("tenant"), *(column(f"_r{earlier}") for earlier in range(index))]
            earliest = exp.Window(this=exp.Min(this=column(f"_t{index}")), partition_by=identity)
            ranked = exp.select(*map(column, names), earliest.as_("_first")).from_(joined.subquery("j"))
            joined = (exp.select(*map(column, names)).from_(ranked.subquery("f"))
                      .where(exp.EQ(this=column(f"_t{index}"), expression=column("_first"))))
        gaps = []
        if "within" in step:
            gaps.append(exp.LTE(this=_gap(index), expression=exp.Literal.number(duration_micros(step["within"]))))
        if "after" in step:
            gaps.append(exp.GTE(this=_gap(index), expression=exp.Literal.number(duration_micros(step["after"]))))
        chain = exp.select(*map(column, names)).from_(joined.subquery("g"))
        if gaps:
            chain = chain.where(exp.and_(*gaps))
    return chain


def sequence_queries(hunt, row_filter: RowFilter) -> dict[str, exp.Select]:
    """Per source the hunt's sequence flags rows of: a SELECT of the distinct (`tenant`, `record_id`) of those
    rows (`hunt` is a `hunts.model.Hunt` whose condition has `sequence`; `row_filter(condition, source)` is the
    boolean SQL filter of a step over its source's table, `hunts.sql_compile.row_filter`)."""
    condition = hunt.condition
    steps = condition["sequence"]
    sources = [step.get("source", condition.get("source", "events")) for step in steps]
    flagged = {"first": [0], "last": [len(steps) - 1], "all": list(range(len(steps)))}[condition.get("flag", "last")]
    chain = _chain(steps, sources, row_filter)
    queries = {}
    for source in dict.fromkeys(sources[index] for index in flagged):
        picks = [exp.select(column("tenant"), column(f"_r{index}").as_("record_id")).from_(chain.subquery("chain"))
                 for index in flagged if sources[index] == source]
        rows = picks[0] if len(picks) == 1 else exp.union(*picks, distinct=False)
        queries[source] = (exp.select(column("tenant"), column("record_id")).distinct().from_(rows.subquery("hits"))
                           .where(column("record_id").is_(exp.null()).not_()))
    return queries
