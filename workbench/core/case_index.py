"""Provides the cases folder as a list: every case with its inputs, rows per source, tenants, size and times;
finding a case by the name of its folder's stem; renaming and removing a case.

A case loaded from PATH... is named after the path plus a short hash (`case-a-7c871cc6`); `--case case-a`
finds it when exactly one case is so named.
"""

import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

import polars as pl

from workbench.core.case import POINTER, Case
from workbench.core.case_lock import pinned, writer_lock
from workbench.core.correlate import tenant_labels


class CaseNameError(ValueError):
    """A case name that names no case, several, or one that cannot be taken."""


def case_folders(root: Path) -> list[Path]:
    """The case folders under the cases folder (those loaded at least once), by name."""
    if not root.is_dir():
        return []
    return sorted(path for path in root.iterdir()
                  if path.is_dir() and ((path / POINTER).exists() or (path / "inputs.json").exists()))


def resolve_name(name: str, root: Path) -> str:
    """The case `name` names: itself when there is such a case, else the one case named `name-<hash>`; a
    CaseNameError lists them when there are several. A name that matches nothing is returned as it is."""
    if (root / name).is_dir():
        return name
    matches = [path.name for path in case_folders(root) if re.fullmatch(re.escape(name) + r"-[0-9a-f]{8}", path.name)]
    if len(matches) > 1:
        raise CaseNameError(f"{name!r} names several cases: {', '.join(matches)}; give the whole name")
    return matches[0] if matches else name


def _when(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def summary(case: Case) -> dict:
    """One case: name, inputs, rows per source, rejected, tenants (by domain, as `tenant_labels` names them),
    size in bytes, created and last opened (UTC)."""
    report = case.load_report()
    frames: dict[str, int] = {}
    for file in report.files:
        for frame, count in (file.frames or {"events": file.loaded}).items():
            frames[frame] = frames.get(frame, 0) + count
    senders = case.scan(frame="messages").select("organization_id", pl.col("sender_key").alias("user_key"))
    people = pl.concat([*(case.scan(frame=frame).select("organization_id", "user_key").collect()
                          for frame in ("events", "sign_ins", "directory_audits")), senders.collect()])
    ids = people["organization_id"].drop_nulls().unique().to_list()
    labels = tenant_labels(people)
    return {
        "name": case.name, "inputs": [str(path) for path in case.inputs()],
        "events": frames.get("events", 0), "sign_ins": frames.get("sign_ins", 0),
        "directory_audits": frames.get("directory_audits", 0), "messages": frames.get("messages", 0), "rejected": report.totals()["rejected"],
        "tenants": sorted(labels.get(tenant, tenant) for tenant in ids), "size_bytes": _size(case.root),
        "created": _when(case.created()), "last_opened": _when(case.last_opened()),
    }


def summaries(root: Path) -> list[dict]:
    """Every case under the cases folder, summarised."""
    result = []
    for folder in case_folders(root):
        case = Case(folder)
        try:
            result.append(summary(case))
        finally:
            case.close()
    return result


def _unused(case: Case) -> None:
    """Raise when another workbench process reads the case (under its writer lock)."""
    for state in case.root.glob("state-*"):
        if pinned(state):
            raise CaseNameError(f"case {case.name} is open in another workbench process; close it first")


def rename(case: Case, new_name: str) -> Case:
    """Rename a case folder (not while another process reads or loads it); returns the case under its new name."""
    target = Case.named(new_name, case.root.parent)
    if target.root.exists():
        raise CaseNameError(f"a case named {new_name!r} exists already")
    with writer_lock(case.root):
        _unused(case)
        case.root.rename(target.root)
    return target


def remove(case: Case) -> None:
    """Remove a case folder and everything in it (not while another process reads or loads it)."""
    with writer_lock(case.root):
        _unused(case)
        shutil.rmtree(case.root)
