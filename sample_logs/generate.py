"""Provides the deterministic generator of the project's synthetic Microsoft 365 audit logs.

Two tenants (case A, ``example.com``; case B, ``example.net``) are attacked by one actor the way the
Sophos X-Ops article "Investigator, API Yourself" describes, inside believable benign background
activity.  Every record is a unified-audit-log ``AuditData`` object; writers wrap it in the shapes
real exports have (Purview CSV, Search-UnifiedAuditLog CSV, Management Activity API JSON / JSON
Lines, Microsoft Graph audit query JSON).

Run ``python sample_logs/generate.py`` to regenerate the committed files beside this script, or
``python sample_logs/generate.py --events N --format FMT --out FILE`` for a benchmark file that holds
N background events plus the planted story, or ``--mix benign --events N --out DIR`` for a month of a
benign tenant with no attack (N audit records, about N sign-ins and their directory audits, as JSON
Lines in DIR) that the hunt benchmark measures noise on.  ``--mix exchange|sharepoint|directory|signin
--events N --format FMT --out FILE`` writes N audit records of that benign tenant seen through one
workload (no planted attack), so the benchmarks can run on files of other shapes.  Output depends only
on the seed: no clock, no hash randomisation, byte-identical on every run.

This script is the command line and the public API; the code lives in the ``generator`` package
beside it (standard library only).  Python API: ``generate_case(tenant)``,
``planted_steps(tenant)``, ``iter_records(...)``, ``MixStream(mix, events)``, ``write(records, fmt, path)``,
``write_stream(...)`` and ``write_samples(out_dir)``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # loaded by file path (tests), not run as a script
    sys.path.insert(0, _HERE)
# `workbench info sample_logs/` reads every file under this folder: keep __pycache__ out of it.
_dont_write_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True
from generator.attacker import ATTACKER_DEVICE, ATTACKER_IPS, Planted  # noqa: E402
from generator.benign_files import write_benign  # noqa: E402
from generator.ids import to_json  # noqa: E402
from generator.mixes import MIXES, MixStream  # noqa: E402
from generator.records import Access  # noqa: E402
from generator.samples import write_samples  # noqa: E402
from generator.story import planted_steps  # noqa: E402
from generator.stream import RecordStream, generate_case, iter_records  # noqa: E402
from generator.tenants import SEED  # noqa: E402
from generator.writers import (FORMATS, GRAPH_USER_TYPES, RECORD_TYPES, graph_record,  # noqa: E402
                               legacy_date, write, write_stream)
sys.dont_write_bytecode = _dont_write_bytecode

__all__ = ["ATTACKER_DEVICE", "ATTACKER_IPS", "FORMATS", "GRAPH_USER_TYPES", "MIXES", "RECORD_TYPES", "SEED",
           "Access", "MixStream", "Planted", "RecordStream", "generate_case", "graph_record",
           "iter_records", "legacy_date", "main", "planted_steps", "to_json", "write",
           "write_samples", "write_stream"]


def main(argv: list[str] | None = None) -> int:
    """Regenerate the committed samples, or write one benchmark file with ``--events``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int,
                        help="background events of a benchmark file (story mix), or records of the other mixes")
    parser.add_argument("--format", choices=FORMATS, help="shape of the benchmark file")
    parser.add_argument("--out", type=Path, help="benchmark file to write")
    parser.add_argument("--mix", choices=("story", "benign", *MIXES), default="story",
                        help="story: background plus a case's attack (default); benign: a tenant with no attack "
                             "(audit log, sign-ins and directory audits into --out DIR); exchange, sharepoint, "
                             "directory, signin: N audit records of that benign tenant, mostly of one workload "
                             "(mailbox access, files, directory changes, sign-ins), no planted attack")
    parser.add_argument("--sign-ins", type=int, help="sign-ins of the benign mix (default: as many as --events)")
    parser.add_argument("--tenant", choices=("a", "b"), default="a",
                        help="whose story the benchmark file holds (default a)")
    parser.add_argument("--seed", type=int, default=SEED, help=f"random seed (default {SEED})")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="processes serialising a benchmark file (default: one per CPU)")
    parser.add_argument("--out-dir", type=Path,
                        help="where to regenerate the samples (default: beside this script)")
    args = parser.parse_args(argv)
    if args.events is None:
        for path, count in write_samples(args.out_dir, args.seed).items():
            print(f"{path}: {count} records")
        return 0
    if args.mix == "benign":
        if args.out is None or args.events < 0 or args.format not in (None, "jsonl"):
            parser.error("--mix benign needs --events N and --out DIR (JSON Lines only)")
        sign_ins = args.events if args.sign_ins is None else args.sign_ins
        for path, count in write_benign(args.out, args.events, sign_ins, args.seed).items():
            print(f"{path}: {count} records")
        return 0
    if args.format is None or args.out is None or args.events < 0:
        parser.error("--events N needs --format and --out (and N >= 0)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    newest_first = args.format in ("purview-csv", "legacy-csv")
    if args.mix in MIXES:
        mix = MixStream(args.mix, args.events, args.seed, newest_first)
        write_stream(mix, args.format, args.out, args.jobs)
        print(f"{args.out}: {len(mix)} records ({args.mix} mix of {len(mix.members)} accounts, no planted attack)")
        return 0
    stream = iter_records(args.tenant, args.events, args.seed, newest_first)
    write_stream(stream, args.format, args.out, args.jobs)
    silenced = sum(stream.dropped.values())  # a throttled mailbox's hours record no MailItemsAccessed
    print(f"{args.out}: {len(stream)} records ({args.events} background less {silenced} in throttled hours, "
          f"{len(stream.story_ids)} planted, {stream.owners} of the owners' own mail)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
