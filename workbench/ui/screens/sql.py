"""Provides `SqlScreen`, the SQL mode (editor, results, status), and `SqlQueries`, the palette's saved and example queries."""

from functools import partial
from pathlib import Path

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal, Vertical
from textual.markup import escape
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static, Tree

from workbench.core.export import format_for_path, write_frame
from workbench.core.inert import visible
from workbench.core.sql import (
    CONFLICTS_TABLE, EVENTS_ALIAS, EVENTS_TABLE, SqlCancelled, SqlError, SqlResult, SqlSession, SqlTimeout,
    example_queries, parameter_value, query_parameters, sql_limits,
)
from workbench.core.sql_params import TIME_PARAMETERS
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.prompt import TextPrompt
from workbench.ui.widgets.cells import first_that_fits
from workbench.ui.widgets.sql_editor import SqlEditor
from workbench.ui.widgets.sql_results import ResultTable
from workbench.ui.widgets.sql_schema import SchemaPane

CANCEL_RETRY = 0.1  # seconds between interrupts until the running query has stopped
#: Actions on the rows of a result, offered while the results have the focus.
ROW_ACTIONS = {"open_row", "open_all", "mark_all", "export"}
PLACEHOLDER = (f"SELECT … FROM {EVENTS_TABLE} (alias {EVENTS_ALIAS}) — ctrl+r runs it, "
               "ctrl+p lists example queries, ctrl+o shows the tables, tab completes a name")


class ExportPathPrompt(TextPrompt):
    """Ask for the export file; its suffix (.csv, .json, .jsonl) picks the format."""

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # TextPrompt's own handler would close the prompt
        try:
            format_for_path(Path(event.value.strip()))
        except ValueError as error:
            self.show_problem(str(error))
            return
        self.dismiss(event.value.strip())


class ParameterPrompt(TextPrompt):
    """Ask for the value of one of the query's parameters (`:since` must read as a time)."""

    def __init__(self, parameter: str, value: str) -> None:
        hint = ("a date or time, such as 2023-02-20 or 2023-02-20T08:00:00Z (UTC unless it says otherwise)"
                if parameter in TIME_PARAMETERS else "used as a value as typed: no quotes needed")
        super().__init__(f"Value of :{parameter}", value, hint=hint, suggested=True)
        self.parameter = parameter

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        event.prevent_default()  # TextPrompt's own handler would close the prompt
        try:
            parameter_value(self.parameter, event.value)
        except SqlError as error:
            self.show_problem(str(error))
            return
        self.dismiss(event.value)


