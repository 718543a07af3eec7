"""Provides the tests of the original records' text, each decided once per row for every hunt that makes it.

Reading the records back (from the case's copy of its inputs) is the dearest step of a hunt: three sign-in hunts
that each test the text of every `UserLoginFailed` record read all of them three times (12 s each at ten million
events). So the record tests of every hunt are registered, per row filter (operations, workloads, actors), before the
hunts run; the first hunt to read some rows' records decides every test registered for its filter on them, and a
later hunt reads only the rows it finds undecided. What is kept is a bit per row and test, never the records.
"""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import polars as pl

#: Reads some columns of the rows at the given positions, the record column read back where it is named.
RowReader = Callable[[list[str], pl.Series], pl.DataFrame]


def filter_key(condition: dict) -> str:
    """What a filter selects before its tests: its operations, workloads and actors."""
    return json.dumps({"operations": sorted(name.lower() for name in condition.get("operations", [])),
                       "workloads": sorted(name.lower() for name in condition.get("workloads", [])),
                       "actors": condition.get("actors", "people")})


def record_tests(condition: dict, reads_record: Callable[[dict], bool], expr: Callable[[dict], pl.Expr]) -> dict[str, pl.Expr]:
    """A filter's tests that read the record's text alone (`reads_record`), by a key naming each: its `where` and
    `none` predicates one by one, its `any` as one test when every member is one."""
    tests = {"where " + json.dumps(p, sort_keys=True): expr(p) for p in condition.get("where", []) if reads_record(p)}
    tests |= {"none " + json.dumps(p, sort_keys=True): ~expr(p) for p in condition.get("none", []) if reads_record(p)}
    any_of = condition.get("any", [])
    if any_of and all(reads_record(p) for p in any_of):
        tests["any " + json.dumps(any_of, sort_keys=True)] = pl.any_horizontal(expr(p) for p in any_of)
    return tests


class SharedRecordTests:
    """The record tests registered per filter and what each decided, per row of a frame of `height` rows."""

    def __init__(self, height: int, column: str, read: RowReader, batch: int):
        self._column, self._read, self._batch = column, read, batch
        self._undecided = pl.repeat(None, height, dtype=pl.Boolean, eager=True)
        self._registered: dict[str, dict[str, pl.Expr]] = {}
        self._decided: dict[tuple[str, str], pl.Series] = {}  # (filter, test): per row, null while undecided
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def register(self, condition: dict, tests: dict[str, pl.Expr]) -> None:
        """Say that a hunt will make `tests` on the records of the rows `condition` filters (before hunts run)."""
        if tests:
            self._registered.setdefault(filter_key(condition), {}).update(tests)

    def passed(self, condition: dict, tests: dict[str, pl.Expr], at: pl.Series) -> pl.Series:
        """Per row at the positions `at`, whether all `tests` hold on its record (a null as false). Rows some test
        has not decided are read `batch` at a time and every test registered for the filter decided on them; one
        hunt at a time reads a filter's records, so that a hunt beside it waits for them rather than reads them too."""
        key = filter_key(condition)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            decided = self._gathered(key, tests, at)
            todo = at.filter(decided.select(pl.any_horizontal(pl.all().is_null())).to_series())
            if todo.len():
                every = {**self._registered.get(key, {}), **tests}

                def decide(start: int) -> pl.DataFrame:
                    return (self._read([self._column], todo.slice(start, self._batch))
                            .select(test.fill_null(False).alias(name) for name, test in every.items()))

                with ThreadPoolExecutor(max_workers=pl.thread_pool_size()) as pool:  # reading releases the GIL
                    found = pl.concat(list(pool.map(decide, range(0, todo.len(), self._batch))))
                for name in every:  # `scatter` writes in place: each test gets a column of its own
                    decisions = self._decided.setdefault((key, name), self._undecided.clone())
                    decisions.scatter(todo, found[name])
                decided = self._gathered(key, tests, at)
        return decided.select(pl.all_horizontal(pl.all()).alias("passed")).to_series()

    def _gathered(self, key: str, tests: dict[str, pl.Expr], at: pl.Series) -> pl.DataFrame:
        return pl.DataFrame([self._decided.get((key, name), self._undecided).gather(at).alias(name) for name in tests])
