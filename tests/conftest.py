"""Shared fixtures: the sample logs, the generator module, and case folders in tmp dirs."""

import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

# In CI the property tests run the same examples every time (a red CI must be reproducible); locally they explore.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_LOGS = ROOT / "sample_logs"


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path_factory, monkeypatch):
    """No test writes into the user's real data, cache or config folders."""
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("WORKBENCH_CASE_DIR", str(base / "cases-default"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(base / "cache-default"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config-home"))
    monkeypatch.delenv("ABUSEIPDB_API_KEY", raising=False)


def load_generator():
    """The sample-log generator, imported from its file (once per process)."""
    if "sample_generate" not in sys.modules:
        spec = importlib.util.spec_from_file_location("sample_generate", SAMPLE_LOGS / "generate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["sample_generate"] = module
        spec.loader.exec_module(module)
    return sys.modules["sample_generate"]


@pytest.fixture(scope="session")
def generator():
    """The sample-log generator, imported from its file."""
    return load_generator()


@pytest.fixture(scope="session")
def generated_samples(tmp_path_factory) -> Path:
    """The sample logs as the generator writes them, written once into a temporary folder."""
    out = tmp_path_factory.mktemp("generated_samples")
    load_generator().write_samples(out)
    return out


@pytest.fixture(scope="session")
def sample_logs() -> Path:
    """The bundled sample logs folder."""
    return SAMPLE_LOGS


def case_of_records(tmp_path: Path, name: str, records: list[dict]):
    """A case named `name` under `tmp_path / "cases"` loaded from these audit records (a JSON Lines file)."""
    from workbench.core.case import Case

    source = tmp_path / "records.jsonl"
    source.write_text("\n".join(json.dumps(record) for record in records) + "\n")
    case = Case.named(name, tmp_path / "cases")
    case.open([source])
    return case
