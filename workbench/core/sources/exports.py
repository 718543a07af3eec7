"""Provides the Entra ID and Log Analytics export shapes: detection from content, reading into raw chunks of
records (`source_row`, `record` as JSON text, `reader_problem`), and routing each record to its frame.

Shapes (each as a JSON document, a concatenation of documents, JSON Lines, or CSV where the export is one):
- Microsoft Graph `auditLogs/signIns` (v1.0, beta) and `auditLogs/directoryAudits`: pages `{"value": [...]}`,
  concatenated pages, a list, or one record per line (the admin center's JSON download is a list of these);
- Azure Monitor diagnostic records: one per line (`PT1H.json`) or `{"records": [...]}` (Event Hub), the record
  under `properties`, routed by `category`;
- Log Analytics / Sentinel query results (SigninLogs, AADNonInteractiveUserSignInLogs,
  AADServicePrincipalSignInLogs, AADManagedIdentitySignInLogs, AuditLogs, OfficeActivity): the portal's CSV or
  `az monitor log-analytics query` JSON, routed by `Type` (else by the file's columns);
- the Entra admin center's Download of sign-ins as CSV (display-name headers);
- message trace (message_shapes.py): detected here beside the others so that a file mixing shapes is told apart;
  read and normalised by messages.py.
"""

import csv
import hashlib
import json
import re
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable, Iterator

import polars as pl

from workbench.core.formats import NotAnAuditLog, _shape_of_object
from workbench.core.kept_records import NOT_CELLS, SPAN_COLUMNS, WHOLE_ROW, CsvRowSpans, LineSpans, row_record, row_records
from workbench.core.normalise import REJECT_SCHEMA, REJECT_TEXT_CHARS, Normalised, Sorted, normalise
from workbench.core.schema import RECORD_COLUMN, empty_frame
from workbench.core.readers import CHUNK_ROWS, RawChunk, _line_chunks, _with_envelope, csv_chunks
from workbench.core.sources.directory_audits import SPECS as AUDIT_SPECS
from workbench.core.sources.directory_audits import normalise_directory_audits
from workbench.core.sources.fields import paths_of
from workbench.core.sources.json_fields import column_name, extract, extract_cells, record_problems
from workbench.core.sources.message_shapes import FORMAT_NAMES, KIND_NAMES, message_dialect
from workbench.core.sources.sign_ins import SPECS as SIGN_IN_SPECS
from workbench.core.sources.sign_ins import TYPE_NAMES, normalise_sign_ins

SIGN_IN_TABLES = {name for name in TYPE_NAMES if name.endswith("signinlogs")}
_NO_WARNINGS = pl.DataFrame(schema={"source_row": pl.Int64, "reason": pl.String})


@dataclass(frozen=True)
class ExportShape:
    """How one file is read: its container (`lines`, `document`, `csv`), dialect and the frame of records that
    do not say (a Sentinel file without `Type`)."""

    container: str
    dialect: str
    route: str
    default_type: str | None = None
    #: Lines before a CSV's header (the `#TYPE ...` line Windows PowerShell's Export-Csv writes first).
    skip_lines: int = 0

    @property
    def format(self) -> str:
        """The name shown in the load report, e.g. `sentinel-csv`, `graph-signins-jsonl`, `messagetrace-csv`."""
        family = FORMAT_NAMES.get(self.dialect) or {
            "graph": f"graph-{self.route.replace('_', '-').replace('sign-ins', 'signins')}",
            "azure": "azure-monitor", "sentinel": "sentinel", "download": "entra-download"}[self.dialect]
        return f"{family}-{ {'lines': 'jsonl', 'document': 'json', 'csv': 'csv'}[self.container]}"

    @property
    def header_rows(self) -> int:
        return 1 + self.skip_lines if self.container == "csv" else 0


