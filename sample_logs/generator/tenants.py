"""Provides the two tenants of the samples: export window, devices, people, identifiers."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from .ids import random_address, random_guid, stable_guid


SEED = 20230224
EXPORT_START = datetime(2022, 12, 1)
EXPORT_END = datetime(2023, 2, 24, 23, 59, 59)
GRAPH_WINDOW = (datetime(2023, 2, 10), EXPORT_END)  # what case B's Graph audit query covers

APP_OFFICE_HOME = "4765445b-32c6-49b0-83e6-1d93765276ca"
APP_EXCHANGE = "00000002-0000-0ff1-ce00-000000000000"
APP_OFFICE = "d3590ed6-52b3-4102-aeff-aad2292ab01c"
APP_OUTLOOK_MOBILE = "27922004-5251-4030-b22d-91ecd9a37ea4"
SYSTEM_PRINCIPALS = (("Microsoft Substrate Management", "98db8bd6-0cc0-4e67-9de5-f187f1cd1b41"),
                     ("Office 365 Exchange Online", APP_EXCHANGE))


@dataclass(frozen=True)
class Device:
    """How one person reaches Microsoft 365: OS and browser as AAD reports them, and the client."""

    os: str
    browser: str
    user_agent: str
    client_info: str
    app_id: str


_CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/109.0.0.0 Safari/537.36")
_EDGE = _CHROME.replace("109.0.0.0 Safari/537.36", "110.0.0.0 Safari/537.36 Edg/110.0.1587.50")
_SAFARI = ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/16.3 Safari/605.1.15")
_OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.15928; Pro)"
DESKTOPS = (
    Device("Windows10", "Edge", _EDGE, f"Client=OWA;{_EDGE};", APP_OFFICE_HOME),
    Device("Windows10", "Chrome", _CHROME, f"Client=OWA;{_CHROME};", APP_OFFICE_HOME),
    Device("Windows10", "Other", _OUTLOOK, "Client=MSExchangeRPC", APP_OFFICE),
    Device("MacOs", "Safari", _SAFARI, f"Client=OWA;{_SAFARI};", APP_OFFICE_HOME),
)
PHONES = (
    Device("Ios", "Other", "Outlook-iOS/2.0", "Client=OutlookService;Outlook-iOS/2.0;",
           APP_OUTLOOK_MOBILE),
    Device("Android", "Other", "Outlook-Android/2.0", "Client=OutlookService;Outlook-Android/2.0;",
           APP_OUTLOOK_MOBILE),
)


@dataclass
class Person:
    """One account of a tenant with the identifiers its records carry."""

    upn: str
    object_id: str
    puid: str
    sid: str
    mailbox_guid: str
    desktop: Device
    phone: Device
    home_ips: tuple[str, ...] = ()
    mobile_ip: str = ""
    active_from: date = EXPORT_START.date()
    activity: float = 1.0

    @property
    def sharepoint_id(self) -> str:
        """The lower-cased UPN SharePoint records carry."""
        return self.upn.lower()


@dataclass(frozen=True)
class TenantSpec:
    """The fixed facts of one tenant: names, location, ISP address ranges, staff roles."""

    key: str
    domain: str
    name: str
    utc_offset: int
    home_prefixes: tuple[str, ...]
    mobile_prefixes: tuple[str, ...]
    office_prefix: str
    servers: tuple[str, ...]
    exchange_forest: str
    staff: tuple[str, ...]
    holidays: tuple[date, ...]
    shared_mailbox: str
    shared_delegates: tuple[str, ...]
    shared_granted: date
    joiner: tuple[str, date]


SPECS = {
    "a": TenantSpec(
        key="a", domain="example.com", name="example", utc_offset=-5,
        home_prefixes=("73.0.0.0/8", "98.192.0.0/10", "67.160.0.0/11", "71.192.0.0/12",
                       "96.224.0.0/11", "99.0.0.0/9", "2601::/20"),
        mobile_prefixes=("172.56.0.0/14", "174.192.0.0/10", "2607:fb90::/32"),
        office_prefix="50.192.0.0/10",
        servers=("BN8PR12MB3570 (15.20.6064.034)\r\n", "SA1PR04MB8303 (15.20.6086.011)\r\n",
                 "CH0PR04MB8113 (15.20.6086.009)\r\n"),
        exchange_forest="NAMPR12A001",
        staff=("TargetUser", "FinanceUser", "ITAdmin", "HelpdeskAdmin", "PayrollUser", "AccountsUser",
               "HRUser", "SalesUser1", "SalesUser2", "SalesUser3", "SalesUser4", "MarketingUser",
               "LegalUser", "OpsUser", "ProjectUser1", "ProjectUser2", "ProjectUser3",
               "EngineerUser1", "EngineerUser2", "EngineerUser3", "EngineerUser4", "SupportUser1",
               "SupportUser2", "SupportUser3", "ExecUser", "OfficeUser", "ProcurementUser",
               "FacilitiesUser", "DesignUser"),
        holidays=(date(2022, 12, 26), date(2023, 1, 2), date(2023, 1, 16), date(2023, 2, 20)),
        shared_mailbox="reception", shared_delegates=("OfficeUser", "FacilitiesUser"),
        shared_granted=date(2023, 1, 5),
        joiner=("SalesUser4", date(2023, 1, 9)),
    ),
    "b": TenantSpec(
        key="b", domain="example.net", name="examplenet", utc_offset=0,
        home_prefixes=("86.128.0.0/10", "81.128.0.0/12", "2.96.0.0/12", "2a00:23c0::/29"),
        mobile_prefixes=("31.94.0.0/16",),
        office_prefix="81.128.0.0/12",
        servers=("LO2P265MB4921 (15.20.6086.011)\r\n", "CWLP265MB3650 (15.20.6064.034)\r\n"),
        exchange_forest="GBRP265A003",
        staff=("TargetUser", "FinanceUser", "ITAdmin", "HelpdeskAdmin", "PayrollUser", "HRUser",
               "SalesUser1", "SalesUser2", "SalesUser3", "MarketingUser", "OpsUser", "ClaimsUser1",
               "ClaimsUser2", "ClaimsUser3", "EngineerUser1", "EngineerUser2", "SupportUser1",
               "SupportUser2", "SupportUser3", "SupportUser4", "ExecUser", "OfficeUser",
               "ProcurementUser", "UnderwritingUser"),
        holidays=(date(2022, 12, 26), date(2022, 12, 27), date(2023, 1, 2)),
        shared_mailbox="accounts", shared_delegates=("FinanceUser", "PayrollUser"),
        shared_granted=date(2023, 1, 12),
        joiner=("SupportUser4", date(2023, 1, 16)),
    ),
}
STORY_ACCOUNTS = ("CompromisedAdmin", "NewHelpdesk", "ServiceDesk2")


@dataclass
class Tenant:
    """One tenant: its spec, its seeded identifiers and its people."""

    spec: TenantSpec
    seed: int
    org_id: str
    office_ip: str
    people: dict[str, Person] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """Case letter, ``a`` or ``b``."""
        return self.spec.key

    @property
    def onmicrosoft(self) -> str:
        """The tenant's initial domain."""
        return f"{self.spec.name}.onmicrosoft.com"

    @property
    def staff(self) -> list[Person]:
        """The people who produce background activity."""
        return [self.people[name] for name in self.spec.staff]

    def person(self, name: str) -> Person:
        """The account called ``name``: a role name such as ``TargetUser``, or ``OriginalAdmin``."""
        return self.people[name]

    def onedrive(self, person: Person) -> str:
        """The personal OneDrive site URL of ``person``."""
        slug = person.upn.lower().replace("@", "_").replace(".", "_")
        return f"https://{self.spec.name}-my.sharepoint.com/personal/{slug}"

    def team_site(self, site: str) -> str:
        """A team site URL."""
        return f"https://{self.spec.name}.sharepoint.com/sites/{site}"


