"""Entra ID sign-in status codes (AADSTS numbers, `errorCode` / `ResultType`) as success, failure or interrupt.

The table `signin_status.tsv` (code, kind, meaning, reference) lists the codes a BEC responder meets,
each with a short meaning in our own words and the Microsoft Learn page it was taken from (mostly
the "Microsoft Entra authentication and authorization error codes" page).

Kinds. 0 is `success`. The sign-in log shows a third status beside success and failure,
"Interrupted": Microsoft's security-operations guide describes an interrupt as a process injected
into the sign-in to satisfy authentication (an MFA or Conditional Access control, say), normal on
its own. So `interrupt` here is a code for a step of a sign-in that goes on: a prompt (KMSI 50140,
app confirmation 50199, account selection 16000/16001), MFA or security-info registration required
(50074, 50076, 50078, 50072, 50079, 50158), a device or registration step (50097, 50129), silent SSO
that must turn interactive (50058, 81010, 700020), password reset or change (50125, 50135) and the
like. Several carry "Interrupt" in their Microsoft names (50072, 50074, 50125, 50140, 50199, 90095).
`failure` is a refusal or a failed step: bad or expired credentials, lockout, a Conditional Access
block, an expired or revoked token, app or protocol errors. 500121 (the MFA attempt itself failed:
denied, timed out, wrong code) is a failure here although the security-operations guide files it
under "Interrupted"; the sign-in does not go on.

A code absent from the table counts as a failure, its meaning "error <code> (not in the table)".
"""

from pathlib import Path

import polars as pl

#: Every value `status_kind` can return, besides null.
STATUS_KINDS = ("success", "failure", "interrupt")

_TABLE_PATH = Path(__file__).with_name("signin_status.tsv")
_SCHEMA = {"code": pl.Int64, "kind": pl.String, "meaning": pl.String, "reference": pl.String}


def load_table() -> pl.DataFrame:
    """The status table as a frame of code (Int64), kind, meaning and reference."""
    return pl.read_csv(_TABLE_PATH, separator="\t", schema=_SCHEMA, quote_char=None)


#: The status table, read once at import.
TABLE = load_table()
_KIND_BY_CODE = dict(zip(TABLE["code"], TABLE["kind"]))
_MEANING_BY_CODE = dict(zip(TABLE["code"], TABLE["meaning"]))


def status_kind(code: pl.Expr) -> pl.Expr:
    """Kind of each code: "success" for 0, the table's kind if known, else "failure"; null for null."""
    code = code.cast(pl.Int64)
    known = code.replace_strict(_KIND_BY_CODE, default=pl.lit("failure"), return_dtype=pl.String)
    # The first branch names the result after the input column; null stays null (no `otherwise`).
    return pl.when(code != 0).then(known).when(code == 0).then(pl.lit("success"))


def status_words(code: int) -> str:
    """One code as the drill-downs say it: `50140 interrupt: <meaning>` (`status_kind`, `status_meaning`)."""
    value = pl.lit(code, pl.Int64)
    kind, meaning = pl.select(status_kind(value).alias("kind"), status_meaning(value).alias("meaning")).row(0)
    return f"{code} {kind}: {meaning}"


def status_meaning(code: pl.Expr) -> pl.Expr:
    """Meaning of each code: the table's, or "error <code> (not in the table)"; null for null."""
    code = code.cast(pl.Int64)
    unknown = pl.format("error {} (not in the table)", code)
    known = code.replace_strict(_MEANING_BY_CODE, default=unknown, return_dtype=pl.String)
    return pl.when(code.is_not_null()).then(known)
