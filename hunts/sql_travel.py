"""Provides `travel_query`: a `travel` condition (impossible travel) as SQL (a sqlglot tree), as `hunts.travel`
decides it.

The rows the condition's filter selects get one place each (the coordinates a sign-in carries, else the
`enrichment` table's `geo_` columns for its IP; rows without a city, coordinates or key are left out), and are
compared with the previous located row of their key in time order (LAG over `tenant` and the `by` columns; rows
of the same time in record id order): the later row is a hit when the haversine distance is at least `min_km`,
the speed above `speed_kmh` (the elapsed time in whole seconds, at least a minute), the accuracy circles apart,
and neither the same ASN, a dual-stack pair of one AS organisation, nor a mobile carrier within one country.
"""

from collections.abc import Collection

from sqlglot import exp

from hunts.conditions import FILTER_KEYS
from hunts.sql_compile import UnsupportedHunt
from hunts.sql_sequence import RowFilter, column, micros
from hunts.travel import EARTH_KM, MIN_HOURS, OWN_PLACE, PLACE_SCHEMA, SPEC_DEFAULTS
from workbench.core.schema import FRAME_SCHEMAS

#: SQL types of the enrichment's place columns.
_SQL_TYPES = {"geo_latitude": "double", "geo_longitude": "double", "geo_city": "text", "geo_country": "text",
              "geo_accuracy_km": "bigint", "geo_asn": "bigint", "geo_as_org": "text", "asn": "bigint", "as_name": "text"}
#: The columns each row carries from its previous row, `_p` prefixed.
_PREVIOUS = ("_lat", "_lon", "_city", "_country", "_acc", "_asn", "_org", "_v6", "creation_time")


def _cast(expression: exp.Expression, kind: str) -> exp.Expression:
    return exp.cast(expression, exp.DataType.build(kind))


def _places(enrichment_columns: Collection[str]) -> exp.Select:
    """Per IP (and tenant, when the table has one) of the `enrichment` table, its place columns as `_e_<name>`
    (NULL for those the table lacks)."""
    tenant = [column("tenant").as_("_tenant")] if "tenant" in enrichment_columns else []
    return exp.select(column("ip").as_("_ip"), *tenant, *(
        _cast(column(name) if name in enrichment_columns else exp.null(), _SQL_TYPES[name]).as_(f"_e_{name}")
        for name in PLACE_SCHEMA)).from_("enrichment")


def _located(condition: dict, source: str, by: list[str], row_filter: RowFilter,
             enrichment_columns: Collection[str]) -> exp.Select:
    """The filtered rows with their key and one place each: `_lat`, `_lon`, `_city`, `_country`, `_acc`, `_asn`,
    `_org` (lower-cased AS organisation), `_v6`; only rows with a key, coordinates and a city."""
    own_names = [name for name in OWN_PLACE if name in FRAME_SCHEMAS[source]]
    kept = list(dict.fromkeys(["tenant", "record_id", "creation_time", "client_ip", *by, *own_names]))
    selected = row_filter({name: condition[name] for name in FILTER_KEYS if name in condition}, source)
    rows = exp.select(*map(column, kept)).from_(source).where(selected).subquery("r")
    own = {name: column(name, "r") if name in own_names else exp.null() for name in OWN_PLACE}
    has_own = exp.and_(own["latitude"].is_(exp.null()).not_(), own["longitude"].is_(exp.null()).not_())

    def either(mine: exp.Expression, database: str) -> exp.Expression:
        return exp.Case(ifs=[exp.If(this=has_own.copy(), true=mine)], default=column(f"_e_{database}", "e"))

    placed = [
        either(_cast(own["latitude"], "double"), "geo_latitude").as_("_lat"),
        either(_cast(own["longitude"], "double"), "geo_longitude").as_("_lon"),
        either(_cast(own["city"], "text"), "geo_city").as_("_city"),
        either(_cast(own["country"], "text"), "geo_country").as_("_country"),
        either(_cast(exp.null(), "bigint"), "geo_accuracy_km").as_("_acc"),
        exp.Coalesce(this=_cast(own["asn"], "bigint"),
                     expressions=[column("_e_geo_asn", "e"), column("_e_asn", "e")]).as_("_asn"),
        exp.Lower(this=exp.Coalesce(this=column("_e_geo_as_org", "e"), expressions=[column("_e_as_name", "e")])).as_("_org"),
        exp.GT(this=exp.StrPosition(this=column("client_ip", "r"), substr=exp.Literal.string(":")),
               expression=exp.Literal.number(0)).as_("_v6"),
    ]
    same_tenant = ([exp.EQ(this=column("tenant", "r"), expression=column("_tenant", "e"))]
                   if "tenant" in enrichment_columns else [])
    joined = (exp.select(*(column(name, "r") for name in kept), *placed).from_(rows)
              .join(_places(enrichment_columns).subquery("e"), join_type="left",
                    on=exp.and_(*same_tenant, exp.EQ(this=column("client_ip", "r"), expression=column("_ip", "e")))))
    present = [exp.and_(column(name).is_(exp.null()).not_(),
                        exp.NEQ(this=_cast(column(name), "text"), expression=exp.Literal.string(""))) for name in by]
    present += [column(name).is_(exp.null()).not_() for name in ("_lat", "_lon", "_city")]
    return exp.select("*").from_(joined.subquery("p")).where(exp.and_(*present))