def build_tenant(key: str, seed: int = SEED) -> Tenant:
    """The tenant of case ``key`` with all its accounts, derived from ``seed``."""
    spec = SPECS[key]
    rng = random.Random(f"{seed}/{key}/people")
    tenant = Tenant(spec, seed, stable_guid(seed, key, "organization"),
                    random_address(rng, spec.office_prefix))
    domain_sid = "S-1-5-21-" + "-".join(str(rng.randrange(10**9, 4 * 10**9)) for _ in range(3))
    names = [*spec.staff, *STORY_ACCOUNTS, spec.shared_mailbox]
    for rid, name in enumerate(names, start=26100000):
        tenant.people[name] = _make_person(rng, spec, name, f"{domain_sid}-{rid}")
    original_admin = f"admin@{tenant.onmicrosoft}"
    tenant.people["OriginalAdmin"] = _make_person(rng, spec, original_admin, f"{domain_sid}-500")
    tenant.people[spec.joiner[0]].active_from = spec.joiner[1] + timedelta(days=1)
    return tenant


def _make_person(rng: random.Random, spec: TenantSpec, name: str, sid: str) -> Person:
    upn = name if "@" in name else f"{name}@{spec.domain}"
    home_isp = rng.choice(spec.home_prefixes)
    home_ips = tuple(random_address(rng, home_isp) for _ in range(rng.choice((1, 1, 2))))
    return Person(
        upn=upn, object_id=random_guid(rng), puid=f"1003{rng.getrandbits(48):012X}", sid=sid,
        mailbox_guid=random_guid(rng), desktop=rng.choice(DESKTOPS), phone=rng.choice(PHONES),
        home_ips=home_ips, mobile_ip=random_address(rng, rng.choice(spec.mobile_prefixes)),
        activity=rng.choice((0.6, 1.0, 1.0, 1.4, 2.0)),
    )
