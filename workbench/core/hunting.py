"""Provides the one way a case is hunted, for the CLI, the views and the report alike: `hunt_pack` and `case_hits`.

The pack is the bundled hunts, the folders of the config's `hunts_dirs` and the folders given with `--hunts`, and
the Sigma rules of the config's `sigma_dirs` and the folders given with `--sigma` (hunts/sigma.py).
Hunts read the unified audit log rows of the events (or, by their `source`, the case's sign-ins or directory
audits), with the enrichment the cache holds for the case's IPs (never the network).
"""

import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

import hunts
from hunts.model import key_values, without_key
from hunts.predicates import modified_names, property_words
from workbench.core.activity import MOSTLY_DISTINCT, audit_log_rows
from workbench.core.enrichment import cached_enrichment
from workbench.core.kept_records import fill_by_case, kept_by_case
from workbench.core.schema import FRAME_SCHEMAS, RECORD_COLUMN

if TYPE_CHECKING:
    from hunts.sigma import SigmaPack
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet


class HuntSetupError(ValueError):
    """The config's `hunts_dirs` or `sigma_dirs`, a hunt file or a Sigma folder cannot be read; the message says
    which and why."""


def _configured_dirs(config: dict, key: str) -> list[Path]:
    configured = config.get(key, [])
    if isinstance(configured, str) or not all(isinstance(item, str) for item in configured):
        raise HuntSetupError(f"config: {key} must be a list of folder paths")
    return [Path(item).expanduser() for item in configured]


def hunt_pack(config: dict, extra_dirs: Iterable[Path] = (), sigma_dirs: Iterable[Path] = ()) -> list[hunts.Hunt]:
    """The bundled hunts plus the config's `hunts_dirs` and `extra_dirs`, and the Sigma rules that run from the
    config's `sigma_dirs` and `sigma_dirs` (see `sigma_rules`)."""
    try:
        native = hunts.load_hunts([*_configured_dirs(config, "hunts_dirs"), *extra_dirs])
    except hunts.HuntFileError as error:
        raise HuntSetupError(str(error)) from error
    sigma = sigma_rules(config, sigma_dirs)
    return native + list(sigma.hunts) if sigma else native


def sigma_rules(config: dict, sigma_dirs: Iterable[Path] = ()) -> "SigmaPack | None":
    """The Sigma rules of the config's `sigma_dirs` and `sigma_dirs`: hunts, rules that cannot run, other files;
    read again only when a rule file changes. None when no Sigma folder is given (pySigma is not even imported)."""
    chosen = tuple(dict.fromkeys([*_configured_dirs(config, "sigma_dirs"), *map(Path, sigma_dirs)]))
    if not chosen:
        return None
    try:
        files = tuple((str(path), path.stat().st_mtime_ns) for path in _sigma_files(chosen))
        return _load_sigma(chosen, files)
    except FileNotFoundError as error:
        raise HuntSetupError(str(error)) from error


def _sigma_files(directories: tuple[Path, ...]) -> list[Path]:
    return [path for directory in directories if directory.exists()
            for path in ([directory] if directory.is_file() else sorted(directory.rglob("*.y*ml")))]


@lru_cache(maxsize=4)
def _load_sigma(directories: tuple[Path, ...], _files: tuple[tuple[str, int], ...]) -> "SigmaPack":
    """`load_sigma` of these folders, cached on their files and modification times (`_files`)."""
    from hunts.sigma import load_sigma  # pySigma takes a while to import: only when Sigma rules are read

    return load_sigma(directories)


def case_hits(events: pl.DataFrame, config: dict, pack: list[hunts.Hunt] | None = None,
              extra_dirs: Iterable[Path] = (), enrichment: pl.DataFrame | None = None,
              case: "Case | CaseSet | None" = None) -> pl.DataFrame:
    """The hits of `pack` (default: `hunt_pack(config, extra_dirs)`) over the events' audit log rows and, for
    hunts of another source, the `case`'s sign-ins or directory audits, with `enrichment` (default: the cached
    enrichment of the IPs of the case's frames, or of the events' without a case)."""
    chosen = hunt_pack(config, extra_dirs) if pack is None else pack
    known = cached_enrichment(events if case is None else case.activity_scan(), config) if enrichment is None else enrichment
    return _hits(events, chosen, known, case)


