"""Provides the indicators an event carries, as one long frame: (record_id, kind, field, value, key, account).

Kinds: `ip` (client IP, and IPs put on an allow list), `asn` (when enrichment is cached), `user_agent`
(without the `Client=OWA;` style prefix), `rule_name` (inbox and transport rules), `rule_keyword`
(the `...ContainsWords` terms of a rule, split on `;`), `recipient` (forwarding, redirect, copy and
moderation addresses), `allow_list` (spoofed senders, sending infrastructure, allowed senders, domains
and IPs) and `subject` (a mail subject, attributed to the mailbox that holds it; `evidence` is true
only when someone other than the owner touched it). `account` is who the indicator counts against
when measuring how common it is: the acting account, or for subjects the mailbox. System actors are
left out. Everything is vectorised; the JSON text columns are decoded with declared dtypes.
"""

import polars as pl

from hunts.predicates import decoded_columns, people_expr

INDICATOR_SCHEMA = {
    "record_id": pl.String(), "kind": pl.String(), "field": pl.String(), "value": pl.String(),
    "key": pl.String(), "account": pl.String(), "actor": pl.String(), "evidence": pl.Boolean(),
}
RULE_OPERATIONS = r"(?i)^(new|set|enable|disable|remove)-(transport|inbox)rule$"
RECIPIENT_PARAMETERS = (
    "RedirectMessageTo", "ForwardTo", "ForwardAsAttachmentTo", "ForwardingSmtpAddress", "ForwardingAddress",
    "BlindCopyTo", "CopyTo", "AddToRecipients", "ModerateMessageByUser", "RedirectTo", "AddManagerAsRecipientType",
)
ALLOW_LIST_PARAMETERS = (
    "SpoofedUser", "SendingInfrastructure", "Entries", "IPAllowList", "AllowedSenderDomains", "AllowedSenders",
)
_IPV4 = r"^\d{1,3}(?:\.\d{1,3}){3}(?:/\d{1,2})?$"
_IPV6 = r"^[0-9a-f]*:[0-9a-f:.]*(?:/\d{1,3})?$"


def normalised_user_agent(column: str = "user_agent") -> pl.Expr:
    """The user agent without Exchange's `Client=NAME;` prefix and trailing `;`."""
    return pl.col(column).str.replace(r"^Client=[^;]+;", "").str.strip_chars().str.strip_chars_end(";").str.strip_chars()


def _params(names: tuple[str, ...] | None, name_pattern: str | None = None) -> pl.Expr:
    """(name, value) structs of the decoded `_params` whose Name is in `names` (or matches the pattern)."""
    name = pl.element().struct.field("Name")
    wanted = name.is_in(list(names)) if names else name.str.contains(name_pattern)
    return pl.col("_params").list.eval(pl.element().filter(wanted & pl.element().struct.field("Value").is_not_null()))


def _long(frame: pl.DataFrame, kind: str, fields: pl.Expr, split: str | None) -> pl.DataFrame:
    """Explode a list of {Name, Value} structs into rows of `kind`, splitting values on `split`."""
    rows = frame.select("record_id", "user_key", fields.alias("_p")).explode("_p").drop_nulls("_p").select(
        "record_id", "user_key",
        pl.col("_p").struct.field("Name").alias("field"),
        pl.col("_p").struct.field("Value").alias("value"),
    )
    if split:
        rows = rows.with_columns(pl.col("value").str.replace_all(split, "\x00").str.split("\x00")).explode("value")
    return rows.with_columns(pl.lit(kind).alias("kind"))


def _finish(rows: pl.DataFrame) -> pl.DataFrame:
    """Trimmed, non-empty values with their lower-case key, in the declared schema."""
    value = pl.col("value").str.strip_chars().str.strip_chars('"')
    rows = rows.with_columns(value.alias("value")).filter(pl.col("value").is_not_null() & (pl.col("value") != ""))
    rows = rows.with_columns(pl.col("value").str.to_lowercase().str.replace(r"^smtp:", "").alias("key"))
    for column in ("account", "actor"):
        if column not in rows.columns:
            rows = rows.with_columns(pl.col("user_key").alias(column))
    if "evidence" not in rows.columns:
        rows = rows.with_columns(pl.lit(True).alias("evidence"))
    return rows.select(list(INDICATOR_SCHEMA)).cast(INDICATOR_SCHEMA)


