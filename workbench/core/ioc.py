"""Provides the IOC sweep: read a list of indicators and flag the events that carry one, saying where.

An IOC file is text (one indicator per line, `#` starts a comment line, defanged `1.2.3[.]4` and
`hxxp` accepted) or CSV with a column `indicator` and optionally `type`. Types: `ip`, `cidr`,
`domain` (matches the domain and its subdomains, also as the domain of an address), `email`,
`user_agent` (matches agents that contain it), `session` (a sign-in session id, as the UAL's `AADSessionId`
and the sign-ins' session id carry it) and `rule_name`; a line without a type is classified by its shape (a
GUID is a session), and anything that is not an address, network, domain, agent or GUID is a rule name.
Matching is joins over the distinct observed values; CIDRs are tested once per distinct IP.
"""

import csv
import io
import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from workbench.core.indicators import indicator_rows, normalised_user_agent
from workbench.core.memory import in_batches

TYPES = ("ip", "cidr", "domain", "email", "user_agent", "session", "rule_name")
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DOMAIN = re.compile(r"^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_AGENT = re.compile(r"^[A-Za-z][\w.+-]*/\S")
#: Addresses, host names and IPv4 addresses anywhere in a record's `parameters` text.
_TOKENS = r"[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}|\d{1,3}(?:\.\d{1,3}){3}"
MATCH_SCHEMA = {
    "record_id": pl.String(), "creation_time": pl.Datetime("us", "UTC"), "case": pl.String(), "user_id": pl.String(),
    "operation": pl.String(), "client_ip": pl.String(), "indicator": pl.String(), "type": pl.String(),
    "field": pl.String(), "matched": pl.String(),
}
#: The columns of the events the sweep reads: the match's own and those the observables are found in.
SWEPT = ("record_id", "creation_time", "case", "user_id", "operation", "client_ip", "user_key", "mailbox_owner_upn",
         "object_id", "user_agent", "session_id", "parameters", "item", "affected_items")


class IocFileError(ValueError):
    """An IOC file that cannot be read; the message names the file and each bad line."""


@dataclass(frozen=True)
class Ioc:
    """One indicator: its text (refanged, as given), its type and the line it came from."""

    value: str
    type: str
    line: int

    @property
    def key(self) -> str:
        """The lower-case form events are compared with (IPs and networks in canonical form)."""
        if self.type == "ip":
            return str(ipaddress.ip_address(self.value))
        if self.type == "cidr":
            return str(ipaddress.ip_network(self.value, strict=False))
        return self.value.lower()


def refang(text: str) -> str:
    """`1.2.3[.]4`, `example(.)com`, `user[@]example.com`, `hxxp` made usable again."""
    text = re.sub(r"\[\.\]|\(\.\)|\{\.\}", ".", text)
    text = re.sub(r"\[@\]|\(@\)", "@", text)
    return re.sub(r"^hxxp", "http", text, flags=re.IGNORECASE)


def classify(text: str) -> str:
    """The type of an indicator by its shape."""
    try:
        ipaddress.ip_address(text)
        return "ip"
    except ValueError:
        pass
    if "/" in text:
        try:
            ipaddress.ip_network(text, strict=False)
            return "cidr"
        except ValueError:
            pass
    lowered = text.lower()
    if _GUID.match(lowered):
        return "session"
    if _EMAIL.match(lowered):
        return "email"
    if _DOMAIN.match(lowered):
        return "domain"
    if _AGENT.match(text):
        return "user_agent"
    return "rule_name"


def _checked(value: str, kind: str, line: int, source: Path, problems: list[str]) -> Ioc | None:
    kind = (kind or classify(value)).strip().lower().replace("-", "_").replace(" ", "_")
    if kind not in TYPES:
        problems.append(f"{source}:{line}: type {kind!r}: expected one of {', '.join(TYPES)}")
        return None
    ioc = Ioc(value, kind, line)
    try:
        ioc.key
    except ValueError as error:
        problems.append(f"{source}:{line}: {value!r} is not a valid {kind}: {error}")
        return None
    return ioc


def parse_iocs(text: str, source: Path = Path("<iocs>")) -> list[Ioc]:
    """The indicators of an IOC file's text; raises IocFileError listing every bad line."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    header = next((line for line in lines if line.strip() and not line.lstrip().startswith("#")), "")
    is_csv = "indicator" in [cell.strip().lower() for cell in next(csv.reader([header]), [])]
    problems: list[str] = []
    iocs: list[Ioc] = []
    if is_csv:
        body = [(number, line) for number, line in enumerate(lines, 1) if not line.lstrip().startswith("#")]
        reader = csv.DictReader(io.StringIO("\n".join(line for _, line in body)))
        reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
        for (number, _), row in zip(body[1:], reader):
            value = refang((row.get("indicator") or "").strip())
            if value:
                iocs.append(_checked(value, row.get("type") or "", number, source, problems))
    else:
        for number, line in enumerate(lines, 1):
            value = refang(line.strip())
            if value and not value.startswith("#"):
                iocs.append(_checked(value, "", number, source, problems))
    if problems:
        raise IocFileError("\n".join(problems))
    return list({(ioc.type, ioc.key): ioc for ioc in iocs if ioc is not None}.values())


def read_iocs(path: Path) -> list[Ioc]:
    """The indicators of an IOC file (text or CSV)."""
    try:
        return parse_iocs(path.read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as error:
        raise IocFileError(f"{path}: cannot read the IOC file: {error}") from error


def observables(events: pl.DataFrame) -> pl.DataFrame:
    """(record_id, kind, field, key) for every value of an event an indicator can match.

    Named fields first (client IP, accounts, agents, rule names, recipients, allow-list entries);
    then every address, host name and IPv4 address in the `parameters` text (field `parameters`).
    """
    columns = [
        ("ip", "client_ip", pl.col("client_ip")),
        ("address", "user_id", pl.col("user_key")),
        ("address", "mailbox_owner_upn", pl.col("mailbox_owner_upn")),
        ("address", "object_id", pl.col("object_id")),
        ("user_agent", "user_agent", pl.col("user_agent")),
        ("user_agent", "user_agent", normalised_user_agent()),
        ("session", "session_id", pl.col("session_id")),
    ]
    parts = [events.select("record_id", pl.lit(kind).alias("kind"), pl.lit(name).alias("field"),
                           expr.str.to_lowercase().alias("key")) for kind, name, expr in columns]
    extracted = indicator_rows(events, people_only=False).filter(
        pl.col("kind").is_in(["ip", "rule_name", "recipient", "allow_list"]))
    parts.append(extracted.select(
        "record_id",
        pl.col("kind").replace({"recipient": "address", "allow_list": "address"}),
        "field", "key"))
    tokens = events.select("record_id", pl.col("parameters").str.to_lowercase().str.extract_all(_TOKENS).alias("key"))
    parts.append(tokens.explode("key").select(
        "record_id",
        pl.when(pl.col("key").str.contains(r"^[\d.]+$")).then(pl.lit("ip")).otherwise(pl.lit("address")).alias("kind"),
        pl.lit("parameters").alias("field"), "key"))
    return pl.concat(parts).drop_nulls("key").filter(pl.col("key") != "").unique()


def _pairs(values: pl.Series, iocs: list[Ioc], test) -> pl.DataFrame:
    """(key, indicator key) for each distinct observed value that `test(value, ioc)` accepts."""
    rows = [(value, ioc.key) for value in values.unique().to_list() for ioc in iocs if test(value, ioc)]
    return pl.DataFrame(rows, schema={"key": pl.String, "ioc_key": pl.String}, orient="row")


def _in_network(value: str, ioc: Ioc) -> bool:
    try:
        return ipaddress.ip_address(value) in ipaddress.ip_network(ioc.key, strict=False)
    except ValueError:
        return False


def _domain_of(value: str) -> str:
    return value.rsplit("@", 1)[-1]


def ioc_matches(events: pl.DataFrame | pl.LazyFrame, iocs: list[Ioc]) -> pl.DataFrame:
    """One row per (event, indicator, field) where the event carries the indicator, in time order; the events (in
    memory, or a case's scan) read a batch at a time (`memory.in_batches`), only the columns the sweep reads."""
    table = pl.DataFrame([(ioc.key, ioc.value, ioc.type) for ioc in iocs],
                         schema={"ioc_key": pl.String, "indicator": pl.String, "type": pl.String}, orient="row")
    found = [_matches(part, iocs, table) for part in in_batches(events, SWEPT)]
    found = [part for part in found if part.height]
    if not found:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    return pl.concat(found).sort("creation_time", "record_id", "indicator", "field")


def _matches(events: pl.DataFrame, iocs: list[Ioc], table: pl.DataFrame) -> pl.DataFrame:
    """`ioc_matches` of some events (`table`: the indicators' key, value and type)."""
    seen = observables(events)
    by_type = {kind: [ioc for ioc in iocs if ioc.type == kind] for kind in TYPES}
    exact = {"ip": "ip", "email": "address", "rule_name": "rule_name", "session": "session"}
    found = [
        seen.filter(pl.col("kind") == observed).join(table.filter(pl.col("type") == kind), left_on="key", right_on="ioc_key")
        .with_columns(pl.col("key").alias("ioc_key"))
        for kind, observed in exact.items() if by_type[kind]
    ]
    tests = {
        "cidr": ("ip", _in_network),
        "domain": ("address", lambda value, ioc: (d := _domain_of(value)) == ioc.key or d.endswith("." + ioc.key)),
        "user_agent": ("user_agent", lambda value, ioc: ioc.key in value),
    }
    for kind, (observed, test) in tests.items():
        if by_type[kind]:
            candidates = seen.filter(pl.col("kind") == observed)
            pairs = _pairs(candidates["key"], by_type[kind], test)  # per distinct value, not per event
            found.append(candidates.join(pairs, on="key").join(table.filter(pl.col("type") == kind), on="ioc_key"))
    if not found:
        return pl.DataFrame(schema=MATCH_SCHEMA)
    matched = pl.concat([frame.select("record_id", "indicator", "type", "field", pl.col("key").alias("matched"))
                         for frame in found]).sort("record_id", "indicator", "field", "matched")
    named = (pl.col("field") != "parameters").any().over("record_id", "indicator")
    matched = matched.unique(["record_id", "indicator", "field"], keep="first", maintain_order=True).filter(
        (pl.col("field") != "parameters") | ~named)  # `parameters` only when no named field matched
    return events.select("record_id", "creation_time", "case", "user_id", "operation", "client_ip").join(
        matched, on="record_id").select(list(MATCH_SCHEMA))
