"""Client IP resolution from proxy headers (compat §2.1).

The socket address is never used: the first header in the configured order that holds a valid
public IP wins, and an empty string means "no IP" (no geo, device id computed with "").
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Mapping, Sequence

__all__ = [
    "DEFAULT_IP_HEADERS",
    "is_public_ip",
    "parse_ip_header_order",
    "resolve_client_ip",
]

DEFAULT_IP_HEADERS: tuple[str, ...] = (
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

# Addresses that never identify a client on the internet. Kept explicit (rather than
# ``is_private``/``is_global``) because those properties changed between Python patch releases
# and would also reject the documentation ranges that tests and docs use as public examples.
_NON_PUBLIC_V4 = tuple(
    ipaddress.IPv4Network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
)
_NON_PUBLIC_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
)

# Headers whose value follows RFC 7239 (``for=...;proto=...``) rather than a bare address list.
_FORWARDED_STYLE = frozenset({"forwarded", "x-forwarded"})


@functools.lru_cache(maxsize=16384)
def is_public_ip(value: str) -> bool:
    """True when ``value`` is a syntactically valid IPv4/IPv6 address outside private ranges.

    Memoised: called for every ingest request, and visitors' addresses repeat."""
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        mapped = addr.ipv4_mapped
        if mapped is not None:
            return not any(mapped in net for net in _NON_PUBLIC_V4)
        return not any(addr in net for net in _NON_PUBLIC_V6)
    return not any(addr in net for net in _NON_PUBLIC_V4)


def parse_ip_header_order(value: str) -> tuple[str, ...]:
    """Turn an ``IP_HEADER_ORDER`` comma list into lowercase header names (empty → default)."""
    names = tuple(part.strip().lower() for part in value.split(",") if part.strip())
    return names or DEFAULT_IP_HEADERS


def resolve_client_ip(headers: Mapping[str, str], order: Sequence[str] = DEFAULT_IP_HEADERS) -> str:
    """Return the first valid public IP found in ``headers`` (lowercase names), else ``""``."""
    for name in order:
        raw = headers.get(name.lower())
        if not raw:
            continue
        candidate = _candidate_from_header(name.lower(), raw)
        if candidate and is_public_ip(candidate):
            return candidate
    return ""


def _candidate_from_header(name: str, raw: str) -> str:
    """Extract the one address a header contributes (the first hop), normalised."""
    if name in _FORWARDED_STYLE and "for=" in raw.lower():
        return _normalise(_first_forwarded_for(raw))
    # x-forwarded-for and friends: "client, proxy1, proxy2": only the first entry counts.
    return _normalise(raw.split(",", 1)[0])


def _first_forwarded_for(raw: str) -> str:
    """Return the ``for=`` value of the first element of an RFC 7239 header that has one."""
    for element in raw.split(","):
        for pair in element.split(";"):
            key, sep, value = pair.partition("=")
            if sep and key.strip().lower() == "for":
                return value
    return ""


def _normalise(token: str) -> str:
    """Strip quotes, brackets and ports: ``"[2001:db8::1]:4711"`` → ``2001:db8::1``."""
    token = token.strip().strip('"').strip()
    if not token:
        return ""
    if token.startswith("["):
        end = token.find("]")
        return token[1:end] if end > 0 else ""
    if token.count(":") == 1:
        # IPv4 with a port ("1.2.3.4:5678"); a bare IPv6 address has at least two colons.
        return token.split(":", 1)[0]
    return token
