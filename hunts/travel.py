"""Provides `travelled`: the rows of an account that arrive from too far away, too fast, after its previous one.

A condition's `travel = {by = ["user_key"], speed_kmh = 900, min_km = 300, mobile_as_orgs = [...]}` compares each
row (already filtered: successful sign-ins, or `UserLoggedIn` logons) with the previous located row of the same
`by` key, in time order, and keeps the later one when the great-circle distance between the two places is at least
`min_km` and the speed needed to cover it is above `speed_kmh`.

Where each row is: the coordinates the record carries (a sign-in's `latitude` / `longitude`, with its city,
country and ASN), else the offline geolocation database's for its client IP (the enrichment's `geo_` columns).
Rows without coordinates are skipped. Pairs that are not travel are ignored:
- a location without a city (the database or Entra knows only the country and places it at the country's
  centroid): such a row is left out, so it neither starts nor ends a pair;
- two locations whose accuracy circles (the database's accuracy radius) overlap;
- the same ASN at both ends (one provider's network: a VPN or carrier whose exits the database places apart);
- an IPv4 address at one end and an IPv6 address at the other of the same AS organisation (a dual-stack provider
  whose two address families geolocate apart);
- an AS organisation at either end that names a mobile carrier (`mobile_as_orgs`, words matched case-insensitively)
  with both ends in one country (a phone's traffic leaves through a gateway of its carrier anywhere in the country).

Expressed with window functions only (the previous row per key, as SQL's LAG ... OVER (PARTITION BY .. ORDER BY
creation_time)); the elapsed time is at least a minute, so two sign-ins in the same second still have a speed.
"""

import polars as pl

from workbench.core.schema import FRAME_SCHEMAS

#: Mean Earth radius in km (IUGG).
EARTH_KM = 6371.0088
#: The floor of the time between two rows, in hours.
MIN_HOURS = 1 / 60
#: Columns a sign-in carries about its own place (read when present in the frame).
OWN_PLACE = ("latitude", "longitude", "city", "country", "asn")
#: The enrichment columns read, with the type each has when the enrichment lacks it.
PLACE_SCHEMA = {"geo_latitude": pl.Float64, "geo_longitude": pl.Float64, "geo_city": pl.String,
                "geo_country": pl.String, "geo_accuracy_km": pl.Int64, "geo_asn": pl.Int64, "geo_as_org": pl.String,
                "asn": pl.Int64, "as_name": pl.String}
SPEC_DEFAULTS = {"by": ["user_key"], "speed_kmh": 900, "min_km": 300, "mobile_as_orgs": []}


def columns_read(source: str) -> set[str]:
    """The columns of a source's frame a travel condition reads besides its `by` keys."""
    return {"record_id", "creation_time", "client_ip", *(name for name in OWN_PLACE if name in FRAME_SCHEMAS[source])}


def _places(enrichment: pl.DataFrame | None) -> pl.DataFrame:
    """Per IP, the enrichment's place columns (nulls for those it lacks); renamed so they never clash."""
    if enrichment is None:
        return pl.DataFrame(schema={"_ip": pl.String, **{f"_e_{name}": kind for name, kind in PLACE_SCHEMA.items()}})
    present = [pl.col(name).cast(kind) if name in enrichment.columns else pl.lit(None, kind)
               for name, kind in PLACE_SCHEMA.items()]
    return enrichment.select(pl.col("ip").alias("_ip"), *(expr.alias(f"_e_{name}")
                                                          for expr, name in zip(present, PLACE_SCHEMA)))


