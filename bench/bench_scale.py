"""Benchmark: each step of working a big case, in a process of its own, with its wall time, CPU time and peak RSS.

    python bench/bench_scale.py [--events 10000000] [--mix story|exchange|sharepoint|directory|signin]
                                [--work DIR]
                                [--steps load,reopen,sql,hunts,correlate,timeline,exposure,export,publish,sweep]
                                [--correlate-with CASE_FOLDER] [--attacker-ip IP]

Generates N events of the mix as JSON Lines (`sample_logs/generate.py --mix`, reused from `--work`), then:
`load` (a cold load into a new case; also the case's disk, a hard link to the input not counted), `reopen` (the
case's rows read back into memory in time order, as the events view reads them: every column but the drill-down's;
no step but the incident report holds every column of every event), `sql` (the article's nine queries as printed, in the SQL console's
session), `hunts` (the whole bundled pack over the case, as `workbench hunt` runs it), and the commands
`correlate`, `timeline --ip` (an address of the article), `exposure --proposed` and `export` (the Azure AD
sign-in records, to JSON Lines in the work folder, removed after), each as the command line runs it, its output
thrown away; then `publish` (the case into a new tenant store in the work folder) and `sweep` (the bundled pack over
that store on DuckDB, as `workbench sweep` runs it). Issue 19's bound is
6 GB of peak RSS in every step at 10M events. The steps read the case whatever the memory check says
(`WORKBENCH_IGNORE_MEMORY=1`): the point is to measure.
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench_load import case_disk  # this script's folder is on the path when it runs

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("load", "reopen", "sql", "hunts", "correlate", "timeline", "exposure", "export", "publish", "sweep")
#: The command line of each step that is a command, after `--case NAME --case-dir DIR`.
COMMANDS = {"correlate": ["correlate"], "timeline": ["timeline", "--ip", "104.161.20.102"],
            "exposure": ["exposure", "--proposed"],
            "export": ["export", "--filter", "workload:AzureActiveDirectory", "-o", "{work}/export-bench.jsonl"]}


def _command(arguments: list[str]) -> int:
    """Run a `workbench` command in this process, its output (not this script's) thrown away."""
    from workbench.cli import main as workbench

    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 1)
        try:
            return workbench(arguments)
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def _both_cases(case_dir: Path, other: Path) -> Path:
    """A case folder holding this run's case and `other` (links to them): correlate compares two cases."""
    folder = case_dir.parent.parent / "correlate-cases"
    folder.mkdir(exist_ok=True)
    for case in (case_dir, other):
        link = folder / case.name
        if not link.is_symlink():
            link.symlink_to(case.resolve())
    return folder


