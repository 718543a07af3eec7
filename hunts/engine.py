"""Provides evaluation of hunts over a whole events frame with Polars expressions, and the hits frame.

Each hunt's cheap filters (operation, workload, actor kind) run first, each decided once per distinct value
(`ValueIndex`); only the remaining rows are decoded and tested. Hunts run side by side on Polars' threads. Thresholds count per key in sliding windows (N events
within W of each other, wherever they fall on the clock), first-seen compares a key's first time with
the start of the data plus a baseline, and sequences join their steps on a lower-cased key: all of it
has a direct SQL form (range window functions, joins), as DESIGN.md §7 asks.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable

import polars as pl

from hunts.changes import CHANGE_COLUMNS, one_finding_per_change
from hunts.model import Hunt, as_text, has_key
from hunts.predicates import by_value, decoded_columns, modified_names, needed_columns, people_expr, predicate_expr
from hunts.record_tests import SharedRecordTests, filter_key, record_tests
from hunts.travel import SPEC_DEFAULTS, columns_read as travel_columns, travelled
from hunts.why import why
from workbench.core.activity import SIGN_IN_OPERATIONS
from workbench.core.schema import RECORD_COLUMN
from workbench.core.value_index import ValueIndex

#: One ATT&CK pair of a hit's hunt.
PAIR = pl.Struct({"tactic_id": pl.String(), "tactic": pl.String(), "technique_id": pl.String(),
                  "technique": pl.String(), "matrix_technique_id": pl.String()})
#: One hit per (hunt, record) (DESIGN §4 `hunt`): the hunt's first ATT&CK pair in the tactic / technique columns,
#: all of them in `techniques`, the frame read (`source`) and what matched (`why`).
HIT_SCHEMA: dict[str, pl.DataType] = {
    "hunt_id": pl.String(), "title": pl.String(), "severity": pl.String(), "source": pl.String(),
    "tactic_id": pl.String(), "tactic": pl.String(), "technique_id": pl.String(), "technique": pl.String(),
    "techniques": pl.List(PAIR), "record_id": pl.String(), "creation_time": pl.Datetime("us", "UTC"),
    "user_id": pl.String(), "operation": pl.String(), "client_ip": pl.String(), "case": pl.String(),
    "matrix_technique_id": pl.String(), "why": pl.String(),
}
_EVENT_HIT_COLUMNS = ("record_id", "creation_time", "user_id", "operation", "client_ip", "case")
#: A hit's columns from each source's rows (the sign-in's kind as its operation, as the activity projection says).
_HIT_COLUMNS = {
    "events": [pl.col(name) for name in _EVENT_HIT_COLUMNS],
    "sign_ins": [pl.col("record_id"), pl.col("creation_time"),
                 pl.coalesce("user_principal_name", "service_principal").alias("user_id"),
                 pl.col("sign_in_type").replace_strict(SIGN_IN_OPERATIONS, default="SignIn").alias("operation"),
                 pl.col("client_ip"), pl.col("case")],
    "directory_audits": [pl.col("record_id"), pl.col("creation_time"),
                         pl.coalesce("initiator_user", "initiator_app").alias("user_id"),
                         pl.col("activity").alias("operation"), pl.col("client_ip"), pl.col("case")],
}
#: Who is a person in each source: a sign-in of a user (not a service principal or managed identity), a directory
#: change a user initiated.
#: The share of a frame's rows a filter's precomputed tests must leave for its other predicates to be decided over
#: all rows by value (`ValueIndex`, built once per column) rather than row by row on the rows left.
INDEXED_SHARE = 0.1
#: Rows tested at a time where a test decodes JSON or reads the original records (as they are tested, `RecordReader`):
#: what a decoded column or a record takes is held for these rows only.
RECORD_BATCH = 25_000
#: Reads the original records of some rows of the events frame (with their `case`, `source_file`, `source_row` and
#: the record column as the frame holds it, null where it was not read): the column filled.
RecordReader = Callable[[pl.DataFrame], pl.Series]
_PEOPLE = {"sign_ins": pl.col("service_principal").is_null() & pl.col("user_principal_name").is_not_null(),
           "directory_audits": pl.col("initiator_user").is_not_null()}


class Context:
    """The rows being hunted (a source's frame) plus what every hunt shares: the frame's value index, actor kind,
    enrichment, and the contexts of the other sources (`peers`, one dict shared by all, this one included), which
    sets (`in_set`) and sequence steps of another source read.

    With `records`, the original records of the rows a test of them reads are read as it runs, `RECORD_BATCH` rows at
    a time (the frame holds them only where it was given them), so that no hunt holds the records of all its rows.
    """

    def __init__(self, events: pl.DataFrame, enrichment: pl.DataFrame | None = None, source: str = "events",
                 peers: "dict[str, Context] | None" = None, records: RecordReader | None = None):
        if source == "events":
            if RECORD_COLUMN["events"] not in events.columns:  # rows without their records: hunts reading them stay quiet
                events = events.with_columns(pl.lit(None, pl.String).alias(RECORD_COLUMN["events"]))
        self.events, self.records = events, records
        self.index = ValueIndex(events, unindexed=(RECORD_COLUMN[source],) if source in RECORD_COLUMN else ())
        # Per row, whether the actor is a person: kept beside the frame, as a column of other chunks than the
        # frame's would make every later select of it re-chunk every column (the records' text included).
        self.person = _holds(events, [people_expr(self.index) if source == "events" else _PEOPLE[source]])
        self.source = source
        self.peers = peers if peers is not None else {}
        self.peers[source] = self
        self.start = events["creation_time"].min()
        self.hosting_ips, self.enrichment = None, enrichment
        if enrichment is not None:
            self.hosting_ips = enrichment.filter(pl.col("hosting").fill_null(False))["ip"].drop_nulls().unique()
        self._sets: dict[str, pl.DataFrame] = {}
        self.record_tests = SharedRecordTests(events.height, RECORD_COLUMN[source], self.rows, RECORD_BATCH) if (
            source in RECORD_COLUMN) else None

    def share_record_tests(self, condition: dict) -> str | None:
        """Say, before the hunts run, that a filter of this source will test the text of its rows' records: the
        first hunt to read those records decides the tests of every hunt registered (`SharedRecordTests`). Returns
        the key of the rows whose records it reads, if it reads any."""
        tests = self._record_tests(condition)
        if tests:
            self.record_tests.register(condition, tests)
        return filter_key(condition) if tests else None

    def _record_tests(self, condition: dict) -> dict[str, pl.Expr]:
        return record_tests(condition, self._reads_record, self._expr) if self.record_tests is not None else {}

    def _reads_record(self, predicate: dict) -> bool:
        """Whether a predicate tests the record column's text and nothing else."""
        column = RECORD_COLUMN.get(self.source)
        return predicate.get("field") == column and self._expr(predicate).meta.root_names() == [column]

    def set_rows(self, spec: dict) -> pl.DataFrame:
        """Per lower-cased value of column `from` over the rows the set's filter selects in its `source` (default
        events): `value`, and the first such row's `record_id`, `creation_time` and `operation` (cached); no rows when
        that source has none."""
        owner = self.peers.get(spec.get("source", "events"))
        if owner is None:
            return pl.DataFrame(schema={"value": pl.String, "record_id": pl.String, "creation_time": HIT_SCHEMA["creation_time"],
                                        "operation": pl.String})
        if owner is not self:
            return owner.set_rows(spec)
        cache_key = repr(sorted(spec.items()))
        if cache_key not in self._sets:
            operation = _HIT_COLUMNS[self.source][3]
            first = pl.all().get(pl.col("creation_time").arg_min())
            kept = self.mask(spec)
            matched = as_text(self.events.select(list(dict.fromkeys([spec["from"], "record_id", "creation_time",
                                                                     *operation.meta.root_names()]))).filter(kept))
            codes = self.index.codes(spec["from"])
            if codes is not None:  # each value's first row found by its code first: only those rows are lower-cased
                matched = (matched.with_columns(codes.filter(kept).alias("_code"), pl.int_range(pl.len()).alias("_at"))
                           .group_by("_code").agg(first).sort("_at").drop("_code", "_at"))
            self._sets[cache_key] = (
                matched.select(pl.col(spec["from"]).cast(pl.String).str.to_lowercase().alias("value"),
                               "record_id", "creation_time", operation)
                .drop_nulls("value").group_by("value").agg(first))
        return self._sets[cache_key]

    def in_set(self, spec: dict) -> pl.Series:
        """Lower-cased values of column `from` over the rows the set's filter selects in its `source`."""
        return self.set_rows(spec)["value"]

    def selected(self, condition: dict, columns: list[str] | None = None) -> pl.DataFrame:
        """The rows (their `columns`, default all) a condition selects."""
        return self.rows(self.events.columns if columns is None else columns, self.mask(condition))

    def rows(self, columns: list[str], kept: pl.Series) -> pl.DataFrame:
        """The `columns` of the rows `kept` selects (a mask, or positions), their original records read when the
        record column is one of them."""
        reads_records = self.records is not None and RECORD_COLUMN.get(self.source) in columns
        wanted = [*columns, *(["case", "source_file", "source_row"] if reads_records else [])]
        selected = self.events.select(list(dict.fromkeys(wanted)))
        rows = as_text(selected.filter(kept) if kept.dtype == pl.Boolean else selected[kept])
        return rows.with_columns(self.records(rows)).select(list(dict.fromkeys(columns))) if reads_records else rows

    def _passed(self, columns: list[str], kept: pl.Series, helpers: list[pl.Expr], tests: list[pl.Expr]) -> pl.Series:
        """Per row `kept` selects, whether all `tests` hold over its `columns` and the `helpers` (decoded JSON); rows
        whose JSON is decoded or whose records are read (`records`) are tested `RECORD_BATCH` at a time (decoding
        every `Update user.` of ten million events at once took 16 GB)."""
        reads_records = self.records is not None and RECORD_COLUMN.get(self.source) in columns
        if not helpers and not reads_records:
            return _holds(self.rows(columns, kept), tests)
        at = kept.arg_true()
        batches = _batches(at)
        if helpers and not reads_records:
            # Rows whose JSON columns are all null decode to nothing: tested at once (over a list column of nulls
            # the tests cost next to nothing; over a mostly null one, milliseconds per batch and test).
            sources = sorted({name for helper in helpers for name in helper.meta.root_names()})
            filled = self.events.select(pl.any_horizontal(pl.col(sources).is_not_null())).to_series().gather(at)
            batches = [at.filter(~filled), *_batches(at.filter(filled))]
        held = [_holds(self.rows(columns, batch).with_columns(helpers), tests) for batch in batches]
        if not held:
            return pl.Series([], dtype=pl.Boolean)
        order = pl.concat(batches).arg_sort()  # the batches' rows back in the order of `kept`
        return pl.concat(held).gather(order)

    def mask(self, condition: dict) -> pl.Series:
        """Per row, whether a condition selects it: its row filter, then its threshold and first-seen (computed on
        the columns they read, over the rows the filter left)."""
        kept = self.kept(condition)
        if kept.any() and ("threshold" in condition or "first_seen" in condition):
            counted = self._aggregate_frame(condition).filter(kept)
            kept = kept.scatter(kept.arg_true(), _aggregated(counted, condition, self.start))
        return kept

    def _aggregate_frame(self, condition: dict) -> pl.DataFrame:
        """The columns a condition's threshold and first-seen read; a key or counted column the index covers as its
        codes (numbers group faster than text), a key's code null where the key is empty (as a missing key)."""
        specs = [condition[key] for key in ("threshold", "first_seen") if key in condition]
        keys = {name for spec in specs for name in spec["by"]}
        counted = {spec["distinct"] for spec in specs if "distinct" in spec}
        columns = []
        for name in _aggregate_columns(condition):
            coded = None if name == "creation_time" or (name in keys and name in counted) else (
                self.index.codes(name, empty_as_null=name in keys))
            columns.append(self.events[name] if coded is None else coded)
        return pl.DataFrame(columns)

    def filtered(self, condition: dict) -> int:
        """How many rows a filter's operations, workloads and actors select (before its tests)."""
        return _holds(self.events, _precomputed(condition, self.index, self.person)).sum()

    def kept(self, condition: dict) -> pl.Series:
        """Per row, whether it matches a row filter (operations, workloads, actors, where, any, none).

        Cheapest first: over all rows, the precomputed columns (operation, workload, actor kind); where many rows are
        left, over all rows too, the predicates one column's value decides, each decided once per distinct value
        (`ValueIndex`); then, on the rows still in, the other tests on plain columns; then the JSON decoding and its
        tests; last, the tests of the original record's text, decided once for every hunt making them
        (`SharedRecordTests`). A pass on the rows still in reads only the columns its tests name (`selected` filters
        whole rows once).
        """
        kept = _holds(self.events, _precomputed(condition, self.index, self.person))
        where, any_of, none = (condition.get(key, []) for key in ("where", "any", "none"))
        on_records = self._record_tests(condition)  # decided last, on the fewest rows, and shared (`record_tests`)
        where, none = ([p for p in part if not self._reads_record(p)] for part in (where, none))
        shared_any = any_of and all(self._reads_record(p) for p in any_of)
        by_values = kept.sum() >= self.events.height * INDEXED_SHARE

        def valued(predicate: dict) -> bool:
            return by_values and by_value(predicate, self.index)

        everywhere = [self._expr(p, self.index) for p in where if valued(p)]
        everywhere += [~self._expr(p, self.index) for p in none if valued(p)]
        if any_of and all(valued(p) for p in any_of):
            everywhere.append(pl.any_horizontal(self._expr(p, self.index) for p in any_of))
        if everywhere:
            kept &= _holds(self.events, everywhere)
        for decoding in (False, True):
            if not kept.any():
                break
            tests = [self._expr(p) for p in where if bool(needed_columns(p)) == decoding and not valued(p)]
            tests += [~self._expr(p) for p in none if bool(needed_columns(p)) == decoding and not valued(p)]
            if (any_of and not shared_any and not all(valued(p) for p in any_of)
                    and any(needed_columns(p) for p in any_of) == decoding):
                tests.append(pl.any_horizontal(self._expr(p) for p in any_of))
            if tests:
                predicates = [*where, *any_of, *none]
                helpers = decoded_columns(set().union(*(needed_columns(p) for p in predicates)),
                                          modified_names(predicates)) if decoding else []
                columns = self.events.columns if has_key([where, any_of, none], "record") else _read_by(tests, helpers)
                kept = kept.scatter(kept.arg_true(), self._passed(columns, kept, helpers, tests))
        if on_records and kept.any():
            kept = kept.scatter(kept.arg_true(), self.record_tests.passed(condition, on_records, kept.arg_true()))
        return kept

    def _expr(self, predicate: dict, index: ValueIndex | None = None) -> pl.Expr:
        return predicate_expr(predicate, self.in_set, self.hosting_ips, index)


def _precomputed(condition: dict, index: ValueIndex, person: pl.Series) -> list[pl.Expr]:
    """A filter's tests of what every hunt shares: operation and workload, whatever their case (decided per distinct
    value), the actor a person."""
    tests = [pl.lit(True)]
    for key, column in (("operations", "operation"), ("workloads", "workload")):
        if condition.get(key):
            tests.append(index.match(column, pl.col(column).str.to_lowercase().is_in([name.lower() for name in condition[key]])))
    if condition.get("actors", "people") == "people":
        tests.append(pl.lit(person))
    return tests


def _batches(positions: pl.Series) -> list[pl.Series]:
    """`positions` in slices of `RECORD_BATCH`."""
    return [positions.slice(start, RECORD_BATCH) for start in range(0, positions.len(), RECORD_BATCH)]


def _holds(frame: pl.DataFrame, tests: list[pl.Expr]) -> pl.Series:
    """Per row of the frame, whether all tests hold (a null as false; a literal test broadcast to every row)."""
    return frame.with_columns(pl.all_horizontal(tests).fill_null(False).alias("_holds"))["_holds"]


def _decodes(condition: dict) -> bool:
    """Whether a filter decodes JSON (parameters, modified properties, subjects, folders) for its tests."""
    return any(needed_columns(p) for key in ("where", "any", "none") for p in condition.get(key, []))


def _read_by(tests: list[pl.Expr], helpers: list[pl.Expr]) -> list[str]:
    """The columns some tests and the helper columns they read name (a test of the record's text reads them all)."""
    names = {name for expr in (*tests, *helpers) for name in expr.meta.root_names()}
    return sorted(names - {helper.meta.output_name() for helper in helpers}) or ["record_id"]  # a literal: any column


def _duration(text: str) -> pl.Expr:
    unit = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[text[-1]]
    return pl.duration(**{unit: int(text[:-1])})


def _keys_present(by: list[str]) -> pl.Expr:
    return pl.all_horizontal((pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != "")) for column in by)


