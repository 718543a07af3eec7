"""Benchmark: loading 1M Entra ID sign-ins, beside a bare Polars read of the same file with a declared core schema.

Issue 15's target: "1M generated sign-ins in a Graph JSON Lines file and in a Sentinel CSV: cold load <= 3x a
bare Polars read of the same file with a declared core schema, in the same run; reopen <= 0.3x; peak RSS <= 3 GB".

Data (generated here, seeded, vectorised with Polars; kept with `--keep DIR` and reused when there), two mixes
so that no figure is tuned to one generator:
- `lean`: Microsoft Graph v1.0 sign-ins with the core fields (nested `status`, `deviceDetail`, `location`, one
  Conditional Access policy, empty risk event lists), about 1.2 KB a record as JSON;
- `heavy`: Graph beta sign-ins: 2-4 `authenticationDetails` steps, 3-8 applied Conditional Access policies with
  long names and their beta rule fields, long user agents, `riskEventTypes` on some, 30 % non-interactive,
  non-ASCII city names, a few IPv6 addresses, about 4 KB a record;
each in two shapes: Graph JSON Lines (one `signIn` object a line, camelCase) and the Log Analytics portal's CSV
export of `SigninLogs` (`TenantId,SourceSystem,TimeGenerated [UTC],...,Type`, times like
`3/1/2024, 10:15:02.123 AM`, dynamic columns as JSON text in quoted fields, `Type` SigninLogs or
AADNonInteractiveUserSignInLogs).

For each (mix, shape) three steps, each in a process of its own (so that its peak RSS, `ru_maxrss`, is the
step's own), the fastest of `--repeat` runs (as bench_load.py: on a shared machine other work only slows a run):
- `bare`: Polars alone (the product not imported) reading the file with a declared schema of 15 core fields
  (JSON Lines: `read_ndjson` with `status`, `location`, `deviceDetail` as structs; CSV: `read_csv` of those 15
  columns as String, no inference);
- `load`: a cold load into a new case, `Case(root).load([file])`, then the sign-ins counted from the case
  (`case.scan(frame="sign_ins").select(pl.len())`);
- `reopen`: a new process opening the loaded case and reading its sign-ins into memory,
  `Case(root).frame("sign_ins")`.
Also shown, without a target: for a CSV, `bare-all`, the same `read_csv` of every column (the load reads them
all), and `floor`, the least any load of it must do: `read_csv` of only the columns the Sentinel dialect reads,
the JSON cells it reads fields of decoded to those fields (Polars' `json_decode`), while the file's SHA-256 (the
chain of custody) is taken on a second thread (bench_load.py's floor); and `activity`, the case's rows as the TUI holds them (`Case.activity()`).
Wall and CPU time (user + system, every thread) are of the step itself, after the interpreter started and Polars
(and, for the product's steps, `workbench`, which sets Polars' allocator options) was imported.

    python bench/bench_signins.py [--events 1000000] [--mix lean|heavy|both] [--shape jsonl|csv|both]
                                  [--keep DIR] [--repeat 2] [--seed 15]
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LOAD_TARGET, REOPEN_TARGET, RSS_TARGET_MB = 3.0, 0.3, 3072
BATCH_ROWS = 200_000  # rows generated at once (bounds the generator's memory)

# The 15 core fields of the bare read, in each shape.
JSONL_CORE = ("id", "createdDateTime", "userDisplayName", "userPrincipalName", "userId", "appId", "appDisplayName",
              "ipAddress", "clientAppUsed", "correlationId", "conditionalAccessStatus", "isInteractive",
              "status", "location", "deviceDetail")
CSV_CORE = ("TimeGenerated [UTC]", "Id", "UserDisplayName", "UserPrincipalName", "UserId", "AppId", "AppDisplayName",
            "IPAddress", "ClientAppUsed", "CorrelationId", "ConditionalAccessStatus", "ResultType",
            "Status", "LocationDetails", "DeviceDetail")

# --- generating -------------------------------------------------------------------------------------------------

APPS = [("4765445b-32c6-49b0-83e6-1d93765276ca", "OfficeHome"), ("1fec8e78-bce4-4aaf-ab1b-5451cc387264", "Microsoft Teams"),
        ("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"), ("c44b4083-3bb0-49c1-b47d-974e53cbdf3c", "Azure Portal"),
        ("d3590ed6-52b3-4102-aeff-aad2292ab01c", "Microsoft Office"), ("27922004-5251-4030-b22d-91ecd9a37ea4", "Outlook Mobile"),
        ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online")]
RESOURCES = [("00000002-0000-0ff1-ce00-000000000000", "Office 365 Exchange Online"),
             ("00000003-0000-0000-c000-000000000000", "Microsoft Graph"),
             ("00000003-0000-0ff1-ce00-000000000000", "Office 365 SharePoint Online"),
             ("797f4846-ba00-4fd7-ba43-dac1f8f63013", "Windows Azure Service Management API")]
# (city, state, country, latitude, longitude)
PLACES_ASCII = [("Redmond", "Washington", "US", 47.674, -122.1215), ("Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041),
                ("Dublin", "Dublin", "IE", 53.3498, -6.2603), ("Chicago", "Illinois", "US", 41.8781, -87.6298),
                ("Lagos", "Lagos", "NG", 6.5244, 3.3792), ("Sydney", "New South Wales", "AU", -33.8688, 151.2093),
                ("Frankfurt am Main", "Hessen", "DE", 50.1109, 8.6821), ("Singapore", "Singapore", "SG", 1.3521, 103.8198)]
PLACES_WIDE = PLACES_ASCII[:5] + [("São Paulo", "São Paulo", "BR", -23.5505, -46.6333), ("Zürich", "Zürich", "CH", 47.3769, 8.5417),
                                  ("Kraków", "Małopolskie", "PL", 50.0647, 19.945), ("Москва", "Москва", "RU", 55.7558, 37.6173),
                                  ("東京", "東京都", "JP", 35.6762, 139.6503), ("Reykjavík", "Höfuðborgarsvæðið", "IS", 64.1466, -21.9426),
                                  ("İstanbul", "İstanbul", "TR", 41.0082, 28.9784)]
STATUS = [(0, "Other.", None)] * 14 + [
    (50126, "Error validating credentials due to invalid username or password.", "The user didn't enter the right credentials."),
    (50074, "Strong Authentication is required.", "MFA required in Azure AD"),
    (50140, "This error occurred due to 'Keep me signed in' interrupt when the user was signing in.", None),
    (53003, "Access has been blocked by Conditional Access policies.", "Blocked by Conditional Access"),
    (50053, "The account is locked, you've tried to sign in too many times with an incorrect user ID or password.", None),
    (50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access.", None)]
DEVICES = [("Windows 10", "Edge 121.0.2277"), ("Windows 10", "Chrome 121.0.0"), ("MacOs", "Safari 17.3"),
           ("Ios", "Mobile Safari 17.3"), ("Android", "Chrome Mobile 121.0.6167"), ("Windows 10", "Rich Client 16.0.17231")]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0.0.0 Safari/537.36 "
    "Edg/121.0.2277.128 (contoso-managed-device; build 22631.3155; ring=broad; channel=current; proxy=zscaler-eu-west-2)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 "
    "[FBAN/FBIOS;FBAV/450.0.0.38.108;FBBV/564431005;FBDV/iPhone15,3;FBMD/iPhone;FBSN/iOS;FBSV/17.3.1;FBSS/3;FBID/phone;FBLC/en_GB]",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15 "
    "Microsoft Outlook/16.81.24011420 (macOS 14.3; en-US; ProPlus; x64; telemetry=opt-in; session=interactive)",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17231; Pro; ms-office; MSOffice 16) "
    "BrowserSignIn/1.0 (AzureAD; WAM; Windows.Security.Authentication.Web.Core; MSAL.Desktop 4.58.1.0)",
    "python-requests/2.31.0",
]
POLICY_NAMES = [
    "CA001 - Require multifactor authentication for all administrators on every cloud app (break-glass excluded)",
    "CA002 - Block legacy authentication protocols for all users including Exchange ActiveSync and other clients",
    "CA003 - Require compliant or hybrid Azure AD joined device for access to Office 365 from unmanaged networks",
    "CA004 - Require MFA registration from trusted locations only, report-only during the rollout to the EMEA region",
    "CA005 - Sign-in risk medium and above requires multifactor authentication and a password change for the user",
    "CA006 - Session lifetime of 12 hours and no persistent browser session for unmanaged devices in all countries",
    "CA007 - Block access from countries outside the allowed list (named location: Corporate allowed countries v3)",
    "CA008 - Require terms of use acceptance and app protection policy for mobile apps on iOS and Android devices",
]
RISK_EVENTS = [[]] * 17 + [["unfamiliarFeatures"], ["anonymizedIPAddress", "unlikelyTravel"], ["maliciousIPAddress"]]


class _Rows:
    """Seeded values of the rows whose numbers `row` gives (the same row gets the same values in any frame)."""

    def __init__(self, row, seed: int):
        import polars as pl

        self.pl, self.row, self.seed = pl, row, seed

    def hash(self, salt: int):
        return self.row.hash(self.seed * 1_000 + salt)

    def index(self, count: int, salt: int):
        return (self.hash(salt) % count).cast(self.pl.Int64)

    def pick(self, values: list, salt: int, dtype=None):
        return self.pl.lit(self.pl.Series(values, dtype=dtype)).gather(self.index(len(values), salt))

    def pick_tuple(self, values: list, salt: int, names: list[str]) -> list:
        at = self.index(len(values), salt)
        return [self.pl.lit(self.pl.Series([value[k] for value in values])).gather(at).alias(name) for k, name in enumerate(names)]

    def digits(self, salt: int, width: int):
        return (self.hash(salt) % 10**width).cast(self.pl.String).str.zfill(width)

    def guid(self, salt: int):
        return self.pl.format("{}-{}-4{}-a{}-{}", self.digits(salt, 8), self.digits(salt + 1, 4), self.digits(salt + 2, 3),
                              self.digits(salt + 3, 3), self.digits(salt + 4, 12))

    def chance(self, percent: int, salt: int):
        return self.hash(salt) % 100 < percent

    def time(self):
        """The sign-in's time as Graph writes it (2 s apart, the milliseconds dropped)."""
        pl = self.pl
        moment = pl.datetime(2024, 3, 1, time_zone="UTC") + pl.duration(milliseconds=self.row * 2_000 + self.index(1_000, 1))
        return moment.dt.strftime("%Y-%m-%dT%H:%M:%SZ")

    def status(self) -> tuple:
        """(errorCode, failureReason, additionalDetails)."""
        pl, at = self.pl, self.index(len(STATUS), 5)
        return tuple(pl.lit(pl.Series([s[k] for s in STATUS], dtype=dtype)).gather(at)
                     for k, dtype in enumerate((pl.Int64, pl.String, pl.String)))

    def interactive(self, heavy: bool):
        return ~self.chance(30, 21) if heavy else self.pl.lit(True)


