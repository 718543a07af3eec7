"""Provides the one way a case is hunted, for the CLI, the views and the report alike: `hunt_pack` and `case_hits`.

The pack is the bundled hunts, the folders of the config's `hunts_dirs` and the folders given with `--hunts`.
Hunts read the unified audit log rows of the events, with the enrichment the cache holds for the case's IPs
(never the network).
"""

from collections.abc import Iterable
from pathlib import Path

import polars as pl

import hunts
from workbench.core.activity import audit_log_rows
from workbench.core.enrichment import cached_enrichment


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
              extra_dirs: Iterable[Path] = (), enrichment: pl.DataFrame | None = None) -> pl.DataFrame:
    """The hits of `pack` (default: `hunt_pack(config, extra_dirs)`) over the events' audit log rows, with
    `enrichment` (default: the cached enrichment of the events' IPs)."""
    chosen = hunt_pack(config, extra_dirs) if pack is None else pack
    known = cached_enrichment(events, config) if enrichment is None else enrichment
    return hunts.hunt_hits(audit_log_rows(events), chosen, known)


def waiting_for_enrichment(pack: list[hunts.Hunt], enrichment: pl.DataFrame | None) -> list[hunts.Hunt]:
    """The hunts that read the IP enrichment when no IP of the case has a hosting verdict (they cannot fire yet)."""
    known = enrichment is not None and "hosting" in enrichment.columns and enrichment["hosting"].is_not_null().any()
    return [] if known else [hunt for hunt in pack if hunt.reads_enrichment]
