"""Provides the IOC sweep of a tenant store in SQL (`ioc_sql_matches`), so that DuckDB and Spark run it where the data
lies: the semantics of `workbench ioc` (workbench/core/ioc.py) over every frame's rows.

The observed values are those `ioc.observables` reads from the activity projection: client IPs (a message's sending
IP), accounts, mailbox owners, objects, user agents (as logged and without Exchange's `Client=..;` prefix), session
ids, the rule names, recipients and allow-list entries of `parameters` (indicators.py) and every address, host name
and IPv4 address in the `parameters` text. IPs, addresses, rule names and sessions match exactly, a domain matches
itself and its subdomains (also as an address's domain), an agent matches the agents containing it. Networks are
tested once per distinct IP the store holds (Python's `ipaddress`, as `workbench ioc` tests them) and joined back
in SQL.
"""

import ipaddress

import polars as pl

from workbench.core import indicators
from workbench.core.ioc import _TOKENS, Ioc

#: The decoded `parameters` of a row (`[{Name, Value}]`), per engine; a value that is not such JSON reads as null.
_DECODED_PARAMETERS = {
    "duckdb": "CASE WHEN json_valid(parameters) THEN from_json(parameters, '[{\"Name\": \"VARCHAR\", \"Value\": \"VARCHAR\"}]') END",
    "spark": "FROM_JSON(parameters, 'array<struct<Name:string,Value:string>>')",
}
#: The columns of each frame the sweep observes, as the activity projection (activity.py) names them.
_ROWS = {
    "events": "client_ip, user_key, mailbox_owner_upn, object_id, user_agent, session_id, parameters, operation",
    "sign_ins": ("client_ip, user_key, NULL AS mailbox_owner_upn, concat_ws(' · ', CASE WHEN status_code <> 0 THEN "
                 "CAST(status_code AS VARCHAR) || ' ' || status_meaning END, app_name) AS object_id, user_agent, "
                 "session_id, NULL AS parameters, NULL AS operation"),
    "directory_audits": ("client_ip, user_key, NULL AS mailbox_owner_upn, target_names AS object_id, NULL AS user_agent, "
                         "NULL AS session_id, NULL AS parameters, activity AS operation"),
    "messages": ("from_ip AS client_ip, sender_key AS user_key, NULL AS mailbox_owner_upn, concat_ws(' · ', recipient, "
                 "subject) AS object_id, NULL AS user_agent, NULL AS session_id, NULL AS parameters, NULL AS operation"),
}
_NORMALISED_AGENT = "trim(rtrim(trim(regexp_replace(user_agent, '^Client=[^;]+;', '')), ';'))"
#: (kind, field, value) of the named columns.
_NAMED = [("ip", "'client_ip'", "client_ip"), ("address", "'user_id'", "user_key"),
          ("address", "'mailbox_owner_upn'", "mailbox_owner_upn"), ("address", "'object_id'", "object_id"),
          ("user_agent", "'user_agent'", "user_agent"), ("user_agent", "'user_agent'", _NORMALISED_AGENT),
          ("session", "'session_id'", "session_id")]


def _names(names: tuple[str, ...]) -> str:
    return ", ".join(f"'{name}'" for name in names)


def _rows_sql() -> str:
    return " UNION ALL ".join(f"SELECT tenant, '{frame}' AS source, record_id, {columns} FROM {frame}"
                              for frame, columns in _ROWS.items())


def _finished(value: str) -> str:
    """indicators._finish: trimmed, quotes stripped, lower case without `smtp:`."""
    return f"regexp_replace(lower(trim(trim({value}), '\"')), '^smtp:', '')"