def classify(record: object) -> tuple[str, str] | None:
    """(dialect, frame) of one record or CSV header (as a dict of its names), or None when it is none of these
    exports (a unified audit log record, say)."""
    if not isinstance(record, dict):
        return None
    keys = {str(key).strip().lower(): value for key, value in record.items()}
    trace = message_dialect(set(keys))
    if trace is not None:
        return trace, "messages"
    if "category" in keys and "properties" in keys:
        category = str(keys["category"]).lower()
        return "azure", "directory_audits" if category == "auditlogs" else "sign_ins"
    if keys.keys() & {"timegenerated", "timegenerated [utc]", "tablename"}:
        table = str(keys.get("type") or "").lower()
        if table == "officeactivity" or keys.keys() & {"officeworkload", "officeid"}:
            return "sentinel", "events"
        if table == "auditlogs" or keys.keys() & {"initiatedby", "targetresources"}:
            return "sentinel", "directory_audits"
        if table in SIGN_IN_TABLES or ("resulttype" in keys and keys.keys() & {"appdisplayname", "ipaddress"}):
            return "sentinel", "sign_ins"
        return None
    if {"date (utc)", "request id"} <= keys.keys():
        return "download", "sign_ins"
    if "auditdata" in keys:
        return None
    if keys.keys() & {"activitydisplayname", "activitydatetime"}:
        return "graph", "directory_audits"
    if "createddatetime" in keys and keys.keys() & {"userprincipalname", "appdisplayname", "ipaddress", "clientappused"}:
        return "graph", "sign_ins"
    return None


_RECORD_NAMES = {"sign_ins": "sign-in", "directory_audits": "directory audit", "events": "OfficeActivity row"}


def _kind_name(kind: tuple[str, str] | None, record: object) -> str:
    if kind is not None and kind[1] == "messages":
        return KIND_NAMES[kind[0]]
    if kind is not None:
        return {"graph": "a Microsoft Graph", "azure": "an Azure Monitor", "sentinel": "a Log Analytics",
                "download": "an Entra download"}[kind[0]] + " " + _RECORD_NAMES[kind[1]]
    return "a unified audit log record" if _shape_of_object(record) else "not a record the loader knows"


def _records_in(document: object) -> list:
    """The records of one JSON document: a Graph page's `value`, Event Hub `records`, an OData v2 (verbose JSON)
    `{"d": {"results": [...]}}` as the Reporting Web Service writes, a list, or one record."""
    if isinstance(document, dict):
        verbose = document.get("d")
        if len(document) == 1 and isinstance(verbose, dict) and isinstance(verbose.get("results"), list):
            return verbose["results"]
        for key in ("value", "records"):
            found = next((value for name, value in document.items() if name.lower() == key), None)
            if isinstance(found, list):
                return found
    return document if isinstance(document, list) else [document]


def _check_one_shape(path: Path, records: list, unit: str) -> tuple[str, str] | None:
    """The (dialect, frame) of the records seen, or NotAnAuditLog when they mix shapes."""
    kinds = [(number, classify(record), record) for number, record in enumerate(records, start=1)]
    known = [(number, kind, record) for number, kind, record in kinds if kind is not None or _shape_of_object(record)]
    if not known:
        return None
    first_number, first, first_record = known[0]
    for number, kind, record in known[1:]:
        if (kind and kind[0]) != (first and first[0]):
            raise NotAnAuditLog(path, f"the file mixes shapes: {unit} {first_number} is {_kind_name(first, first_record)}, "
                                      f"{unit} {number} is {_kind_name(kind, record)}; split it by shape")
    return first


