"""Provides the SQL console's engine: `SqlSession` runs one read-only query over a case's events.

The engine is DuckDB, embedded: it reads the case's Parquet parts in place (so `audit_data` stays on
disk until a query asks for it) and Polars/Arrow frames without copying, and has `json_extract`.
sqlglot parses each query first, so refusals and syntax errors point at a line and column, and the
query is rewritten only where the article's engine differs (malformed JSON yields NULL, not an
error). Text comparison is case-insensitive unless `exact` (DuckDB's NOCASE default collation).
Once the tables are in place the engine is locked: no file or network access, no setting changes.
"""

import re
import threading
import time
import tomllib
import weakref
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Iterator

import duckdb
import polars as pl
import pyarrow as pa
from sqlglot import exp

from workbench.core.case import Case
from workbench.core.case_set import CaseSet
from workbench.core.column_docs import (
    ENRICHMENT_MEANINGS, FRAME_MEANINGS, HUNT_HIT_MEANINGS, KEPT_MEANINGS, MAIL_ITEM_MEANINGS, view_meanings,
)
from workbench.core.config import ConfigError
from workbench.core.conflicts import KEPT_COLUMNS
from workbench.core.duck import ERRORS, connect
from workbench.core.kept_records import fill_by_case, kept_by_case
from workbench.core.mail_item_frame import FOLDER as ITEM_INDEX, Stopped, case_mail_items, index_parts
from workbench.core.mail_items import MAIL_ITEM_SCHEMA, STORED_ITEM_SCHEMA, exposure_rows, mail_items
from workbench.core.schema import EVENT_SCHEMA, FRAME_SCHEMAS, RECORD_COLUMN, TIME_COLUMN
from workbench.core.sql_guard import parse_read_only
from workbench.core.sql_params import as_dollar_parameters, bound_values, parameter_value, query_parameters
from workbench.core.sql_repair import Repaired, SqlError, repair
from workbench.core.sql_spill import SpillFolder

__all__ = ["SqlCancelled", "SqlError", "SqlResult", "SqlSession", "SqlTimeout", "example_queries", "parameter_value",
           "query_parameters", "sql_limits"]

EVENTS_TABLE = "xdr_identity_o365"
SOURCE_TABLES = ("sign_ins", "directory_audits", "messages")
SENTINEL_VIEWS = ("SigninLogs", "AADNonInteractiveUserSignInLogs", "AADServicePrincipalSignInLogs",
                  "AADManagedIdentitySignInLogs", "AuditLogs", "OfficeActivity")
_SENTINEL_VIEWS_SQL = Path(__file__).with_name("sentinel_views.sql")
#: The statements that show the schema, read-only: SHOW TABLES, DESCRIBE table, SUMMARIZE table.
_SCHEMA_STATEMENT = re.compile(
    r'^\s*(?:(?P<show>SHOW\s+(?:ALL\s+)?TABLES)|(?P<verb>DESCRIBE|DESC|SUMMARIZE)\s+(?:TABLE\s+)?"?(?P<table>\w+)"?)'
    r"\s*;?\s*$", re.IGNORECASE)