def observables_sql() -> str:
    """SQL (DuckDB's dialect, `DECODED_PARAMETERS` standing for the engine's JSON decoding) of every observed value:
    tenant, source, record_id, kind, field, key."""
    keys = "tenant, source, record_id"
    named = " UNION ALL ".join(f"SELECT {keys}, '{kind}' AS kind, {field} AS field, lower({value}) AS key FROM observed_rows"
                               for kind, field, value in _NAMED)
    split = "unnest(string_split_regex(value, '[;,]'))"
    extracted = f"""
        SELECT {keys}, 'rule_name' AS kind, name AS field, value FROM parameter_values
         WHERE regexp_matches(operation, '{indicators.RULE_OPERATIONS}')
           AND name = CASE WHEN starts_with(lower(operation), 'new-') THEN 'Name' ELSE 'Identity' END
        UNION ALL SELECT {keys}, 'address', name, {split} FROM parameter_values
         WHERE name IN ({_names(indicators.RECIPIENT_PARAMETERS)})
        UNION ALL SELECT {keys}, kind, name, value FROM (
          SELECT {keys}, name, {split} AS value FROM parameter_values WHERE name IN ({_names(indicators.ALLOW_LIST_PARAMETERS)})
        ) AS allowed, (SELECT 'address' AS kind UNION ALL SELECT 'ip') AS kinds
         WHERE kind = 'address' OR regexp_matches(lower(trim(value)), '{indicators._IPV4}|{indicators._IPV6}')"""
    tokens = f"""
        SELECT {keys}, CASE WHEN regexp_matches(key, '^[0-9.]+$') THEN 'ip' ELSE 'address' END AS kind,
               'parameters' AS field, key
          FROM (SELECT {keys}, unnest(regexp_extract_all(lower(parameters), '{_TOKENS}', 0)) AS key
                  FROM observed_rows WHERE parameters IS NOT NULL) AS found"""
    return f"""
        WITH observed_rows AS ({_rows_sql()}),
        parameters AS (SELECT {keys}, operation, DECODED_PARAMETERS(parameters) AS decoded FROM observed_rows
                        WHERE parameters IS NOT NULL AND ltrim(parameters) LIKE '[{{%'),
        parameter_values AS (SELECT {keys}, operation, entry.Name AS name, entry.Value AS value
                               FROM (SELECT {keys}, operation, unnest(decoded) AS entry FROM parameters) AS entries
                              WHERE entry.Value IS NOT NULL),
        extracted AS (SELECT {keys}, kind, field, {_finished('value')} AS key FROM ({extracted}) AS found
                       WHERE trim(trim(value), '"') <> '')
        SELECT DISTINCT {keys}, kind, field, key FROM ({named} UNION ALL SELECT * FROM extracted UNION ALL {tokens}) AS seen
         WHERE key IS NOT NULL AND key <> ''"""


def matches_sql() -> str:
    """SQL of the (tenant, source, record_id, indicator, type, field, matched) rows where an observed value (the
    `observables` table) carries an indicator (`iocs`: ioc_key, indicator, type; `network_ips`: key, ioc_key)."""
    hit = "o.tenant, o.source, o.record_id, i.indicator, i.type, o.field, o.key AS matched"
    return f"""
        SELECT {hit} FROM observables AS o JOIN iocs AS i ON o.key = i.ioc_key
         WHERE (i.type = 'ip' AND o.kind = 'ip') OR (i.type = 'email' AND o.kind = 'address')
            OR (i.type = 'rule_name' AND o.kind = 'rule_name') OR (i.type = 'session' AND o.kind = 'session')
        UNION ALL
        SELECT {hit} FROM observables AS o JOIN iocs AS i ON i.type = 'domain' AND o.kind = 'address'
         AND (regexp_replace(o.key, '^.*@', '') = i.ioc_key OR ends_with(regexp_replace(o.key, '^.*@', ''), '.' || i.ioc_key))
        UNION ALL
        SELECT {hit} FROM observables AS o JOIN iocs AS i ON i.type = 'user_agent' AND o.kind = 'user_agent'
         AND strpos(o.key, i.ioc_key) > 0
        UNION ALL
        SELECT {hit} FROM observables AS o JOIN network_ips AS n ON o.kind = 'ip' AND o.key = n.key
         JOIN iocs AS i ON i.type = 'cidr' AND i.ioc_key = n.ioc_key"""


def engine_sql(sql: str, engine: str) -> str:
    """`sql` with `DECODED_PARAMETERS(parameters)` written for the engine (after sqlglot wrote the rest)."""
    return sql.replace("DECODED_PARAMETERS(parameters)", _DECODED_PARAMETERS[engine])


def network_pairs(ips: list[str], iocs: list[Ioc]) -> pl.DataFrame:
    """(key, ioc_key) of each distinct observed IP inside each network indicator."""
    networks = [(ipaddress.ip_network(ioc.key, strict=False), ioc.key) for ioc in iocs if ioc.type == "cidr"]
    rows = []
    for text in ips:
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            continue
        rows += [(text, key) for network, key in networks if address in network]
    return pl.DataFrame(rows, schema={"key": pl.String, "ioc_key": pl.String}, orient="row")


def indicator_table(iocs: list[Ioc]) -> pl.DataFrame:
    """The indicators as a table: ioc_key, indicator, type."""
    return pl.DataFrame([(ioc.key, ioc.value, ioc.type) for ioc in iocs],
                        schema={"ioc_key": pl.String, "indicator": pl.String, "type": pl.String}, orient="row")


def kept_matches(matched: pl.DataFrame) -> pl.DataFrame:
    """One match per (record, indicator, field), and a `parameters` match only when no named field matched (as
    `ioc_matches` keeps them)."""
    record = ["tenant", "source", "record_id"]
    matched = matched.sort(*record, "indicator", "field", "matched").unique(
        [*record, "indicator", "field"], keep="first", maintain_order=True)
    named = (pl.col("field") != "parameters").any().over(*record, "indicator")
    return matched.filter((pl.col("field") != "parameters") | ~named)
