"""Provides cases: a folder with the events as Parquet, the rejects, the load report and the case database.

A case is evidence, so a load never changes what readers see until it is complete. Each load writes a
new *state* folder aside and swaps it in by replacing one pointer file:

    .lock               the writer lock (case_lock.py): one load at a time, the others wait
    current             the name of the state folder in force (replaced atomically)
    state-<id>/         one complete load:
        .pin                readers hold a shared lock on it (an old state is removed once unpinned)
        inputs.json         the input paths and, per file, size and modification time (the fingerprint)
        events/part-*.parquet
        conflicts/part-*.parquet   records that share an `Id` with a loaded one but differ (conflicts.py)
        rejects.jsonl       one JSON object per rejected row: file, row, reason, text
        load_report.json
    .staging-<id>/      a load in progress (a crashed one is removed by the next load)
    case.sqlite         marks, notes, tags, saved filters and queries (see store.py), shared by all states
    created, opened     empty files whose times say when the case was first loaded and last opened

Every file of a state is fsynced before the state is renamed into place and the pointer replaced, so a
crash at any instant leaves either the old complete state or the new one.
"""

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Callable, Collection
from pathlib import Path

import polars as pl

from workbench.core.activity import activity, frame_of, view_rows
from workbench.core.case_lock import StatePin, Waiting, building, remove_if_abandoned, remove_if_unpinned, writer_lock
from workbench.core.config import ConfigError, cases_root
from workbench.core.evidence import changed_inputs
from workbench.core.constant_columns import constant_columns
from workbench.core.kept_records import KeptRecords
from workbench.core.memory import check_fits
from workbench.core.formats import NotAnAuditLog, expand_paths
from workbench.core.load_report import LoadReport, Progress
from workbench.core.schema import FRAME_SCHEMAS, RECORD_COLUMN, TIME_COLUMN, empty_frame
from workbench.core.store import CaseStore

POINTER = "current"
#: The files of a state that the first layout kept at the top of the case folder (moved into a state on open).
_FIRST_LAYOUT = ("inputs.json", "load_report.json", "rejects.jsonl", "events")


class NoSuchCase(NotAnAuditLog):
    """A case named without input paths that has never been loaded."""

    def __init__(self, root: Path):
        ValueError.__init__(self, f"no case named {root.name!r} in {root.parent}; give PATH... to load one")
        self.path = root


def _in_time_order(rows: pl.DataFrame, column: str) -> pl.DataFrame:
    """`rows` stably sorted by `column`, a column at a time: sorting the whole frame held it twice at its peak
    (12 GB for 10M events), this holds it and one column. Exports are often in time order already: checking is
    a pass over one column. A column of one value (the literals of `Case.scan`) is left as it is: gathered, it
    would be made into a column of ten million copies (800 MB at 10M events of one tenant)."""
    if rows[column].is_sorted():
        return rows
    order = rows.select(pl.arg_sort_by(column, maintain_order=True)).to_series()
    for name in rows.columns:
        if not _one_value(rows[name]):
            rows = rows.with_columns(rows[name].gather(order))
    return rows


def _one_value(values: pl.Series) -> bool:
    """Whether every item of `values` is the same (all null, or one value and no null); cheap for a literal."""
    if values.null_count() == values.len():
        return True
    comparable = values.dtype == pl.String or values.dtype.is_numeric() or values.dtype.is_temporal()
    if not comparable or values.null_count() or values[0] != values[-1]:
        return False
    return values.min() == values.max()


