"""Provides cases: a folder with the events as Parquet, the rejects, the load report and the case database.

Layout of a case folder:
    inputs.json         the input paths and, per file, size and modification time (the fingerprint)
    events/part-*.parquet
    rejects.jsonl       one JSON object per rejected row: file, row, reason, text
    load_report.json
    case.sqlite         marks, notes, tags, saved filters and queries (see store.py)
"""

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import polars as pl

from workbench.core.config import cases_root
from workbench.core.formats import NotAnAuditLog, expand_paths
from workbench.core.load_report import LoadReport, Progress
from workbench.core.schema import EVENT_SCHEMA, ON_DISK_COLUMNS, empty_events
from workbench.core.store import CaseStore


def case_name_for(paths: list[Path]) -> str:
    """A stable case name derived from the input paths: a readable stem plus a short hash."""
    resolved = sorted(str(path.resolve()) for path in paths)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(resolved[0]).name or "case").strip("-.") or "case"
    digest = hashlib.sha1("\n".join(resolved).encode()).hexdigest()[:8]
    return f"{stem}-{digest}"


def _fingerprint(paths: list[Path]) -> dict:
    files = expand_paths(paths)
    return {
        "paths": [str(path.resolve()) for path in paths],
        "files": [{"path": str(p.resolve()), "size": p.stat().st_size, "mtime_ns": p.stat().st_mtime_ns} for p in files],
    }


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


class Case:
    """One case folder."""

    def __init__(self, root: Path):
        self.root = root
        self.name = root.name
        self._store: CaseStore | None = None

    @classmethod
    def named(cls, name: str, case_dir: str | Path | None = None, config: dict | None = None) -> "Case":
        """The case called `name` under the cases folder (it may not exist yet)."""
        if not re.fullmatch(r"[A-Za-z0-9_.@+-]+", name) or name in (".", ".."):
            raise ValueError(f"case name {name!r}: use letters, digits and . _ - @ + only")
        return cls(cases_root(case_dir, config) / name)

    @property
    def events_dir(self) -> Path:
        return self.root / "events"

    @property
    def rejects_path(self) -> Path:
        return self.root / "rejects.jsonl"

    @property
    def exists(self) -> bool:
        """True when the case has been loaded at least once."""
        return (self.root / "inputs.json").exists()

    def inputs(self) -> list[Path]:
        """The input paths the case was loaded from."""
        return [Path(path) for path in json.loads((self.root / "inputs.json").read_text())["paths"]]

    def is_current(self, paths: list[Path]) -> bool:
        """True when the case was loaded from exactly these inputs and none has changed since."""
        if not self.exists:
            return False
        return json.loads((self.root / "inputs.json").read_text()) == _fingerprint(paths)

    def load(self, paths: list[Path], progress: Progress | None = None) -> LoadReport:
        """(Re)load the inputs into this case; the previous events are replaced only when the load succeeds."""
        from workbench.core.load import EventSink, load_paths  # the loader (and DuckDB) only when loading

        self.root.mkdir(parents=True, exist_ok=True)
        staging = self.root / ".loading"
        shutil.rmtree(staging, ignore_errors=True)
        sink = EventSink(staging / "events", staging / "rejects.jsonl")
        try:
            try:
                report = load_paths(paths, self.name, sink, staging / "scratch", progress)
            finally:
                sink.close()
            shutil.rmtree(self.events_dir, ignore_errors=True)
            os.replace(staging / "events", self.events_dir)
            os.replace(staging / "rejects.jsonl", self.rejects_path)
            _write_atomic(self.root / "load_report.json", json.dumps(report.to_dict(), indent=1))
            _write_atomic(self.root / "inputs.json", json.dumps(_fingerprint(paths), indent=1))
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        self.store  # the database exists from the first load on
        return report

    def open(self, paths: list[Path], progress: Progress | None = None) -> tuple[LoadReport, bool]:
        """Load `paths` unless the case already holds them unchanged; returns (report, reused)."""
        if paths and not self.is_current(paths):
            return self.load(paths, progress), False
        if not self.exists:
            raise NotAnAuditLog(self.root, "no such case and no input paths given")
        return self.load_report(), True

    def load_report(self) -> LoadReport:
        """The report of the last load."""
        return LoadReport.from_dict(json.loads((self.root / "load_report.json").read_text()))

    def parts(self) -> list[Path]:
        """The Parquet parts holding the events, in load order."""
        return sorted(self.events_dir.glob("part-*.parquet"))

    def scan(self, with_audit_data: bool = False) -> pl.LazyFrame:
        """The events as a lazy frame over the Parquet parts (`audit_data` only when asked)."""
        parts = self.parts()
        if not parts:
            frame = empty_events().lazy()
        else:
            frame = pl.scan_parquet(parts, schema=EVENT_SCHEMA, glob=False)  # a case folder may be named `x[1]`
        if not with_audit_data:
            frame = frame.drop(*ON_DISK_COLUMNS)
        return frame

    def events(self) -> pl.DataFrame:
        """The events frame in memory, without the bulky `audit_data` column, in time order."""
        # Parts hold rows in input order (file, then row), so a stable sort on time alone breaks ties by input order.
        return self.scan().sort("creation_time", maintain_order=True).collect()

    def audit_data(self, record_ids: list[str]) -> dict[str, str]:
        """The original record text of the given events, read from disk."""
        found = self.scan(with_audit_data=True).filter(pl.col("record_id").is_in(record_ids))
        return dict(found.select("record_id", "audit_data").collect().iter_rows())

    def record_text(self, row: dict) -> str | None:
        """The original record text of one event (a row of `events()`), found by its input position.

        The parts hold rows in input order, so their statistics on `source_file` and `source_row` skip every
        row group but the one holding the event: one small read instead of a scan of every part.
        """
        where = ((pl.col("source_file") == row["source_file"]) & (pl.col("source_row") == row["source_row"])
                 & (pl.col("record_id") == row["record_id"]))
        found = self.scan(with_audit_data=True).filter(where).select("audit_data").collect()
        return found.item(0, 0) if found.height else None

    def rejects(self) -> pl.DataFrame:
        """The rejected rows: file, row, reason, text."""
        schema = {"file": pl.String, "row": pl.Int64, "reason": pl.String, "text": pl.String}
        if not self.rejects_path.exists() or self.rejects_path.stat().st_size == 0:
            return pl.DataFrame(schema=schema)
        return pl.read_ndjson(self.rejects_path.read_bytes(), schema=schema)

    @property
    def store(self) -> CaseStore:
        """The case database (created on first use)."""
        if self._store is None:
            self.root.mkdir(parents=True, exist_ok=True)
            self._store = CaseStore(self.root / "case.sqlite")
        return self._store
