"""Provides the one way a case is hunted, for the CLI, the views and the report alike: `hunt_pack` and `case_hits`.

The pack is the bundled hunts, the folders of the config's `hunts_dirs` and the folders given with `--hunts`.
Hunts read the unified audit log rows of the events (or, by their `source`, the case's sign-ins or directory
audits), with the enrichment the cache holds for the case's IPs (never the network).
"""

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import hunts
from workbench.core.activity import audit_log_rows
from workbench.core.enrichment import cached_enrichment

if TYPE_CHECKING:
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet


class HuntSetupError(ValueError):
    """The config's `hunts_dirs` or a hunt file cannot be read; the message says which and why."""


def hunt_pack(config: dict, extra_dirs: Iterable[Path] = ()) -> list[hunts.Hunt]:
    """The bundled hunts plus the config's `hunts_dirs` and `extra_dirs`."""
    configured = config.get("hunts_dirs", [])
    if isinstance(configured, str) or not all(isinstance(item, str) for item in configured):
        raise HuntSetupError("config: hunts_dirs must be a list of folder paths")
    try:
        return hunts.load_hunts([*map(Path, configured), *extra_dirs])
    except hunts.HuntFileError as error:
        raise HuntSetupError(str(error)) from error


def case_hits(events: pl.DataFrame, config: dict, pack: list[hunts.Hunt] | None = None,
              extra_dirs: Iterable[Path] = (), enrichment: pl.DataFrame | None = None,
              case: "Case | CaseSet | None" = None) -> pl.DataFrame:
    """The hits of `pack` (default: `hunt_pack(config, extra_dirs)`) over the events' audit log rows and, for
    hunts of another source, the `case`'s sign-ins or directory audits, with `enrichment` (default: the cached
    enrichment of the events' IPs)."""
    chosen = hunt_pack(config, extra_dirs) if pack is None else pack
    known = cached_enrichment(events, config) if enrichment is None else enrichment
    sources = {hunt.condition.get("source", "events") for hunt in chosen} - {"events"}
    others = {frame: _frame(case, frame, hunts.columns_read(chosen, frame)) for frame in sources} if case is not None else {}
    return hunts.hunt_hits(audit_log_rows(events), chosen, known, others)


def _frame(case: "Case | CaseSet", frame: str, columns: list[str]) -> pl.DataFrame:
    """The `columns` of a frame of the case, or of every case of a case set, in time order (only what the hunts
    read: a sign-in's policies and authentication steps are bulky)."""
    parts = [one.scan(frame=frame).select(columns).sort("creation_time", maintain_order=True).collect()
             for one in getattr(case, "cases", [case])]
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")


def waiting_for_enrichment(pack: list[hunts.Hunt], enrichment: pl.DataFrame | None) -> list[hunts.Hunt]:
    """The hunts that read the IP enrichment when no IP of the case has a hosting verdict (they cannot fire yet)."""
    known = enrichment is not None and "hosting" in enrichment.columns and enrichment["hosting"].is_not_null().any()
    return [] if known else [hunt for hunt in pack if hunt.reads_enrichment]
