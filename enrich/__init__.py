"""Provides IP enrichment for the workbench: RDAP, AbuseIPDB, hosting-provider rules and a shared cache.

Headless: imports only polars, httpx, ipwhois, platformdirs and the standard library.
"""

from enrich.cache import CacheFileError, EnrichmentCache
from enrich.hosting import ProviderError
from enrich.service import EnrichResult, Progress, enrich, ip_summary
from enrich.settings import EnrichSettings, SettingsError, settings_from_env

__all__ = [
    "CacheFileError",
    "EnrichResult",
    "EnrichSettings",
    "EnrichmentCache",
    "Progress",
    "ProviderError",
    "SettingsError",
    "enrich",
    "ip_summary",
    "settings_from_env",
]
