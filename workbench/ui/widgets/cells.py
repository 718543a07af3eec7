"""Provides `fit`: text cut or padded to one table cell, shared by the line-rendered tables."""


def fit(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)