def _hits(events: pl.DataFrame, chosen: list[hunts.Hunt], known: pl.DataFrame | None,
          case: "Case | CaseSet | None") -> pl.DataFrame:
    """`case_hits` with the pack chosen and the enrichment known."""
    sources = set().union(*(hunts.sources_read(hunt) for hunt in chosen)) - {"events"}
    others = {frame: hunted_frame(case, frame, hunts.columns_read(chosen, frame)) for frame in sources} if case is not None else {}
    read = hunts.columns_read(chosen, "events")
    kept = {*read, "case", "record_id", "source_file", "source_row", "source"}
    rows = audit_log_rows(events.select(name for name in events.columns if name in kept))  # a copy of these alone
    records = None
    if case is not None:
        rows = with_case_columns(case, rows, [name for name in read if name not in rows.columns and name in FRAME_SCHEMAS["events"]
                                              and name != RECORD_COLUMN["events"]])
        rows = with_stored_records(case, rows, [hunt for hunt in chosen if RECORD_COLUMN["events"] in hunts.columns_read([hunt], "events")])
        records = record_reader(case)
    return hunts.hunt_hits(rows, chosen, known, others, records)


def with_case_columns(case: "Case | CaseSet", rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows with `columns` of their events read from the case, where they hold a value (the events view leaves
    some out of its frame, `DRILL_DOWN_ONLY`, which no bundled hunt reads)."""
    if not columns:
        return rows
    found = pl.concat([one.scan().select("case", "record_id", *columns)
                       .filter(pl.any_horizontal(pl.col(name).is_not_null() for name in columns)).collect()
                       for one in getattr(case, "cases", [case])], how="vertical_relaxed")
    return _aligned(rows, found, columns)


def _aligned(rows: pl.DataFrame, found: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """The rows with `columns` of `found` (keyed by `case` and `record_id`; null where it has no row), joined on the
    keys alone and added as columns cut like the rows' own (joining the rows themselves copied every column; a column
    cut otherwise made each later select of the rows re-chunk all of them)."""
    found = found.unique(["case", "record_id"], keep="first", maintain_order=True)
    keys = rows.select(pl.col("case").cast(pl.String), "record_id")  # a hunted frame's cases are categories
    aligned = keys.join(found, on=["case", "record_id"], how="left", maintain_order="left")
    cuts = rows.get_column("record_id").chunk_lengths()
    starts = list(accumulate(cuts, initial=0))
    return rows.with_columns(pl.concat([aligned.get_column(name).slice(start, length) for start, length in zip(starts, cuts)],
                                       rechunk=False) for name in columns)


def hunt_case(case: "Case | CaseSet", config: dict, pack: list[hunts.Hunt] | None = None,
              extra_dirs: Iterable[Path] = (), enrichment: pl.DataFrame | None = None) -> pl.DataFrame:
    """`case_hits` of a case read for the hunts alone (`workbench hunt`, the events view before it reads its frame):
    its events with only the columns the pack reads (`hunted_events`), with `enrichment` (default: the cached
    enrichment of the IPs of all its frames)."""
    chosen = hunt_pack(config, extra_dirs) if pack is None else pack
    if enrichment is not None:
        return case_hits(hunted_events(case, chosen), config, chosen, enrichment=enrichment, case=case)
    with ThreadPoolExecutor(max_workers=1) as pool:  # the cache's lookups (Python) beside the frame's reading
        known = pool.submit(cached_enrichment, case.activity_scan(), config)
        events = hunted_events(case, chosen)
        return _hits(events, chosen, known.result(), case)


def hunt_case_apart(case: "Case | CaseSet", config: dict, extra_dirs: Iterable[Path] = (),
                    enrichment: pl.DataFrame | None = None) -> pl.DataFrame:
    """`hunt_case` in a process of its own, so that the memory the hunts take is the system's again when they end:
    the events view hunts so before it reads its frame (in one process, the allocator kept the hunts' pages: 10M
    events, 6.6 GB for the hunts then 5 GB for the frame made 11.7 GB). A Python started with `-m` and a folder
    holding the job (not multiprocessing: it needs a real stderr, which a running Textual app has replaced)."""
    with tempfile.TemporaryDirectory(prefix="workbench-hunts-") as folder:
        job = Path(folder)
        (job / "job.json").write_text(json.dumps({
            "roots": [str(one.root) for one in getattr(case, "cases", [case])], "config": config,
            "extra_dirs": [str(path) for path in extra_dirs]}, default=str))
        if enrichment is not None:
            enrichment.write_parquet(job / "enrichment.parquet")
        done = subprocess.run([sys.executable, "-m", "workbench.core.hunting", str(job)], capture_output=True,
                              text=True, errors="replace")
        if done.returncode != 0:
            raise HuntSetupError((done.stderr.strip().splitlines() or ["the hunt process failed"])[-1])
        return pl.read_parquet(job / "hits.parquet")


def _hunt_job(job: Path) -> None:
    """Run the job `hunt_case_apart` wrote in the folder `job`: its hits to `hits.parquet` there."""
    from workbench.core.case import Case
    from workbench.core.case_set import CaseSet

    spec = json.loads((job / "job.json").read_text())
    enrichment = pl.read_parquet(job / "enrichment.parquet") if (job / "enrichment.parquet").exists() else None
    cases = CaseSet([(Case(Path(root)), []) for root in spec["roots"]])
    hits = hunt_case(cases, spec["config"], extra_dirs=[Path(path) for path in spec["extra_dirs"]], enrichment=enrichment)
    hits.write_parquet(job / "hits.parquet")


def hunted_events(case: "Case | CaseSet", pack: list[hunts.Hunt]) -> pl.DataFrame:
    """The case's events with only the columns `pack` reads and the keys their records are read by, in time order:
    what hunting a case holds in memory rather than every column of every event. Text columns are held as
    categories (4 bytes a row rather than a 16-byte view; not the record ids, all distinct), and a column that only
    hunts of some operations read holds a value only in those operations' rows (`_rows_reading`)."""
    read = set(hunts.columns_read(pack, "events")) | {"case", "record_id", "source_file", "source_row"}
    schema = FRAME_SCHEMAS["events"]
    columns = [name for name in schema if name in read and name != RECORD_COLUMN["events"]]
    own = set(hunts.columns_read([], "events"))  # every hit's, in every row
    each = [(hunt, set(hunts.columns_read([hunt], "events")) - own) for hunt in pack]
    read_as = {name: _held(pl.when(_rows_reading([hunt for hunt, named in each if name in named], name)).then(pl.col(name)), name)
               for name in columns if schema[name] == pl.String and name != "record_id"}
    return case.events(columns, read_as, {LOWER_OPERATION: pl.col("operation").str.to_lowercase().cast(pl.Categorical)})