def case_name_for(paths: list[Path]) -> str:
    """A stable case name derived from the input paths: a readable stem plus a short hash."""
    resolved = sorted(str(path.resolve()) for path in paths)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(resolved[0]).name or "case").strip("-.") or "case"
    digest = hashlib.sha1("\n".join(resolved).encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def _fingerprint(paths: list[Path]) -> dict:
    """The input paths and each file's size and modification time; a file gone is left out (loading it says so)."""
    files = [path for path in expand_paths(paths) if path.is_file()]
    return {
        "paths": [str(path.resolve()) for path in paths],
        "files": [{"path": str(p.resolve()), "size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns} for p in files],
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(root: Path) -> None:
    """Flush every file and folder under `root` (and `root`) to disk."""
    for folder, _dirs, files in os.walk(root, topdown=False):
        for name in files:
            _fsync(Path(folder) / name)
        _fsync(Path(folder))


def _replace_durably(path: Path, text: str) -> None:
    """Write `text` aside, flush it, rename it over `path` and flush the folder."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync(path.parent)


class Case:
    """One case folder; reads go to the state in force when first read, pinned until `refresh` or `close`."""

    def __init__(self, root: Path):
        self.root = root
        self.name = root.name
        self._store: CaseStore | None = None
        self._pin: StatePin | None = None
        self._kept: KeptRecords | None = None
        #: Whether a load may hard-link the inputs it keeps rather than copy them (config `keep_inputs`, default "link").
        self.link_inputs = True

    @classmethod
    def named(cls, name: str, case_dir: str | Path | None = None, config: dict | None = None) -> "Case":
        """The case called `name` under the cases folder (it may not exist yet)."""
        if not re.fullmatch(r"[A-Za-z0-9_.@+-]+", name) or name in (".", ".."):
            raise ValueError(f"case name {name!r}: use letters, digits and . _ - @ + only")
        case = cls(cases_root(case_dir, config) / name)
        keep = (config or {}).get("keep_inputs", "link")
        if keep not in ("copy", "link"):
            raise ConfigError(f"keep_inputs {keep!r}: give \"link\" (the default: hard links where it can) or \"copy\"")
        case.link_inputs = keep == "link"
        return case

    def _state(self) -> Path | None:
        """The state folder in force, pinned for this object's reads; None before the first load."""
        for _attempt in range(10):
            if self._pin is not None:
                return self._pin.state
            try:
                name = (self.root / POINTER).read_text(encoding="utf-8").strip()
            except FileNotFoundError:
                if not (self.root / "inputs.json").exists():
                    return None
                self._adopt_first_layout()
                continue
            pin = StatePin(self.root / name)
            if pin.acquire():
                self._pin = pin
                return pin.state
        raise ValueError(f"{self.root}: damaged case folder ({POINTER} names a state that is not there)")

    @property
    def state_dir(self) -> Path:
        """The folder of the state this object reads."""
        state = self._state()
        if state is None:
            raise NoSuchCase(self.root)
        return state

    def derived(self, name: str, build: Callable[[Path], None]) -> Path:
        """The folder `name` of the state in force, derived from what its load wrote (an index, say): the first time it
        is asked for, `build` writes it into a folder aside, which is flushed and renamed into place, so that readers
        see it complete or not at all. When two processes build it at once, the first renamed is kept. The load's own
        files are never changed; the folder aside of a build cut short by a crash or a kill is removed by the next
        build (its build lock is free: case_lock.py)."""
        target = self.state_dir / name
        if target.is_dir():
            return target
        left = re.compile(rf"\.{re.escape(name)}-[0-9a-f]{{12}}")
        for path in self.state_dir.iterdir():
            if left.fullmatch(path.name):
                remove_if_abandoned(path)
        aside = self.state_dir / f".{name}-{uuid.uuid4().hex[:12]}"
        with building(aside):
            try:
                build(aside)
                _fsync_tree(aside)
                try:
                    os.rename(aside, target)
                except OSError:  # built by another process meanwhile
                    if not target.is_dir():
                        raise
                _fsync(self.state_dir)
            finally:
                shutil.rmtree(aside, ignore_errors=True)
        return target

    @property
    def events_dir(self) -> Path:
        return self.state_dir / "events"

    @property
    def rejects_path(self) -> Path:
        return self.state_dir / "rejects.jsonl"

    @property
    def exists(self) -> bool:
        """True when the case has been loaded at least once."""
        return self._state() is not None

    def refresh(self) -> None:
        """Read the state in force from now on (a load by another process may have swapped a newer one in)."""
        if self._pin is not None:
            self._pin.release()
            self._pin = None

    def close(self) -> None:
        """Let go of the state read and of the case database."""
        self.refresh()
        if self._store is not None:
            self._store.close()
            self._store = None

    def inputs(self) -> list[Path]:
        """The input paths the case was loaded from."""
        return [Path(path) for path in json.loads((self.state_dir / "inputs.json").read_text())["paths"]]

    def is_current(self, paths: list[Path]) -> bool:
        """True when the case was loaded from exactly these inputs and none has changed since."""
        if not self.exists:
            return False
        try:
            fingerprint = _fingerprint(paths)
        except FileNotFoundError:  # an input gone: the load says which
            return False
        return json.loads((self.state_dir / "inputs.json").read_text()) == fingerprint and not self.missing_columns()

    def missing_columns(self) -> list[str]:
        """Columns of today's frames that the case's Parquet lacks (a case loaded by an earlier version: they read
        as empty until the case is loaded again)."""
        missing = []
        for frame, schema in FRAME_SCHEMAS.items():
            parts = self.parts(frame)
            if parts:
                stored = pl.read_parquet_schema(parts[0])
                missing += [name for name in schema if name not in stored]
        return missing

    def _input_files(self) -> list[dict]:
        """The input files as recorded when the case was loaded: path, size, mtime_ns."""
        return json.loads((self.state_dir / "inputs.json").read_text())["files"]

    def changed_inputs(self) -> list[str]:
        """Which input files are gone or changed since the case loaded them, and how (empty: all as loaded); and
        whether an earlier version loaded the case, leaving today's new columns empty."""
        problems = changed_inputs(self._input_files()) + self.kept_records.changed()
        missing = self.missing_columns()
        if missing:
            problems.append(f"{self.name} was loaded by an earlier version of the workbench: {', '.join(missing)} "
                            f"read as empty; load it again to fill them (workbench PATH... --case {self.name})")
        return problems

    def load(self, paths: list[Path], progress: Progress | None = None, waiting: Waiting | None = None) -> LoadReport:
        """(Re)load the inputs into this case, under its writer lock; the new state replaces the old one only
        when the load is complete and on disk."""
        with writer_lock(self.root, waiting):
            return self._load_locked(paths, progress)

    def open(self, paths: list[Path], progress: Progress | None = None,
             waiting: Waiting | None = None) -> tuple[LoadReport, bool]:
        """Load `paths` unless the case already holds them unchanged; returns (report, reused).

        A process that finds another one loading the case waits for it (told through `waiting`) and then
        reuses what it loaded when that was the same inputs. A case an earlier version loaded, reopened without
        paths, is loaded again from its inputs when they are all there unchanged (else it opens as it is).
        """
        if not paths and self.exists and self.missing_columns() and not changed_inputs(self._input_files()):
            paths = self.inputs()
        if paths and not self.is_current(paths):
            with writer_lock(self.root, waiting):
                self.refresh()
                if not self.is_current(paths):
                    return self._load_locked(paths, progress), False
        if not self.exists:
            raise NoSuchCase(self.root)
        (self.root / "opened").touch()
        return self.load_report(), True

    def _load_locked(self, paths: list[Path], progress: Progress | None) -> LoadReport:
        from workbench.core import conflicts, folds, truncation
        from workbench.core.load import StateSink, load_paths  # the loader (and DuckDB) only when loading

        self._remove_leftovers()
        fingerprint = _fingerprint(paths)  # the inputs as the load starts
        staging = self.root / f".staging-{uuid.uuid4().hex[:12]}"
        try:
            sink = StateSink(staging)
            try:
                report = load_paths(paths, self.name, sink, staging / "scratch", progress, self.link_inputs)
            finally:
                sink.close()
            conflicts.resolve(staging, report)
            folds.fold_all(staging, report, ("sign_ins", "directory_audits", "messages"))
            truncation.note_short_ranges(staging, report)
            shutil.rmtree(staging / "scratch", ignore_errors=True)
            (staging / "load_report.json").write_text(json.dumps(report.to_dict(), indent=1), encoding="utf-8")
            (staging / "inputs.json").write_text(json.dumps(fingerprint, indent=1), encoding="utf-8")
            self._commit(staging)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.store  # the database exists from the first load on
        for marker in ("created", "opened"):
            if marker == "opened" or not (self.root / marker).exists():
                (self.root / marker).touch()
        return report

    def _commit(self, staging: Path) -> None:
        """Swap a complete state in: flush it, rename it into place, replace the pointer, remove unread states."""
        (staging / ".pin").touch()
        _fsync_tree(staging)
        state = self.root / f"state-{uuid.uuid4().hex[:12]}"
        os.rename(staging, state)
        _fsync(self.root)
        _replace_durably(self.root / POINTER, state.name)
        self.refresh()
        self._state()
        self._remove_leftovers()

    def _remove_leftovers(self) -> None:
        """Remove what crashed loads left and the states no process reads any more (under the writer lock)."""
        current = self._pin.state.name if self._pin is not None else None
        if current is None and (self.root / POINTER).exists():
            current = (self.root / POINTER).read_text(encoding="utf-8").strip()
        for path in self.root.iterdir():
            if path.name.startswith(".staging-"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith("state-") and path.name != current:
                remove_if_unpinned(path, lambda state: shutil.rmtree(state, ignore_errors=True))
            elif current is not None and path.name in _FIRST_LAYOUT:  # adopted into a state already
                shutil.rmtree(path) if path.is_dir() else path.unlink()

    def _adopt_first_layout(self) -> None:
        """Move a case written by the first layout (state files at the top) into a state, keeping every file.

        The files are hard-linked into the new state and removed from the top only once it is in force,
        so a crash meanwhile loses nothing.
        """
        with writer_lock(self.root):
            if (self.root / POINTER).exists() or not (self.root / "inputs.json").exists():
                return
            staging = self.root / f".staging-{uuid.uuid4().hex[:12]}"
            staging.mkdir()
            for name in _FIRST_LAYOUT:
                source = self.root / name
                if source.is_dir():
                    shutil.copytree(source, staging / name, copy_function=os.link)
                elif source.exists():
                    os.link(source, staging / name)
            self._commit(staging)

    def created(self) -> float | None:
        """When the case was first loaded (seconds since the epoch), None for a case loaded before this was kept."""
        marker = self.root / "created"
        return marker.stat().st_mtime if marker.exists() else None

    def last_opened(self) -> float | None:
        """When the case was last opened or loaded (seconds since the epoch)."""
        marker = self.root / "opened"
        return marker.stat().st_mtime if marker.exists() else self.created()

    def load_report(self) -> LoadReport:
        """The report of the last load."""
        return LoadReport.from_dict(json.loads((self.state_dir / "load_report.json").read_text()))

    def parts(self, frame: str = "events") -> list[Path]:
        """The Parquet parts holding a frame (`events`, `sign_ins`, `directory_audits`, `messages`), in load order."""
        return sorted((self.state_dir / frame).glob("part-*.parquet")) if self.exists else []

    def conflict_parts(self) -> list[Path]:
        """The Parquet parts holding the conflicting duplicates (conflicts.py), if any."""
        return sorted((self.state_dir / "conflicts").glob("part-*.parquet")) if self.exists else []

    def scan(self, with_audit_data: bool = False, frame: str = "events", from_kept_inputs: bool = True,
             parts: list[Path] | None = None) -> pl.LazyFrame:
        """A frame (default the events) as a lazy frame over its Parquet parts (only `parts` of them when given), with
        the original record (`audit_data`, `raw`) only when asked: read from the case's copy of its input where the
        Parquet does not hold it, unless `from_kept_inputs` is false (then null there)."""
        parts = self.parts(frame) if parts is None else parts
        if not parts:
            rows = empty_frame(frame).lazy()
        else:
            # glob off: a case folder may be named `x[1]`; columns newer than the case read as null (missing_columns)
            rows = pl.scan_parquet(parts, schema=FRAME_SCHEMAS[frame], glob=False, missing_columns="insert")
            schema = FRAME_SCHEMAS[frame]
            constants = constant_columns(tuple(parts), tuple(name for name in schema if name != RECORD_COLUMN[frame]))
            if constants:  # read as literals: no memory, no reading
                rows = rows.with_columns(pl.lit(value, schema[name]).alias(name) for name, value in constants.items())
        if not with_audit_data:
            rows = rows.drop(RECORD_COLUMN[frame])
        elif from_kept_inputs and self.kept_records:
            rows = rows.with_columns(self.kept_records.fill_expression(RECORD_COLUMN[frame]))
        return rows

    @property
    def kept_records(self) -> KeptRecords:
        """The records the case reads back from its own copy of their input (kept_records.py)."""
        state = self.state_dir
        if self._kept is None or self._kept.state != state:
            self._kept = KeptRecords(state)
        return self._kept

    def check_memory(self, frames: tuple[str, ...] = ("events",), columns: list[str] | None = None,
                     categorical: Collection[str] = ()) -> None:
        """Raise NotEnoughMemory (memory.py) when these frames (their `columns`, default all; those of `categorical`
        held as categoricals), without their original records, would not fit in the memory available."""
        for frame in frames:
            read = [name for name in (columns or FRAME_SCHEMAS[frame]) if name != RECORD_COLUMN[frame]]
            check_fits(f"the {frame} of case {self.name}", self.parts(frame), read, categorical)

    def frame(self, name: str, columns: list[str] | None = None, read_as: dict[str, pl.Expr] | None = None,
              helpers: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
        """A frame of the case (its `columns`, default all) in memory, without its original records, in time order
        (ties in input order: the parts hold rows by file, then row). `read_as`: columns read through these
        expressions instead, batch by batch (a column held as categories, or only where some rows need it);
        `helpers`: columns computed once before them, for several of them to read, then dropped."""
        self.check_memory((name,), columns)
        rows = self.scan(frame=name)
        rows = (rows if columns is None else rows.select(columns)).with_columns(**(helpers or {}))
        rows = rows.with_columns(**(read_as or {})).drop(*(helpers or {}))
        return _in_time_order(rows.collect(), TIME_COLUMN[name])

    def events(self, columns: list[str] | None = None, read_as: dict[str, pl.Expr] | None = None,
               helpers: dict[str, pl.Expr] | None = None) -> pl.DataFrame:
        """The events frame (its `columns`, default all; `read_as` and `helpers` as `frame` says) in memory, without
        the bulky `audit_data` column, in time order."""
        return self.frame("events", columns, read_as, helpers)

    def audit_data(self, record_ids: list[str]) -> dict[str, str]:
        """The original record text of the given rows of any frame, read from disk."""
        found: dict[str, str] = {}
        for frame, column in RECORD_COLUMN.items():
            rows = self.scan(with_audit_data=True, frame=frame).filter(pl.col("record_id").is_in(record_ids))
            found.update(rows.select("record_id", column).collect().iter_rows())
        return found

    def activity(self, view: bool = False) -> pl.DataFrame:
        """Every frame's rows in the activity shape (activity.py), in time order; with `view`, as the events view
        holds them (`activity.view_rows`)."""
        rows = self._activity_rows(view)
        held = rows.collect_schema()
        self.check_memory(columns=[name for name in FRAME_SCHEMAS["events"] if name in held],
                          categorical=[name for name, dtype in held.items() if dtype == pl.Categorical])
        return _in_time_order(rows.collect(), "creation_time")

    def first_activity(self, count: int, view: bool = False) -> pl.DataFrame:
        """The first `count` rows of `activity(view)`, without reading the others: the times are read to find the
        count-th earliest, then only the rows up to it (the parts' statistics skip the row groups after it)."""
        scan = self._activity_rows(view)
        last = scan.select(pl.col("creation_time").bottom_k(count).max()).collect().item()
        rows = scan.filter(pl.col("creation_time") <= last).collect() if last is not None else scan.head(0).collect()
        return _in_time_order(rows, "creation_time").head(count)

    def _activity_rows(self, view: bool) -> pl.LazyFrame:
        return view_rows(self.activity_scan()) if view else self.activity_scan()

    def activity_scan(self) -> pl.LazyFrame:
        """Every frame's rows in the activity shape, as a lazy frame over the case's Parquet (in no set order)."""
        return activity(self.scan(), *(self.scan(frame=frame) if self.parts(frame) else None
                                       for frame in ("sign_ins", "directory_audits", "messages")), ordered=False)

    def record_row(self, row: dict) -> dict | None:
        """The whole row, original record included, of one row of `events()` or `activity()` in its own frame,
        found by its input position.

        The parts hold rows in input order, so their statistics on `source_file` and `source_row` skip every
        row group but the one holding the row: one small read instead of a scan of every part.
        """
        where = ((pl.col("source_file") == row["source_file"]) & (pl.col("source_row") == row["source_row"])
                 & (pl.col("record_id") == row["record_id"]))
        found = self.scan(with_audit_data=True, frame=frame_of(row)).filter(where).collect()
        return found.row(0, named=True) if found.height else None

    def record_text(self, row: dict) -> str | None:
        """The original record text of one row of `events()` or `activity()` (see `record_row`)."""
        found = self.record_row(row)
        return None if found is None else found[RECORD_COLUMN[frame_of(row)]]

    def rejects(self) -> pl.DataFrame:
        """The rejected rows: file, row, reason, text."""
        schema = {"file": pl.String, "row": pl.Int64, "reason": pl.String, "text": pl.String}
        if not self.exists or not self.rejects_path.exists() or self.rejects_path.stat().st_size == 0:
            return pl.DataFrame(schema=schema)
        return pl.read_ndjson(self.rejects_path.read_bytes(), schema=schema)

    @property
    def store(self) -> CaseStore:
        """The case database (created on first use)."""
        if self._store is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self._store = CaseStore(self.root / "case.sqlite")
        return self._store
