"""Provides `fit` (text cut or padded to one table cell), `cell` (log text made inert and fitted) and
`first_that_fits` (a header for the width)."""

from workbench.core.inert import visible


def fit(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


def cell(text: str, width: int) -> str:
    """Log text made inert and fitted to `width` cells; only what can show is escaped (a value may be 50 MB)."""
    return fit(visible(text[: width + 1]), width)


def first_that_fits(width: int, *variants: str) -> str:
    """The first of `variants` (fullest first) no longer than `width`; the last one when none is."""
    return next((text for text in variants if len(text) <= width), variants[-1])
