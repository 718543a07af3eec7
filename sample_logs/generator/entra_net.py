"""Provides the fixed facts the Entra ID sign-ins need: applications, networks (ASN and place of every
address range the samples use), client strings, Conditional Access policies and status texts.

Application and resource ids are Microsoft's public first-party ids. ASNs are the public ones of the
providers named; places are the city a geolocation service would plausibly report (illustrative).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .attacker import ATTACKER_IPS
from .tenants import APP_EXCHANGE, APP_OFFICE, APP_OFFICE_HOME, APP_OUTLOOK_MOBILE, Device, Person


@dataclass(frozen=True)
class App:
    """An application or resource as sign-ins name it."""

    name: str
    id: str


OFFICE_HOME = App("OfficeHome", APP_OFFICE_HOME)
MS_OFFICE = App("Microsoft Office", APP_OFFICE)
OUTLOOK_MOBILE = App("Outlook Mobile", APP_OUTLOOK_MOBILE)
OWA = App("One Outlook Web", "9199bf20-a13f-4107-85dc-02114787ef48")
TEAMS = App("Microsoft Teams", "1fec8e78-bce4-4aaf-ab1b-5451cc387264")
AZURE_PORTAL = App("Azure Portal", "c44b4083-3bb0-49c1-b47d-974e53cbdf3c")
EXO_POWERSHELL = App("Microsoft Exchange REST API Based Powershell",
                     "fb78d390-0c51-40cd-8e17-fdbfab77341b")
EXCHANGE = App("Office 365 Exchange Online", APP_EXCHANGE)
SHAREPOINT = App("Office 365 SharePoint Online", "00000003-0000-0ff1-ce00-000000000000")
GRAPH = App("Microsoft Graph", "00000003-0000-0000-c000-000000000000")
TEAMS_SERVICES = App("Microsoft Teams Services", "cc15fd57-2c6c-4117-a88c-83b1d56b4bbe")
AZURE_MANAGEMENT = App("Windows Azure Service Management API",
                       "797f4846-ba00-4fd7-ba43-dac1f8f63013")

# The interactive app of each client of the unified audit log, and the resource it signs in to.
APP_RESOURCE = {APP_OFFICE_HOME: (OFFICE_HOME, OFFICE_HOME), APP_OFFICE: (MS_OFFICE, EXCHANGE),
                APP_OUTLOOK_MOBILE: (OUTLOOK_MOBILE, EXCHANGE)}
# Token refreshes an Office client makes in the background: (app, resource) by interactive app id.
REFRESHES = {APP_OFFICE_HOME: ((OWA, EXCHANGE), (OFFICE_HOME, SHAREPOINT)),
             APP_OFFICE: ((MS_OFFICE, EXCHANGE), (TEAMS, TEAMS_SERVICES), (MS_OFFICE, GRAPH)),
             APP_OUTLOOK_MOBILE: ((OUTLOOK_MOBILE, EXCHANGE), (OUTLOOK_MOBILE, GRAPH))}


@dataclass(frozen=True)
class Net:
    """What Entra reports about an address: its ASN and where it geolocates."""

    asn: int
    city: str
    state: str
    country: str
    lat: float
    lon: float

    @property
    def text(self) -> str:
        """The admin center download's ``Location``: ``City, State, CC``."""
        return f"{self.city}, {self.state}, {self.country}"


_CITIES = {
    "a": (("Boston", "Massachusetts", 42.3601, -71.0589), ("Cambridge", "Massachusetts", 42.3736, -71.1097),
          ("Quincy", "Massachusetts", 42.2529, -71.0023), ("Somerville", "Massachusetts", 42.3876, -71.0995),
          ("Newton", "Massachusetts", 42.337, -71.2092)),
    "b": (("London", "England", 51.5072, -0.1276), ("Croydon", "England", 51.3762, -0.0982),
          ("Watford", "England", 51.6565, -0.3903), ("Reading", "England", 51.4543, -0.9781)),
}
_COUNTRY = {"a": "US", "b": "GB"}
# Every range the tenants' staff use (tenants.SPECS), with the ASN that announces it.
_ASN_OF_PREFIX = {
    "73.0.0.0/8": 7922, "98.192.0.0/10": 7922, "67.160.0.0/11": 7922, "71.192.0.0/12": 7922,
    "96.224.0.0/11": 701, "99.0.0.0/9": 7018, "2601::/20": 7922, "172.56.0.0/14": 21928,
    "174.192.0.0/10": 22394, "2607:fb90::/32": 21928, "50.192.0.0/10": 7922,
    "86.128.0.0/10": 2856, "81.128.0.0/12": 2856, "2.96.0.0/12": 5607, "2a00:23c0::/29": 2856,
    "31.94.0.0/16": 206067,
}
_NETWORKS = [(ipaddress.ip_network(prefix), asn) for prefix, asn in _ASN_OF_PREFIX.items()]