def _documents(text: str) -> Iterator[object]:
    """The JSON documents of a text that holds one or several one after another (pages appended to a file)."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n\ufeff":
            position += 1
        if position >= len(text):
            return
        document, position = decoder.raw_decode(text, position)
        yield document


def detect_export(path: Path, text: str) -> ExportShape | None:
    """The export shape of a file from the start of its text, None when it is none of them (then the unified audit
    log's shapes are tried); NotAnAuditLog when it mixes shapes."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    if text[0] in "[{":
        first = _loads(lines[0])
        if isinstance(first, dict) and not _records_in_page(first):
            parsed = [_loads(line) for line in lines]
            kind = _check_one_shape(path, [record for record in parsed if record is not None], "line")
            return kind and ExportShape("lines", kind[0], kind[1], _type_from_name(path))
        records = _head_records(text)
        kind = _check_one_shape(path, records, "record")
        return kind and ExportShape("document", kind[0], kind[1], _type_from_name(path))
    skip = 1 if lines[0].startswith("#TYPE") and len(lines) > 1 else 0  # Windows PowerShell's Export-Csv
    kind = classify(dict.fromkeys(_csv_header(lines[skip]), ""))
    return kind and ExportShape("csv", kind[0], kind[1], _type_from_name(path), skip_lines=skip)


def _records_in_page(document: dict) -> bool:
    records = _records_in(document)
    return not (len(records) == 1 and records[0] is document)


def _head_records(text: str) -> list:
    """The records of the first document that the start of the file holds whole (or its first record)."""
    try:
        return _records_in(next(_documents(text)))
    except (ValueError, RecursionError, StopIteration):
        pass
    start = re.search(r'^\s*\[|"(?i:value|records|results)"\s*:\s*\[', text)
    if start is None:
        return []
    at = text.find("{", start.end())
    try:
        return [json.JSONDecoder().raw_decode(text, at)[0]] if at >= 0 else []
    except (ValueError, RecursionError):
        return []


def _loads(line: str) -> object:
    try:
        return json.loads(line)
    except (ValueError, RecursionError):
        return None


def _csv_header(line: str) -> list[str]:
    """The column names of a CSV header line."""
    try:
        return [name.strip() for name in next(csv.reader([line.lstrip("\ufeff")]), [])]
    except csv.Error:
        return []


def _type_from_name(path: Path) -> str | None:
    """The sign-in type a file's name tells (the admin center names downloads `NonInteractiveSignIns_...`)."""
    name = re.sub(r"[^a-z]", "", path.name.lower())
    for words, kind in (("noninteractive", "non_interactive"), ("serviceprincipal", "service_principal"),
                        ("managedidentit", "managed_identity"), ("msisignin", "managed_identity"),
                        ("applicationsignin", "service_principal")):
        if words in name:
            return kind
    return None


def read_export(path: Path, shape: ExportShape) -> Iterator[RawChunk]:
    """Makers of the raw chunks of the plain file at `path`."""
    if shape.container == "lines":
        spans = LineSpans(path)
        try:
            for lines in _line_chunks(path):
                yield partial(_raw, spans.add(lines).rename({"audit_data": "record"}))
        finally:
            spans.close()
    elif shape.container == "csv":
        yield from csv_rows_by_span(path, shape, _csv_records)
    else:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
        try:
            records = [record for document in _documents(text) for record in _records_in(document)]
        except json.JSONDecodeError as error:
            raise NotAnAuditLog(path, f"broken JSON document at line {error.lineno} column {error.colno}: {error.msg}") from error
        except RecursionError as error:
            raise NotAnAuditLog(path, "a JSON document nested deeper than the loader reads") from error
        for start in range(0, len(records), CHUNK_ROWS):
            part = records[start:start + CHUNK_ROWS]
            texts = pl.Series("record", [json.dumps(record, ensure_ascii=False) for record in part], dtype=pl.String)
            rows = pl.int_range(start + 1, start + 1 + len(part), eager=True, dtype=pl.Int64).alias("source_row")
            yield partial(_raw, pl.DataFrame([rows, texts]))


def csv_rows_by_span(path: Path, shape: ExportShape,
                     finish: Callable[[pl.DataFrame], pl.DataFrame]) -> Iterator[RawChunk]:
    """The raw chunks of a CSV export (`finish` makes each batch one, as `csv_chunks` says), its rows with their byte
    spans while they are single lines: the case reads each row back as its record (`WHOLE_ROW`, kept_records.py)."""
    spans = CsvRowSpans(path, _line_chunks(path), row_records, WHOLE_ROW, shape.skip_lines)
    try:
        yield from csv_chunks(path, None, finish, skip_lines=shape.skip_lines, spans=spans.add)
    finally:
        spans.close()


def _raw(frame: pl.DataFrame) -> pl.DataFrame:
    if "reader_problem" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.String).alias("reader_problem"))
    return frame.select("source_row", "record", "reader_problem",
                        *(name for name in ("cells", *SPAN_COLUMNS) if name in frame.columns))


