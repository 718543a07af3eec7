"""RDAP through ipwhois against the fake RDAP server and the fake Cymru DNS server."""

from __future__ import annotations

import pytest
from enrich_fakes import Reply

from enrich.rdap import RdapClient, RdapError, RdapRecord, RdapUnavailable


@pytest.fixture
def client(rdap_server, cymru_dns):
    return RdapClient(
        rdap_server.url, timeout=1, retries=0, backoff=0, asn_methods=("dns",), asn_dns_server=cymru_dns.address
    )


def test_arin_network_with_nested_abuse_contact(client, rdap_server, cymru_dns):
    record = client.lookup("104.161.20.102")

    assert record == RdapRecord(
        ip="104.161.20.102",
        asn=53755,
        asn_description="IOFLOOD, US",
        asn_cidr="104.161.16.0/20",
        asn_country="US",
        network_name="IOFLOOD",
        network_cidr="104.161.0.0/17",
        registrant_org="Input Output Flood LLC",
        country=None,
        abuse_email="abuse@ioflood.com",
        registry="arin",
        handles=("IL-1064", "ABUSE4629-ARIN", "NOC13012-ARIN"),
        remarks=(),
    )
    assert rdap_server.queried == ["104.161.20.102"]
    assert rdap_server.requests[0].headers["Accept"] == "application/rdap+json"
    assert "102.20.161.104.origin.asn.cymru.com." in cymru_dns.queries


def test_ripe_leased_network_keeps_handles_and_remarks(client, rdap_server):
    record = client.lookup("185.241.149.122")

    assert (record.asn, record.asn_description, record.registry) == (397423, "TIER-NET, US", "ripencc")
    assert record.network_name == "IPXO-185-241-149"
    assert record.network_cidr == "185.241.149.0/24"
    assert record.registrant_org == "Internet Utilities Europe and Asia Limited"
    assert record.abuse_email == "abuse@ipxo.com"
    assert record.country == "GB"
    assert {"IPXO-MNT", "NETUTILS-MNT"} <= set(record.handles)
    assert "Leased to a customer through the IPXO marketplace" in record.remarks
    # root entities without a vCard are fetched from the same server
    assert "/rdap/entity/IPXO-MNT" in [r.path for r in rdap_server.requests]


def test_ipv6_address(client, cymru_dns):
    record = client.lookup("2a01:4f8:c17:b8f::2")

    assert (record.asn, record.registrant_org, record.network_cidr) == (24940, "Hetzner Online GmbH", "2a01:4f8::/29")
    assert any(q.endswith("origin6.asn.cymru.com.") for q in cymru_dns.queries)


def test_without_asn_lookup_the_origin_comes_from_arin_rdap(rdap_server, cymru_dns):
    rdap_only = RdapClient(rdap_server.url, timeout=1, retries=0, asn_methods=())

    record = rdap_only.lookup("104.161.20.102")

    assert (record.asn, record.asn_description, record.registry) == (53755, None, "arin")
    assert cymru_dns.queries == []


def test_unknown_to_cymru_falls_back_to_the_bootstrap_url(client, rdap_server, cymru_dns):
    rdap_server.script["203.0.114.1"] = [
        Reply(
            body={
                "objectClassName": "ip network",
                "handle": "NET-203-0-114-0-1",
                "startAddress": "203.0.114.0",
                "endAddress": "203.0.114.255",
                "ipVersion": "v4",
                "name": "EXAMPLE-NET",
                "port43": "whois.apnic.net",
            }
        )
    ]

    record = client.lookup("203.0.114.1")

    assert (record.asn, record.network_name, record.registry) == (None, "EXAMPLE-NET", "apnic")
    assert "1.114.0.203.origin.asn.cymru.com." in cymru_dns.queries
    assert rdap_server.queried == ["203.0.114.1"]


def test_following_a_redirect_from_the_configured_server(client, rdap_server):
    target = rdap_server.url + "/ip/104.161.20.102"
    rdap_server.script["45.33.32.156"] = [Reply(302, "", {"Location": target})]
    # the DNS fake does not know 45.33.32.156, so this goes through the bootstrap path and is redirected
    record = client.lookup("45.33.32.156")

    assert record.network_name == "IOFLOOD"
    assert rdap_server.queried == ["45.33.32.156", "104.161.20.102"]


def test_not_found_is_an_error_for_that_address(client):
    with pytest.raises(
        RdapError, match=r"server answered HTTP 404 for http://127.0.0.1:\d+/rdap/ip/45.33.32.157"
    ) as raised:
        client.lookup("45.33.32.157")
    assert not isinstance(raised.value, RdapUnavailable)


def test_malformed_json_is_an_error_for_that_address(client, rdap_server):
    rdap_server.script["104.161.20.102"] = [Reply(body="{truncated")]

    with pytest.raises(RdapError) as raised:
        client.lookup("104.161.20.102")
    assert not isinstance(raised.value, RdapUnavailable)


def test_rate_limited_registry_stops_the_batch(client, rdap_server):
    rdap_server.script["104.161.20.102"] = [Reply(429, {"errorCode": 429, "title": "Too Many Requests"})]

    with pytest.raises(RdapUnavailable, match="rate-limiting"):
        client.lookup("104.161.20.102")


def test_slow_server_times_out(rdap_server, cymru_dns):
    rdap_server.script["104.161.20.102"] = [Reply(delay=0.6)]
    quick = RdapClient(rdap_server.url, timeout=0.2, retries=1, asn_methods=("dns",), asn_dns_server=cymru_dns.address)

    with pytest.raises(RdapError, match=r"timed out \(2 attempts\)") as raised:
        quick.lookup("104.161.20.102")
    assert not isinstance(raised.value, RdapUnavailable)


def test_unreachable_server_stops_the_batch(rdap_server):
    port = rdap_server.url.split(":")[2].split("/")[0]
    rdap_server.close()
    gone = RdapClient(f"http://127.0.0.1:{port}/rdap", timeout=1, retries=0, asn_methods=())

    with pytest.raises(RdapUnavailable, match="unreachable"):
        gone.lookup("104.161.20.102")


def test_public_servers_without_network_give_a_clear_message():
    public = RdapClient(timeout=0.5, retries=0)

    with pytest.raises(RdapUnavailable, match="cannot resolve the server's name"):
        public.lookup("104.161.20.102")


def test_host_without_resolver_configuration(monkeypatch):
    import dns.resolver

    def no_resolver(*args, **kwargs):
        raise dns.resolver.NoResolverConfiguration("cannot open /etc/resolv.conf")

    monkeypatch.setattr(dns.resolver, "Resolver", no_resolver)

    with pytest.raises(RdapUnavailable, match="no DNS resolver configuration"):
        RdapClient().lookup("104.161.20.102")


def test_record_round_trips_through_a_dict(client):
    record = client.lookup("185.241.149.122")

    assert RdapRecord.from_dict(record.to_dict()) == record
    with pytest.raises(ValueError):
        RdapRecord.from_dict({"asn": 1})
