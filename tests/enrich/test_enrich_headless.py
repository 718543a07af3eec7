"""enrich/ stays headless and imports only what DESIGN §1 allows."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ENRICH = Path(__file__).parents[2] / "enrich"
ALLOWED = set(sys.stdlib_module_names) | {"polars", "httpx", "ipwhois", "platformdirs", "maxminddb", "enrich"}


def test_enrich_imports_only_the_allowed_packages():
    offenders = []
    for path in sorted(ENRICH.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else ([node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module else [])
            )
            offenders += [f"{path.name}:{node.lineno}: {n}" for n in names if n.split(".")[0] not in ALLOWED]
    assert offenders == []


def test_importing_enrich_loads_neither_textual_nor_the_app():
    code = "import sys, enrich, enrich.service, enrich.rdap, enrich.abuseipdb; print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'workbench')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ENRICH.parent)
    assert out.stdout.strip() == "[]"