def _csv_records(batch: pl.DataFrame) -> pl.DataFrame:
    """A CSV batch as records: its `cells`, and each row as a JSON object of them (`row_record`) unless the case keeps
    the row by span (its record is then made only where a step needs it, `_with_records`: encoding every row cost a
    quarter of a load); a row that is not one record keeps its text and why."""
    cells = [name for name in batch.columns if name not in NOT_CELLS]
    spanned = batch["record_offset"].is_not_null() if "record_offset" in batch.columns else None
    if spanned is not None and spanned.any():
        made = batch.filter(~spanned).select(row_record(cells)).to_series()
        record = pl.lit(pl.Series(dtype=pl.String).clear(batch.height).scatter((~spanned).arg_true(), made))
    else:
        record = row_record(cells)
    if "reader_problem" in batch.columns:
        record = pl.when(pl.col("reader_problem").is_null()).then(record).otherwise(pl.col("audit_data"))
    return _raw(batch.with_columns(record.alias("record"), pl.struct(cells).alias("cells")))


def _with_records(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` with the record of each CSV row kept by span made from its cells (as `row_record` makes it)."""
    if "cells" not in rows.columns or not rows["record"].null_count():
        return rows
    return rows.with_columns(pl.coalesce("record", pl.col("cells").struct.json_encode()).alias("record"))


def _records_of_rows(rows: pl.DataFrame, source_rows: pl.Series) -> pl.Series:
    """The records of the raw `rows` numbered `source_rows`, in that order (made where kept by span, `_with_records`)."""
    wanted = _with_records(rows.filter(pl.col("source_row").is_in(source_rows.implode()))
                           .unique("source_row", keep="first", maintain_order=True))  # a report's row per recipient
    return source_rows.to_frame("source_row").join(wanted.select("source_row", "record"), on="source_row", how="left",
                                                    maintain_order="left")["record"]


def _with_reject_texts(rejects: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """`rejects` whose text is missing (a row kept by span, no record made) with their row's record as text."""
    missing = rejects["text"].is_null()
    if not missing.any():
        return rejects
    texts = _records_of_rows(rows, rejects.filter(missing)["source_row"]).str.slice(0, REJECT_TEXT_CHARS)
    return rejects.with_columns(rejects["text"].scatter(missing.arg_true(), texts))


#: The top-level keys of Azure Monitor's records, as its schema spells them; some exporters capitalise or lower-case them.
AZURE_KEYS = ("time", "resourceId", "operationName", "operationVersion", "category", "tenantId", "resultType",
              "resultSignature", "resultDescription", "durationMs", "callerIpAddress", "correlationId", "identity",
              "level", "location", "properties")


def _readable(records: pl.Series, dialect: str) -> pl.Series:
    """The records as they are read: Azure Monitor's top-level keys spelt as its schema spells them (keys are
    matched exactly), where a record does not already."""
    if dialect != "azure":
        return records.alias("text")
    respelt = records.str.contains('"properties"', literal=True).not_()
    if not respelt.any():
        return records.alias("text")
    texts = records.filter(respelt)
    for key in AZURE_KEYS:
        texts = texts.str.replace_all(f'(?i)"{key}"(\\s*:)', f'"{key}"$1')
    return records.scatter(respelt.arg_true(), texts).alias("text")


#: The key that says which frame a record belongs to, per dialect.
_ROUTE_KEY: dict[str, tuple[str, ...]] = {"graph": ("activityDateTime",), "azure": ("category",), "sentinel": ("Type",)}
_ROUTES = {"auditlogs": "directory_audits", "officeactivity": "events"} | {name: "sign_ins" for name in TYPE_NAMES}


def _paths(dialect: str, texts: pl.Series) -> list[tuple[str, ...]]:
    """Every path the records of a chunk are read at: what routes them and what each frame reads (a chunk of
    Graph records none of which names `activityDateTime` holds no directory audit)."""
    specs = [SIGN_IN_SPECS[dialect]] if dialect in SIGN_IN_SPECS else []
    if dialect in AUDIT_SPECS and (dialect != "graph" or texts.str.contains('"activityDateTime"', literal=True).any()):
        specs.append(AUDIT_SPECS[dialect])
    route = [_ROUTE_KEY[dialect]] if dialect in _ROUTE_KEY else []
    return list(dict.fromkeys([*route, *(path for spec in specs for path in paths_of(spec))]))


def _routes(values: pl.DataFrame, shape: ExportShape) -> pl.Series:
    """The frame of each record; null for a record whose category or table is none of the known ones."""
    if shape.dialect not in _ROUTE_KEY:
        return pl.Series("frame", [shape.route] * values.height, dtype=pl.String)
    value = values[column_name(_ROUTE_KEY[shape.dialect])]
    if shape.dialect == "graph":
        frame = pl.select(pl.when(value.is_not_null()).then(pl.lit("directory_audits")).otherwise(pl.lit("sign_ins")))
        return frame.to_series().alias("frame")
    named = value.str.to_lowercase().replace_strict(_ROUTES, default=None, return_dtype=pl.String)
    return pl.select(pl.when(value.is_null()).then(pl.lit(shape.route)).otherwise(named)).to_series().alias("frame")


def _with_ids(frame: pl.DataFrame, rows: pl.DataFrame | None = None) -> pl.DataFrame:
    """Record ids where the record has one, else a stable SHA-256 of the record text (as for audit records): its
    `raw`, or the record of the raw `rows` it was made of (a CSV row kept by span has no `raw`)."""
    if not frame["record_id"].null_count():
        return frame
    missing = frame["record_id"].is_null()
    texts = frame["raw"].filter(missing) if rows is None else _records_of_rows(rows, frame.filter(missing)["source_row"])
    hashed = ["sha256:" + hashlib.sha256(text.encode()).hexdigest()[:32] for text in texts]
    return frame.with_columns(frame["record_id"].scatter(missing.arg_true(), hashed))


def _rejects(rows: pl.DataFrame, reason: pl.Expr) -> pl.DataFrame:
    return rows.select("source_row", reason.alias("reason"),
                       pl.col("record").str.slice(0, REJECT_TEXT_CHARS).alias("text")).cast(REJECT_SCHEMA)


def _office_activity(rows: pl.DataFrame, case: str, source_file: str) -> Normalised:
    """Log Analytics' OfficeActivity rows as unified audit log records: the row is the record, its Sentinel names
    read as the envelope (OfficeId, TimeGenerated, OfficeWorkload, OfficeObjectId)."""
    envelope = extract(rows["record"], [("OfficeId",), ("TimeGenerated",), ("TimeGenerated [UTC]",), ("RecordType",),
                                        ("Operation",), ("UserId",), ("ClientIP",), ("OfficeWorkload",), ("OfficeObjectId",)])
    raw = rows.select("source_row", pl.col("record").alias("audit_data")).with_columns(
        envelope["OfficeId"].alias("env_id"),
        pl.coalesce(envelope["TimeGenerated"], envelope["TimeGenerated [UTC]"]).alias("env_time"),
        envelope["RecordType"].alias("env_record_type"), envelope["Operation"].alias("env_operation"),
        envelope["UserId"].alias("env_user"), envelope["ClientIP"].alias("env_client_ip"),
        envelope["OfficeWorkload"].alias("env_workload"), envelope["OfficeObjectId"].alias("env_object_id"),
    )
    return normalise(_with_envelope(raw), case, source_file)


def normalise_export(raw: pl.DataFrame, case: str, source_file: str, shape: ExportShape) -> Sorted:
    """The rows of one raw chunk, normalised per frame; rows that are not records are rejected with the reason.

    Each record is parsed once for every path its dialect reads (and once more per nested object)."""
    rejects = [_rejects(raw.filter(pl.col("reader_problem").is_not_null()).drop("cells", strict=False),
                        pl.col("reader_problem"))]
    warnings = [_NO_WARNINGS]
    rows = raw.filter(pl.col("reader_problem").is_null()).drop("reader_problem")
    if "cells" in rows.columns:  # a CSV's rows are split into their fields already
        values = extract_cells(rows["cells"].struct.unnest(), _paths(shape.dialect, rows["record"]))
    else:
        texts = _readable(rows["record"], shape.dialect)
        values = extract(texts, _paths(shape.dialect, texts), objects=shape.dialect in ("graph", "azure"))
    bad = ~values["is_record"]
    if bad.any():  # Python only for these rows, to say why
        unread = _with_records(rows.filter(bad))
        rejects.append(_rejects(unread, pl.lit(pl.Series(record_problems(unread["record"]), dtype=pl.String))))
        rows, values = rows.filter(~bad), values.filter(~bad)
    frames = _routes(values, shape)
    unknown = frames.is_null()
    if unknown.any():
        key = column_name(_ROUTE_KEY[shape.dialect])
        rejects.append(_rejects(_with_records(rows.filter(unknown)), pl.format(
            f"{key} {{}} is neither sign-ins, the audit log nor OfficeActivity", values.filter(unknown)[key])))
    loaded: dict[str, pl.DataFrame] = {}
    for frame in ("sign_ins", "directory_audits", "events"):
        chosen = frames == frame
        if not chosen.any():
            continue
        part = rows.filter(chosen)
        if frame == "events":
            result = _office_activity(_with_records(part), case, source_file)
            loaded[frame], bad_rows = result.events, result.rejects
            warnings.append(result.warnings)
        else:
            context = part.drop("cells", strict=False).with_columns(pl.lit(case).alias("case"),
                                                                    pl.lit(source_file).alias("source_file"))
            if frame == "sign_ins":
                rows_loaded, bad_rows = normalise_sign_ins(context, values.filter(chosen), shape.dialect,
                                                           shape.default_type or "interactive")
            else:
                rows_loaded, bad_rows = normalise_directory_audits(context, values.filter(chosen), shape.dialect)
            loaded[frame] = _with_ids(rows_loaded, part)
        rejects.append(bad_rows.cast(REJECT_SCHEMA))
    return Sorted(loaded, _with_reject_texts(pl.concat(rejects), raw), pl.concat(warnings))


def graph_records_frame(records: list[dict], frame: str, case: str = "inline",
                        source_file: str = "<inline>") -> pl.DataFrame:
    """The `sign_ins` or `directory_audits` frame of Microsoft Graph records given as dicts (a hunt's test rows)."""
    raw = pl.DataFrame({"source_row": pl.int_range(1, len(records) + 1, eager=True, dtype=pl.Int64),
                        "record": [json.dumps(record) for record in records],
                        "reader_problem": pl.Series([None] * len(records), dtype=pl.String)})
    result = normalise_export(raw, case, source_file, ExportShape("lines", "graph", frame))
    if result.rejects.height:
        first = result.rejects.row(0, named=True)
        raise ValueError(f"record {first['source_row']}: {first['reason']}")
    return result.rows.get(frame, empty_frame(frame)).drop(RECORD_COLUMN[frame])
