"""Provides `CaseSet`: several cases opened side by side in one session, used where one `Case` would be.

Each case keeps its own folder, Parquet and database; the set's events carry each row's case label in
`case`. Marks, notes and tags go to the database of the case the event belongs to; filter and query
history and saved queries go to the first case, the case of record.
"""

from pathlib import Path

import polars as pl

from workbench.core.activity import frame_of
from workbench.core.case import Case
from workbench.core.case_lock import Waiting
from workbench.core.load_report import LoadReport, Progress
from workbench.core.schema import RECORD_COLUMN
from workbench.core.store import CaseStore

#: The order of several cases' rows: time, then case, then input order.
ACTIVITY_ORDER = ("creation_time", "case", "source_file", "source_row")


class CaseSetStore:
    """The set's annotations: each event's marks, note and tags in its own case's database."""

    def __init__(self, stores: dict[str, CaseStore], owners: pl.DataFrame):
        self.stores = stores
        self.primary = next(iter(stores.values()))
        self.owners = owners  # record_id, case

    def _by_case(self, record_ids: list[str]) -> dict[str, list[str]]:
        """The ids grouped by the case that holds them (ids no case holds go to the case of record)."""
        found = self.owners.filter(pl.col("record_id").is_in(record_ids))
        grouped = {name: ids for name, ids in found.group_by("case").agg("record_id").iter_rows()}
        orphans = set(record_ids).difference(found["record_id"])
        if orphans:
            primary_name = next(iter(self.stores))
            grouped[primary_name] = [*grouped.get(primary_name, []), *orphans]
        return grouped

    def set_marks(self, record_ids: list[str], marked: bool) -> None:
        """Mark or unmark events, each in its own case."""
        for name, ids in self._by_case(record_ids).items():
            self.stores[name].set_marks(ids, marked)

    def marks(self) -> set[str]:
        """Record ids of marked events in every case."""
        return set().union(*(store.marks() for store in self.stores.values()))

    def set_note(self, record_id: str, text: str) -> None:
        """Write (or remove) the note of an event in its own case."""
        for name, _ids in self._by_case([record_id]).items():
            self.stores[name].set_note(record_id, text)

    def notes(self) -> dict[str, str]:
        """Notes of every case by record id."""
        return {key: value for store in self.stores.values() for key, value in store.notes().items()}

    def set_tags(self, record_id: str, tags: list[str]) -> None:
        """Replace the tags of an event in its own case."""
        for name, _ids in self._by_case([record_id]).items():
            self.stores[name].set_tags(record_id, tags)

    def tags(self) -> dict[str, list[str]]:
        """Tags of every case by record id."""
        return {key: value for store in self.stores.values() for key, value in store.tags().items()}

    def __getattr__(self, name: str):
        """Filter and query history, saved filters and queries: the case of record's."""
        return getattr(self.primary, name)


class CaseSet:
    """Cases opened together, each from its own inputs; the first is the case of record."""

    def __init__(self, plan: list[tuple[Case, list[Path]]]):
        if not plan:
            raise ValueError("a case set needs at least one case")
        self.plan = plan
        self.cases = [case for case, _paths in plan]
        self.name = " + ".join(case.name for case in self.cases)
        self.primary = self.cases[0]
        self._store: CaseStore | CaseSetStore | None = None

    def open(self, progress: Progress | None = None, waiting: Waiting | None = None) -> tuple[LoadReport, bool]:
        """Open every case (loading or reusing it); returns the merged load report and whether all were reused."""
        files, warnings, conflicts, reused_all = [], [], [], True
        for case, paths in self.plan:
            report, reused = case.open(paths, progress, waiting)
            files += report.files
            warnings += report.warnings
            conflicts += report.conflicts
            reused_all = reused_all and reused
        self._store = None
        return LoadReport(files, warnings, conflicts), reused_all

    def changed_inputs(self) -> list[str]:
        """Every case's input files gone or changed since it loaded them (`Case.changed_inputs`)."""
        return [problem for case in self.cases for problem in case.changed_inputs()]

    def events(self, columns: list[str] | None = None, read_as: dict[str, pl.Expr] | None = None,
               helpers: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
        """Every case's events (their `columns`, default all; without `audit_data`; `read_as` and `helpers` as
        `Case.frame` says) in time order, ties by case and input order (`columns` then holds `case`, `source_file`
        and `source_row`)."""
        frames = [case.events(columns, read_as, helpers) for case in self.cases]
        if len(frames) == 1:
            return frames[0]
        return pl.concat(frames).sort(*ACTIVITY_ORDER, maintain_order=True)

    def activity(self, view: bool = False) -> pl.DataFrame:
        """Every case's rows of every frame in the activity shape (activity.py), in time order; with `view`, as the
        events view holds them."""
        frames = [case.activity(view) for case in self.cases]
        if len(frames) == 1:
            return frames[0]
        return pl.concat(frames).sort(*ACTIVITY_ORDER, maintain_order=True)

    def first_activity(self, count: int, view: bool = False) -> pl.DataFrame:
        """The first `count` rows of `activity(view)`, reading only those rows of each case."""
        frames = [case.first_activity(count, view) for case in self.cases]
        if len(frames) == 1:
            return frames[0]
        return pl.concat(frames).sort(*ACTIVITY_ORDER, maintain_order=True).head(count)

    def activity_scan(self) -> pl.LazyFrame:
        """Every case's rows of every frame in the activity shape, as one lazy frame (in no set order)."""
        return pl.concat([case.activity_scan() for case in self.cases], how="diagonal_relaxed")

    def parts(self, frame: str = "events") -> list[Path]:
        """The Parquet parts of a frame (default the events) of every case."""
        return [part for case in self.cases for part in case.parts(frame)]

    def conflict_parts(self) -> list[Path]:
        """The Parquet parts of every case's conflicting duplicates."""
        return [part for case in self.cases for part in case.conflict_parts()]

    def audit_data(self, record_ids: list[str]) -> dict[str, str]:
        """The original record text of the given events, read from the cases that hold them."""
        found: dict[str, str] = {}
        for case in self.cases:
            missing = [record_id for record_id in record_ids if record_id not in found]
            if not missing:
                break
            found |= case.audit_data(missing)
        return found

    def record_row(self, row: dict) -> dict | None:
        """The whole row of one event or activity row in its own frame, read from the case it belongs to (by its
        `case` label)."""
        for case in sorted(self.cases, key=lambda case: case.name != row["case"]):
            found = case.record_row(row)
            if found is not None:
                return found
        return None

    def record_text(self, row: dict) -> str | None:
        """The original record text of one event or activity row, read from the case it belongs to."""
        found = self.record_row(row)
        return None if found is None else found[RECORD_COLUMN[frame_of(row)]]

    def rejects(self) -> pl.DataFrame:
        """The rejected rows of every case."""
        return pl.concat([case.rejects() for case in self.cases])

    @property
    def rejects_where(self) -> str:
        """Where the rejects files are, for the load report."""
        return ", ".join(str(case.rejects_path) for case in self.cases)

    @property
    def store(self) -> CaseStore | CaseSetStore:
        """The case's database, or for several cases one that routes each event to its own case."""
        if self._store is None:
            if len(self.cases) == 1:
                self._store = self.primary.store
            else:
                owners = pl.concat([case.scan().select("record_id", "case").collect() for case in self.cases])
                self._store = CaseSetStore({case.name: case.store for case in self.cases}, owners)
        return self._store
