"""The providers list and the hosting rule, on records shaped like the reference case's answers."""

from __future__ import annotations

import tomllib
from collections import Counter
from pathlib import Path

import pytest

from enrich.abuseipdb import AbuseRecord
from enrich.hosting import (
    ProviderError,
    builtin_providers,
    classify,
    load_providers,
    parse_providers,
)
from enrich.rdap import RdapRecord

IOFLOOD = RdapRecord(
    ip="104.161.20.102",
    asn=53755,
    asn_description="IOFLOOD, US",
    network_name="IOFLOOD",
    registrant_org="Input Output Flood LLC",
    abuse_email="abuse@ioflood.com",
    registry="arin",
)
IOFLOOD_ABUSE = AbuseRecord(
    ip="104.161.20.102",
    usage_type="Data Center/Web Hosting/Transit",
    isp="IOFlood.com",
    domain="ioflood.com",
    total_reports=7,
)
AZURE = RdapRecord(
    ip="20.232.202.245",
    asn=8075,
    asn_description="MICROSOFT-CORP-MSN-AS-BLOCK, US",
    network_name="MSFT",
    registrant_org="Microsoft Corporation",
    registry="arin",
)
LEASED = RdapRecord(
    ip="185.241.149.122",
    asn=397423,
    asn_description="TIER-NET, US",
    network_name="IPXO-185-241-149",
    registrant_org="Internet Utilities Europe and Asia Limited",
    abuse_email="abuse@ipxo.com",
    registry="ripencc",
    handles=("ORG-IUEA1-RIPE", "IPXO-MNT"),
)
HOME = RdapRecord(
    ip="81.2.69.160",
    asn=64500,
    asn_description="EXAMPLE-BROADBAND, GB",
    network_name="EXAMPLE-DSL-POOL",
    registrant_org="Example Broadband plc",
    abuse_email="abuse@broadband.example",
    registry="ripencc",
)
HOME_ABUSE = AbuseRecord(
    ip="81.2.69.160", usage_type="Fixed Line ISP", isp="Example Broadband", domain="broadband.example"
)


def test_ioflood_is_a_dedicated_server_host():
    hosting, reasons = classify(IOFLOOD, IOFLOOD_ABUSE)

    assert hosting
    assert reasons == [
        "AbuseIPDB usageType: Data Center/Web Hosting/Transit",
        "origin AS53755 (IOFLOOD) is a dedicated-server host",
        "domain ioflood.com on providers list (ioflood, dedicated-server host)",
    ]


def test_azure_is_a_cloud_even_without_abuseipdb():
    hosting, reasons = classify(AZURE, None)

    assert hosting
    assert reasons == ["origin AS8075 (MICROSOFT-CORP-MSN-AS-BLOCK) is a cloud provider (Microsoft Azure)"]


def test_leased_space_names_both_parties():
    hosting, reasons = classify(LEASED, None)

    assert hosting
    assert reasons == [
        "abuse contact ipxo.com on providers list (IPXO, IP-leasing marketplace)",
        "leased space: registrant Internet Utilities Europe and Asia Limited (network IPXO-185-241-149, broker IPXO) "
        "announced by AS397423 (TIER-NET, US), a different party",
    ]


def test_leased_remark_without_a_known_broker():
    record = RdapRecord(
        ip="192.0.2.1",
        asn=64501,
        asn_description="SMALLHOST, US",
        network_name="NET-EXAMPLE",
        registrant_org="Example Address Holdings SRL",
        remarks=("Subnet leased to SmallHost",),
    )

    hosting, reasons = classify(record, None)

    assert hosting
    assert reasons == [
        "leased space: registrant Example Address Holdings SRL (network NET-EXAMPLE) announced by AS64501 (SMALLHOST, US), a different party"
    ]


def test_an_ordinary_broadband_address_is_not_flagged():
    assert classify(HOME, HOME_ABUSE) == (False, [])
    assert classify(None, None) == (False, [])


def test_tor_and_reverse_dns_hostnames():
    abuse = AbuseRecord(ip="2a01:4f8::1", is_tor=True, hostnames=("static.1.clients.your-server.de",))

    hosting, reasons = classify(None, abuse)

    assert hosting
    assert reasons == [
        "AbuseIPDB: Tor exit node",
        "hostname static.1.clients.your-server.de on providers list (Hetzner, hosting provider)",
    ]


def test_names_match_whole_words_only():
    ovh = RdapRecord(ip="1.1.1.1", registrant_org="OVH SAS")
    not_ovh = RdapRecord(ip="1.1.1.2", registrant_org="Grovhill Farms Ltd")

    assert classify(ovh, None) == (True, ["registrant OVH SAS matches OVHcloud (hosting provider)"])
    assert classify(not_ovh, None) == (False, [])


def test_extra_providers_from_config_extend_the_list():
    extra = parse_providers(
        [{"name": "Example Hosting", "kind": "VPS host", "asns": [64500]}], origin="enrich.provider"
    )

    hosting, reasons = classify(HOME, HOME_ABUSE, load_providers(extra))

    assert hosting
    assert reasons == ["origin AS64500 (EXAMPLE-BROADBAND) is a VPS host (Example Hosting)"]


def test_bad_provider_entries_are_all_reported():
    with pytest.raises(ProviderError) as raised:
        parse_providers(
            [{"name": "A", "kind": "VPS host", "asns": ["1"]}, {"kind": ""}, {"name": "C", "kind": "x", "colour": 1}],
            origin="enrich.provider",
        )

    message = str(raised.value)
    assert "enrich.provider[0] (A): 'asns' must be a list of positive integers" in message
    assert "enrich.provider[1]: 'name' must be a non-empty string" in message
    assert "enrich.provider[1]: 'kind' must be a non-empty string" in message
    assert "enrich.provider[2] (C): unknown keys ['colour']" in message


def test_shipped_list_covers_the_required_operators_once():
    providers = builtin_providers()
    asns = Counter(asn for p in providers for asn in p.asns)

    assert [asn for asn, n in asns.items() if n > 1] == []
    required = {53755, 834, 8075, 16509, 14618, 15169, 396982, 14061, 16276, 24940, 63949, 20473}
    assert required <= set(asns)
    names = " ".join(p.name for p in providers)
    for operator in (
        "Oracle",
        "Contabo",
        "M247",
        "Leaseweb",
        "Psychz",
        "QuadraNet",
        "Hostwinds",
        "Tencent",
        "Alibaba",
        "Scaleway",
        "NordVPN",
        "Mullvad",
        "Proton VPN",
    ):
        assert operator in names
    assert [p.name for p in providers if p.leasing] == ["IPXO"]


def test_shipped_file_is_the_only_data_file():
    folder = Path(__file__).parents[2] / "enrich"
    assert sorted(p.name for p in folder.iterdir() if p.suffix not in (".py", ".pyc") and p.is_file()) == [
        "providers.toml"
    ]
    assert tomllib.loads((folder / "providers.toml").read_text())["provider"]
