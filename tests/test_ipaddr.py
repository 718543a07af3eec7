"""Client IP normalisation, as properties over IPv4 and IPv6 with ports, brackets and mapped forms."""

import ipaddress

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from workbench.core.ipaddr import normalise_client_ip, normalise_client_ip_column

ipv4 = st.ip_addresses(v=4)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a.ipv4_mapped is None)
ports = st.integers(0, 65535)


@given(ipv4, ports)
def test_ipv4_with_or_without_port(address, port):
    assert normalise_client_ip(str(address)) == str(address)
    assert normalise_client_ip(f"{address}:{port}") == str(address)
    assert normalise_client_ip(f" {address} ") == str(address)


@given(ipv4, ports)
def test_ipv4_mapped_ipv6_becomes_ipv4(address, port):
    mapped = f"::ffff:{address}"
    assert normalise_client_ip(mapped) == str(address)
    assert normalise_client_ip(f"[{mapped}]:{port}") == str(address)
    assert normalise_client_ip(mapped.upper().replace("::FFFF", "::ffff")) == str(address)


@given(ipv6, ports)
def test_ipv6_bare_bracketed_and_exploded_are_canonical(address, port):
    canonical = str(address)
    assert normalise_client_ip(address.exploded.upper()) == canonical
    assert normalise_client_ip(f"[{address}]:{port}") == canonical
    assert normalise_client_ip(f"[{address}]") == canonical


@given(st.text(max_size=30))
def test_anything_else_is_an_address_or_none(text):
    result = normalise_client_ip(text)
    assert result is None or ipaddress.ip_address(result)


@given(st.lists(st.one_of(ipv4.map(str), ipv6.map(str), st.tuples(ipv4, ports).map(lambda t: f"{t[0]}:{t[1]}"),
                          st.sampled_from(["", "<null>", "garbage"])), max_size=50))
def test_column_form_agrees_with_the_scalar_form(values):
    column = normalise_client_ip_column(pl.Series(values, dtype=pl.String))
    assert column.to_list() == [normalise_client_ip(v) for v in values]


raw_ip_texts = st.one_of(
    ipv4.map(str), ipv6.map(str), ipv6.map(lambda a: a.exploded), ipv6.map(lambda a: str(a).upper()),
    st.tuples(ipv4, ports).map(lambda t: f"{t[0]}:{t[1]}"), st.tuples(ipv6, ports).map(lambda t: f"[{t[0]}]:{t[1]}"),
    ipv4.map(lambda a: f"::ffff:{a}"), ipv4.map(lambda a: f"::FFFF:{a}"), ipv4.map(lambda a: f"[::ffff:{a}]"),
    st.tuples(ipv4, ports).map(lambda t: f"[{t[0]}]:{t[1]}"), st.tuples(ipv4, ports).map(lambda t: f"[{t[0]}:{t[1]}]"),
    st.tuples(ipv4, ports).map(lambda t: f"[::ffff:{t[0]}]:{t[1]}"), ipv6.map(lambda a: f"[{a}]"),
    st.lists(st.integers(0, 0xFFFF), min_size=8, max_size=8).map(lambda g: ":".join(f"{n:x}" for n in g)),
    st.sampled_from(["", " ", "<null>", "garbage", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "[[1.2.3.4]]", "[1.2.3.4]:",
                     "::ffff:1.2.3.4:80", "::ffff:999.1.1.1", " 1.2.3.4", "[1:2:3:4:5:6:7:8]x"]),
)


@given(st.lists(st.one_of(st.none(), raw_ip_texts), max_size=60))
def test_loader_fast_paths_agree_with_the_scalar_form(values):
    from workbench.core.normalise import client_ips

    column = client_ips(pl.Series(values, dtype=pl.String))
    assert column.to_list() == [normalise_client_ip(v) for v in values]
