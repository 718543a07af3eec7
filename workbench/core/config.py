"""Provides the user configuration (TOML in the platform config dir) and the default folders."""

import os
import tomllib
from pathlib import Path

import platformdirs

APP_NAME = "m365-bec-workbench"


class ConfigError(ValueError):
    """A configuration file that cannot be read."""


def config_path() -> Path:
    """Where the config file lives unless `--config` names another."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def load_config(path: Path | None = None) -> dict:
    """The config file as a dict; an absent default file is an empty config."""
    chosen = path or config_path()
    if not chosen.exists():
        if path is not None:
            raise ConfigError(f"{chosen}: config file not found")
        return {}
    try:
        return tomllib.loads(chosen.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{chosen}: {error}") from error


def cases_root(case_dir: str | Path | None = None, config: dict | None = None) -> Path:
    """The folder that holds case folders: `--case-dir`, else `WORKBENCH_CASE_DIR`, else config, else user data dir."""
    chosen = case_dir or os.environ.get("WORKBENCH_CASE_DIR") or (config or {}).get("case_dir")
    return Path(chosen) if chosen else Path(platformdirs.user_data_dir(APP_NAME)) / "cases"


def cache_root(config: dict | None = None) -> Path:
    """The folder of the shared enrichment cache: `WORKBENCH_CACHE_DIR`, else config, else user cache dir."""
    chosen = os.environ.get("WORKBENCH_CACHE_DIR") or (config or {}).get("cache_dir")
    return Path(chosen) if chosen else Path(platformdirs.user_cache_dir(APP_NAME))
