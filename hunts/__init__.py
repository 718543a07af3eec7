"""Provides the hunt engine, the bundled hunt pack and the pinned ATT&CK Office Suite matrix (v18.1).

Public API (headless; never imports Textual):

- `load_hunts(extra_dirs=()) -> list[Hunt]`: the bundled hunts (`hunts/rules/*.toml`) plus user
  folders; raises `HuntFileError` whose `problems` list every bad file as `file:line: field: message`.
- `hunt_hits(events, hunts, enrichment=None, others=None) -> pl.DataFrame`: one row per (hunt, record)
  with `hunt_id, title, severity, source, tactic_id, tactic, technique_id, technique, techniques,
  record_id, creation_time, user_id, operation, client_ip, case, matrix_technique_id, why`: the tactic
  and technique columns are the hunt's first ATT&CK pair, `techniques` all of them, `why` what matched;
  `others` holds the `sign_ins` / `directory_audits` frames hunts of that `source` read.
  `hit_pairs(hits)`: the same hits one row per ATT&CK pair; `columns_read(hunts, source)`: the columns of a
  source's frame those hunts read (to load no more of it); `sources_read(hunt)`: the frames a hunt reads (its
  `source`, and those its sets and sequence steps join). A directory change both the audit log and the directory
  audits record is one hit (`hunts.changes`). `enrichment` is a frame
  with at least `ip`, `hosting` (bool), `reasons` (list[str]); hunts with enrichment predicates are
  silent without it. `technique_id` is precise (T1562.001); `matrix_technique_id` is the matrix
  cell it shows in (T1562, because the Office Suite matrix lists only the parent).
- `matrix_cells(hits, hunts) -> list[MatrixColumn]`: tactics in matrix order, each with every listed
  technique as a `MatrixCell(technique_id, technique, hits, severity, has_hunt, hunt_ids,
  hunt_titles)`; `severity` is the highest hit severity or None.
- `hunts.sigma.load_sigma(dirs) -> SigmaPack(hunts, not_run, other_sources)`: Sigma rules of the m365 and azure
  sign-in and audit log sources as hunts (`sigma_<rule id>`), the rules that cannot run with their reasons, and
  the files of other products counted (imports pySigma: import it only when Sigma folders are given).
- `navigator_layer(columns, name) -> str`: an ATT&CK Navigator layer as JSON text.
- `hunts.attack`: `tactics()`, `tactic(name_or_id)`, `techniques(tactic_name)`,
  `matrix_technique_id(tactic_name, technique_id)`, `technique_name(...)`, `ATTACK_VERSION`.
"""

from hunts.engine import HIT_SCHEMA, RecordReader, columns_read, hit_pairs, hunt_hits, sources_read
from hunts.loader import HuntFileError, load_hunts
from hunts.matrix import MatrixCell, MatrixColumn, matrix_cells, navigator_layer
from hunts.model import SEVERITIES, Hunt

__all__ = [
    "HIT_SCHEMA", "Hunt", "HuntFileError", "MatrixCell", "MatrixColumn", "RecordReader", "SEVERITIES",
    "columns_read", "hit_pairs", "hunt_hits", "load_hunts", "matrix_cells", "navigator_layer", "sources_read",
]