def _located(frame: pl.DataFrame, enrichment: pl.DataFrame | None) -> pl.LazyFrame:
    """The frame with one place per row: `_lat`, `_lon`, `_city`, `_country`, `_acc`, `_asn`, `_org`, `_v6`."""
    rows = frame.lazy().join(_places(enrichment).lazy(), left_on="client_ip", right_on="_ip", how="left",
                             maintain_order="left")  # ties in time keep the frame's order
    own = {name: pl.col(name) if name in frame.columns else pl.lit(None) for name in OWN_PLACE}
    has_own = own["latitude"].is_not_null() & own["longitude"].is_not_null()

    def either(mine: pl.Expr, database: str) -> pl.Expr:
        return pl.when(has_own).then(mine).otherwise(pl.col(f"_e_{database}"))

    return rows.with_columns(
        either(own["latitude"].cast(pl.Float64), "geo_latitude").alias("_lat"),
        either(own["longitude"].cast(pl.Float64), "geo_longitude").alias("_lon"),
        either(own["city"].cast(pl.String), "geo_city").alias("_city"),
        either(own["country"].cast(pl.String), "geo_country").alias("_country"),
        pl.when(has_own).then(pl.lit(None, pl.Int64)).otherwise(pl.col("_e_geo_accuracy_km")).alias("_acc"),
        pl.coalesce(own["asn"].cast(pl.Int64), pl.col("_e_geo_asn"), pl.col("_e_asn")).alias("_asn"),
        pl.coalesce(pl.col("_e_geo_as_org"), pl.col("_e_as_name")).str.to_lowercase().alias("_org"),
        pl.col("client_ip").str.contains(":", literal=True).alias("_v6"),
    )


def _distance_km(lat1: pl.Expr, lon1: pl.Expr, lat2: pl.Expr, lon2: pl.Expr) -> pl.Expr:
    """Great-circle distance (haversine)."""
    half_dlat = (lat2.radians() - lat1.radians()) / 2
    half_dlon = (lon2.radians() - lon1.radians()) / 2
    a = half_dlat.sin() ** 2 + lat1.radians().cos() * lat2.radians().cos() * half_dlon.sin() ** 2
    return 2 * EARTH_KM * a.sqrt().clip(upper_bound=1.0).arcsin()


def _place_text(prefix: str) -> pl.Expr:
    """`Sydney, AU (2001:db9:1::5, AS20712) at 2023-02-20 10:30` of the row (prefix "") or the previous (`_p`)."""
    asn = pl.concat_str([pl.lit(", AS"), pl.col(f"{prefix}_asn").cast(pl.String)])
    return pl.concat_str([pl.col(f"{prefix}_city"), pl.lit(", "), pl.col(f"{prefix}_country").fill_null("?"),
                          pl.lit(" ("), pl.col(f"{prefix}client_ip" if prefix else "client_ip"),
                          asn.fill_null(""), pl.lit(") at "),
                          pl.col(f"{prefix}creation_time" if prefix else "creation_time").dt.strftime("%Y-%m-%d %H:%M:%S")])


def _elapsed_text(minutes: pl.Expr) -> pl.Expr:
    return (pl.when(minutes < 120).then(pl.concat_str([minutes.round(0).cast(pl.Int64).cast(pl.String), pl.lit(" min")]))
            .otherwise(pl.concat_str([(minutes / 60).round(1).cast(pl.String), pl.lit(" h")])))


