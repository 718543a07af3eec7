"""Provides the case's enrichment as known offline: what the shared cache holds for the case's client IPs."""

import polars as pl

import enrich


def cached_enrichment(events: pl.DataFrame | pl.LazyFrame, config: dict) -> pl.DataFrame | None:
    """The enrich frame (DESIGN §4 columns) from the cache only, or None when nothing is cached for these IPs."""
    try:
        settings = enrich.settings_from_env(config)
    except enrich.SettingsError:
        return None
    result = enrich.enrich(enrich.ip_summary(events), settings, offline=True)
    known = result.frame.filter(pl.col("hosting").is_not_null() | pl.col("asn").is_not_null())
    return result.frame if known.height else None