def _nested_lists(offset: int, n: int, width: int, counts, item, seed: int):
    """A list column of `counts` (an expression of `_Rows`) items a row, up to `width`: item(rows, k) makes the k-th.

    Built flat (n * width items) and cut into rows, which is much faster than `concat_list` of structs."""
    import polars as pl

    flat = pl.int_range(0, n * width, dtype=pl.Int64)
    rows, k = _Rows(offset + flat // width, seed), flat % width
    items = pl.select(item(rows, k)).to_series().reshape((n, width))
    return pl.select(items.cast(pl.List(items.dtype.inner)).list.head(counts(_Rows(pl.int_range(offset, offset + n), seed))))


def _policy(heavy: bool):
    """The k-th applied Conditional Access policy of a row (Graph v1.0 fields; beta's rule fields when heavy)."""
    import polars as pl

    no_strings = pl.lit([], dtype=pl.List(pl.String))
    results = ["success", "notApplied", "notEnabled", "reportOnlySuccess", "reportOnlyNotApplied", "failure"]

    def item(rows: _Rows, k):
        fields = [pl.format("0000000{}-5f2c-4c1e-9b8a-00000000000{}", k + 1, k + 1).alias("id"),
                  (pl.lit(pl.Series(POLICY_NAMES)).gather(k) if heavy else pl.format("Require MFA {}", k + 1)).alias("displayName"),
                  pl.when(k % 2 == 0).then(pl.lit(["Mfa"])).otherwise(pl.lit(["RequireCompliantDevice", "RequireDomainJoinedDevice"]))
                  .alias("enforcedGrantControls"),
                  pl.when(k == 5).then(pl.lit(["SignInFrequency", "PersistentBrowserSessionMode"])).otherwise(no_strings)
                  .alias("enforcedSessionControls"),
                  pl.lit(pl.Series(results)).gather((rows.hash(30) + k.cast(pl.UInt64)) % len(results)).alias("result")]
        if heavy:
            fields += [pl.lit("application,users").alias("conditionsSatisfied"), pl.lit("none").alias("conditionsNotSatisfied"),
                       pl.lit([{"conditionalAccessCondition": "application", "ruleSatisfied": "allApps"},
                               {"conditionalAccessCondition": "users", "ruleSatisfied": "allUsers"}]).alias("includeRulesSatisfied"),
                       pl.lit([], dtype=pl.List(pl.Struct({"conditionalAccessCondition": pl.String, "ruleSatisfied": pl.String})))
                       .alias("excludeRulesSatisfied"),
                       no_strings.alias("sessionControlsNotSatisfied")]
        return pl.struct(fields).alias("appliedConditionalAccessPolicies")

    return item


STEPS = [("Password", "Password Hash Sync", "Primary authentication", "Correct password"),
         ("Mobile app notification", "Microsoft Authenticator", "MFA", "MFA successfully completed"),
         ("Previously satisfied", "", "MFA", "MFA requirement satisfied by claim in the token"),
         ("FIDO2 security key", "YubiKey 5 NFC", "MFA", "MFA completed in Azure AD")]


def _step(rows: _Rows, k):
    """The k-th authentication step of a row (Graph beta `authenticationDetails`)."""
    import polars as pl

    method, detail, requirement, result = (pl.lit(pl.Series([step[j] for step in STEPS])).gather(k) for j in range(4))
    return pl.struct(rows.time().alias("authenticationStepDateTime"), method.alias("authenticationMethod"),
                     detail.alias("authenticationMethodDetail"), (rows.status()[0] == 0).alias("succeeded"),
                     result.alias("authenticationStepResultDetail"), requirement.alias("authenticationStepRequirement")
                     ).alias("authenticationDetails")


def _columns(offset: int, n: int, heavy: bool, seed: int) -> list:
    """The column expressions of rows offset..offset+n of a mix (Graph's names and nesting), but for the lists of
    objects (`sign_ins` adds them)."""
    import polars as pl

    rows = _Rows(pl.int_range(offset, offset + n, dtype=pl.Int64), seed)
    row, h, index, pick, digits, guid, chance = rows.row, rows.hash, rows.index, rows.pick, rows.digits, rows.guid, rows.chance
    user = index(5_000, 2)
    app_id, app_name = rows.pick_tuple(APPS, 3, ["appId", "appDisplayName"])
    resource_id, resource_name = rows.pick_tuple(RESOURCES, 4, ["resourceId", "resourceDisplayName"])
    code, reason, details = rows.status()
    managed = chance(40, 6)
    os_name, browser = rows.pick_tuple(DEVICES, 7, ["operatingSystem", "browser"])
    city, state, country, latitude, longitude = rows.pick_tuple(PLACES_WIDE if heavy else PLACES_ASCII, 8,
                                                                ["city", "state", "countryOrRegion", "latitude", "longitude"])
    ipv4 = pl.format("{}.{}.{}.{}", (h(9) % 223 + 1).cast(pl.String), (h(10) % 256).cast(pl.String),
                     (h(11) % 256).cast(pl.String), (h(12) % 254 + 1).cast(pl.String))
    group = [(h(13 + k) % 9_000 + 1_000).cast(pl.String) for k in range(6)]
    ipv6 = pl.format("2603:10a6:{}:{}:{}:{}:{}:{}", *group)
    ip = (pl.when(chance(10, 19)).then(ipv6).when(chance(1, 20)).then(pl.format("2001:db8:{}::{}", group[0], group[1]))
          .otherwise(ipv4)) if heavy else ipv4
    interactive = rows.interactive(heavy)
    ca_status = pl.when(code == 53003).then(pl.lit("failure")).when(chance(60, 22)).then(pl.lit("success")).otherwise(pl.lit("notApplied"))
    risk_events = pick(RISK_EVENTS, 23, pl.List(pl.String)) if heavy else pl.lit([], dtype=pl.List(pl.String))
    columns = [
        pl.format("{}-{}-4{}-b{}-{}", digits(40, 8), digits(41, 4), digits(42, 3), digits(43, 3),
                  row.cast(pl.String).str.zfill(12)).alias("id"),
        rows.time().alias("createdDateTime"),
        pl.format("User {}", user.cast(pl.String)).alias("userDisplayName"),
        pl.format("user{}@contoso.example", user.cast(pl.String)).alias("userPrincipalName"),
        pl.format("{}-0000-4000-8000-000000000000", user.cast(pl.String).str.zfill(8)).alias("userId"),
        app_id, app_name, pl.lit(None, pl.String).alias("servicePrincipalId"),
        ip.alias("ipAddress"),
        pick(["Browser", "Mobile Apps and Desktop clients", "Exchange ActiveSync"] if heavy else ["Browser", "Mobile Apps and Desktop clients"],
             25).alias("clientAppUsed"),
        guid(50).alias("correlationId"), ca_status.alias("conditionalAccessStatus"), interactive.alias("isInteractive"),
        pl.lit("none").alias("riskDetail"), pl.lit("none").alias("riskLevelAggregated"),
        pl.lit("none").alias("riskLevelDuringSignIn"), pl.lit("none").alias("riskState"),
        risk_events.alias("riskEventTypes"), risk_events.alias("riskEventTypes_v2"),
        resource_name, resource_id,
        pl.struct(code.alias("errorCode"), reason.alias("failureReason"), details.alias("additionalDetails")).alias("status"),
        pl.struct(pl.when(managed).then(guid(60)).otherwise(pl.lit("")).alias("deviceId"),
                  pl.when(managed).then(pl.format("DESKTOP-{}", digits(65, 6))).otherwise(pl.lit("")).alias("displayName"),
                  os_name, browser, managed.alias("isCompliant"), managed.alias("isManaged"),
                  pl.when(managed).then(pl.lit("Azure AD joined")).otherwise(pl.lit("")).alias("trustType")).alias("deviceDetail"),
        pl.struct(city, state, country, pl.struct(pl.lit(None, pl.Float64).alias("altitude"), latitude, longitude)
                  .alias("geoCoordinates")).alias("location"),
    ]
    if heavy:
        columns += [
            pl.lit([{"key": "Legacy TLS (TLS 1.0, 1.1, 3DES)", "value": "False"}, {"key": "Is CAE Token", "value": "False"},
                    {"key": "Oauth Scope Info", "value": '["email","openid","profile","User.Read"]'}]).alias("authenticationProcessingDetails"),
            pl.lit([{"requirementProvider": "multiConditionalAccess", "detail": "Conditional Access"}]).alias("authenticationRequirementPolicies"),
            pick(["singleFactorAuthentication", "multiFactorAuthentication"], 27).alias("authenticationRequirement"),
            pl.struct(pick(["PhoneAppNotification", "OneWaySMS", None], 28, pl.String).alias("authMethod"),
                      pl.lit(None, pl.String).alias("authDetail")).alias("mfaDetail"),
            pick(AGENTS, 29).alias("userAgent"),
            pl.when(interactive).then(pl.lit(["interactiveUser"])).otherwise(pl.lit(["nonInteractiveUser"])).alias("signInEventTypes"),
            pl.lit("member").alias("userType"), pl.lit("AzureAD").alias("tokenIssuerType"), pl.lit("").alias("tokenIssuerName"),
            pl.lit("7b2d4e1a-0000-4000-8000-000000000000").alias("homeTenantId"),
            pl.lit("7b2d4e1a-0000-4000-8000-000000000000").alias("resourceTenantId"),
            pl.lit("none").alias("crossTenantAccessType"), pl.lit("none").alias("authenticationProtocol"),
            pl.lit("none").alias("incomingTokenType"), pl.lit("none").alias("originalTransferMethod"),
            (h(70) % 60_000 + 1_000).alias("autonomousSystemNumber"),
            pl.format("{}{}AA", digits(71, 10), digits(72, 10)).alias("uniqueTokenIdentifier"), guid(80).alias("sessionId"),
            pl.lit(False).alias("flaggedForReview"), pl.lit(False).alias("isTenantRestricted"),
            pl.lit([], dtype=pl.List(pl.String)).alias("networkLocationDetails"),
            pl.lit([], dtype=pl.List(pl.String)).alias("sessionLifetimePolicies"),
        ]
    return columns


def sign_ins(offset: int, n: int, mix: str, seed: int):
    """Rows offset..offset+n of a mix as Graph sign-ins (a frame of nested columns, written out as Graph's JSON)."""
    import polars as pl

    heavy = mix == "heavy"
    frame = pl.select(_columns(offset, n, heavy, seed))
    if heavy:  # 3-8 policies, 2-4 authentication steps
        policies = _nested_lists(offset, n, 8, lambda rows: rows.index(6, 24) + 3, _policy(True), seed)
        steps = _nested_lists(offset, n, 4, lambda rows: rows.index(3, 26) + 2, _step, seed)
        frame = frame.with_columns(policies.to_series(), steps.to_series())
    else:
        frame = frame.with_columns(_nested_lists(offset, n, 1, lambda rows: pl.lit(1), _policy(False), seed).to_series())
    return frame


#: The portal CSV's columns in order: (column, Graph field it holds or None for a constant, constant).
SENTINEL_COLUMNS = [
    ("TenantId", None, "7b2d4e1a-0000-4000-8000-000000000000"), ("SourceSystem", None, "Azure AD"),
    ("TimeGenerated [UTC]", "@time", None), ("ResourceId", None, "/tenants/7b2d4e1a-0000-4000-8000-000000000000/providers/Microsoft.aadiam"),
    ("OperationName", None, "Sign-in activity"), ("OperationVersion", None, "1.0"), ("Category", "@category", None),
    ("ResultType", "@code", None), ("ResultSignature", None, "None"), ("ResultDescription", "@reason", None),
    ("DurationMs", None, "0"), ("CorrelationId", "correlationId", None), ("Resource", None, "Microsoft.aadiam"),
    ("ResourceGroup", None, "Microsoft.aadiam"), ("ResourceProvider", None, "Microsoft.aadiam"),
    ("Identity", "userDisplayName", None), ("Level", None, "4"), ("Location", "@country", None),
    ("AlternateSignInName", "userPrincipalName", None), ("AppDisplayName", "appDisplayName", None), ("AppId", "appId", None),
    ("AuthenticationContextClassReferences", None, "[]"), ("AuthenticationDetails", "authenticationDetails", None),
    ("AuthenticationMethodsUsed", None, ""), ("AuthenticationProcessingDetails", "authenticationProcessingDetails", None),
    ("AuthenticationRequirement", "authenticationRequirement", None),
    ("AuthenticationRequirementPolicies", "authenticationRequirementPolicies", None), ("ClientAppUsed", "clientAppUsed", None),
    ("ConditionalAccessPolicies", "appliedConditionalAccessPolicies", None),
    ("ConditionalAccessStatus", "conditionalAccessStatus", None), ("CreatedDateTime [UTC]", "@created", None),
    ("DeviceDetail", "deviceDetail", None), ("IsInteractive", "isInteractive", None), ("Id", "id", None),
    ("IPAddress", "ipAddress", None), ("IsRisky", None, ""), ("LocationDetails", "location", None), ("MfaDetail", "mfaDetail", None),
    ("NetworkLocationDetails", "networkLocationDetails", None), ("OriginalRequestId", "id", None),
    ("ProcessingTimeInMilliseconds", None, "114"), ("RiskDetail", "riskDetail", None), ("RiskEventTypes", "riskEventTypes", None),
    ("RiskEventTypes_V2", "riskEventTypes_v2", None), ("RiskLevelAggregated", "riskLevelAggregated", None),
    ("RiskLevelDuringSignIn", "riskLevelDuringSignIn", None), ("RiskState", "riskState", None),
    ("ResourceDisplayName", "resourceDisplayName", None), ("ResourceIdentity", "resourceId", None),
    ("ServicePrincipalId", "servicePrincipalId", None), ("Status", "status", None), ("TokenIssuerName", "tokenIssuerName", None),
    ("TokenIssuerType", "tokenIssuerType", None), ("UserAgent", "userAgent", None), ("UserDisplayName", "userDisplayName", None),
    ("UserId", "userId", None), ("UserPrincipalName", "userPrincipalName", None), ("AADTenantId", None, "7b2d4e1a-0000-4000-8000-000000000000"),
    ("UserType", "userType", None), ("FlaggedForReview", "flaggedForReview", None), ("IPAddressFromResourceProvider", None, ""),
    ("SignInIdentifier", "userPrincipalName", None), ("SignInIdentifierType", None, ""),
    ("ResourceTenantId", "resourceTenantId", None), ("HomeTenantId", "homeTenantId", None),
    ("UniqueTokenIdentifier", "uniqueTokenIdentifier", None), ("SessionLifetimePolicies", "sessionLifetimePolicies", None),
    ("AutonomousSystemNumber", "autonomousSystemNumber", None), ("AuthenticationProtocol", "authenticationProtocol", None),
    ("CrossTenantAccessType", "crossTenantAccessType", None), ("AppliedEventListeners", None, "[]"),
    ("IncomingTokenType", "incomingTokenType", None),
    ("OriginalTransferMethod", "originalTransferMethod", None), ("SessionId", "sessionId", None), ("Type", "@type", None),
]


def sentinel_csv(frame):
    """The same sign-ins as the Log Analytics portal's CSV export of SigninLogs: every column text, dynamic ones as
    JSON, empty cells where the sign-in has no such field."""
    import polars as pl

    moment = pl.col("createdDateTime").str.to_datetime("%Y-%m-%dT%H:%M:%SZ", time_unit="ms")
    shown = "%-m/%-d/%Y, %-I:%M:%S%.3f %p"
    # TimeGenerated is when Log Analytics ingested the row: a few seconds later, to the millisecond.
    ingested = moment + pl.duration(milliseconds=(pl.col("id").hash(7) % 9_000 + 500).cast(pl.Int64))
    special = {
        "@time": ingested.dt.strftime(shown), "@created": moment.dt.strftime(shown),
        "@code": pl.col("status").struct.field("errorCode").cast(pl.String),
        "@reason": pl.when(pl.col("status").struct.field("errorCode") != 0).then(pl.col("status").struct.field("failureReason"))
        .otherwise(pl.lit("")),
        "@country": pl.col("location").struct.field("countryOrRegion"),
        "@category": pl.when(pl.col("isInteractive")).then(pl.lit("SignInLogs")).otherwise(pl.lit("NonInteractiveUserSignInLogs")),
        "@type": pl.when(pl.col("isInteractive")).then(pl.lit("SigninLogs")).otherwise(pl.lit("AADNonInteractiveUserSignInLogs")),
    }
    columns, seen = [], set()
    for name, field, constant in SENTINEL_COLUMNS:
        if name in seen:
            continue
        seen.add(name)
        if field is None:
            value = pl.lit(constant)
        elif field in special:
            value = special[field]
        elif field not in frame.columns:
            value = pl.lit("")
        else:
            dtype = frame.schema[field]
            if isinstance(dtype, pl.Struct):
                value = pl.col(field).struct.json_encode()
            elif isinstance(dtype, pl.List):  # a list as JSON: wrapped in a struct, encoded, unwrapped
                value = pl.struct(pl.col(field).alias("v")).struct.json_encode().str.slice(5).str.strip_suffix("}")
            elif dtype == pl.Boolean:
                value = pl.col(field).cast(pl.String)
            else:
                value = pl.col(field).cast(pl.String).fill_null("")
        columns.append(value.fill_null("").alias(name))
    return frame.select(columns)


def generate(events: int, mix: str, shape: str, seed: int, out: Path) -> None:
    """Write `events` sign-ins of a mix in a shape to `out`, a batch of rows at a time."""
    partial = out.with_name(out.name + ".partial")
    with open(partial, "wb") as handle:
        for offset in range(0, events, BATCH_ROWS):
            frame = sign_ins(offset, min(BATCH_ROWS, events - offset), mix, seed)
            if shape == "jsonl":
                frame.write_ndjson(handle)
            else:
                sentinel_csv(frame).write_csv(handle, include_header=offset == 0)
    os.replace(partial, out)


# --- measuring ------------------------------------------------------------------------------------------------


def bare_read(source: Path, shape: str) -> int:
    """The bare read: Polars with a declared schema of the 15 core fields."""
    import polars as pl

    if shape == "jsonl":
        text = pl.String
        schema = {name: text for name in JSONL_CORE}
        schema |= {"isInteractive": pl.Boolean,
                   "status": pl.Struct({"errorCode": pl.Int64, "failureReason": text, "additionalDetails": text}),
                   "location": pl.Struct({"city": text, "state": text, "countryOrRegion": text,
                                          "geoCoordinates": pl.Struct({"latitude": pl.Float64, "longitude": pl.Float64})}),
                   "deviceDetail": pl.Struct({"deviceId": text, "operatingSystem": text, "browser": text})}
        return pl.read_ndjson(source, schema=schema).height
    return pl.read_csv(source, columns=list(CSV_CORE), schema_overrides={name: pl.String for name in CSV_CORE},
                       infer_schema=False).height


def read_floor(source: Path) -> int:
    """Read the columns of a Sentinel CSV that the load reads and decode the JSON cells it reads fields of, while the
    file is hashed beside it; return the rows read."""
    import polars as pl
    from bench_load import while_hashing  # this script's folder is on the path when it runs

    from workbench.core.sources.fields import paths_of
    from workbench.core.sources.sign_ins import SENTINEL

    header, fields = pl.read_csv(source, n_rows=0).columns, {}
    for path in paths_of(SENTINEL):  # {"LocationDetails": {"geoCoordinates": {"latitude": {}}, ...}, "Id": {}, ...}
        level = fields
        for key in path:
            level = level.setdefault(key, {})

    def dtype(tree: dict) -> pl.DataType:
        return pl.Struct({key: dtype(below) for key, below in tree.items()}) if tree else pl.String()

    columns = [name for name in fields if name in header]
    decoded = [pl.when(pl.col(name).str.starts_with("{")).then(pl.col(name)).str.json_decode(dtype(fields[name]))
               for name in columns if fields[name]]
    return while_hashing(source, lambda: pl.read_csv(source, columns=columns, infer_schema=False)
                         .with_columns(decoded).height)


def measure(kind: str, source: Path, shape: str, case_root: Path) -> dict:
    """One step in this process; its wall and CPU time from after the imports, and the process's peak RSS."""
    if not kind.startswith("bare"):
        import workbench  # noqa: F401  (before Polars: the product sets Polars' allocator options, as its command does)
        from workbench.core.case import Case
    import polars as pl

    extra = {}
    usage, cpu, start = resource.getrusage(resource.RUSAGE_SELF), time.process_time(), time.perf_counter()
    if kind == "bare":
        rows = bare_read(source, shape)
    elif kind == "bare-all":
        rows = pl.read_csv(source, infer_schema=False).height
    elif kind == "floor":
        rows = read_floor(source)
    else:
        case = Case(case_root)
        if kind == "load":
            case.load([source])
            rows = case.scan(frame="sign_ins").select(pl.len()).collect().item()
        elif kind == "reopen":
            frame = case.frame("sign_ins")
            rows, extra["frame_mb"] = frame.height, frame.estimated_size() / 2**20
        else:  # activity
            frame = case.activity()
            rows, extra["frame_mb"] = frame.height, frame.estimated_size() / 2**20
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    after = resource.getrusage(resource.RUSAGE_SELF)
    return {"kind": kind, "rows": rows, "seconds": seconds, "cpu": cpu,
            "user": after.ru_utime - usage.ru_utime, "sys": after.ru_stime - usage.ru_stime,
            "peak_rss_mb": after.ru_maxrss / 1024} | extra


def run_child(kind: str, source: Path, shape: str, case_root: Path, repeat: int) -> dict:
    """The fastest of `repeat` runs of one step, each in a new process (a load into a case folder made anew)."""
    runs = []
    for _ in range(repeat):
        if kind == "load":
            shutil.rmtree(case_root, ignore_errors=True)
        result = subprocess.run([sys.executable, __file__, "--measure", kind, "--source", str(source), "--shape", shape,
                                 "--case-root", str(case_root)], capture_output=True, text=True)
        if result.returncode:
            sys.exit(f"{kind} of {source} failed:\n{result.stderr}")
        runs.append(json.loads(result.stdout.strip().splitlines()[-1]))
    return min(runs, key=lambda run: run["seconds"])


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--mix", choices=("lean", "heavy", "both"), default="both")
    parser.add_argument("--shape", choices=("jsonl", "csv", "both"), default="both")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="keep the generated files and cases in DIR (files already there are reused)")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each step, each in its own process; the fastest counts")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, metavar=("MIX", "SHAPE", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--source", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--case-root", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.source, args.shape, args.case_root)))
        return
    if args.generate:
        mix, shape, out = args.generate
        generate(args.events, mix, shape, args.seed, Path(out))
        return

    import polars as pl

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-signins-"))
    work.mkdir(parents=True, exist_ok=True)
    mixes = ("lean", "heavy") if args.mix == "both" else (args.mix,)
    shapes = ("jsonl", "csv") if args.shape == "both" else (args.shape,)
    print(f"{args.events:,} sign-ins a file; {os.cpu_count()} CPUs, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB; "
          f"Python {sys.version.split()[0]}, Polars {pl.__version__}; each step in its own process, fastest of {args.repeat}; "
          f"work folder {work}{'' if args.keep else ' (removed at the end)'}", flush=True)
    results = []
    try:
        for mix in mixes:
            for shape in shapes:
                source = work / f"signins-{mix}-{args.events}-s{args.seed}.{'jsonl' if shape == 'jsonl' else 'csv'}"
                if not source.exists():
                    start = time.perf_counter()
                    subprocess.run([sys.executable, __file__, "--generate", mix, shape, str(source), "--events", str(args.events),
                                    "--seed", str(args.seed)], check=True)
                    print(f"generated {source.name}: {source.stat().st_size / 2**20:,.0f} MB in {time.perf_counter() - start:.1f} s",
                          flush=True)
                    os.sync()  # its pages written back now, not during the measurements
                with open(source, "rb") as handle:  # every step reads from the page cache, not the disk
                    while handle.read(1 << 24):
                        pass
                case_root = work / f"case-{mix}-{shape}"
                kinds = ("bare", *(("bare-all", "floor") if shape == "csv" else ()), "load", "reopen", "activity")
                steps = {kind: run_child(kind, source, shape, case_root, args.repeat) for kind in kinds}
                for kind, step in steps.items():
                    assert step["rows"] == args.events, (mix, shape, kind, step["rows"])
                results.append((mix, shape, source.stat().st_size, steps))
                report_one(mix, shape, source.stat().st_size, steps)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(results)


