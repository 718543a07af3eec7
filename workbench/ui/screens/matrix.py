"""Provides `MatrixScreen`: the ATT&CK matrix mode — hunt hits per tactic and technique, coverage, the hunts list."""

import re
from pathlib import Path

import polars as pl
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

import hunts
from hunts import attack
from workbench.core.config import ConfigError
from workbench.core.hunting import HuntSetupError, waiting_for_enrichment
from workbench.core.inert import visible
from workbench.ui.messages import CaseLoaded
from workbench.ui.screens.case_screen import CaseScreen, hunt_pack, loaded_hits
from workbench.ui.widgets.attack_matrix import AttackMatrix
from workbench.ui.widgets.hunt_list import HuntList, hunt_hit_counts


def paragraphs(text: str) -> str:
    """Hard-wrapped text from a hunt file as paragraphs: single line breaks become spaces, blank lines stay."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text.strip())


class MatrixScreen(CaseScreen):
    """The matrix mode: Enter opens the events behind a cell or a hunt; `c` shows coverage; `h` the hunts list;
    `f` keeps one case's hits."""

    CSS_PATH = Path(__file__).parent.parent / "views.tcss"
    STATUS_ID = "matrix-status"
    BINDINGS = [
        Binding("enter", "open", "Events", id="matrix.open"),
        Binding("c", "coverage", "Coverage", id="matrix.coverage", tooltip="Hunts per technique instead of hits"),
        Binding("h", "hunts", "Hunts list", id="matrix.hunts", tooltip="Every hunt with its hits and runbook"),
        Binding("escape", "back", "Matrix", id="matrix.back", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pack: list[hunts.Hunt] = []
        self.all_hits: pl.DataFrame | None = None  # every case's hits
        self.hits: pl.DataFrame | None = None  # the hits the case filter keeps
        self.columns: list[hunts.MatrixColumn] = []
        self.waiting: frozenset[str] = frozenset()  # ids of the hunts that wait for IP enrichment

    def compose(self) -> ComposeResult:
        yield Static(Text("ATT&CK matrix: waiting for the case…"), id="matrix-header")
        with Vertical(id="matrix-pane"):
            yield AttackMatrix(id="attack-matrix")
            yield Static(Text(""), id="cell-info")
        with Vertical(id="hunts-pane", classes="hidden"):
            yield HuntList(id="hunt-list")
            with VerticalScroll(id="hunt-detail-scroll"):
                yield Static(Text(""), id="hunt-detail")
        yield Static(Text(""), id="matrix-status")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")

    def on_resize(self) -> None:
        self.set_class(self.size.width >= 120, "-wide")

    def case_loaded(self, loaded: CaseLoaded) -> None:
        """Build the matrix of the case(s) in a worker."""
        self.say("running the hunts…" if loaded.hits is None else "building the matrix…")
        self.build(loaded)

    @work(thread=True, exclusive=True, group="matrix", exit_on_error=False)
    def build(self, loaded: CaseLoaded) -> None:
        """Load the hunt pack (bundled, config `hunts_dirs`, the app's `hunt_dirs`), hunt when the loader did not,
        and lay the hits out on the matrix."""
        try:
            pack = hunt_pack(self.app)
            hits = loaded_hits(self.app, loaded, pack)
            columns = hunts.matrix_cells(hits, pack)
            waiting = frozenset(hunt.id for hunt in waiting_for_enrichment(pack, loaded.enrichment))
        except (HuntSetupError, ConfigError) as error:
            self.app.call_from_thread(self.say, f"cannot build the matrix: {error}")
            return
        except Exception as error:  # said in the status line, never a traceback on screen
            self.app.call_from_thread(self.say, f"cannot build the matrix: {type(error).__name__}: {error}")
            return
        self.app.call_from_thread(self._built, pack, hits, columns, waiting)

    def _built(self, pack: list[hunts.Hunt], hits: pl.DataFrame, columns: list[hunts.MatrixColumn],
               waiting: frozenset[str]) -> None:
        self.pack, self.all_hits, self.hits, self.columns, self.waiting = pack, hits, hits, columns, waiting
        self.show_hits()
        if not self.query_one("#matrix-pane").has_class("hidden"):
            self.query_one(AttackMatrix).focus()
        self.say(f"{hits['record_id'].n_unique():,} events hit · ←→ tactic  ↑↓ technique  Enter events  "
                 f"c coverage  h hunts" + ("  f case" if len(self.case_choices) > 1 else ""))
        self.refresh_bindings()

    def show_hits(self) -> None:
        """Lay the hits the case filter keeps out on the matrix and the hunts list."""
        self.query_one(AttackMatrix).show(self.columns)
        self.query_one(HuntList).show(self.pack, hunt_hit_counts(self.hits), self.waiting)
        self.refresh_header()

    def case_filter_ready(self) -> bool:
        return bool(self.columns)

    def case_filter_changed(self) -> None:
        hits = self.all_hits
        self.hits = hits if self.case_filter is None else hits.filter(pl.col("case") == self.case_filter)
        self.columns = hunts.matrix_cells(self.hits, self.pack)
        self.show_hits()

    # -- state shown ------------------------------------------------------------------------------
    def refresh_header(self) -> None:
        """Case, ATT&CK version, hunts with hits, and whether hits or coverage is shown."""
        cells = [cell for column in self.columns for cell in column.cells]
        hunted = len(hunt_hit_counts(self.hits)) if self.hits is not None else 0
        covered = sum(cell.has_hunt for cell in cells)
        mode = (f"coverage: {covered} of {len(cells)} techniques have hunts" if self.query_one(AttackMatrix).coverage
                else f"{hunted} of {len(self.pack)} hunts hit")
        if self.waiting:
            mode += f", {len(self.waiting)} {'needs' if len(self.waiting) == 1 else 'need'} IP enrichment"
        parts = [self.loaded.case.name, f"ATT&CK v{attack.ATTACK_VERSION} {attack.PLATFORM}", mode]
        if len(self.case_choices) > 1:
            parts.append(f"showing: {self.case_scope}")
        self.query_one("#matrix-header", Static).update(Text(visible(" │ ".join(parts))))

    def on_attack_matrix_highlighted(self, message: AttackMatrix.Highlighted) -> None:
        cell, tactic = message.cell, message.column.tactic
        lines = [f"{tactic.name} ({tactic.id}) › {cell.technique_id} {cell.technique}"]
        if cell.hits:
            lines.append(f"{cell.hits} hits, highest severity {cell.severity} — Enter opens the events")
        elif cell.has_hunt:
            lines.append(f"no hits; {len(cell.hunt_ids)} hunt(s) cover this technique")
        else:
            lines.append("no hunt covers this technique")
        info = Text(visible("\n".join(lines), keep_newlines=True) + "\n")
        if cell.hunt_titles:
            info.append(visible("hunts: " + "; ".join(cell.hunt_titles)))
        else:
            info.append_text(self.query_one(AttackMatrix).legend())
        self.query_one("#cell-info", Static).update(info)
        self.refresh_bindings()

    def on_data_table_row_highlighted(self, message: HuntList.RowHighlighted) -> None:
        hunt = self.query_one(HuntList).current
        if hunt is None:
            return
        pairs = "; ".join(f"{pair.tactic} › {pair.technique_id} {pair.technique}" for pair in hunt.attack)
        text = Text()
        text.append(visible(hunt.title), style="bold")
        text.append(f"\n{hunt.id} · {hunt.severity} · {visible(pairs)}\n\n")
        text.append(visible(paragraphs(hunt.description), keep_newlines=True))
        if hunt.id in self.waiting:
            text.append("\n\nWaits for IP enrichment: ", style="bold yellow")
            text.append("no IP of the case has a hosting verdict, so this hunt cannot fire. Enrich online (R in "
                        "the IPs view, F4, or `workbench enrich PATH...`), or import lookups made elsewhere "
                        "(`workbench enrich --import FILE`); then reopen the case.")
        text.append("\n\nRunbook\n", style="bold")
        text.append(visible(paragraphs(hunt.runbook), keep_newlines=True))
        self.query_one("#hunt-detail", Static).update(text)

    def on_data_table_row_selected(self, message: HuntList.RowSelected) -> None:
        message.stop()
        self.open_hunt()

    # -- actions ----------------------------------------------------------------------------------
    @property
    def hunts_shown(self) -> bool:
        """True while the hunts list replaces the matrix."""
        return not self.query_one("#hunts-pane").has_class("hidden")

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "cycle_case":
            return super().check_action(action, parameters)
        if action in {"open", "coverage", "hunts"} and not self.columns:
            return False
        if action == "back":
            return self.hunts_shown
        if action == "coverage" and self.hunts_shown:
            return None
        if action == "open" and not self.hunts_shown:
            current = self.query_one(AttackMatrix).current
            return True if current is not None and current[1].hits else None
        return True

    def cell_record_ids(self, column: hunts.MatrixColumn, cell: hunts.MatrixCell) -> list[str]:
        """Distinct record ids of the hits in one cell, in time order."""
        rows = hunts.hit_pairs(self.hits).filter((pl.col("tactic_id") == column.tactic.id)
                                                 & (pl.col("matrix_technique_id") == cell.technique_id))
        return rows.sort("creation_time")["record_id"].unique(maintain_order=True).to_list()

    def action_open(self) -> None:
        if self.hunts_shown:
            self.open_hunt()
            return
        column, cell = self.query_one(AttackMatrix).current
        self.app.show_events(f"{column.tactic.name} › {cell.technique_id} {cell.technique}",
                             self.cell_record_ids(column, cell))

    def open_hunt(self) -> None:
        """Open the events the hunt under the cursor hit."""
        hunt = self.query_one(HuntList).current
        if hunt is None:
            return
        rows = self.hits.filter(pl.col("hunt_id") == hunt.id).sort("creation_time")
        if rows.is_empty():
            self.say(f"{hunt.title}: no hits")
            return
        self.app.show_events(f"hunt {hunt.title}", rows["record_id"].unique(maintain_order=True).to_list())

    def action_coverage(self) -> None:
        matrix = self.query_one(AttackMatrix)
        matrix.coverage = not matrix.coverage
        matrix.move_to(*matrix.cursor)  # redraws the cell line and its legend
        self.refresh_header()
        self.say("coverage: hunts per technique (– none); c shows hits" if matrix.coverage
                 else "hits per technique, coloured by the highest severity; c shows coverage")

    def action_hunts(self) -> None:
        showing = not self.hunts_shown
        self.query_one("#hunts-pane").set_class(not showing, "hidden")
        self.query_one("#matrix-pane").set_class(showing, "hidden")
        self.query_one(HuntList if showing else AttackMatrix).focus()
        self.say("hunts by events hit · Enter opens a hunt's events · h or Esc: matrix" if showing
                 else "matrix · h: hunts list")
        self.refresh_bindings()

    def action_back(self) -> None:
        if self.hunts_shown:
            self.action_hunts()