#: The sign-ins as Log Analytics' sign-in tables name and shape their columns (sentinel_views.sql filters them).
_SENTINEL_SIGN_INS = """CREATE VIEW _sentinel_sign_ins AS SELECT
    creation_time AS TimeGenerated, creation_time AS CreatedDateTime, record_id AS Id,
    user_principal_name AS UserPrincipalName, user_display_name AS UserDisplayName, user_object_id AS UserId,
    user_type AS UserType, service_principal AS ServicePrincipalName, app_id AS AppId, app_name AS AppDisplayName,
    resource_id AS ResourceIdentity, resource_name AS ResourceDisplayName, client_app AS ClientAppUsed,
    auth_protocol AS AuthenticationProtocol, transfer_method AS OriginalTransferMethod,
    incoming_token_type AS IncomingTokenType, sign_in_type = 'interactive' AS IsInteractive, client_ip AS IPAddress,
    asn AS AutonomousSystemNumber, country AS Location,
    json_object('city', city, 'state', state, 'countryOrRegion', country,
                'geoCoordinates', json_object('latitude', latitude, 'longitude', longitude)) AS LocationDetails,
    json_object('deviceId', device_id, 'displayName', device_name, 'operatingSystem', device_os, 'browser', browser,
                'isCompliant', compliant, 'isManaged', managed, 'trustType', trust_type) AS DeviceDetail,
    user_agent AS UserAgent, CAST(status_code AS VARCHAR) AS ResultType, failure_reason AS ResultDescription,
    json_object('errorCode', status_code, 'failureReason', failure_reason, 'additionalDetails', additional_details) AS Status,
    mfa_requirement AS AuthenticationRequirement,
    json_object('authMethod', mfa_method, 'authDetail', mfa_result) AS MfaDetail,
    auth_details::JSON AS AuthenticationDetails, ca_status AS ConditionalAccessStatus,
    ca_policies::JSON AS ConditionalAccessPolicies, risk_level AS RiskLevelDuringSignIn,
    risk_level_aggregated AS RiskLevelAggregated, risk_state AS RiskState, risk_event_types::JSON AS RiskEventTypes_V2,
    session_id AS SessionId, unique_token_id AS UniqueTokenIdentifier, correlation_id AS CorrelationId,
    token_issuer AS TokenIssuerName, organization_id AS AADTenantId,
    CASE sign_in_type WHEN 'interactive' THEN 'SignInLogs' WHEN 'non_interactive' THEN 'NonInteractiveUserSignInLogs'
        WHEN 'service_principal' THEN 'ServicePrincipalSignInLogs' ELSE 'ManagedIdentitySignInLogs' END AS Category,
    CASE sign_in_type WHEN 'interactive' THEN 'SigninLogs' WHEN 'non_interactive' THEN 'AADNonInteractiveUserSignInLogs'
        WHEN 'service_principal' THEN 'AADServicePrincipalSignInLogs' ELSE 'AADManagedIdentitySignInLogs' END AS Type
FROM sign_ins"""
EVENTS_ALIAS = "events"
CONFLICTS_TABLE = "conflicting_duplicates"
HUNTS_TABLE = "hunt_hits"
ENRICHMENT_TABLE = "ip_enrichment"
MAIL_ITEMS_TABLE = "mail_items"
#: A query naming the table (not as a text literal, as `DESCRIBE` does: that reads no rows).
_READS_MAIL_ITEMS = re.compile(rf"(?<!')\b{MAIL_ITEMS_TABLE}\b(?!')", re.IGNORECASE)
_EXAMPLES = Path(__file__).with_name("article_queries.toml")
_EVENT_ORDER = "creation_time, source_file, source_row"
DEFAULT_TIMEOUT = 300.0  # seconds: an accidental cross join on a shared jump host ends by itself
INTERRUPT_RETRY = 0.05  # seconds between interrupts until the engine stops (a query may not have reached it yet)


class SqlCancelled(SqlError):
    """The query was cancelled before it finished."""


class SqlTimeout(SqlCancelled):
    """The query ran past the time limit and was stopped."""