def _in_sliding_window(frame: pl.DataFrame, spec: dict, counted: pl.Expr) -> pl.Series:
    """Per row: whether it lies in a window of `spec["window"]` (ends included) holding at least `spec["min"]`
    events (or distinct values) of its key, wherever the window falls on the clock.

    Such a window can always end on an event, so each event's window back to `window` before it is counted (a
    rolling count per key, kept with its row: a rolling group-by returns its groups in an order of its own); a row
    is in one when the next qualifying end at or after it is within `window`."""
    by, window = spec["by"], _duration(spec["window"])
    rows = frame.with_row_index("_row").filter(_keys_present(by))
    rows = rows.filter(counted.over(by) >= spec["min"]).sort(*by, "creation_time")  # short of `min` in all: no window
    counts = counted.rolling(index_column="creation_time", period=spec["window"], closed="both").over(by)
    qualifying_end = pl.when(pl.col("_n") >= spec["min"]).then(pl.col("creation_time"))
    inside = rows.with_columns(counts.alias("_n")).filter(
        qualifying_end.backward_fill().over(by) - pl.col("creation_time") <= window)["_row"]
    return pl.Series("in_window", [False] * frame.height, dtype=pl.Boolean).scatter(inside, True)


def _aggregate_columns(condition: dict) -> list[str]:
    """The columns a condition's threshold and first-seen read."""
    names = ["creation_time"]
    for key in ("threshold", "first_seen"):
        spec = condition.get(key, {})
        names += [*spec.get("by", []), *([spec["distinct"]] if "distinct" in spec else [])]
    return list(dict.fromkeys(names))