def _distance_km(lat1: exp.Expression, lon1: exp.Expression, lat2: exp.Expression, lon2: exp.Expression) -> exp.Expression:
    """Great-circle distance (haversine), as `hunts.travel` computes it."""
    def half_sine(a: exp.Expression, b: exp.Expression) -> exp.Expression:
        return exp.Sin(this=exp.Div(this=exp.Paren(this=exp.Sub(this=exp.Radians(this=b), expression=exp.Radians(this=a))),
                                    expression=exp.Literal.number(2)))

    dlat, dlon = half_sine(lat1, lat2), half_sine(lon1, lon2)
    a = exp.Add(this=exp.Mul(this=dlat, expression=dlat.copy()), expression=exp.Mul(
        this=exp.Mul(this=exp.Cos(this=exp.Radians(this=lat1.copy())), expression=exp.Cos(this=exp.Radians(this=lat2.copy()))),
        expression=exp.Mul(this=dlon, expression=dlon.copy())))
    root = exp.Least(this=exp.Sqrt(this=a), expressions=[exp.Literal.number(1.0)])
    return exp.Mul(this=exp.Literal.number(2 * EARTH_KM), expression=exp.Asin(this=root))


def _hours() -> exp.Expression:
    """Whole seconds from the previous row, in hours, at least `MIN_HOURS`."""
    gap = exp.Sub(this=micros(column("creation_time")), expression=micros(column("_pcreation_time")))
    seconds = exp.Floor(this=exp.Div(this=exp.Paren(this=gap), expression=exp.Literal.number(1_000_000.0)))
    return exp.Greatest(this=exp.Div(this=seconds, expression=exp.Literal.number(3600.0)),
                        expressions=[exp.Literal.number(MIN_HOURS)])


def _false_when_null(test: exp.Expression) -> exp.Expression:
    return exp.Coalesce(this=exp.Paren(this=test), expressions=[exp.false()])


def travel_query(hunt, row_filter: RowFilter, enrichment_columns: Collection[str] = tuple(PLACE_SCHEMA)) -> exp.Select:
    """The distinct (`tenant`, `record_id`) of the rows of the hunt's source that its `travel` condition flags
    (`hunt` a `hunts.model.Hunt`; `row_filter(condition, source)` the boolean SQL filter of its rows,
    `hunts.sql_compile.row_filter`). The `enrichment` table is read by `ip` (and by `tenant` when it has that
    column: each tenant's own enrichment), for the columns of `hunts.travel.PLACE_SCHEMA` it has
    (`enrichment_columns`, default all of those). Raises UnsupportedHunt for travel combined with a threshold or
    first_seen."""
    condition = hunt.condition
    if "threshold" in condition or "first_seen" in condition:  # the Polars engine counts before it compares places
        raise UnsupportedHunt(hunt.id, "travel over the rows a threshold or first_seen keeps is not compiled to SQL")
    source = condition.get("source", "events")
    spec = {**SPEC_DEFAULTS, **condition["travel"]}
    by = spec["by"]
    located = _located(condition, source, by, row_filter, enrichment_columns)
    order = exp.Order(expressions=[exp.Ordered(this=column("creation_time")), exp.Ordered(this=column("record_id"))])
    partition = [column("tenant"), *map(column, by)]
    previous = [exp.Window(this=exp.Lag(this=column(name)), partition_by=[c.copy() for c in partition],
                           order=order.copy()).as_(f"_p{name}") for name in _PREVIOUS]
    paired = exp.select(column("tenant"), column("record_id"), *map(column, _PREVIOUS), *previous).from_(located.subquery("l"))
    km = _distance_km(column("_p_lat"), column("_p_lon"), column("_lat"), column("_lon"))
    measured = exp.select("*", km.as_("_km"), _hours().as_("_hours")).from_(paired.subquery("q"))
    mobile: exp.Expression = exp.false()
    for word in (word.lower() for word in spec["mobile_as_orgs"]):
        for org in ("_org", "_p_org"):
            found = exp.GT(this=exp.StrPosition(this=column(org), substr=exp.Literal.string(word)), expression=exp.Literal.number(0))
            mobile = exp.or_(mobile, _false_when_null(found))
    same_asn = _false_when_null(exp.EQ(this=column("_asn"), expression=column("_p_asn")))
    dual_stack = _false_when_null(exp.and_(exp.NEQ(this=column("_v6"), expression=column("_p_v6")),
                                           exp.EQ(this=column("_org"), expression=column("_p_org"))))
    one_country = _false_when_null(exp.EQ(this=column("_country"), expression=column("_p_country")))
    accuracy = exp.Add(this=exp.Coalesce(this=column("_acc"), expressions=[exp.Literal.number(0)]),
                       expression=exp.Coalesce(this=column("_p_acc"), expressions=[exp.Literal.number(0)]))
    travelled = exp.and_(
        column("_pcreation_time").is_(exp.null()).not_(),
        exp.GTE(this=column("_km"), expression=exp.Literal.number(spec["min_km"])),
        exp.GT(this=exp.Div(this=column("_km"), expression=column("_hours")), expression=exp.Literal.number(spec["speed_kmh"])),
        exp.GT(this=column("_km"), expression=accuracy),
        exp.not_(same_asn), exp.not_(dual_stack), exp.not_(exp.and_(mobile, one_country)))
    return (exp.select(column("tenant"), column("record_id")).distinct().from_(measured.subquery("m"))
            .where(exp.and_(travelled, column("record_id").is_(exp.null()).not_())))