def travelled(frame: pl.DataFrame, spec: dict, enrichment: pl.DataFrame | None) -> pl.DataFrame:
    """The rows of `frame` reached too fast from the previous located row of their key (see the module), with
    `_why`: both places and times, the distance and the speed."""
    spec = {**SPEC_DEFAULTS, **spec}
    by = spec["by"]
    words = [word.lower() for word in spec["mobile_as_orgs"]]
    keyed = pl.all_horizontal(pl.col(column).is_not_null() & (pl.col(column).cast(pl.String) != "") for column in by)
    rows = frame.with_row_index("_row")
    # The key's previous row (LAG ... PARTITION BY key ORDER BY creation_time), found on a narrow frame of numbers
    # (the places' texts are left uncomputed there). Only a row whose place differs from its previous row's can be
    # travel (every other distance is 0), so only those pairs are located in full and compared.
    key = pl.col(by[0]) if len(by) == 1 else pl.concat_str(by, separator="\x1f")
    ordered = (_located(rows, enrichment)
               .filter(keyed & pl.col("_lat").is_not_null() & pl.col("_lon").is_not_null() & pl.col("_city").is_not_null())
               .select(key.cast(pl.String).cast(pl.Categorical).to_physical().alias("_k"), "creation_time", "_lat",
                       "_lon", "_row").collect())
    if not ordered["creation_time"].is_sorted():  # a case's frames are in time order already
        ordered = ordered.sort("creation_time", maintain_order=True)
    ordered = ordered.sort("_k", maintain_order=True)  # stable: each key's rows stay in time order
    moved = (pl.col("_k") == pl.col("_k").shift(1)) & (
        (pl.col("_lat") != pl.col("_lat").shift(1)) | (pl.col("_lon") != pl.col("_lon").shift(1)))
    moves = ordered.select("_row", pl.col("_row").shift(1).alias("_prow"), moved.alias("_moved")).filter("_moved")
    previous = ("_lat", "_lon", "_city", "_country", "_acc", "_asn", "_org", "_v6", "client_ip", "creation_time")
    places = _located(rows[pl.concat([moves["_row"], moves["_prow"]]).unique().sort()], enrichment).select(
        "_row", *previous).collect()
    paired = (moves.lazy().join(places.lazy(), on="_row")
              .join(places.lazy().select(pl.col(name).alias(f"_p{name}") for name in places.columns),
                    left_on="_prow", right_on="_p_row"))
    km = _distance_km(pl.col("_p_lat"), pl.col("_p_lon"), pl.col("_lat"), pl.col("_lon"))
    hours = ((pl.col("creation_time") - pl.col("_pcreation_time")).dt.total_seconds() / 3600).clip(lower_bound=MIN_HOURS)
    mobile = pl.lit(False)
    for word in words:
        mobile = mobile | pl.col("_org").str.contains(word, literal=True).fill_null(False) | pl.col(
            "_p_org").str.contains(word, literal=True).fill_null(False)
    same_asn = (pl.col("_asn") == pl.col("_p_asn")).fill_null(False)
    dual_stack = ((pl.col("_v6") != pl.col("_p_v6")) & (pl.col("_org") == pl.col("_p_org"))).fill_null(False)
    one_country = (pl.col("_country") == pl.col("_p_country")).fill_null(False)
    apart = km > pl.col("_acc").fill_null(0) + pl.col("_p_acc").fill_null(0)
    hits = (paired.with_columns(km.alias("_km"), hours.alias("_hours"))
            .filter(pl.col("_pcreation_time").is_not_null() & (pl.col("_km") >= spec["min_km"])
                    & (pl.col("_km") / pl.col("_hours") > spec["speed_kmh"]) & apart
                    & ~same_asn & ~dual_stack & ~(mobile & one_country))
            .with_columns(pl.concat_str([
                _place_text("_p"), pl.lit(" -> "), _place_text(""), pl.lit(": "),
                pl.col("_km").round(0).cast(pl.Int64).cast(pl.String), pl.lit(" km in "),
                _elapsed_text((pl.col("creation_time") - pl.col("_pcreation_time")).dt.total_seconds() / 60),
                pl.lit(" = "), (pl.col("_km") / pl.col("_hours")).round(0).cast(pl.Int64).cast(pl.String),
                pl.lit(f" km/h (over {spec['speed_kmh']})")]).alias("_why"))
            .select("_row", "_why").sort("_row").collect())
    return frame[hits["_row"]].with_columns(hits["_why"])


def check_travel(spec: object, path: str, columns: tuple[str, ...]) -> list[tuple[str, str]]:
    """The problems of a `travel` table over a frame of these `columns`, each as (field path, message)."""
    if not isinstance(spec, dict):
        return [(path, "expected a table")]
    problems = [(f"{path}.{key}", f"unknown key; expected one of {', '.join(SPEC_DEFAULTS)}")
                for key in spec if key not in SPEC_DEFAULTS]
    by = spec.get("by", SPEC_DEFAULTS["by"])
    if not (isinstance(by, list) and by and all(isinstance(column, str) for column in by)):
        problems.append((f"{path}.by", "expected a non-empty list of columns"))
    else:
        problems += [(f"{path}.by[{index}]", f"unknown column {column!r}") for index, column in enumerate(by)
                     if column not in columns]
    for key in ("speed_kmh", "min_km"):
        value = spec.get(key, SPEC_DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            problems.append((f"{path}.{key}", f"expected a number above 0, got {value!r}"))
    words = spec.get("mobile_as_orgs", [])
    if not (isinstance(words, list) and all(isinstance(word, str) and word for word in words)):
        problems.append((f"{path}.mobile_as_orgs", "expected a list of words"))
    return problems