def _aggregated(frame: pl.DataFrame, condition: dict, start) -> pl.Series:
    """Per row of `frame` (the rows a condition's filter selected), whether its threshold and first-seen hold."""
    tests = []
    if "threshold" in condition:
        spec = condition["threshold"]
        counted = pl.len() if "distinct" not in spec else pl.col(spec["distinct"]).drop_nulls().n_unique()
        if "window" in spec:
            tests.append(pl.lit(_in_sliding_window(frame, spec, counted)))
        else:
            tests += [_keys_present(spec["by"]), counted.over(spec["by"]) >= spec["min"]]
    if "first_seen" in condition:
        spec = condition["first_seen"]
        first = pl.col("creation_time").min().over(spec["by"])
        tests += [_keys_present(spec["by"]), first >= pl.lit(start) + _duration(spec["baseline"])]
        if "within" in spec:
            tests.append(pl.col("creation_time") <= first + _duration(spec["within"]))
    return _holds(frame, tests)


def _step_frame(context: Context, step: dict, index: int, source: str, keys: pl.Series | None = None) -> pl.DataFrame:
    """The rows one sequence step selects in its source (only those of `keys`, when given): lower-cased key, time,
    record id and operation."""
    schema = {"_key": pl.String, f"_t{index}": HIT_SCHEMA["creation_time"], f"_r{index}": pl.String, f"_o{index}": pl.String}
    owner = context.peers.get(source)
    if owner is None or (keys is not None and keys.len() == 0):
        return pl.DataFrame(schema=schema)
    operation = _HIT_COLUMNS[source][3]
    columns = [step["key"], "creation_time", "record_id", *operation.meta.root_names()]
    key = pl.col(step["key"]).cast(pl.String).str.to_lowercase().str.strip_chars()
    rows = owner.events.select(list(dict.fromkeys(columns))).filter(owner.kept(step))
    if keys is not None:
        rows = rows.filter(key.is_in(keys.implode()))
    return rows.select(
        key.alias("_key"),
        pl.col("creation_time").alias(f"_t{index}"),
        pl.col("record_id").alias(f"_r{index}"),
        _HIT_COLUMNS[source][3].alias(f"_o{index}"),
    ).filter(pl.col("_key").is_not_null() & (pl.col("_key") != "")).cast(schema)


