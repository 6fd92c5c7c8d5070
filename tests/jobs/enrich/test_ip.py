"""Client IP resolution from proxy headers (compat §2.1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.enrich.ip import (
    DEFAULT_IP_HEADERS,
    is_public_ip,
    parse_ip_header_order,
    resolve_client_ip,
)


def test_default_order_matches_the_compat_reference() -> None:
    assert DEFAULT_IP_HEADERS == (
        "openpanel-client-ip",
        "true-client-ip",
        "x-client-ip",
        "cf-connecting-ip",
        "x-forwarded-for",
        "x-real-ip",
        "fastly-client-ip",
        "x-cluster-client-ip",
        "x-appengine-user-ip",
        "do-connecting-ip",
        "x-nf-client-connection-ip",
        "x-forwarded",
        "forwarded",
    )


@pytest.mark.parametrize(
    "value",
    [
        "8.8.8.8",
        "81.2.69.142",
        "203.0.113.7",
        "2a02:2e0::1",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
    ],
)
def test_public_addresses(value: str) -> None:
    assert is_public_ip(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "unknown",
        "1.2.3",
        "1.2.3.4:80",
        "10.1.2.3",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.10",
        "127.0.0.1",
        "169.254.10.1",
        "0.0.0.0",
        "224.0.0.1",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "fe80::1%eth0",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "::ffff:192.168.0.1",
    ],
)
def test_non_public_or_invalid_addresses(value: str) -> None:
    assert not is_public_ip(value)


def test_172_outside_the_private_block_is_public() -> None:
    assert is_public_ip("172.32.0.1")
    assert is_public_ip("172.15.255.255")


def test_first_public_header_in_order_wins() -> None:
    headers = {"x-real-ip": "8.8.4.4", "cf-connecting-ip": "8.8.8.8", "x-client-ip": "1.1.1.1"}
    assert resolve_client_ip(headers) == "1.1.1.1"


def test_sdk_forwarded_header_outranks_cloudflare() -> None:
    headers = {"cf-connecting-ip": "8.8.8.8", "openpanel-client-ip": "81.2.69.142"}
    assert resolve_client_ip(headers) == "81.2.69.142"


def test_private_values_fall_through_to_the_next_header() -> None:
    headers = {
        "openpanel-client-ip": "10.0.0.5",
        "x-real-ip": "127.0.0.1",
        "forwarded": "for=8.8.8.8",
    }
    assert resolve_client_ip(headers) == "8.8.8.8"


def test_x_forwarded_for_uses_only_the_first_entry() -> None:
    assert resolve_client_ip({"x-forwarded-for": "8.8.8.8, 10.0.0.1, 1.1.1.1"}) == "8.8.8.8"
    # A private first hop disqualifies the header (the later hops are proxies, not the client).
    assert resolve_client_ip({"x-forwarded-for": "10.0.0.1, 8.8.8.8"}) == ""


def test_ipv4_port_is_stripped() -> None:
    assert resolve_client_ip({"x-real-ip": "8.8.8.8:5678"}) == "8.8.8.8"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
        ('for="192.0.2.60:4711"', "192.0.2.60"),
        ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ('For="[2a02:2e0::1]"', "2a02:2e0::1"),
        ("proto=https;for=8.8.8.8", "8.8.8.8"),
        ("for=8.8.8.8, for=1.1.1.1", "8.8.8.8"),
        ("by=10.0.0.1, for=8.8.8.8", "8.8.8.8"),
        ("for=unknown", ""),
        ("for=_hidden", ""),
        ("proto=https", ""),
    ],
)
def test_rfc7239_forwarded(value: str, expected: str) -> None:
    assert resolve_client_ip({"forwarded": value}) == expected


def test_x_forwarded_accepts_both_forms() -> None:
    assert resolve_client_ip({"x-forwarded": "for=8.8.8.8"}) == "8.8.8.8"
    assert resolve_client_ip({"x-forwarded": "8.8.8.8"}) == "8.8.8.8"


def test_bracketed_ipv6_and_bare_ipv6() -> None:
    assert resolve_client_ip({"x-real-ip": "[2a02:2e0::1]:443"}) == "2a02:2e0::1"
    assert resolve_client_ip({"x-real-ip": "2a02:2e0::1"}) == "2a02:2e0::1"


def test_nothing_qualifies_gives_empty_string() -> None:
    assert resolve_client_ip({}) == ""
    assert resolve_client_ip({"x-real-ip": "", "x-client-ip": "garbage"}) == ""
    assert resolve_client_ip({"host": "8.8.8.8"}) == ""


def test_custom_order_replaces_the_default() -> None:
    headers = {"openpanel-client-ip": "1.1.1.1", "x-real-ip": "8.8.8.8"}
    assert resolve_client_ip(headers, order=("x-real-ip",)) == "8.8.8.8"
    assert resolve_client_ip(headers, order=("X-Real-IP",)) == "8.8.8.8"
    assert resolve_client_ip(headers, order=()) == ""


def test_parse_ip_header_order() -> None:
    assert parse_ip_header_order(" CF-Connecting-IP , x-real-ip,,") == (
        "cf-connecting-ip",
        "x-real-ip",
    )
    assert parse_ip_header_order("") == DEFAULT_IP_HEADERS
    assert parse_ip_header_order(" , ") == DEFAULT_IP_HEADERS


@given(st.dictionaries(st.sampled_from(DEFAULT_IP_HEADERS), st.text(max_size=60)))
def test_resolve_never_raises_and_returns_a_public_ip_or_nothing(headers: dict[str, str]) -> None:
    result = resolve_client_ip(headers)
    assert result == "" or is_public_ip(result)


@given(st.ip_addresses())
def test_is_public_ip_accepts_any_address_text(address: object) -> None:
    assert isinstance(is_public_ip(str(address)), bool)