def step(name: str, source: Path, case_dir: Path, other: Path | None = None, attacker_ip: str | None = None) -> dict:
    """Run one step in this process (`other`: the case correlate compares this one with; `attacker_ip`: the
    exposure's attribution instead of the proposal); its figures."""
    os.environ["WORKBENCH_IGNORE_MEMORY"] = "1"
    sys.path.insert(0, str(ROOT))
    from workbench.core.case import Case

    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before, start = usage.ru_utime + usage.ru_stime, time.perf_counter()
    figures: dict = {"step": name}
    if name == "load":
        shutil.rmtree(case_dir, ignore_errors=True)
        report = Case(case_dir).load([source])
        figures |= {"rows": report.totals()["loaded"], "kept": report.files[0].kept,
                    "disk_mb": case_disk(case_dir, source) / 2**20}
    elif name == "reopen":
        from workbench.core.activity import DRILL_DOWN_ONLY

        figures["rows"] = Case(case_dir).activity(view=True).height  # as the events view reads the case
    elif name == "sql":
        from workbench.core.sql import SqlSession, example_queries

        session = SqlSession(Case(case_dir))
        slowest = 0.0
        for query in (text for key, text in example_queries().items() if key.startswith("article-")):
            began = time.perf_counter()
            session.run(query)
            slowest = max(slowest, time.perf_counter() - began)
        figures["slowest_query_s"] = slowest
    elif name == "hunts":
        from workbench.core.hunting import hunt_case

        figures["hits"] = hunt_case(Case(case_dir), {}).height  # as `workbench hunt` does
    elif name == "correlate" and other is not None:
        figures["exit"] = _command(["correlate", "--case", case_dir.name, "--case", other.name,
                                    "--case-dir", str(_both_cases(case_dir, other))])
    elif name == "publish":
        store = case_dir.parent.parent / "store"
        shutil.rmtree(store, ignore_errors=True)
        figures["exit"] = _command(["publish", "--case", case_dir.name, "--case-dir", str(case_dir.parent), str(store)])
    elif name == "sweep":  # of the store the publish step filled
        out = case_dir.parent.parent / "sweep-out"
        figures["exit"] = _command(["sweep", str(case_dir.parent.parent / "store"), "-o", str(out), "--format", "json"])
        figures["hits"] = sum(tenant["hits"] for tenant in json.loads((out / "summary.json").read_text())["tenants"])
    elif name in COMMANDS:
        arguments = [part.format(work=case_dir.parent.parent) for part in COMMANDS[name]]
        if attacker_ip and name in ("timeline", "exposure"):  # an address the mix holds
            arguments = ["timeline", "--ip", attacker_ip] if name == "timeline" else ["exposure", "--attacker-ip", attacker_ip]
        figures["exit"] = _command([arguments[0], "--case", case_dir.name, "--case-dir", str(case_dir.parent),
                                    *arguments[1:]])
        if name == "export":
            written = case_dir.parent.parent / "export-bench.jsonl"
            figures["exported_mb"] = written.stat().st_size / 2**20
            written.unlink()
    usage, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if children.ru_maxrss:  # a process of its own the step started (the hunts of timeline and exposure)
        figures["child_peak_rss_mb"] = round(children.ru_maxrss / 1024)
    return figures | {"wall_s": time.perf_counter() - start, "cpu_s": usage.ru_utime + usage.ru_stime - cpu_before,
                      "peak_rss_mb": usage.ru_maxrss / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--mix", default="story", choices=("story", "exchange", "sharepoint", "directory", "signin"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/workbench-bench-scale"))
    parser.add_argument("--steps", default=",".join(STEPS))
    parser.add_argument("--correlate-with", type=Path, help="a case folder the correlate step compares this run's "
                        "case with (correlate needs two cases, or one case of two tenants)")
    parser.add_argument("--attacker-ip", help="the IP of the timeline step and the exposure step's attacker (default: "
                        "the article's address and the proposal, which a mix without a planted attack leaves empty)")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    args = parser.parse_args()
    source = args.work / f"events-{args.mix}-{args.events}.jsonl"
    case_dir = args.work / "cases" / f"{args.mix}-{args.events}"
    if args.step:
        print(json.dumps(step(args.step, source, case_dir, args.correlate_with, args.attacker_ip)))
        return
    args.work.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        subprocess.run([sys.executable, str(ROOT / "sample_logs" / "generate.py"), "--mix", args.mix, "--events",
                        str(args.events), "--format", "jsonl", "--out", str(source)], check=True)
    print(f"{args.mix} mix, {args.events:,} events, {source.stat().st_size / 2**30:.1f} GiB JSON Lines")
    for name in args.steps.split(","):
        other = ["--correlate-with", str(args.correlate_with)] if args.correlate_with else []
        other += ["--attacker-ip", args.attacker_ip] if args.attacker_ip else []
        done = subprocess.run([sys.executable, __file__, "--step", name, "--events", str(args.events), "--mix",
                               args.mix, "--work", str(args.work), *other], capture_output=True, text=True, check=True)
        figures = json.loads(done.stdout.strip().splitlines()[-1])
        extra = {key: value for key, value in figures.items() if key not in ("step", "wall_s", "cpu_s", "peak_rss_mb")}
        print(f"{name:<8} wall {figures['wall_s']:7.1f} s  CPU {figures['cpu_s']:7.1f} s  peak RSS "
              f"{figures['peak_rss_mb']:7.0f} MB  {json.dumps(extra)}")


if __name__ == "__main__":
    main()