def _joined_with(steps: list[dict], sources: list[str], index: int) -> pl.Expr:
    """`why` of a sequence's flagged step: which step it is, on which key, and the other steps' rows."""
    others = [pl.concat_str([pl.lit(f"{position + 1}. {sources[position]} "), pl.col(f"_o{position}").fill_null(""),
                             pl.lit(" "), pl.col(f"_r{position}"), pl.lit(" at "),
                             pl.col(f"_t{position}").dt.strftime("%Y-%m-%d %H:%M:%S")])
              for position in range(len(steps)) if position != index]
    head = pl.concat_str([pl.lit(f"step {index + 1} of {len(steps)} on {steps[index]['key']}="), pl.col("_key"),
                          pl.lit(", joined with ")])
    return pl.concat_str([head, pl.concat_str(others, separator="; ")])


def _sequence(context: Context, steps: list[dict], flag: str, default: str) -> dict[str, pl.DataFrame]:
    sources = [step.get("source", default) for step in steps]
    chain = _step_frame(context, steps[0], 0, sources[0])
    for index, step in enumerate(steps[1:], start=1):  # a step's rows only of the keys the chain so far has
        this = _step_frame(context, step, index, sources[index], chain["_key"].unique())
        previous, current = pl.col(f"_t{index - 1}"), pl.col(f"_t{index}")
        joined = chain.lazy().join(this.lazy(), on="_key").filter(current > previous)
        if step.get("first_activity"):
            identity = [f"_r{i}" for i in range(index)]
            joined = joined.filter(current == current.min().over(identity))
        if "within" in step:
            joined = joined.filter(current - previous <= _duration(step["within"]))
        if "after" in step:
            joined = joined.filter(current - previous >= _duration(step["after"]))
        chain = joined.collect()
    chain = chain.sort(*(f"_t{i}" for i in range(len(steps))))
    picked = {"first": [0], "last": [len(steps) - 1], "all": list(range(len(steps)))}[flag]
    flagged: dict[str, list[pl.DataFrame]] = {}
    for index in picked:  # each flagged row once, with the earliest chain it completes
        said = chain.select(pl.col(f"_r{index}").alias("record_id"), _joined_with(steps, sources, index).alias("_why"))
        flagged.setdefault(sources[index], []).append(said)
    matched = {}
    for source, parts in flagged.items():
        if source in context.peers:  # a step of a source with no rows joins nothing
            said = pl.concat(parts).unique("record_id", keep="first", maintain_order=True)
            matched[source] = as_text(context.peers[source].events.join(said, on="record_id", how="inner", maintain_order="left"))
    return matched