def report_one(mix: str, shape: str, size: int, steps: dict) -> None:
    bare = steps["bare"]["seconds"]
    print(f"\n{mix} {shape} ({size / 2**20:,.0f} MB)")
    print(f"  {'step':<9}{'wall s':>8}{'CPU s':>8}{'user s':>8}{'sys s':>7}{'peak RSS':>11}{'x bare':>8}{'(CPU)':>8}  target")
    for kind, step in steps.items():
        ratio, cpu_ratio = step["seconds"] / bare, step["cpu"] / steps["bare"]["cpu"]
        target = {"load": LOAD_TARGET, "reopen": REOPEN_TARGET}.get(kind)
        verdict = "" if target is None else f"<= {target}x {_verdict(ratio <= target)}"
        if not kind.startswith("bare"):
            verdict += f"{'; ' if verdict else ''}RSS <= {RSS_TARGET_MB} MB {_verdict(step['peak_rss_mb'] <= RSS_TARGET_MB)}"
        if kind == "load" and "bare-all" in steps:
            verdict += f"; {step['seconds'] / steps['bare-all']['seconds']:.2f}x bare-all"
        if "frame_mb" in step:
            verdict += f"; frame in memory {step['frame_mb']:,.0f} MB"
        print(f"  {kind:<9}{step['seconds']:>8.2f}{step['cpu']:>8.2f}{step['user']:>8.2f}{step['sys']:>7.2f}"
              f"{step['peak_rss_mb']:>8,.0f} MB{ratio:>7.2f}x{cpu_ratio:>7.2f}x  {verdict}", flush=True)


