"""Provides ``write_benign``: the benign tenant's month as three JSON Lines files for the benchmarks
(``audit.jsonl``, unified audit log records; ``sign_ins.jsonl``, Graph ``signIn`` objects;
``directory_audits.jsonl``, Graph ``directoryAudit`` objects), written a day at a time.

The tenant grows with the records asked for (one member per ``EVENTS_PER_MEMBER`` audit records, at
least 60), so a million records are a month of about 1,100 people, not of thirty very busy ones.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from .benign_audit import AuditDay
from .benign_entra import SignInDay, directory_audit, registered_security_info
from .benign_tenant import DAYS, EVENTS_PER_MEMBER, START, Member, Visit, benign_tenant, visits
from .ids import to_json
from .stream import sort_key
from .writers import atomic_open

FILES = ("audit.jsonl", "sign_ins.jsonl", "directory_audits.jsonl")


def share(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder)."""
    scale = total / (sum(weights) or 1)
    exact = [w * scale for w in weights]
    counts = [int(x) for x in exact]
    for i in sorted(range(len(weights)), key=lambda i: (counts[i] - exact[i], i))[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _hours(plan: list[Visit]) -> float:
    return sum((v.end - v.start).total_seconds() for v in plan) / 3600


def write_benign(out_dir: Path, events: int, sign_ins: int, seed: int) -> dict[Path, int]:
    """Write the month of a benign tenant with ``events`` audit records and about ``sign_ins`` sign-ins
    into ``out_dir``; the count of records of each file."""
    t, members = benign_tenant(max(60, events // EVENTS_PER_MEMBER), seed)
    days = [START + timedelta(days=n) for n in range(DAYS)]
    plans: list[list[tuple[Member, list[Visit]]]] = []
    for day in days:
        plans.append([(m, plan) for m in members if (plan := visits(seed, m, day))])
    audit_counts = share(events, [sum(m.person.activity * _hours(p) for m, p in day_plans if m.role != "service")
                                   for day_plans in plans])
    hours = sum(_hours(p) for day_plans in plans for _, p in day_plans)
    interactive = sum(1.4 if v.desktop else 0.07 for day_plans in plans for _, p in day_plans for v in p)
    per_hour = max(0.0, (sign_ins - interactive) / (hours or 1))
    paths = [out_dir / name for name in FILES]
    counts = dict.fromkeys(paths, 0)
    out_dir.mkdir(parents=True, exist_ok=True)
    pending: list[list[dict]] = [[], [], []]   # records of a stretch that ran past midnight UTC, for the next day
    with atomic_open(paths[0]) as audit, atomic_open(paths[1]) as signs, atomic_open(paths[2]) as directory:
        for n, (day, day_plans, count) in enumerate(zip(days, plans, audit_counts)):
            audit_day = AuditDay(t, seed, day, day_plans, members)
            records = audit_day.admin_records()
            records += audit_day.staff_records(max(0, count - len(records)))
            records = records[:count]
            audits = []
            for record in records:
                if record["RecordType"] == 8:
                    audits.append(directory_audit(record, t.people))
                    if any(p["Name"] == "StrongAuthenticationMethod" for p in record["ModifiedProperties"]):
                        audits.append(registered_security_info(record, t.people))
            day_sign_ins = SignInDay(t, seed, day, per_hour).records(day_plans)
            until = (day + timedelta(days=1)).isoformat() if n + 1 < len(days) else "9999"
            for index, (fh, rows, key) in enumerate(((audit, records, sort_key), (signs, day_sign_ins, _graph_key),
                                                     (directory, audits, _audit_key))):
                rows = sorted(pending[index] + rows, key=key)
                ready = [row for row in rows if key(row)[0] < until]
                pending[index] = rows[len(ready):]
                if ready:
                    fh.write("\n".join(map(to_json, ready)) + "\n")
                counts[paths[index]] += len(ready)
    return counts


def _graph_key(record: dict) -> tuple[str, str]:
    return record["createdDateTime"], record["id"]


def _audit_key(record: dict) -> tuple[str, str]:
    return record["activityDateTime"], record["id"]