def matching_rows(hunt: Hunt, context: Context, for_hits: bool = False) -> dict[str, pl.DataFrame]:
    """The rows one hunt flags in each source it flags (rows of the sources' frames, helper columns included; a
    sequence's rows carry what they were joined with in `_why`). `context` is the hunt's source's or any peer's.
    With `for_hits`, a filter's rows carry only the columns its hits and their `why` read."""
    condition = hunt.condition
    source = condition.get("source", "events")
    if "sequence" in condition:
        return _sequence(context, condition["sequence"], condition.get("flag", "last"), source)
    owner = context.peers.get(source)
    if owner is None:
        return {}
    if "travel" not in condition:
        return {source: owner.selected(condition, _hit_reads(condition, owner) if for_hits else None)}
    spec = condition["travel"]  # compared on the columns it reads; the whole rows of the travel gathered after
    kept = owner.mask(condition)
    columns = list(dict.fromkeys([*travel_columns(source), *spec.get("by", SPEC_DEFAULTS["by"])]))
    rows = as_text(owner.events.select(columns).filter(kept)).with_columns(kept.arg_true().alias("_at"))
    moved = travelled(rows, spec, owner.enrichment)
    return {source: as_text(owner.events[moved["_at"]]).with_columns(moved["_why"])}


def _hit_reads(condition: dict, owner: Context) -> list[str] | None:
    """The columns of the owner's frame a filter's hits and their `why` read (None: all of them, for a test of the
    record's text)."""
    if has_key(condition, "record"):
        return None
    predicates = [*condition.get("where", []), *condition.get("any", [])]
    decoded = decoded_columns(set().union(*(needed_columns(predicate) for predicate in predicates)))
    reads = {name for expr in [*_HIT_COLUMNS[owner.source], *decoded] for name in expr.meta.root_names()}
    reads |= _named_columns(condition, owner.source, owner.source) | {"operation", "client_ip"}
    return [name for name in owner.events.columns if name in reads]