IOFLOOD, AZURE_EAST_US, IPXO = ATTACKER_IPS
ATTACKER_NETS = {
    IOFLOOD: Net(53755, "Phoenix", "Arizona", "US", 33.4484, -112.074),
    AZURE_EAST_US: Net(8075, "Boydton", "Virginia", "US", 36.6676, -78.3875),
    IPXO: Net(834, "Amsterdam", "Noord-Holland", "NL", 52.3676, 4.9041),
}
# Travel: a London hotel for case A's traveller, an Alicante hotel for case B's.
TRIP_NETS = {
    "a": ("81.2.69.160", Net(20712, "London", "England", "GB", 51.5072, -0.1276)),
    "b": ("80.58.61.250", Net(3352, "Alicante", "Valencia", "ES", 38.3452, -0.481)),
}


def staff_net(tenant_key: str, person: Person, ip: str, office: bool) -> Net:
    """Where a staff address geolocates: the office city, or the person's own town elsewhere."""
    addr = ipaddress.ip_address(ip)
    asn = next((asn for net, asn in _NETWORKS if addr in net), 0)
    cities = _CITIES[tenant_key]
    city, state, lat, lon = cities[0] if office else cities[sum(map(ord, person.upn)) % len(cities)]
    return Net(asn, city, state, _COUNTRY[tenant_key], lat, lon)


@dataclass(frozen=True)
class Client:
    """How Entra describes a client: operating system, browser and client app."""

    os: str
    browser: str
    client_app: str


def client_of(device: Device) -> Client:
    """The Entra description of a unified-audit-log client."""
    if "Firefox" in device.user_agent:
        return Client("Windows 10", "Firefox 110.0", "Browser")
    if device.app_id == APP_OUTLOOK_MOBILE:
        return Client("Ios" if device.os == "Ios" else "Android", "Rich Client 4.2304.0",
                      "Mobile Apps and Desktop clients")
    if device.app_id == APP_OFFICE:
        return Client("Windows 10", "Rich Client 4.50.0.0", "Mobile Apps and Desktop clients")
    if device.browser == "Safari":
        return Client("MacOs", "Safari 16.3", "Browser")
    if device.browser == "Edge":
        return Client("Windows 10", "Edge 110.0.1587", "Browser")
    return Client("Windows 10", "Chrome 109.0.0", "Browser")


EAS_CLIENTS = {
    "a": ("Apple-iPhone13C2/2002.110", Client("Ios", "", "Exchange ActiveSync")),
    "b": ("Android-Mail/2023.01.15.499560473.Release", Client("Android", "",
                                                            "Exchange ActiveSync")),
}


@dataclass(frozen=True)
class Policy:
    """A Conditional Access policy: who it covers and what it grants or blocks."""

    id: str
    name: str
    grant: str          # Mfa or Block
    scope: str          # admins, outside-office, legacy
    enabled: bool = True


ADMINS = ("CompromisedAdmin", "ITAdmin", "HelpdeskAdmin")
BREAK_GLASS = "OriginalAdmin"

STATUS_TEXT = {
    0: (None, None),
    50126: ("Error validating credentials due to invalid username or password.",
            "The user didn't enter the right credentials. It's expected to see some number of "
            "these errors in your logs due to users making mistakes."),
    50053: ("Account is locked because user tried to sign in too many times with an incorrect "
            "user ID or password.", None),
    50074: ("Strong Authentication is required.", "MFA required in Azure AD"),
    50079: ("Due to a configuration change made by your administrator, or because you moved to a "
            "new location, you must enroll in multi-factor authentication.",
            "User needs to register security info for multi-factor authentication"),
    50140: ("This error occurred due to 'Keep me signed in' interrupt when the user was "
            "signing in.", None),
    53003: ("Access has been blocked by Conditional Access policies. The access policy does not "
            "allow token issuance.", None),
}
INTERRUPTS = (50074, 50079, 50140)
