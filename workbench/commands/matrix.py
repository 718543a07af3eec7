"""Provides `workbench matrix`: hunt hits on the ATT&CK Office Suite matrix, and Navigator layers."""

import argparse
import os
import sys
import tempfile
from pathlib import Path

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

import hunts
from hunts import attack
from workbench.commands.common import add_format_argument, add_input_arguments
from workbench.commands.hunt import SEVERITY_STYLE, add_hunts_argument, hunts_and_hits
from workbench.core.inert import visible
from workbench.core.table_fit import Column, console, print_rows, print_table

HELP = "the ATT&CK tactic x technique matrix of hunt hits; optionally an ATT&CK Navigator layer"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `matrix`."""
    add_input_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("--navigator", type=Path, metavar="FILE", help="also write an ATT&CK Navigator layer (JSON)")
    add_format_argument(parser)


def _cell(cell: hunts.MatrixCell) -> Text:
    label = f"{cell.technique_id} {_name(cell)}"
    if cell.hits:
        return Text(f"{label} ({cell.hits})", style=SEVERITY_STYLE[cell.severity])
    return Text(label, style="" if cell.has_hunt else "dim")


def _name(cell: hunts.MatrixCell) -> str:
    """The technique's own name (a sub-technique's without its parent's)."""
    return cell.technique.split(": ")[-1]


GRID_MIN_WIDTH = 176
#: The stacked list's columns, most wanted first.
LIST_COLUMNS = [
    Column("tactic_shown", "tactic", 14), Column("technique_id", "technique", 9, style="style"),
    Column("hits_shown", "hits", 4, style="style"), Column("name", min_width=12, style="style"),
]


def matrix_frame(columns: list[hunts.MatrixColumn]) -> pl.DataFrame:
    """One row per (tactic, technique) in matrix order: hits, highest severity, whether a hunt covers it, which."""
    return pl.DataFrame(
        [{"tactic_id": column.tactic.id, "tactic": column.tactic.name, "technique_id": cell.technique_id,
          "technique": cell.technique, "name": _name(cell), "hits": cell.hits, "severity": cell.severity,
          "has_hunt": cell.has_hunt, "hunt_ids": list(cell.hunt_ids)}
         for column in columns for cell in column.cells],
        schema={"tactic_id": pl.String, "tactic": pl.String, "technique_id": pl.String, "technique": pl.String,
                "name": pl.String, "hits": pl.Int64, "severity": pl.String, "has_hunt": pl.Boolean,
                "hunt_ids": pl.List(pl.String)},
    )


def render(columns: list[hunts.MatrixColumn], console: Console) -> None:
    """Tactics as columns (a list of techniques, fitted, on terminals too narrow for 11 columns); hits coloured by
    severity; no hunt: dim. Grid cells wrap between words; a word wider than its column ends in an ellipsis."""
    title = f"ATT&CK v{attack.ATTACK_VERSION} {attack.PLATFORM}: hunt hits"
    if console.width < GRID_MIN_WIDTH:
        frame = matrix_frame(columns)
        print_table(frame.with_columns(
            pl.when(pl.col("tactic").ne_missing(pl.col("tactic").shift())).then(pl.col("tactic")).otherwise(pl.lit(""))
            .alias("tactic_shown"),
            pl.when(pl.col("hits") > 0).then(pl.col("hits").cast(pl.String)).otherwise(pl.lit("")).alias("hits_shown"),
            pl.when(pl.col("hits") > 0).then(pl.col("severity").replace_strict(SEVERITY_STYLE, default=""))
            .when(pl.col("has_hunt")).then(pl.lit("")).otherwise(pl.lit("dim")).alias("style"),
        ), LIST_COLUMNS, title=title, output=console)
        return
    table = Table(title=Text(title), expand=True)
    for column in columns:
        hits = sum(cell.hits for cell in column.cells)
        table.add_column(Text(f"{column.tactic.name} ({hits})"), overflow="ellipsis")
    depth = max(len(column.cells) for column in columns)
    for index in range(depth):
        table.add_row(*(_cell(column.cells[index]) if index < len(column.cells) else Text("") for column in columns))
    console.print(table)


def write_atomic(path: Path, text: str) -> None:
    """Write text to `path` through a temp file in the same folder and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def run(args: argparse.Namespace) -> int:
    """Load (or reuse) the case, run the hunts and print the matrix."""
    pack, hits = hunts_and_hits(args, quiet=args.format != "table")
    columns = hunts.matrix_cells(hits, pack)
    if args.format == "table":
        render(columns, console())
    else:
        print_rows(matrix_frame(columns), args.format)
    if args.navigator:
        write_atomic(args.navigator, hunts.navigator_layer(columns, f"workbench hunts: {', '.join(map(str, args.paths))}"))
        print(visible(f"Navigator layer written to {args.navigator}"), file=sys.stderr)
    return 0