def matching_events(hunt: Hunt, context: Context) -> pl.DataFrame:
    """The rows of the context's source that one hunt flags (helper columns included)."""
    return matching_rows(hunt, context).get(context.source, as_text(context.events.clear()))


def _pairs(hunt: Hunt) -> list[dict]:
    return [{"tactic_id": pair.tactic_id, "tactic": pair.tactic, "technique_id": pair.technique_id,
             "technique": pair.technique, "matrix_technique_id": pair.matrix_id} for pair in hunt.attack]


def hits_for(hunt: Hunt, matched: pl.DataFrame, context: Context, source: str = "events") -> pl.DataFrame:
    """One hit row per matched row of the source: the hunt's id, the source, the row, and what matched (the hunt's
    own columns are added to all hits at once, `with_hunt_columns`)."""
    return matched.select(_HIT_COLUMNS[source]).with_columns(
        pl.lit(hunt.id).alias("hunt_id"), pl.lit(source).alias("source"),
        why(hunt.condition, matched, context.peers[source]).alias("why"))


def with_hunt_columns(hits: pl.DataFrame, hunts: Iterable[Hunt]) -> pl.DataFrame:
    """The hits with their hunt's title, severity and ATT&CK pairs (the first in the tactic and technique columns),
    joined by hunt id in one pass (a per-hunt list of pairs repeated on each of half a million hits costs more)."""
    rows = [{"hunt_id": hunt.id, "title": hunt.title, "severity": hunt.severity, **pairs[0], "techniques": pairs}
            for hunt, pairs in ((hunt, _pairs(hunt)) for hunt in {hunt.id: hunt for hunt in hunts}.values())]
    columns = {name: HIT_SCHEMA[name] for name in ("hunt_id", "title", "severity", *PAIR.to_schema(), "techniques")}
    table = pl.DataFrame(rows, schema=columns)
    return hits.join(table, on="hunt_id", how="left", maintain_order="left").select(list(HIT_SCHEMA)).cast(HIT_SCHEMA)


