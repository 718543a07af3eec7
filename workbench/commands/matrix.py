"""Provides `workbench matrix`: hunt hits on the ATT&CK Office Suite matrix, and Navigator layers."""

import argparse
import os
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

import hunts
from hunts import attack
from workbench.commands.common import add_input_arguments
from workbench.commands.hunt import SEVERITY_STYLE, add_hunts_argument, hunts_and_hits
from workbench.core.inert import visible

HELP = "the ATT&CK tactic x technique matrix of hunt hits; optionally an ATT&CK Navigator layer"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of `matrix`."""
    add_input_arguments(parser)
    add_hunts_argument(parser)
    parser.add_argument("--navigator", type=Path, metavar="FILE", help="also write an ATT&CK Navigator layer (JSON)")


def _cell(cell: hunts.MatrixCell) -> Text:
    label = f"{cell.technique_id} {cell.technique.split(': ')[-1]}"
    if cell.hits:
        return Text(f"{label} ({cell.hits})", style=SEVERITY_STYLE[cell.severity])
    return Text(label, style="" if cell.has_hunt else "dim")


GRID_MIN_WIDTH = 176


def render(columns: list[hunts.MatrixColumn], console: Console) -> None:
    """Tactics as columns (a stacked list on terminals too narrow for 11 columns); hits coloured by severity; no hunt: dim."""
    title = Text(f"ATT&CK v{attack.ATTACK_VERSION} {attack.PLATFORM}: hunt hits")
    if console.width < GRID_MIN_WIDTH:
        table = Table(title=title)
        table.add_column("tactic")
        table.add_column("technique")
        for column in columns:
            for index, cell in enumerate(column.cells):
                table.add_row(Text(column.tactic.name if index == 0 else ""), _cell(cell), end_section=index == len(column.cells) - 1)
        console.print(table)
        return
    table = Table(title=title, expand=True)
    for column in columns:
        hits = sum(cell.hits for cell in column.cells)
        table.add_column(Text(f"{column.tactic.name} ({hits})"), overflow="fold")
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
    pack, hits = hunts_and_hits(args, quiet=False)
    columns = hunts.matrix_cells(hits, pack)
    render(columns, Console())
    if args.navigator:
        write_atomic(args.navigator, hunts.navigator_layer(columns, f"workbench hunts: {', '.join(map(str, args.paths))}"))
        Console().print(Text(visible(f"Navigator layer written to {args.navigator}")))
    return 0
