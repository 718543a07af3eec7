"""Benchmark: loading 1M Entra ID sign-ins, beside a bare Polars read of the same file with a declared core schema.

Two data mixes, so that the figures are not tuned to one generator: `lean` (Graph v1.0 sign-ins: core fields,
one Conditional Access policy) and `heavy` (beta sign-ins: 2-4 authentication steps, 3-8 policies with long
names, long user agents, risk event types, 30 % non-interactive, non-ASCII city names). Two shapes: Graph JSON
Lines and a Log Analytics portal CSV of SigninLogs (`TimeGenerated [UTC]`, dynamic columns as JSON text).

For each (mix, shape), in a process of its own each (so that the peak RSS is the step's own), the fastest of
`--repeat` runs: the bare read, the cold load into a new case, and the reopen (the case opened and its rows
read into memory as the TUI holds them: `Case.activity()`, the sign-ins' bulky columns left on disk). Targets (issue 15): load <= 3x the bare read, reopen <= 0.3x,
peak RSS <= 3 GB.

    python bench/bench_signins.py [--events 1000000] [--mix lean|heavy|both] [--shape jsonl|csv|both]
                                  [--work DIR] [--repeat 2]
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

LOAD_TARGET, REOPEN_TARGET, RSS_TARGET_MB = 3.0, 0.3, 3072
CITIES = ["Redmond", "Amsterdam", "São Paulo", "Zürich", "Kraków", "Москва", "東京", "Lagos", "Alicante", "Reykjavík"]
APPS = ["OfficeHome", "Microsoft Teams", "Office 365 Exchange Online", "One Outlook Web", "Azure Portal"]
CODES = [0] * 12 + [50126, 50074, 50140, 50076, 53003, 50053]


def _pick(values: list, n: int, seed: int) -> pl.Expr:
    """A column of n values drawn from `values` by a seeded hash of the row number."""
    index = (pl.int_range(n, dtype=pl.UInt64).hash(seed) % len(values)).cast(pl.Int64)
    return pl.lit(pl.Series(values)).gather(index)


def signins(n: int, heavy: bool) -> pl.DataFrame:
    """n Graph sign-ins as a frame of nested columns (Polars writes them out as Graph's objects)."""
    row = pl.int_range(n, dtype=pl.Int64)
    user = (row * 7919 % 5000).cast(pl.String)
    time = pl.datetime(2024, 3, 1, time_zone="UTC") + pl.duration(seconds=row * 2)
    code = _pick(CODES, n, 1)
    agent = pl.lit("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"
                   + (" Edg/121.0.2277.128 (contoso-managed-device; build 22631.3155; ring=broad)" if heavy else ""))
    policies = 8 if heavy else 1
    policy = [pl.struct(pl.lit(f"{k:08x}-0000-4000-8000-00000000000{k % 10}").alias("id"),
                        pl.lit(("Require multifactor authentication for every administrator and risky sign-in "
                                if heavy else "Require MFA ") + str(k)).alias("displayName"),
                        pl.lit(["Mfa"]).alias("enforcedGrantControls"), pl.lit([], dtype=pl.List(pl.String)).alias("enforcedSessionControls"),
                        pl.when(code == 0).then(pl.lit("success")).otherwise(pl.lit("notApplied")).alias("result"))
              for k in range(policies)]
    columns = [
        pl.format("{}-{}-4{}-8{}-{}", (row % 99999999).cast(pl.String).str.zfill(8), (row % 9999).cast(pl.String).str.zfill(4),
                  (row % 999).cast(pl.String).str.zfill(3), (row % 777).cast(pl.String).str.zfill(3),
                  (row * 104729 % 999999999999).cast(pl.String).str.zfill(12)).alias("id"),
        time.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("createdDateTime"),
        pl.format("User {}", user).alias("userDisplayName"), pl.format("user{}@contoso.example", user).alias("userPrincipalName"),
        pl.format("{}-0000-4000-8000-000000000000", user.str.zfill(8)).alias("userId"),
        pl.lit("4765445b-32c6-49b0-83e6-1d93765276ca").alias("appId"), _pick(APPS, n, 2).alias("appDisplayName"),
        pl.format("198.51.{}.{}", (row % 250).cast(pl.String), (row * 13 % 250).cast(pl.String)).alias("ipAddress"),
        _pick(["Browser", "Mobile Apps and Desktop clients"], n, 3).alias("clientAppUsed"),
        pl.format("{}", row).str.zfill(32).alias("correlationId"),
        pl.when(code == 0).then(pl.lit("success")).otherwise(pl.lit("notApplied")).alias("conditionalAccessStatus"),
        (_pick([True] * 7 + [False] * 3, n, 4) if heavy else pl.lit(True)).alias("isInteractive"),
        pl.lit("none").alias("riskLevelDuringSignIn"), pl.lit("none").alias("riskState"),
        pl.lit("Office 365 Exchange Online").alias("resourceDisplayName"),
        pl.struct(code.alias("errorCode"), pl.when(code != 0).then(pl.lit("Invalid username or password.")).alias("failureReason"),
                  pl.lit(None, pl.String).alias("additionalDetails")).alias("status"),
        pl.struct(pl.lit("").alias("deviceId"), pl.lit("Windows 10").alias("operatingSystem"), pl.lit("Edge 121.0.0").alias("browser"),
                  pl.lit(False).alias("isCompliant"), pl.lit(False).alias("isManaged")).alias("deviceDetail"),
        pl.struct(_pick(CITIES, n, 5).alias("city"), pl.lit("State").alias("state"), _pick(["US", "NL", "BR", "CH"], n, 6).alias("countryOrRegion"),
                  pl.struct(pl.lit(47.6).alias("latitude"), pl.lit(-122.1).alias("longitude")).alias("geoCoordinates")).alias("location"),
        pl.concat_list(policy).alias("appliedConditionalAccessPolicies"),
    ]
    frame = pl.select(columns)
    if heavy:
        step = [pl.struct(time.dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias("authenticationStepDateTime"),
                          pl.lit(method).alias("authenticationMethod"), pl.lit("Password Hash Sync").alias("authenticationMethodDetail"),
                          (code == 0).alias("succeeded"), pl.lit("MFA successfully completed").alias("authenticationStepResultDetail"))
                for method in ("Password", "Mobile app notification", "Previously satisfied", "FIDO2 security key")]
        frame = frame.with_columns(
            pl.lit("none").alias("authenticationProtocol"), pl.lit("none").alias("originalTransferMethod"),
            pl.lit(["unfamiliarFeatures", "anonymizedIPAddress"]).alias("riskEventTypes_v2"),
            agent.alias("userAgent"), pl.format("{}", row * 31).str.zfill(36).alias("sessionId"),
            pl.format("tok{}", row).alias("uniqueTokenIdentifier"), pl.lit("multiFactorAuthentication").alias("authenticationRequirement"),
            pl.concat_list(step).list.head((row % 3 + 2).cast(pl.Int64)).alias("authenticationDetails"),
            pl.when(pl.col("isInteractive")).then(pl.lit(["interactiveUser"])).otherwise(pl.lit(["nonInteractiveUser"])).alias("signInEventTypes"),
        )
    return frame


def sentinel_csv(frame: pl.DataFrame) -> pl.DataFrame:
    """The same sign-ins as Log Analytics' portal CSV of SigninLogs: PascalCase, dynamic columns as JSON text."""
    time = pl.col("createdDateTime").str.to_datetime("%Y-%m-%dT%H:%M:%SZ").dt.strftime("%-m/%-d/%Y, %-I:%M:%S%.3f %p")
    dynamic = {"Status": "status", "DeviceDetail": "deviceDetail", "LocationDetails": "location",
               "ConditionalAccessPolicies": "appliedConditionalAccessPolicies"}
    if "authenticationDetails" in frame.columns:
        dynamic |= {"AuthenticationDetails": "authenticationDetails", "RiskEventTypes_V2": "riskEventTypes_v2"}
    plain = {"Id": "id", "UserDisplayName": "userDisplayName", "UserPrincipalName": "userPrincipalName", "UserId": "userId",
             "AppId": "appId", "AppDisplayName": "appDisplayName", "IPAddress": "ipAddress", "ClientAppUsed": "clientAppUsed",
             "CorrelationId": "correlationId", "ConditionalAccessStatus": "conditionalAccessStatus",
             "RiskLevelDuringSignIn": "riskLevelDuringSignIn", "RiskState": "riskState", "ResourceDisplayName": "resourceDisplayName"}
    plain |= {name: column for name, column in (("UserAgent", "userAgent"), ("SessionId", "sessionId"),
                                                ("UniqueTokenIdentifier", "uniqueTokenIdentifier")) if column in frame.columns}
    return frame.select(
        pl.lit("7b2d4e1a-0000-4000-8000-000000000000").alias("TenantId"), pl.lit("Azure AD").alias("SourceSystem"),
        time.alias("TimeGenerated [UTC]"), pl.lit("Sign-in activity").alias("OperationName"),
        pl.col("status").struct.field("errorCode").cast(pl.String).alias("ResultType"),
        *(pl.col(column).alias(name) for name, column in plain.items()),
        *((pl.col(column).list.eval(pl.element().cast(pl.String)).list.join('","').map_elements(lambda t: f'["{t}"]' if t else "[]", return_dtype=pl.String)
           if column == "riskEventTypes_v2" else pl.col(column).struct.json_encode() if frame.schema[column] == pl.Struct
           else pl.col(column).map_batches(_json_lists, return_dtype=pl.String)).alias(name) for name, column in dynamic.items()),
        pl.col("isInteractive").cast(pl.String).str.to_lowercase().alias("IsInteractive"),
        pl.when(pl.col("isInteractive")).then(pl.lit("SigninLogs")).otherwise(pl.lit("AADNonInteractiveUserSignInLogs")).alias("Type"),
    )


def _json_lists(series: pl.Series) -> pl.Series:
    """A list column as JSON text per row, natively: each row wrapped in a struct, encoded, and unwrapped."""
    return series.to_frame("v").select(pl.struct("v").struct.json_encode().str.slice(5).str.strip_suffix("}")).to_series()


def generate(events: int, mix: str, shape: str, out: Path) -> None:
    if out.exists():
        return
    frame = signins(events, mix == "heavy")
    if shape == "jsonl":
        frame.write_ndjson(out)
    else:
        sentinel_csv(frame).write_csv(out)


def reference(source: Path, shape: str) -> int:
    """The bare read: Polars with a declared schema of the core fields."""
    if shape == "jsonl":
        text = pl.String
        schema = {name: text for name in ("id", "createdDateTime", "userPrincipalName", "userId", "appId", "appDisplayName",
                                          "ipAddress", "clientAppUsed", "correlationId", "conditionalAccessStatus")}
        schema |= {"isInteractive": pl.Boolean,
                   "status": pl.Struct({"errorCode": pl.Int64, "failureReason": text}),
                   "location": pl.Struct({"city": text, "countryOrRegion": text}),
                   "deviceDetail": pl.Struct({"operatingSystem": text, "browser": text})}
        return pl.read_ndjson(source, schema=schema).height
    core = ["TimeGenerated [UTC]", "Id", "UserPrincipalName", "UserId", "AppId", "AppDisplayName", "IPAddress", "ClientAppUsed",
            "CorrelationId", "ConditionalAccessStatus", "ResultType", "Status", "LocationDetails", "DeviceDetail", "IsInteractive"]
    return pl.read_csv(source, columns=core, schema_overrides={name: pl.String for name in core}, infer_schema=False).height


def measure(kind: str, source: Path, shape: str, case_dir: Path) -> dict:
    """One measurement in this process."""
    if kind != "bare":
        import workbench  # noqa: F401  (the product sets Polars' options before Polars is used)
    start = time.perf_counter()
    if kind == "bare":
        rows = reference(source, shape)
    else:
        from workbench.core.case import Case

        case = Case.named(f"bench-{source.stem}", case_dir)
        if kind == "load":
            case.load([source])
            rows = case.scan(frame="sign_ins").select(pl.len()).collect().item()
        else:
            _, reused = case.open([source])
            assert reused, "reopen parsed the inputs again"
            rows = case.activity().height  # what the TUI holds in memory: every source's rows, projected
    return {"kind": kind, "rows": rows, "seconds": time.perf_counter() - start,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_child(kind: str, source: Path, shape: str, case_dir: Path, repeat: int) -> dict:
    runs = []
    for _ in range(repeat):
        if kind == "load":
            subprocess.run(["rm", "-rf", str(case_dir / f"bench-{source.stem}")], check=True)
        result = subprocess.run([sys.executable, __file__, "--measure", kind, "--source", str(source), "--shape", shape,
                                 "--case-dir", str(case_dir)], capture_output=True, text=True, check=True)
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda row: row["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=("lean", "heavy", "both"), default="both")
    parser.add_argument("--shape", choices=("jsonl", "csv", "both"), default="both")
    parser.add_argument("--work", type=Path, help="folder for the generated files and cases (kept)")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.source, args.shape, args.case_dir)))
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-signins-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{args.events:,} sign-ins; {os.cpu_count()} CPUs; Python {sys.version.split()[0]}, Polars {pl.__version__}; "
          f"fastest of {args.repeat}")
    print(f"{'mix':6} {'shape':6} {'MB':>6} {'bare s':>7} {'load s':>7} {'load/bare':>9} {'reopen s':>8} {'reopen/bare':>11} "
          f"{'load RSS MB':>11} {'reopen RSS MB':>13}  targets")
    for mix in ("lean", "heavy") if args.mix == "both" else (args.mix,):
        for shape in ("jsonl", "csv") if args.shape == "both" else (args.shape,):
            source = work / f"signins-{mix}-{args.events}.{shape}"
            generate(args.events, mix, shape, source)
            bare, load, reopen = (run_child(kind, source, shape, work / "cases", args.repeat) for kind in ("bare", "load", "reopen"))
            assert bare["rows"] == load["rows"] == reopen["rows"] == args.events, (bare, load, reopen)
            ratio, back = load["seconds"] / bare["seconds"], reopen["seconds"] / bare["seconds"]
            met = [ratio <= LOAD_TARGET, back <= REOPEN_TARGET, max(load["peak_rss_mb"], reopen["peak_rss_mb"]) <= RSS_TARGET_MB]
            print(f"{mix:6} {shape:6} {source.stat().st_size / 2**20:6.0f} {bare['seconds']:7.2f} {load['seconds']:7.2f} "
                  f"{ratio:8.2f}x {reopen['seconds']:8.2f} {back:10.2f}x {load['peak_rss_mb']:11.0f} {reopen['peak_rss_mb']:13.0f}  "
                  + " ".join(("met" if ok else "MISSED") for ok in met))


if __name__ == "__main__":
    main()