class SqlScreen(Screen[None]):
    """The SQL mode: read-only SQL over the case's events, results in a fast table, errors with a caret.

    | Key | Action |
    | :- | :- |
    | ctrl+r | run the query (in the background); first asks for the value of each parameter (`:user`) |
    | esc | cancel the running query |
    | tab | (editor) complete the table or column name before the cursor, again for the next; else next pane |
    | ctrl+o | show the tables and columns (enter on a column writes its name in the editor), focus them, hide them |
    | ctrl+up / ctrl+down | step through the case's query history |
    | ctrl+s | save the query under a name (the palette lists it) |
    | ctrl+t | text comparison: ignore case (default) or exact |
    | tab / shift+tab | editor ⇄ results ⇄ tables |
    | enter / v | (results) open this row's event / all rows' events in the events view |
    | m | (results) mark every result row as an event of the case |
    | e | (results) export the result to CSV, JSON or JSON Lines |
    """

    BINDINGS = [
        Binding("ctrl+r", "run", "Run", id="sql.run"),
        Binding("escape", "cancel", "Cancel", id="sql.cancel"),
        Binding("enter", "open_row", "Open", id="sql.open_row"),
        Binding("v", "open_all", "As events", id="sql.open_all"),
        Binding("m", "mark_all", "Mark all", id="sql.mark_all"),
        Binding("e", "export", "Export", id="sql.export"),
        Binding("ctrl+up", "history(1)", "Older query", id="sql.history_back", show=False),
        Binding("ctrl+down", "history(-1)", "Newer query", id="sql.history_forward", show=False),
        Binding("ctrl+s", "save", "Save", id="sql.save"),
        Binding("ctrl+t", "toggle_exact", "Exact / ignore case", id="sql.exact", show=False),
        Binding("ctrl+o", "schema", "Tables", id="sql.schema"),
    ]
    DEFAULT_CSS = """
    SqlScreen { layout: vertical; }
    SqlScreen #sql-header { height: auto; max-height: 2; background: $primary-background; color: $text; padding: 0 1; }
    SqlScreen #sql-body { height: 1fr; }
    SqlScreen #sql-main { width: 1fr; }
    SqlScreen SchemaPane { display: none; }
    SqlScreen #sql-editor { height: 1fr; min-height: 5; }
    SqlScreen #sql-results { height: 2fr; }
    SqlScreen #sql-status { height: auto; max-height: 8; background: $panel; color: $text; padding: 0 1; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.loaded: CaseLoaded | None = None
        self.session: SqlSession | None = None
        self._session_enrichment: pl.DataFrame | None = None  # the `ip_enrichment` the session was made with
        self.exact = False
        self.running = False
        self.result: SqlResult | None = None
        self._cancel_timer: Timer | None = None
        #: The last value given for each parameter, offered the next time a query asks for it.
        self.parameter_values: dict[str, str] = {}

    def compose(self) -> ComposeResult:
        yield Static(Text("SQL: waiting for the case to load…"), id="sql-header")
        with Horizontal(id="sql-body"):
            with Vertical(id="sql-main"):
                yield SqlEditor(placeholder=PLACEHOLDER, id="sql-editor")
                yield ResultTable(id="sql-results")
            yield SchemaPane(id="sql-schema")
        yield Static(Text(""), id="sql-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(SqlEditor).focus()
        if getattr(self.app, "loaded", None) is not None:
            self.show_case(self.app.loaded)

    def on_unmount(self) -> None:
        if self.session is not None:
            self.session.cancel()
            self.session.close()

    def on_screen_resume(self) -> None:
        """Coming back to the mode: pick up a case that was loaded (or reloaded) while another mode showed."""
        loaded = getattr(self.app, "loaded", None)
        if loaded is not None and (self.loaded is None or loaded.events is not self.loaded.events):
            self.show_case(loaded)
        elif loaded is not None and loaded.enrichment is not self._session_enrichment:
            self.loaded = loaded  # the IPs mode enriched meanwhile: the next query sees the new `ip_enrichment`
            self._drop_session()
            self.refresh_header()
            self.describe_tables(loaded)

    def on_case_loaded(self, message: CaseLoaded) -> None:
        self.show_case(message)

    def show_case(self, loaded: CaseLoaded) -> None:
        """Query this case from now on; its history becomes the editor's."""
        self.loaded = loaded
        self._drop_session()
        self.query_one(SqlEditor).set_history(loaded.case.store.query_history())
        self.refresh_header()
        self.refresh_bindings()
        self.describe_tables(loaded)

    @work(thread=True, exclusive=True, group="sql-schema", exit_on_error=False)
    def describe_tables(self, loaded: CaseLoaded) -> None:
        """Read the tables' columns, types and meanings off the UI thread, for the schema pane and completion."""
        session = SqlSession(loaded.case, hunts=loaded.hits, enrichment=loaded.enrichment)
        try:
            schema = session.schema()
        finally:
            session.close()
        self.app.call_from_thread(self._tables_described, schema)

    def _tables_described(self, schema: dict[str, list[tuple[str, str, str]]]) -> None:
        self.query_one(SchemaPane).show(schema)
        columns = dict.fromkeys(name for table in schema.values() for name, _kind, _meaning in table)
        self.query_one(SqlEditor).set_names(list(schema), list(columns))

    def _drop_session(self) -> None:
        if self.session is not None and not self.running:
            self.session.close()
        self.session = None

    # -- state shown --------------------------------------------------------------------------
    def say(self, message: str) -> None:
        """Put `message` (made inert; it may hold several lines) in the status area."""
        self.query_one("#sql-status", Static).update(Text(visible(message, keep_newlines=True)))

    def refresh_header(self) -> None:
        """Case, the tables a query may name, and how text is compared."""
        if self.loaded is None:
            return
        tables = f"{EVENTS_TABLE} / {EVENTS_ALIAS}" + (", hunt_hits" if self.loaded.hits is not None else "") + (
            ", ip_enrichment" if self.loaded.enrichment is not None else "") + (
            f", {CONFLICTS_TABLE}" if self.loaded.report.totals()["conflicting"] else "")
        events = self.loaded.events
        sources = set(events.select(pl.col("source").unique()).to_series()) if "source" in events.columns else set()
        tables += (", sign_ins / SigninLogs" if "signin" in sources else "") + (
            ", directory_audits / AuditLogs" if "audit" in sources else "")
        text = "text: " + ("exact" if self.exact else "ignore case")
        header = first_that_fits(self.size.width - 2, " │ ".join(["SQL", self.loaded.case.name, tables, text]),
                                 " │ ".join(["SQL", tables, text]))
        self.query_one("#sql-header", Static).update(Text(visible(header)))

    def on_resize(self) -> None:
        self.refresh_header()

    def on_descendant_focus(self) -> None:
        self.refresh_bindings()

    # -- actions --------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ROW_ACTIONS:
            if not isinstance(self.focused, ResultTable):
                return False
            return True if self.result is not None and self.result.frame.height else None
        if action == "run":
            return self.loaded is not None and not self.running
        if action == "cancel":
            return self.running
        if action in {"save", "toggle_exact"}:
            return None if self.loaded is None or (action == "toggle_exact" and self.running) else True
        return True

    def load_query(self, name: str, sql: str) -> None:
        """Put a saved or example query into the editor."""
        editor = self.query_one(SqlEditor)
        editor.load(sql)
        editor.focus()
        self.say(f"{name} loaded — ctrl+r runs it")

    def action_history(self, step: int) -> None:
        editor = self.query_one(SqlEditor)
        editor.focus()
        editor.step_history(step)

    def action_run(self) -> None:
        query = self.query_one(SqlEditor).text
        if not query.strip():
            self.say("nothing to run: write a query first")
            return
        self._ask_parameters(query, query_parameters(query), {})

    def _ask_parameters(self, query: str, names: list[str], values: dict[str, str]) -> None:
        """Ask for each parameter's value in turn (the last value given is offered), then run the query."""
        if len(values) == len(names):
            self.running = True
            self.refresh_bindings()
            self.say("running… (esc cancels)")
            self.run_query(query, values)
            return
        name = names[len(values)]

        def answered(value: str | None) -> None:
            if value is None:
                self.say(f"not run: no value given for :{name}")
                return
            self.parameter_values[name] = value
            self._ask_parameters(query, names, values | {name: value})

        self.app.push_screen(ParameterPrompt(name, self.parameter_values.get(name, "")), answered)

    @work(thread=True, exclusive=True, group="sql", exit_on_error=False)
    def run_query(self, query: str, params: dict[str, str]) -> None:
        """Run the query off the UI thread; the status area and the table show how it went."""
        try:
            if self.session is None:
                self._session_enrichment = self.loaded.enrichment
                self.session = SqlSession(self.loaded.case, hunts=self.loaded.hits,
                                          enrichment=self._session_enrichment, exact=self.exact,
                                          **sql_limits(getattr(self.app, "config", {})))
            result = self.session.run(query, params)
        except SqlError as error:
            self.app.call_from_thread(self._query_failed, error)
            return
        except Exception as error:  # the engine's own failure: a message, never a traceback
            self.app.call_from_thread(self._query_failed, SqlError(f"{type(error).__name__}: {error}"))
            return
        self.app.call_from_thread(self._query_done, result, params)

    def _query_stopped(self) -> None:
        self.running = False
        if self._cancel_timer is not None:
            self._cancel_timer.stop()
            self._cancel_timer = None
        self.query_one(SqlEditor).set_history(self.loaded.case.store.query_history())
        self.refresh_bindings()

    def _query_done(self, result: SqlResult, params: dict[str, str]) -> None:
        self._query_stopped()
        self.result = result
        table = self.query_one(ResultTable)
        table.show(result.frame)
        rows = result.frame.height
        lines = [f"{rows:,} row{'' if rows == 1 else 's'}"
                 + "".join(f" · :{name} = {value}" for name, value in params.items())
                 + ("" if "record_id" in result.frame.columns or not rows else " (no record_id column: no event to open or mark)")]
        lines += [f"note: {note}" for note in result.notes]
        self.say("\n".join(lines))
        if rows:
            table.focus()

    def _query_failed(self, error: SqlError) -> None:
        self._query_stopped()
        editor = self.query_one(SqlEditor)
        editor.focus()
        if isinstance(error, SqlCancelled) and not isinstance(error, SqlTimeout):
            self.say("query cancelled")
            return
        if error.line is not None and error.column is not None:
            editor.move_cursor((error.line - 1, error.column - 1))
        self.say(f"error: {error.render()}")

    def action_cancel(self) -> None:
        self.say("cancelling…")
        self._interrupt()
        if self._cancel_timer is None:  # the query may not have reached the engine yet: interrupt until it stops
            self._cancel_timer = self.set_interval(CANCEL_RETRY, self._interrupt)

    def _interrupt(self) -> None:
        if self.session is not None:
            self.session.cancel()

    def action_schema(self) -> None:
        """Show the tables and focus them; when they have the focus, hide them."""
        pane, tree = self.query_one(SchemaPane), self.query_one(SchemaPane).query_one(Tree)
        if pane.display and self.focused is tree:
            pane.display = False
            self.query_one(SqlEditor).focus()
        else:
            pane.display = True
            tree.focus()

    def on_schema_pane_name_chosen(self, message: SchemaPane.NameChosen) -> None:
        editor = self.query_one(SqlEditor)
        editor.insert(message.name)
        editor.focus()
        self.say(f"{message.name} written in the query — ctrl+o goes back to the tables")

    def on_sql_editor_completed(self, message: SqlEditor.Completed) -> None:
        names = message.candidates
        if len(names) > 1:
            shown = ", ".join(f"[{name}]" if index == message.index else name for index, name in enumerate(names[:12]))
            self.say(f"{len(names)} names: {shown}{', …' if len(names) > 12 else ''} — tab for the next")

    def action_toggle_exact(self) -> None:
        self.exact = not self.exact
        self._drop_session()
        self.refresh_header()
        self.say("text comparison is now " + ("exact" if self.exact else "case-insensitive") + " — ctrl+r runs again")

    # -- result rows ----------------------------------------------------------------------------
    def _record_ids(self) -> pl.Series | None:
        """The result's record ids, or None (and a message) when it has no `record_id` column."""
        frame = self.result.frame
        if "record_id" not in frame.columns:
            self.say("the result has no record_id column: add record_id to the SELECT to open or mark its events")
            return None
        return frame.get_column("record_id").cast(pl.String)

    def action_open_row(self) -> None:
        ids = self._record_ids()
        if ids is None:
            return
        index = self.query_one(ResultTable).cursor
        record_id = ids[index]
        if record_id is None:
            self.say("this row's record_id is empty")
            return
        self.app.show_events(f"SQL result row {index + 1}", [record_id])

    def action_open_all(self) -> None:
        ids = self._record_ids()
        if ids is not None:
            unique = ids.drop_nulls().unique(maintain_order=True).to_list()
            self.app.show_events(f"SQL result: {len(unique):,} events", unique)

    def action_mark_all(self) -> None:
        ids = self._record_ids()
        if ids is None:
            return
        known = ids.drop_nulls().unique(maintain_order=True)
        known = known.filter(known.is_in(self.loaded.events.get_column("record_id").implode()))
        store = self.loaded.case.store
        store.set_marks(known.to_list(), True)
        unknown = ids.len() - ids.null_count() - ids.is_in(known.implode()).sum()
        self.say(f"{known.len():,} events marked · {len(store.marks()):,} marked in the case"
                 + (f" · {unknown:,} rows name no event of the case" if unknown else ""))

    def action_export(self) -> None:
        default = f"{self.loaded.case.name}-sql.csv"
        self.app.push_screen(ExportPathPrompt(f"Export {self.result.frame.height:,} rows to (.csv, .json or .jsonl)",
                                              default), self._export_chosen)

    def _export_chosen(self, path: str | None) -> None:
        if path:
            self.say(f"exporting to {path}…")
            self.export(self.result.frame, Path(path).expanduser())

    @work(thread=True, exclusive=True, group="sql-export", exit_on_error=False)
    def export(self, frame: pl.DataFrame, path: Path) -> None:
        """Write the result off the UI thread (CSV cells that a spreadsheet would evaluate are neutralised)."""
        try:
            write_frame(frame, path)
        except (OSError, ValueError) as error:
            self.app.call_from_thread(self.say, f"export failed: {error}")
            return
        self.app.call_from_thread(self.say, f"exported {frame.height:,} rows to {path}")

    def action_save(self) -> None:
        query = self.query_one(SqlEditor).text

        def done(name: str | None) -> None:
            if name and name.strip():
                self.loaded.case.store.save_query(name.strip(), query)
                self.say(f"saved as {name.strip()} (ctrl+p lists it)")

        self.app.push_screen(TextPrompt("Save this query as", placeholder="e.g. mailbox-permissions"), done)