#: The events' operation lower-cased, computed once for every column's `_rows_reading` (as an expression of each,
#: it was computed again for each: 3.2 s of reading 10M sign-in events for the hunts).
LOWER_OPERATION = "_operation_lowered"


def _held(column: pl.Expr, name: str) -> pl.Expr:
    """A text column (null in the rows no hunt reads it in) as the hunts hold it: as categories where its values
    repeat; as text where most are distinct (`MOSTLY_DISTINCT`: as categories, its values would be added to a
    dictionary that lasts as long as the process), copied into buffers of its own (joined to nothing): its views
    would otherwise keep the text of every row read alive (the hunted frame of 10M directory events: 4.0 -> 2.3 GB)."""
    return pl.concat_str(column, pl.lit("")) if name in MOSTLY_DISTINCT else column.cast(pl.Categorical)


def _rows_reading(readers: list[hunts.Hunt], column: str) -> pl.Expr:
    """Whether an event's `column` that only the hunts `readers` read is read: in the rows of the operations their
    filters name (`_operations_filtered`), where a hunt that reads ModifiedProperties only by the names of
    properties reads it only in the texts naming one of them (`_modified_words`); in every row when one names no
    operation, or when none reads it (the keys the records are read by)."""
    named = [_operations_filtered(hunt) for hunt in readers]
    if not readers or any(operations is None for operations in named):
        return pl.lit(True)
    words = [_modified_words(hunt) if column == "modified_properties" else None for hunt in readers]
    every = set().union(*(operations for operations, said in zip(named, words) if said is None))
    looked_for: dict[str, set[str]] = {}  # per operation, the words of every hunt reading its texts by words
    for operations, said in zip(named, words):
        if said is not None:
            for name in operations - every:  # an operation whose texts are all read needs no words
                looked_for.setdefault(name, set()).update(said)
    by_words: dict[frozenset[str], list[str]] = {}  # operations looked at for the same words: one pass, each text once
    for name, said in looked_for.items():
        by_words.setdefault(frozenset(said), []).append(name)
    operation = pl.col(LOWER_OPERATION)
    rows = operation.is_in(every)
    for said, operations in by_words.items():
        own = operation.is_in(sorted(operations))
        rows |= own & pl.when(own).then(pl.col(column)).str.contains_any(sorted(said), ascii_case_insensitive=True)
    return rows


