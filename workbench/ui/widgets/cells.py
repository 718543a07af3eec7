"""Provides `fit` (text cut or padded to one table cell) and `first_that_fits` (a header for the width)."""


def fit(text: str, width: int) -> str:
    """`text` cut (with an ellipsis) or padded to exactly `width` cells."""
    if len(text) > width:
        return text[: max(0, width - 1)] + "…"
    return text.ljust(width)


def first_that_fits(width: int, *variants: str) -> str:
    """The first of `variants` (fullest first) no longer than `width`; the last one when none is."""
    return next((text for text in variants if len(text) <= width), variants[-1])