def _parameter_indicators(events: pl.DataFrame) -> pl.DataFrame:
    """Rule names, rule keywords, recipients and allow-list entries from `parameters`."""
    decoded = events.filter(pl.col("parameters").is_not_null()).with_columns(decoded_columns({"_params"}))
    decoded = decoded.filter(pl.col("_params").is_not_null())
    rules = decoded.filter(pl.col("operation").str.contains(RULE_OPERATIONS))
    rule_names = pl.when(pl.col("operation").str.to_lowercase().str.starts_with("new-")).then(
        _params(("Name",))).otherwise(_params(("Identity",)))
    allow = _long(decoded, "allow_list", _params(ALLOW_LIST_PARAMETERS), r"[;,]")
    allow_ips = allow.filter(pl.col("value").str.strip_chars().str.to_lowercase().str.contains(f"{_IPV4}|{_IPV6}"))
    return pl.concat([
        _long(rules, "rule_name", rule_names, None),
        _long(rules, "rule_keyword", _params(None, r"ContainsWords$"), r";"),
        _long(decoded, "recipient", _params(RECIPIENT_PARAMETERS), r"[;,]"),
        allow,
        allow_ips.with_columns(pl.lit("ip").alias("kind")),
    ])


def _subject_indicators(events: pl.DataFrame) -> pl.DataFrame:
    """Mail subjects, counted against the mailbox; evidence when the actor is not the owner."""
    mail = events.filter(pl.col("item").is_not_null() | pl.col("affected_items").is_not_null())
    owner = pl.coalesce(pl.col("mailbox_owner_upn").str.to_lowercase(), pl.col("user_key"))
    return mail.with_columns(decoded_columns({"_subjects"})).select(
        "record_id", "user_key",
        pl.lit("subject").alias("kind"), pl.lit("Subject").alias("field"),
        pl.col("_subjects").str.split("\n").alias("value"),
        owner.alias("account"), pl.col("user_key").alias("actor"), (pl.col("user_key") != owner).alias("evidence"),
    ).explode("value")


def _column_indicators(events: pl.DataFrame, enrichment: pl.DataFrame | None) -> list[pl.DataFrame]:
    base = events.select("record_id", "user_key", "client_ip", "session_id", normalised_user_agent().alias("_ua"))
    parts = [
        base.select("record_id", "user_key", pl.lit("ip").alias("kind"), pl.lit("client_ip").alias("field"),
                    pl.col("client_ip").alias("value")),
        base.select("record_id", "user_key", pl.lit("session").alias("kind"), pl.lit("session_id").alias("field"),
                    pl.col("session_id").alias("value")),
        base.select("record_id", "user_key", pl.lit("user_agent").alias("kind"), pl.lit("user_agent").alias("field"),
                    pl.col("_ua").alias("value")),
    ]
    if enrichment is not None and "asn" in enrichment.columns:
        asn = enrichment.select(
            pl.col("ip").alias("client_ip"),
            pl.when(pl.col("asn").is_not_null()).then(
                pl.concat_str(pl.lit("AS"), pl.col("asn").cast(pl.String), pl.lit(" "), pl.col("as_name").fill_null(""))
            ).alias("value"),
        ).drop_nulls("value")
        parts.append(base.join(asn, on="client_ip").select(
            "record_id", "user_key", pl.lit("asn").alias("kind"), pl.lit("client_ip").alias("field"), "value"))
    return parts


def indicator_rows(events: pl.DataFrame, enrichment: pl.DataFrame | None = None, people_only: bool = True) -> pl.DataFrame:
    """Every indicator of every event, one row each; events by system actors left out unless `people_only` is False."""
    people = events.filter(people_expr()) if people_only else events
    parts = [*_column_indicators(people, enrichment), _parameter_indicators(people), _subject_indicators(people)]
    return pl.concat([_finish(part) for part in parts])