def print_table(results: list) -> None:
    """The figures as a Markdown table (as bench/README.md shows them): wall / CPU (user + system) / peak RSS; the
    ratios of wall time, then of CPU time (steadier on a machine shared with other work)."""
    print("| mix | shape | file | bare | load | load / bare | reopen | reopen / bare | bare-all; floor (CSV) | activity | targets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for mix, shape, size, steps in results:
        bare, load, reopen, act = (steps[kind] for kind in ("bare", "load", "reopen", "activity"))
        ratio, back = load["seconds"] / bare["seconds"], reopen["seconds"] / bare["seconds"]
        cpu_ratio, cpu_back = load["cpu"] / bare["cpu"], reopen["cpu"] / bare["cpu"]
        rss = max(load["peak_rss_mb"], reopen["peak_rss_mb"])

        def cell(step: dict) -> str:
            return f"{step['seconds']:.2f} s / {step['cpu']:.1f} s / {step['peak_rss_mb']:,.0f} MB"

        everything = steps.get("bare-all")
        every = (f"{everything['seconds']:.2f} s (load {load['seconds'] / everything['seconds']:.2f}x); floor "
                 f"{steps['floor']['seconds'] / bare['seconds']:.2f}x bare" if everything else "")
        print(f"| {mix} | {'JSON Lines' if shape == 'jsonl' else 'Sentinel CSV'} | {size / 2**20:,.0f} MB | {cell(bare)} | {cell(load)} "
              f"| {ratio:.2f}x (CPU {cpu_ratio:.2f}x) | {cell(reopen)} | {back:.2f}x (CPU {cpu_back:.2f}x) | {every} | {act['seconds']:.2f} s / {act['peak_rss_mb']:,.0f} MB "
              f"| load {_verdict(ratio <= LOAD_TARGET)}, reopen {_verdict(back <= REOPEN_TARGET)}, "
              f"RSS {_verdict(rss <= RSS_TARGET_MB)} |")


if __name__ == "__main__":
    main()
