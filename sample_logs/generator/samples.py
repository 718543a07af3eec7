"""Provides the committed samples: case A, case B's two overlapping exports, broken rows, and both
tenants' Entra ID sign-ins and directory audits."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path

from .entra_shapes import write_entra_samples
from .exposure import TRACE_FILES, answer_key
from .ids import random_guid, to_json
from .mailflow import Message
from .owners import background_mail, owner_mail
from .readme import render_readme
from .records import Access, iso, mail_items_accessed, sts_logon
from .story import planted_story
from .stream import generate_case, sort_key
from .tenants import GRAPH_WINDOW, SEED, build_tenant
from .trace import write_enhanced, write_v2
from .writers import PURVIEW_HEADER, atomic_open, csv_line, purview_row, write


def split_case_b(records: list[dict]) -> tuple[list[dict], list[dict]]:
    """Case B as two overlapping exports: (Management API records, Graph query records).

    The Graph query holds the Exchange admin records of ``GRAPH_WINDOW``; every third of them is
    missing from the Management API export, the rest are in both.
    """
    start, end = (iso(ts) for ts in GRAPH_WINDOW)
    graph = [r for r in records if r["RecordType"] == 1 and start <= r["CreationTime"] <= end]
    graph_only = {r["Id"] for r in graph[2::3]}
    return [r for r in records if r["Id"] not in graph_only], graph


def broken_rows(seed: int = SEED) -> tuple[str, list[tuple[int, str]]]:
    """The text of ``broken/broken_rows.csv`` and (line, problem) for each bad line."""
    t = build_tenant("a", seed)
    rng = random.Random(f"{seed}/broken")
    person = t.person("SalesUser1")
    access = Access(t.office_ip, random_guid(rng), person.desktop)

    def login(minute: int) -> dict:
        return sts_logon(t, rng, datetime(2023, 2, 21, 14, minute, 5), random_guid(rng), person,
                         t.office_ip, access.session, person.desktop)

    broken_json, unknown_type, no_time, empty = (purview_row(login(m)) for m in (2, 3, 4, 5))
    broken_json[5] = broken_json[5][:180]
    record = json.loads(unknown_type[5]) | {"RecordType": 99999,
                                            "Operation": "FutureWorkloadEvent"}
    unknown_type[2:4], unknown_type[5] = ["99999", "FutureWorkloadEvent"], to_json(record)
    record = json.loads(no_time[5])
    del record["CreationTime"]
    no_time[1], no_time[5] = "", to_json(record)
    empty[5] = ""
    read = mail_items_accessed(t, rng, datetime(2023, 2, 21, 14, 7, 40), random_guid(rng),
                               person, person, access)
    rows = [(purview_row(login(1)), ""),
            (broken_json, "AuditData is broken JSON (cut off mid-object)"),
            (unknown_type, "unknown RecordType 99999 (column and AuditData); otherwise valid: "
                           "should load"),
            (no_time, "AuditData has no CreationTime and CreationDate is empty"),
            (empty, "AuditData cell is empty"),
            (purview_row(login(6)), ""), (purview_row(read), "")]
    problems = [(line, problem) for line, (_, problem) in enumerate(rows, start=2) if problem]
    problems.append((len(rows) + 2, "truncated last line: unterminated quote, no final newline"))
    last = csv_line(purview_row(login(9)))
    text = "".join(csv_line(row) for row in [PURVIEW_HEADER, *(row for row, _ in rows)])
    return "\ufeff" + text + last[: len(last) // 2], problems


def case_messages(key: str, records: list[dict], seed: int = SEED) -> list[Message]:
    """Every message of case ``key``'s trace export: the story's, the owners', the inbound mail
    and the random background's reads and sends in the investigated mailboxes."""
    return [*planted_story(key, seed).mail.messages, *owner_mail(key, seed)[1],
            *background_mail(build_tenant(key, seed), records)]


def write_samples(out_dir: str | Path | None = None, seed: int = SEED) -> dict[str, int]:
    """Regenerate every committed sample file and the README in ``out_dir`` (default sample_logs).

    Returns the number of data rows per written file, keyed by path relative to ``out_dir``.
    """
    out = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parents[1]
    for sub in ("case-a", "case-b", "broken"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    case_a = generate_case("a", seed)
    case_b = generate_case("b", seed)
    mgmt, graph = split_case_b(case_b)
    write(sorted(case_a, key=sort_key, reverse=True), "purview-csv",
          out / "case-a/purview_audit_export.csv")
    write(mgmt, "jsonl", out / "case-b/management_api.jsonl")
    write(graph, "graph-json", out / "case-b/graph_audit_query.json")
    broken_text, problems = broken_rows(seed)
    with atomic_open(out / "broken/broken_rows.csv") as fh:
        fh.write(broken_text)
    rows = {"case-a/purview_audit_export.csv": len(case_a),
            "case-b/management_api.jsonl": len(mgmt),
            "case-b/graph_audit_query.json": len(graph),
            "broken/broken_rows.csv": len(broken_text.split("\r\n")) - 1}
    entra = write_entra_samples(out, seed, {"a": case_a, "b": case_b})
    rows |= {f.name: f.records for f in entra.files}
    messages = {"a": case_messages("a", case_a, seed), "b": case_messages("b", case_b, seed)}
    rows[TRACE_FILES["a"]] = write_v2(build_tenant("a", seed), messages["a"],
                                      out / TRACE_FILES["a"])
    rows[TRACE_FILES["b"]] = write_enhanced(build_tenant("b", seed), messages["b"],
                                            out / TRACE_FILES["b"])
    keys = {f"case-{k}": answer_key(k, messages[k], seed) for k in ("a", "b")}
    with atomic_open(out / ".answers/planted_exposure.json") as fh:
        fh.write(json.dumps({"seed": seed, "cases": keys}, indent=2, ensure_ascii=False) + "\n")
    rows[".answers/planted_exposure.json"] = sum(len(k["record_ids"]) for k in keys.values())
    with atomic_open(out / "README.md") as fh:
        fh.write(render_readme(seed, rows, {"a": case_a, "b": case_b}, mgmt, graph, problems,
                               entra, messages, keys))
    return rows