def hit_pairs(hits: pl.DataFrame) -> pl.DataFrame:
    """The hits one row per (hit, ATT&CK pair): the tactic and technique columns of each pair (for the matrix
    cells and the report's sections)."""
    keys = list(PAIR.to_schema())
    return (hits.drop(keys).with_columns(pl.col("techniques").alias("_pair")).explode("_pair").unnest("_pair")
            .select(list(HIT_SCHEMA)))


def _named_columns(data: object, current: str, source: str) -> set[str]:
    """The columns of `source` a condition (part) read in the `current` source names: predicate fields and
    comparisons, threshold and first-seen keys, set and step keys; a set's `from` and filter, and a step, are
    of their own `source`."""
    if isinstance(data, list):
        return set().union(*(_named_columns(item, current, source) for item in data))
    if not isinstance(data, dict):
        return set()
    if "in_set" in data and isinstance(data["in_set"], dict):
        spec = data["in_set"]
        inner = spec.get("source", "events")
        named = {spec["key"]} if current == source and isinstance(spec.get("key"), str) else set()
        named |= {spec["from"]} if inner == source and isinstance(spec.get("from"), str) else set()
        return named | _named_columns({k: v for k, v in spec.items() if k not in ("key", "from", "source")}, inner, source)
    if "sequence" in data:
        default = data.get("source", current)
        return set().union(*(_named_columns(step, step.get("source", default), source)
                             for step in data["sequence"] if isinstance(step, dict)))
    if current != source:
        return set().union(*(_named_columns(value, current, source) for value in data.values()))
    named = {data[key] for key in ("field", "same_as", "differs_from", "key", "distinct") if isinstance(data.get(key), str)}
    named |= {name for expr in decoded_columns(needed_columns(data)) for name in expr.meta.root_names()}  # _params...
    named |= {"raw"} if "record" in data and source != "events" else set()  # keywords read the record's own text
    named |= set(data.get("by", [])) if isinstance(data.get("by"), list) else set()
    return named | set().union(*(_named_columns(value, current, source) for value in data.values()))


