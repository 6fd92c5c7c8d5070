"""Referrer classification: URL, display name and type of where a visit came from (compat §2.3).

The host table is ``data/referrers.json`` (hand-curated, see its ``source`` field), loaded when a
ReferrerParser is built. Lookups try the exact host, the host without ``www.``, country domains
of a few brands by rule (``google.co.uk``) and then parent domains (``m.facebook.com``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from urllib.parse import urlsplit

__all__ = ["REFERRER_TYPES", "Referrer", "ReferrerParser", "load_referrer_hosts"]

REFERRER_TYPES = frozenset(
    {"search", "social", "email", "paid", "ai", "tech", "commerce", "content", "unknown"}
)

# Brands with a site per country: google.de, google.co.uk, google.com.br, amazon.co.jp, ...
_BRAND_DOMAIN = re.compile(r"^(google|yandex|amazon|ebay)\.(?:com|(?:co\.|com\.)?[a-z]{2})$")
_BRANDS = {
    "google": ("Google", "search"),
    "yandex": ("Yandex", "search"),
    "amazon": ("Amazon", "commerce"),
    "ebay": ("eBay", "commerce"),
}
# Query keys naming the source, in priority order.
_SOURCE_KEYS = ("utm_source", "ref", "utm_referrer")


@dataclass(frozen=True, slots=True)
class Referrer:
    """Where a visit came from: URL without trailing slash, display name and type (may be "")."""

    url: str = ""
    name: str = ""
    type: str = ""


EMPTY_REFERRER = Referrer()


def load_referrer_hosts() -> dict[str, tuple[str, str]]:
    """Read the bundled host table as {host: (name, type)}."""
    text = resources.files("jobs.enrich").joinpath("data/referrers.json").read_text("utf-8")
    return {host: (entry[0], entry[1]) for host, entry in json.loads(text)["hosts"].items()}


class ReferrerParser:
    """Turns a raw ``__referrer`` plus the page URL and its query into a Referrer."""

    def __init__(
        self, hosts: Mapping[str, tuple[str, str]] | None = None, cache_size: int = 4096
    ) -> None:
        """Load the host table (default: the bundled one) and index it by display name."""
        table = load_referrer_hosts() if hosts is None else hosts
        self._hosts = {host.lower(): (entry[0], entry[1]) for host, entry in table.items()}
        self._by_name: dict[str, tuple[str, str]] = {}
        for name, kind in self._hosts.values():
            current = self._by_name.get(name.lower())
            # A name used for several types (Google: search, and "unknown" for docs.google.com)
            # resolves to its most specific type.
            if current is None or current[1] == "unknown":
                self._by_name[name.lower()] = (name, kind)
        self._lookup = functools.lru_cache(maxsize=cache_size)(self._lookup_uncached)

    def parse(self, referrer: str, page_url: str, query: Mapping[str, str]) -> Referrer:
        """Classify ``referrer``; same-host referrers are dropped, utm/ref query keys override."""
        result = self._from_referrer(referrer.strip() if referrer else "", page_url)
        source = _source_from_query(query)
        if not source:
            return result
        match = self.lookup_source(source)
        name, kind = match if match is not None else (source, "")
        return Referrer(url=result.url, name=name, type=kind)

    def lookup_host(self, host: str) -> tuple[str, str] | None:
        """Return (name, type) for a hostname, or None when it is not in the table."""
        if not host:
            return None
        return self._lookup(host.lower().rstrip("."))

    def lookup_source(self, source: str) -> tuple[str, str] | None:
        """Resolve a utm_source-style value: as a host, as ``<source>.com``, then by name."""
        source = source.strip().lower()
        if "://" in source:
            source = _hostname(source)
        if not source:
            return None
        return (
            self.lookup_host(source)
            or self.lookup_host(f"{source}.com")
            or self._by_name.get(source)
        )

    def _from_referrer(self, referrer: str, page_url: str) -> Referrer:
        if not referrer:
            return EMPTY_REFERRER
        host = _hostname(referrer)
        if host and host == _hostname(page_url):
            return EMPTY_REFERRER  # internal navigation
        url = referrer.rstrip("/")
        match = self.lookup_host(host)
        if match is None:
            return Referrer(url=url, name=url, type="")
        return Referrer(url=url, name=match[0], type=match[1])

    def _lookup_uncached(self, host: str) -> tuple[str, str] | None:
        candidates = [host]
        if host.startswith("www."):
            host = host[4:]
            candidates.append(host)
        labels = host.split(".")
        # Parent domains down to two labels: m.facebook.com → facebook.com (never "com").
        candidates += [".".join(labels[i:]) for i in range(1, len(labels) - 1)]
        for candidate in candidates:
            hit = self._hosts.get(candidate) or _brand_domain(candidate)
            if hit is not None:
                return hit
        return None


def _brand_domain(host: str) -> tuple[str, str] | None:
    found = _BRAND_DOMAIN.match(host)
    return _BRANDS[found.group(1)] if found else None


# scheme://host followed by the end, a path, a query or a fragment: the everyday URL, whose
# hostname needs no full parse (userinfo, ports and IPv6 literals take the urlsplit route).
_PLAIN_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([A-Za-z0-9.-]+)(?=[/?#]|$)")


def _hostname(value: str) -> str:
    """Lowercase hostname of a URL ("" when there is none or the URL is malformed)."""
    if "://" not in value:
        return ""
    plain = _PLAIN_HOST.match(value)
    if plain is not None:
        return plain.group(1).lower()
    try:
        return urlsplit(value).hostname or ""
    except ValueError:
        return ""


def _source_from_query(query: Mapping[str, str]) -> str:
    """The first non-empty of utm_source, ref, utm_referrer, lowercased."""
    for key in _SOURCE_KEYS:
        value = query.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip().lower()
    return ""
