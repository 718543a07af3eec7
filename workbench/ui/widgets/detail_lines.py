"""Provides the lines a drill-down is written in: section titles and `name: value` pairs, inert and cut to a
display limit with the size of the rest stated."""

from rich.text import Text

from workbench.core import bounded
from workbench.core.inert import visible


def section(text: Text, title: str) -> None:
    """A section title."""
    text.append(f"\n{title}\n", style="bold underline")


def value(text: Text, shown: str, limit: int = bounded.VALUE_LIMIT) -> None:
    """`shown` made inert, cut to `limit` characters with the size of the rest stated."""
    head, rest = bounded.cut(shown, limit)
    text.append(visible(head))
    if rest:
        text.append(bounded.more(rest), style="italic")


def pair(text: Text, name: str, shown: str, arrow: str = ": ", limit: int = bounded.VALUE_LIMIT) -> None:
    """One indented `name: value` line."""
    text.append("  ")
    text.append(visible(bounded.shorten(name, 200)), style="bold")
    text.append(arrow)
    value(text, shown, limit)
    text.append("\n")
