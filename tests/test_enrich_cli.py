"""`workbench enrich` as a user runs it on an air-gapped host: import lookups done elsewhere, then --offline."""

import json
import subprocess
import sys
from pathlib import Path

from workbench.core.case import Case
from workbench.core.enrichment import cached_enrichment

FIXTURE = Path(__file__).parent / "enrich" / "fixtures" / "reference-case-enrichment.json"
SHARED_IPS = {"104.161.20.102", "20.232.202.245", "185.241.149.122"}


def workbench(*args, tmp_path):
    env = {"WORKBENCH_CASE_DIR": str(tmp_path / "cases"), "WORKBENCH_CACHE_DIR": str(tmp_path / "cache"),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ABUSEIPDB_API_KEY": "KEY-MUST-NOT-LEAK-424242"}
    return subprocess.run([sys.executable, "-m", "workbench", *args], capture_output=True, text=True, env=env)


def test_offline_after_import_flags_the_three_shared_ips(tmp_path, sample_logs):
    imported = workbench("enrich", "--import", str(FIXTURE), tmp_path=tmp_path)
    assert imported.returncode == 0, imported.stderr
    result = workbench("enrich", str(sample_logs), "--offline", "--format", "json", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["ip"]: row for row in json.loads(result.stdout)}
    flagged = {ip for ip, row in rows.items() if row["hosting"]}
    assert flagged == SHARED_IPS
    assert any("IOFLOOD" in reason for reason in rows["104.161.20.102"]["reasons"])
    assert any("leased space" in reason for reason in rows["185.241.149.122"]["reasons"])
    assert rows["104.161.20.102"]["users"] >= 2
    assert "KEY-MUST-NOT-LEAK-424242" not in result.stdout + result.stderr
    table = workbench("enrich", str(sample_logs), "--offline", tmp_path=tmp_path)
    assert table.returncode == 0 and "104.161.20.102" in table.stdout


def test_export_moves_lookups_to_another_host(tmp_path):
    workbench("enrich", "--import", str(FIXTURE), tmp_path=tmp_path)
    exported = tmp_path / "lookups.json"
    assert workbench("enrich", "--export", str(exported), tmp_path=tmp_path).returncode == 0
    other = tmp_path / "other"
    other.mkdir()
    assert workbench("enrich", "--import", str(exported), tmp_path=other).returncode == 0
    assert "KEY-MUST-NOT-LEAK-424242" not in exported.read_text()


def test_bad_import_file_exits_2(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = workbench("enrich", "--import", str(bad), tmp_path=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_cached_enrichment_is_none_without_lookups_and_a_frame_with_them(tmp_path, sample_logs, monkeypatch):
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    case = Case.named("e", tmp_path / "cases")
    case.open([sample_logs / "case-a"])
    assert cached_enrichment(case.scan(), {}) is None
    workbench("enrich", "--import", str(FIXTURE), tmp_path=tmp_path)
    frame = cached_enrichment(case.scan(), {})
    assert set(frame.filter("hosting")["ip"].to_list()) == SHARED_IPS
