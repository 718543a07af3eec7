"""Provides the case's enrichment as known offline: what the shared cache and the configured geolocation
databases hold for the case's client IPs."""

import polars as pl

import enrich


def cached_enrichment(events: pl.DataFrame | pl.LazyFrame, config: dict) -> pl.DataFrame | None:
    """The enrich frame (DESIGN §4 columns and the `geo_` ones) from the cache and the geolocation databases only,
    or None when neither knows any of these IPs."""
    try:
        settings = enrich.settings_from_env(config)
    except enrich.SettingsError:
        return None
    result = enrich.enrich(enrich.ip_summary(events), settings, offline=True)
    # looked up (RDAP or AbuseIPDB); a private or documentation address gets a verdict without any lookup
    known = result.frame.filter(pl.col("asn").is_not_null() | pl.col("abuse_score").is_not_null()
                                | pl.col("geo_country").is_not_null() | pl.col("geo_asn").is_not_null())
    return result.frame if known.height else None
