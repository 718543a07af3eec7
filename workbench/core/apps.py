"""Names of Microsoft's first-party applications by application id, for the ids the audit log writes bare.

The table `first_party_apps.tsv` (app_id, name, reference) lists the ids a BEC responder meets in the
unified audit log (`AppId`, `ApplicationId`, `ClientAppId`) and the sign-ins, each with the page it was
taken from: mostly Microsoft Learn's "Verify first-party Microsoft applications in sign-in reports",
whose names are the display names Entra ID gives these apps. Ids are lower-case GUIDs; an id absent
from the table (a third-party or the tenant's own app) has no name.
"""

from pathlib import Path

import polars as pl

_TABLE_PATH = Path(__file__).with_name("first_party_apps.tsv")
_SCHEMA = {"app_id": pl.String, "name": pl.String, "reference": pl.String}


def load_table() -> pl.DataFrame:
    """The first-party application table as a frame of app_id (lower-case), name and reference."""
    return pl.read_csv(_TABLE_PATH, separator="\t", schema=_SCHEMA, quote_char=None)


#: The application table, read once at import.
TABLE = load_table()
_NAME_BY_ID = dict(zip(TABLE["app_id"], TABLE["name"]))


def normalised_app_id(expr: pl.Expr) -> pl.Expr:
    """Application ids as the table keys them: trimmed, lower-cased, braces removed; null for blank."""
    return expr.str.strip_chars(" \t{}").str.to_lowercase().replace("", None)


def first_party_name(ids: pl.Expr) -> pl.Expr:
    """The first-party name of each (normalised) application id, null when the table does not know it."""
    return ids.replace_strict(_NAME_BY_ID, default=None, return_dtype=pl.String)
