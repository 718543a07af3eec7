"""Provides `SchemaPane`: the SQL mode's tables, their columns and types, and what each column means."""

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static, Tree

from workbench.core.sql import EVENTS_ALIAS, EVENTS_TABLE

#: One table's columns: (name, SQL type, one-line meaning).
Columns = list[tuple[str, str, str]]


class SchemaPane(Vertical):
    """A tree of the tables a query may name (the events table first and open), each column with its type and
    meaning; the column under the cursor is explained in full below. Enter on a column chooses it."""

    class NameChosen(Message):
        """A column was chosen (Enter): its name is to go into the editor."""

        def __init__(self, name: str) -> None:
            super().__init__()
            self.name = name

    DEFAULT_CSS = """
    SchemaPane { width: 42%; min-width: 30; border-left: solid $primary; }
    SchemaPane Tree { height: 1fr; }
    SchemaPane #schema-meaning { height: auto; max-height: 5; background: $panel; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        tree: Tree[tuple[str, str, str, str] | None] = Tree(Text("tables"), id="schema-tree")
        tree.show_root = False
        tree.guide_depth = 2
        yield tree
        yield Static(Text("waiting for the case's tables…"), id="schema-meaning")

    def show(self, schema: dict[str, Columns]) -> None:
        """List these tables (by name, each with its columns); the events alias stands for its long name."""
        tree = self.query_one(Tree)
        tree.clear()
        tables = sorted((name for name in schema if name != EVENTS_TABLE), key=lambda name: name != EVENTS_ALIAS)
        for table in tables:
            label = Text.assemble((table, "bold"), f"  {len(schema[table])} columns")
            if table == EVENTS_ALIAS:
                label.append(f" (= {EVENTS_TABLE})", style="dim")
            node = tree.root.add(label, data=None, expand=table == EVENTS_ALIAS)
            for name, kind, meaning in schema[table]:
                node.add_leaf(Text.assemble(name, " ", (kind, "dim"), "  ", (meaning, "italic dim")),
                              data=(table, name, kind, meaning))
        tree.move_cursor(tree.root.children[0] if tree.root.children else None)
        self.query_one("#schema-meaning", Static).update(
            Text("enter on a column puts its name in the editor; on a table opens or closes it"))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        event.stop()
        if event.node.data is not None:
            table, name, kind, meaning = event.node.data
            self.query_one("#schema-meaning", Static).update(
                Text.assemble((f"{table}.{name}", "bold"), f" {kind}\n", meaning or "(no description)"))

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data is not None:
            self.post_message(self.NameChosen(event.node.data[1]))