def sources_read(hunt: Hunt) -> set[str]:
    """The frames a hunt reads: its `source`, and those of its sets and sequence steps."""
    def walk(data: object, current: str) -> set[str]:
        if isinstance(data, list):
            return set().union(*(walk(item, current) for item in data))
        if not isinstance(data, dict):
            return set()
        here = data.get("source", current) if isinstance(data.get("source"), str) else current
        return {here} | set().union(*(walk(value, "events" if key == "in_set" else here) for key, value in data.items()))
    return walk(hunt.condition, "events")


def columns_read(hunts: Iterable[Hunt], source: str) -> list[str]:
    """The columns of a source's frame that these hunts read (in their own source, sets and sequence steps), with
    the hit's own and what the directory-change key reads."""
    people = people_expr() if source == "events" else _PEOPLE.get(source, pl.lit(True))
    own = {name for expr in [*_HIT_COLUMNS[source], people] for name in expr.meta.root_names()}
    named = set().union(*(_named_columns(hunt.condition, hunt.condition.get("source", "events"), source) for hunt in hunts))
    travel = {name for hunt in hunts if "travel" in hunt.condition and hunt.condition.get("source", "events") == source
              for name in travel_columns(source)}
    return sorted(own | named | travel | set(CHANGE_COLUMNS.get(source, ())) | {"creation_time"})


def hunt_hits(events: pl.DataFrame, hunts: Iterable[Hunt], enrichment: pl.DataFrame | None = None,
              others: dict[str, pl.DataFrame] | None = None, records: RecordReader | None = None) -> pl.DataFrame:
    """All hits of `hunts` over `events` and the `others` frames (`sign_ins`, `directory_audits`) they read: one row
    per (hunt, record), in time order, a directory change the audit log and the directory audits both record
    counted once (`same_change`). `records` reads the events' original records where the frame lacks them (Context).

    Hunts run side by side on as many threads as Polars has (its work releases the GIL); the contexts they share
    only cache (an index built under its lock; a set two threads compute at once is the same set)."""
    hunts = list(hunts)
    peers: dict[str, Context] = {}
    for source, rows in {"events": events, **(others or {})}.items():
        if rows is not None and rows.height:  # no rows of that source (and no time baseline): no context
            Context(rows, enrichment, source, peers, records if source == "events" else None)
    if not peers:
        return pl.DataFrame(schema=HIT_SCHEMA)
    # Hunts testing the records of the same rows run one after another on one thread, the first reading them for
    # all (on two threads, the second would wait for them). The longest work first, so that the short fills the
    # threads at the end: these groups, then the hunts decoding JSON, then the others (the 10M directory mix: the
    # two hunts decoding every `Update user.` started last, one thread idle for 6 s at the end).
    def owner(hunt: Hunt) -> Context | None:
        return peers.get(hunt.condition.get("source", "events"))

    groups: dict[str, list[Hunt]] = {}
    for hunt in hunts:
        reads = owner(hunt).share_record_tests(hunt.condition) if owner(hunt) is not None else None
        groups.setdefault(owner(hunt).source + reads if reads else hunt.id, []).append(hunt)

    def first(group: list[Hunt]) -> tuple[int, int]:  # the rows a hunt decodes the JSON of, as its work
        decoding = [hunt for hunt in group if _decodes(hunt.condition) and owner(hunt) is not None]
        return -len(group), -sum(owner(hunt).filtered(hunt.condition) for hunt in decoding)

    def hits_of(group: list[Hunt]) -> list[pl.DataFrame]:
        return [hits_for(hunt, matched, peers[source], source) for hunt in group
                for source, matched in matching_rows(hunt, next(iter(peers.values())), for_hits=True).items()]

    with ThreadPoolExecutor(max_workers=pl.thread_pool_size()) as pool:  # Polars releases the GIL: hunts side by side
        ordered = sorted(groups.values(), key=first)  # a stable sort: the pack's order within a kind
        parts = [part for found in pool.map(hits_of, ordered) for part in found]
    if not parts:
        return pl.DataFrame(schema=HIT_SCHEMA)
    hits = pl.concat(parts).sort("creation_time", "hunt_id", "record_id", maintain_order=True)  # one chunk a column
    hits = with_hunt_columns(hits, hunts)  # keeps the order
    return one_finding_per_change(hits, {source: context.events for source, context in peers.items()})