def sql_limits(config: dict, timeout: float | None = None) -> dict:
    """The engine's limits from the config (`sql_timeout` seconds, 0 for none; `sql_memory_limit` such as
    "2GB"), a given timeout overriding the config's: keyword arguments for `SqlSession`."""
    chosen = config.get("sql_timeout", DEFAULT_TIMEOUT) if timeout is None else timeout
    if isinstance(chosen, bool) or not isinstance(chosen, (int, float)) or chosen < 0:
        raise ConfigError(f"sql_timeout {chosen!r}: give a number of seconds (0 for no limit)")
    memory = config.get("sql_memory_limit")
    if memory is not None and not (isinstance(memory, str) and re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", memory)):
        raise ConfigError(f"sql_memory_limit {memory!r}: give a size such as \"2GB\"")
    return {"timeout": float(chosen) or None, "memory_limit": memory}


@dataclass
class SqlResult:
    """A query's rows, what was changed to read it, the query as read, and what the engine ran."""

    frame: pl.DataFrame
    notes: list[str] = field(default_factory=list)
    query_used: str = ""
    engine_sql: str = ""


class SqlSession:
    """A locked, in-memory DuckDB over one case's events (and hunt hits and enrichment, when given).

    `source` is a `Case` or `CaseSet` (its Parquet is read in place, and every query run goes into its
    history) or an events frame. `run` may be called from a worker thread and `cancel` from another.
    """

    def __init__(self, source: Case | CaseSet | pl.DataFrame, hunts: pl.DataFrame | None = None,
                 enrichment: pl.DataFrame | None = None, exact: bool = False, timeout: float | None = None,
                 memory_limit: str | None = None):
        self.exact, self.timeout = exact, timeout
        self._case = None if isinstance(source, pl.DataFrame) else source
        self._lock = threading.Lock()
        case_root = None if isinstance(source, pl.DataFrame) else getattr(source, "primary", source).root
        spill = SpillFolder(case_root if case_root and case_root.is_dir() else None)
        self._spill = spill.path
        self._remove_spill = weakref.finalize(self, spill.remove)
        self._con = connect(self._spill)
        for setting in ("SET TimeZone = 'UTC'", "SET python_enable_replacements = false",
                        "SET autoinstall_known_extensions = false", "SET autoload_known_extensions = false",
                        *([f"SET memory_limit = {_literal(memory_limit)}"] if memory_limit else [])):
            self._con.execute(setting)
        if not exact:
            self._con.execute("SET default_collation = 'nocase'")
        self.tables = [EVENTS_TABLE, EVENTS_ALIAS, CONFLICTS_TABLE, *SOURCE_TABLES, MAIL_ITEMS_TABLE, *SENTINEL_VIEWS]
        kept = not isinstance(source, pl.DataFrame) and self._register_kept_records(source)
        self._create_events_view(source, kept)
        conflict_parts = [] if isinstance(source, pl.DataFrame) else source.conflict_parts()
        self._create_conflicts_view(conflict_parts)
        source_parts = {name: [] if isinstance(source, pl.DataFrame) else source.parts(name) for name in SOURCE_TABLES}
        for name, parts in source_parts.items():
            self._create_frame_view(name, parts, kept)
        self._unindexed: Case | CaseSet | None = None
        self._stop_indexing = threading.Event()
        index_folders = self._create_mail_items_view(source)
        for statement in _sentinel_statements():
            self._con.execute(statement)
        on_disk = [] if isinstance(source, pl.DataFrame) else [*source.parts(), *conflict_parts,
                                                               *(part for parts in source_parts.values() for part in parts)]
        if on_disk:  # the only folders the locked engine may read
            folders = dict.fromkeys([*(str(part.parent.resolve()) + "/" for part in on_disk),
                                     *(str(folder.resolve()) + "/" for folder in index_folders)])
            self._con.execute(f"SET allowed_directories = [{', '.join(_literal(folder) for folder in folders)}]")
        for name, frame in ((HUNTS_TABLE, hunts), (ENRICHMENT_TABLE, enrichment)):
            if frame is not None:
                self._con.register(name, frame)
                self.tables.append(name)
        self._con.execute("SET enable_external_access = false")
        self._con.execute("SET lock_configuration = true")

    def _create_events_view(self, source: Case | CaseSet | pl.DataFrame, kept: bool) -> None:
        columns = _columns(EVENT_SCHEMA, "audit_data" if kept else None)
        parts = [] if isinstance(source, pl.DataFrame) else source.parts()
        if parts:
            scan = _parquet_scan(parts)
        else:
            frame = source if isinstance(source, pl.DataFrame) else pl.DataFrame(schema=EVENT_SCHEMA)
            missing = [pl.lit(None, dtype).alias(name) for name, dtype in EVENT_SCHEMA.items()
                       if name not in frame.columns]
            self._con.register("_events_frame", frame.with_columns(missing) if missing else frame)
            scan = "_events_frame"
        self._con.execute(f"CREATE VIEW {EVENTS_TABLE} AS SELECT {columns} FROM {scan} ORDER BY {_EVENT_ORDER}")
        self._con.execute(f"CREATE VIEW {EVENTS_ALIAS} AS SELECT * FROM {EVENTS_TABLE}")

    def _register_kept_records(self, source: Case | CaseSet) -> bool:
        """Define `_kept_record(case, source_file, source_row)`: the record a case reads from its copy of the input
        (kept_records.py), for the events whose Parquet does not hold it; False when no case keeps any."""
        kept = kept_by_case(getattr(source, "cases", [source]))
        if not kept:
            return False

        def read(cases: pa.Array, files: pa.Array, rows: pa.Array) -> pa.Array:
            frame = pl.from_arrow(pa.table({"case": cases, "source_file": files, "source_row": rows}))
            return fill_by_case(kept, frame.with_columns(pl.lit(None, pl.String).alias("audit_data"))).to_arrow()

        self._con.create_function("_kept_record", read, ["VARCHAR", "VARCHAR", "BIGINT"], "VARCHAR", type="arrow",
                                  null_handling="special", side_effects=False)
        return True

    def _create_frame_view(self, name: str, parts: list[Path], kept: bool) -> None:
        """A table of one of the case's other frames (`sign_ins`, `directory_audits`, `messages`) over its Parquet
        parts, in time order (its original records read back from the case's inputs when `kept`)."""
        schema = FRAME_SCHEMAS[name]
        if parts:
            scan = _parquet_scan(parts)
        else:
            self._con.register(f"_no_{name}", pl.DataFrame(schema=schema))
            scan = f"_no_{name}"
        columns = _columns(schema, RECORD_COLUMN[name] if kept else None)
        order = _EVENT_ORDER.replace("creation_time", TIME_COLUMN[name])
        self._con.execute(f"CREATE VIEW {name} AS SELECT {columns} FROM {scan} ORDER BY {order}")

    def _create_mail_items_view(self, source: Case | CaseSet | pl.DataFrame) -> list[Path]:
        """The mail items (mail_item_frame.py): a case's index joined with its records' events columns, or an events
        frame's items decoded now from its `audit_data`; returns the folders of the cases' indexes. An index not yet
        built is built by the first query that reads the table (`_index_mail_items`): till then the view has the
        table's columns and no rows."""
        if isinstance(source, pl.DataFrame):
            self._mail_items_view(mail_items(exposure_rows(source.lazy()).collect()) if "audit_data" in source.columns
                                  else pl.DataFrame(schema=MAIL_ITEM_SCHEMA))
            return []
        cases = getattr(source, "cases", [source])
        if all((one.state_dir / ITEM_INDEX).is_dir() for one in cases if one.parts()):
            self._mail_items_view(index_parts(source), source)
        else:
            self._mail_items_view(pl.DataFrame(schema=MAIL_ITEM_SCHEMA))
            self._unindexed = source
        return [one.state_dir / ITEM_INDEX for one in cases]

    def _mail_items_view(self, items: pl.DataFrame | list[Path], source: Case | CaseSet | None = None) -> None:
        """(Re)define the table `mail_items` over `items` in memory, or over the index parts of `source`."""
        if isinstance(items, list) and items:
            shared = ", ".join(f'"{name}"' for name in MAIL_ITEM_SCHEMA if name not in STORED_ITEM_SCHEMA)
            records = f'SELECT "case", record_id, {shared} FROM {_parquet_scan(source.parts())}'
            scan = f'{_parquet_scan(items)} JOIN ({records}) USING ("case", record_id)'
        else:
            empty = pl.DataFrame(schema=MAIL_ITEM_SCHEMA)
            self._con.register("_mail_items", items if isinstance(items, pl.DataFrame) else empty)
            scan = "_mail_items"
        columns = ", ".join(f'"{name}"' for name in MAIL_ITEM_SCHEMA)
        self._con.execute(f"CREATE OR REPLACE VIEW {MAIL_ITEMS_TABLE} AS "
                          f"SELECT {columns} FROM {scan} ORDER BY {_EVENT_ORDER}")

    def _index_mail_items(self, engine_sql: str) -> list[str]:
        """Build the cases' mail item indexes when a query reads `mail_items` and they are not built; returns a note
        saying so. A case whose folder cannot be written has its items decoded in memory for this session."""
        if self._unindexed is None or not _READS_MAIL_ITEMS.search(engine_sql):
            return []
        source, self._unindexed = self._unindexed, None
        start = time.perf_counter()
        self._stop_indexing.clear()
        try:
            self._mail_items_view(index_parts(source, self._stop_indexing.is_set), source)
        except Stopped:
            self._unindexed = source  # the next query reading the table builds it again
            raise SqlCancelled("query cancelled while the case's mail items were being indexed") from None
        except OSError as error:
            self._mail_items_view(case_mail_items(source))
            return [f"mail_items: decoded in memory for this session; the case's index could not be written ({error})"]
        return [f"mail_items: the case's mail items decoded into its index in {time.perf_counter() - start:.1f} s, "
                "once for this load; later queries read the index"]

    def _create_conflicts_view(self, parts: list[Path]) -> None:
        """Records that share an `Id` with a loaded event but differ from it (conflicts.py), with where the loaded
        version came from (`kept_file`, `kept_row`)."""
        schema = {**EVENT_SCHEMA, **KEPT_COLUMNS}
        columns = ", ".join(f'"{name}"' for name in schema)
        if parts:
            scan = _parquet_scan(parts)
        else:
            self._con.register("_no_conflicts", pl.DataFrame(schema=schema))
            scan = "_no_conflicts"
        self._con.execute(f"CREATE VIEW {CONFLICTS_TABLE} AS SELECT {columns} FROM {scan} ORDER BY record_id, {_EVENT_ORDER}")

    def columns(self) -> dict[str, list[tuple[str, str]]]:
        """Each table's columns as (name, SQL type), for completion and help."""
        result = {}
        for table in self.tables:
            rows = self._con.execute(f'DESCRIBE "{table}"').fetchall()
            result[table] = [(row[0], row[1]) for row in rows]
        return result

    def schema(self) -> dict[str, list[tuple[str, str, str]]]:
        """Each table's columns as (name, SQL type, one-line meaning), for the schema pane and completion."""
        meanings = _table_meanings()
        return {table: [(name, kind, meanings.get(table, {}).get(name, "")) for name, kind in columns]
                for table, columns in self.columns().items()}

    def prepare(self, query: str, params: dict[str, str] | None = None) -> tuple[Repaired, str, dict]:
        """The query as read, the SQL the engine will run and the values bound to its parameters (`:user`, given
        as text in `params`), or a `SqlError` (nothing is run)."""
        repaired = repair(query)
        schema = self._schema_statement(repaired)
        if schema is not None:
            return repaired, schema, {}
        as_dollar_parameters(repaired)
        tree = parse_read_only(repaired, self.tables)
        return repaired, tolerant_json(tree).sql(dialect="duckdb"), bound_values(tree, params or {}, repaired)

    def _schema_statement(self, repaired: Repaired) -> str | None:
        """The engine's SQL for `SHOW TABLES`, `DESCRIBE table` or `SUMMARIZE table` over the case's tables (the
        statements that teach the schema), or None for any other query."""
        found = _SCHEMA_STATEMENT.match(repaired.text)
        if found is None:
            return None
        if found["show"]:
            names = ", ".join(_literal(name) for name in self.tables)
            return (f"SELECT table_name AS name, count(*) AS columns FROM information_schema.columns "
                    f"WHERE table_name IN ({names}) GROUP BY table_name ORDER BY table_name")
        table = next((name for name in self.tables if name.lower() == found["table"].lower()), None)
        if table is None:
            raise repaired.error(f"no such table: {found['table']}; the tables are: {', '.join(self.tables)}",
                                 found.start("table"))
        if found["verb"].upper() == "SUMMARIZE":
            return f'SUMMARIZE SELECT * FROM "{table}"'
        return (f"SELECT column_name, data_type AS column_type FROM information_schema.columns "
                f"WHERE table_name = {_literal(table)} ORDER BY ordinal_position")

    def run(self, query: str, params: dict[str, str] | None = None) -> SqlResult:
        """Run one read-only query, its parameters bound to the values in `params` (never pasted into the SQL);
        raises `SqlError` (positioned when possible) or `SqlCancelled`."""
        if self._case is not None and query.strip():
            self._case.store.add_query_history(query)
        repaired, engine_sql, values = self.prepare(query, params)
        with self._lock:
            notes = self._index_mail_items(engine_sql)
        with self._lock, self._deadline() as deadline:
            try:
                frame = self._con.sql(engine_sql, params=values or None).pl()
            except duckdb.InterruptException:
                if deadline.is_set():
                    raise SqlTimeout(f"query stopped after {self.timeout:g} s, the SQL time limit: narrow the query, or "
                                     "raise the limit (--timeout SECONDS, or sql_timeout in the config; 0 for none)",
                                     query=query) from None
                raise SqlCancelled("query cancelled", query=query) from None
            except ERRORS as error:
                raise engine_error(error, repaired) from None
        return SqlResult(frame, [*notes, *repaired.notes], repaired.text, engine_sql)

    @contextmanager
    def _deadline(self) -> Iterator[threading.Event]:
        """Interrupt the engine once `timeout` has passed, until the block ends; the event says it passed."""
        passed, done = threading.Event(), threading.Event()

        def watch() -> None:
            if self.timeout is None or done.wait(self.timeout):
                return
            passed.set()
            while not done.is_set():
                self._con.interrupt()
                done.wait(INTERRUPT_RETRY)

        watcher = threading.Thread(target=watch, name="sql-deadline", daemon=True)
        watcher.start()
        try:
            yield passed
        finally:
            done.set()
            watcher.join()

    def run_in_foreground(self, query: str, params: dict[str, str] | None = None) -> SqlResult:
        """`run` on a worker thread while this (main) thread waits, so that Ctrl-C stops the query at once:
        the engine is interrupted and KeyboardInterrupt raised here."""
        with ThreadPoolExecutor(1, thread_name_prefix="sql") as pool:
            running = pool.submit(self.run, query, params)
            try:
                while True:  # short waits: the signal may reach one of the engine's threads, not this one
                    with suppress(TimeoutError):
                        return running.result(timeout=INTERRUPT_RETRY)
            except KeyboardInterrupt:
                while not running.done():
                    self.cancel()
                    with suppress(TimeoutError):
                        running.exception(timeout=INTERRUPT_RETRY)
                raise

    def cancel(self) -> None:
        """Interrupt the running query, or the indexing of the mail items it waits for (safe to call from another
        thread, and when nothing runs)."""
        self._stop_indexing.set()
        self._con.interrupt()

    def close(self) -> None:
        """Release the engine and its spill folder."""
        self._con.close()
        self._remove_spill()


@cache
def _table_meanings() -> dict[str, dict[str, str]]:
    """The one-line meaning of each column, by table; the Sentinel-named views' from their definitions."""
    events = FRAME_MEANINGS["events"]
    tables = {EVENTS_TABLE: events, EVENTS_ALIAS: events, CONFLICTS_TABLE: events | KEPT_MEANINGS,
              HUNTS_TABLE: HUNT_HIT_MEANINGS, ENRICHMENT_TABLE: ENRICHMENT_MEANINGS, MAIL_ITEMS_TABLE: MAIL_ITEM_MEANINGS,
              **{name: FRAME_MEANINGS[name] for name in SOURCE_TABLES}}
    return tables | view_meanings(_sentinel_statements(), tables)


def _sentinel_statements() -> list[str]:
    """The CREATE VIEW statements of the Sentinel-named views, in the order they are made."""
    views = _SENTINEL_VIEWS_SQL.read_text(encoding="utf-8").split(";")
    return [_SENTINEL_SIGN_INS, *(statement for statement in views if "CREATE" in statement)]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _columns(schema: dict, kept_record: str | None) -> str:
    """The select list of a frame's view: its columns, the record column `kept_record` read back from the case's
    inputs where the Parquet does not hold it (`_kept_record`)."""
    return ", ".join(f'coalesce("{name}", _kept_record("case", source_file, source_row)) AS "{name}"'
                     if name == kept_record else f'"{name}"' for name in schema)


def _parquet_scan(parts: list[Path]) -> str:
    """DuckDB's read of the given Parquet parts (named one by one: a case folder may be named like a pattern)."""
    return f"read_parquet([{', '.join(_literal(str(part.resolve())) for part in parts)}])"


def tolerant_json(tree: exp.Query) -> exp.Query:
    """JSON extraction from text that is not JSON (a plain-string Parameters) gives NULL, not an error."""
    for node in list(tree.find_all(exp.JSONExtract, exp.JSONExtractScalar)):
        node.set("this", exp.TryCast(this=node.this, to=exp.DataType.build("JSON")))
    return tree


_NAMED = (r'"([^"]+)"', r"with name (\w+) does not exist", r"'(\w+)\(")


def engine_error(error: Exception, repaired: Repaired) -> SqlError:
    """DuckDB's message without its echo of the rewritten query, positioned at the name it complains about."""
    if isinstance(error, UnicodeDecodeError):
        return repaired.error("the query failed on a value whose error message cannot be shown (DuckDB cut the "
                              "quoted text inside a character): probably text that is not JSON given to a JSON "
                              "function", None)
    message = re.split(r"\n\s*LINE \d+:", str(error))[0].strip()
    for pattern in _NAMED:
        named = re.search(pattern, message)
        if named:
            name = named.group(1).split(".")[-1]
            found = re.search(rf"(?<![\w]){re.escape(name)}(?!\w)", repaired.text, re.IGNORECASE)
            if found:
                return repaired.error(message, found.start())
    return repaired.error(message, None)


def example_queries() -> dict[str, str]:
    """The example queries by name: the article's nine hunts with parameters (`logins`, which takes `:user`), two
    more over `:ip` and `:since`, then the article's queries as printed (`article-logins`)."""
    data = tomllib.loads(_EXAMPLES.read_text(encoding="utf-8"))
    examples = {query["name"]: f"-- {query['title']}\n{query['sql'].strip()}\n" for query in data["queries"]}
    examples |= {f"article-{query['name']}":
                 f"-- {query['title']} (as printed in the article)\n{query['article'].strip()}\n"
                 for query in data["queries"] if "article" in query}
    return examples
