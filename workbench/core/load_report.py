"""Provides the load report: what happened to the rows of each input file, and the first warnings.

Kept apart from the loader so that opening a loaded case reads its report without importing the
loader (and the DuckDB decoder it uses).
"""

from dataclasses import asdict, dataclass, field
from typing import Callable

#: progress(files_done, files_total, rows_read_so_far, current_file)
Progress = Callable[[int, int, int, str], None]

#: What a row is, for the shapes whose rows are not one record each (sources/messages.py).
ROW_UNITS = {
    "eac-summary-csv": "rows are counted per recipient: a report row naming several recipients counts once for each",
    "eac-extended-csv": "rows are counted per event and recipient: each (message, recipient) loads once, with its "
                        "final status; its other events count as duplicates (listed in delivery_events)",
}


@dataclass
class FileReport:
    """What happened to the rows of one input file."""

    path: str
    format: str
    rows: int = 0
    loaded: int = 0
    duplicates: int = 0
    conflicting: int = 0
    rejected: int = 0
    warnings: int = 0
    note: str | None = None
    #: Rows loaded per frame (`events`, `sign_ins`, `directory_audits`, `messages`).
    frames: dict[str, int] = field(default_factory=dict)
    #: Of the duplicates, those whose values were folded into the loaded row (sign-ins refilled by Sentinel).
    folded: int = 0
    #: The file as loaded (chain of custody): SHA-256 of its bytes, size in bytes, modification time (UTC).
    sha256: str | None = None
    size: int | None = None
    modified: str | None = None
    #: How the case keeps the file, when it reads the original records back from it (kept_records.py): `reflink`,
    #: `link` (a hard link), `copy` or `plain copy` (decompressed or transcoded); None: the records are in the Parquet.
    kept: str | None = None

    def row_unit(self) -> str | None:
        """What the file's rows are when they are not one record each (the admin center's message trace reports)."""
        return ROW_UNITS.get(self.format)

    def note_line(self) -> str:
        """The note with the file's path before it (a note from a loading error names the file already)."""
        return self.note if self.note.startswith(self.path) else f"{self.path}: {self.note}"


@dataclass
class LoadReport:
    """The accounting of one load: per file counts, the first warnings and the first conflicting duplicates."""

    files: list[FileReport] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    #: {"record_id", "kept": {"file", "row", "operation"}, "conflicting": {...}} for the first ones (conflicts.py)
    conflicts: list[dict] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        """Summed rows, loaded, duplicates, conflicting and rejected over all files."""
        keys = ("rows", "loaded", "duplicates", "conflicting", "rejected", "warnings", "folded")
        return {key: sum(getattr(report, key) for report in self.files) for key in keys}

    def frame_line(self) -> str:
        """What went into each frame, and the repeated sign-ins or directory audits folded into loaded ones."""
        names = {"events": "audit log records", "sign_ins": "sign-ins", "directory_audits": "directory audits",
                 "messages": "message trace rows"}
        loaded: dict[str, int] = {}
        for file in self.files:
            for frame, count in file.frames.items():
                loaded[frame] = loaded.get(frame, 0) + count
        line = "loaded: " + ", ".join(f"{loaded[frame]:,} {name}" for frame, name in names.items() if loaded.get(frame))
        folded = self.totals()["folded"]
        if folded:
            line += (f"; {folded:,} repeated rows of a sign-in, directory audit or message (other pages, shapes or "
                     "Sentinel's refills) folded into the loaded one, counted as duplicates")
        return line

    def conflict_lines(self, limit: int) -> list[str]:
        """The first conflicting duplicates as one line each: the record id and where both versions are."""
        def where(version: dict) -> str:
            return f"{version['file']} row {version['row']} ({version['operation']})"

        return [f"record {c['record_id']}: loaded {where(c['kept'])}; conflicting {where(c['conflicting'])}"
                for c in self.conflicts[:limit]]

    def to_dict(self) -> dict:
        """The report as plain data, for JSON."""
        return {"files": [asdict(report) for report in self.files], "totals": self.totals(), "warnings": self.warnings,
                "conflicts": self.conflicts}

    @classmethod
    def from_dict(cls, data: dict) -> "LoadReport":
        """Rebuild a report saved by `to_dict`."""
        return cls([FileReport(**report) for report in data["files"]], data.get("warnings", []), data.get("conflicts", []))