def _modified_words(hunt: hunts.Hunt) -> list[str] | None:
    """Words every ModifiedProperties text the hunt can take a value from holds (`property_words` of the names its
    `modified` tests read), when those tests are all it reads the column by; None otherwise."""
    others = replace(hunt, condition=without_key(hunt.condition, "modified"))
    if "modified_properties" in hunts.columns_read([others], "events"):
        return None
    return property_words(modified_names(hunt.condition))


def _operations_filtered(hunt: hunts.Hunt) -> set[str] | None:
    """The operations (lower-cased) of the events rows a hunt reads: those its filter (or each step of its sequence)
    names, and those each of its sets' filters name; None when one of them names none, or for a travel (it reads
    whatever its filter keeps)."""
    condition = hunt.condition
    if "travel" in condition:
        return None
    source = condition.get("source", "events")
    steps = condition["sequence"] if "sequence" in condition else [condition]
    parts = [(step, step.get("source", source)) for step in steps]
    parts += [(spec, spec.get("source", "events")) for spec in key_values(condition, "in_set", dict)]
    named: set[str] = set()
    for part, frame in parts:
        if frame != "events":
            continue
        if not part.get("operations"):
            return None
        named |= {name.lower() for name in part["operations"]}
    return named


def _operations_read(readers: list[hunts.Hunt]) -> pl.Expr:
    """Whether an event is of an operation a hunt of `readers` names (all when one names none)."""
    operations = [hunt.condition.get("operations") for hunt in readers]
    return (pl.lit(True) if not all(operations)
            else pl.col("operation").str.to_lowercase().is_in({name.lower() for names in operations for name in names}))


def with_stored_records(case: "Case | CaseSet", rows: pl.DataFrame, readers: list[hunts.Hunt]) -> pl.DataFrame:
    """The audit log rows with the original records (`audit_data`) the case's Parquet holds, where a hunt of
    `readers` reads them (members no column holds: OperationProperties, QueryText...): only the records of those
    hunts' operations; null elsewhere. The records read from the case's copy of an input are not in the rows: the
    hunts read them as they test them (`record_reader`), a batch at a time."""
    column = RECORD_COLUMN["events"]
    if not readers:
        return rows
    records = pl.concat([one.scan(with_audit_data=True, from_kept_inputs=False)
                         .filter(_operations_read(readers) & pl.col(column).is_not_null())
                         .select("case", "record_id", column).collect()
                         for one in getattr(case, "cases", [case])], how="vertical_relaxed")
    if records.is_empty():
        return rows.with_columns(pl.lit(None, pl.String).alias(column))
    return _aligned(rows, records, [column])


def with_records(case: "Case | CaseSet", rows: pl.DataFrame, readers: list[hunts.Hunt]) -> pl.DataFrame:
    """The audit log rows with every original record a hunt of `readers` reads, in memory: for the engines that take
    the records as a column (the SQL engines' tests and benchmarks), where `case_hits` reads them as it tests."""
    rows = with_stored_records(case, rows, readers)
    if not readers:
        return rows
    wanted = rows.select(_operations_read(readers)).to_series().arg_true()
    return rows.with_columns(rows[RECORD_COLUMN["events"]].scatter(wanted, record_reader(case)(rows[wanted])))


def record_reader(case: "Case | CaseSet") -> "hunts.RecordReader":
    """Reads the original records of some event rows from the case's (or each case's) copy of their input, where the
    rows lack them."""
    kept = kept_by_case(getattr(case, "cases", [case]))
    return lambda rows: fill_by_case(kept, rows, RECORD_COLUMN["events"])


def hunted_frame(case: "Case | CaseSet", frame: str, columns: list[str]) -> pl.DataFrame:
    """The `columns` of a frame of the case, or of every case of a case set, in time order (only what the hunts
    read: a sign-in's policies and authentication steps are bulky; its original record only for keywords)."""
    with_record = RECORD_COLUMN[frame] in columns
    parts = [one.scan(with_record, frame=frame).select(columns).sort("creation_time", maintain_order=True).collect()
             for one in getattr(case, "cases", [case])]
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")


def waiting_for_enrichment(pack: list[hunts.Hunt], enrichment: pl.DataFrame | None) -> list[hunts.Hunt]:
    """The hunts that read the IP enrichment when no IP of the case has a hosting verdict (they cannot fire yet)."""
    known = enrichment is not None and "hosting" in enrichment.columns and enrichment["hosting"].is_not_null().any()
    return [] if known else [hunt for hunt in pack if hunt.reads_enrichment]


if __name__ == "__main__":  # `hunt_case_apart`'s process
    _hunt_job(Path(sys.argv[1]))