class SqlQueries(Provider):
    """The palette's SQL queries: the case's saved ones, then the article's examples; choosing one opens it in the SQL mode."""

    async def startup(self) -> None:
        loaded = getattr(self.app, "loaded", None)
        saved = loaded.case.store.saved_queries() if loaded is not None else {}
        self.queries = [(f"SQL saved: {name}", name, sql) for name, sql in saved.items()]
        self.queries += [(f"SQL example: {name}", name, sql) for name, sql in example_queries().items()]

    async def discover(self) -> Hits:
        for label, name, sql in self.queries:
            yield DiscoveryHit(escape(label), partial(self.open, name, sql), help=escape(_first_line(sql)))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for label, name, sql in self.queries:
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(escape(label)), partial(self.open, name, sql),
                          help=escape(_first_line(sql)))

    async def open(self, name: str, sql: str) -> None:
        """Load the query into the SQL mode's editor, switching to that mode first."""
        screen = self.screen
        if not isinstance(screen, SqlScreen):
            mode = next((mode for mode, value in self.app.MODES.items() if value is SqlScreen), None)
            if mode is None:
                self.app.notify("the SQL mode is not available", severity="error")
                return
            await self.app.switch_mode(mode)
            screen = self.app.screen
        screen.load_query(name, sql)


def _first_line(sql: str) -> str:
    """The first non-empty line of a query, without a leading comment marker."""
    line = next((line for line in sql.splitlines() if line.strip()), "")
    return visible(line.strip().removeprefix("--").strip())
