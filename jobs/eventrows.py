"""Turning an accepted `track` record into an `events` row: enrichment in one place.

Geo from the client IP, device from the user agent (with the `__os`… overrides), the page URL
split into origin/path/hash/query, the referrer classified (same-host referrers dropped, utm/ref
overrides), properties flattened to dot keys, and the server-controlled keys removed
(openpanel-compat.md §1.5, §2.2–§2.4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jobs.enrich.geo import GeoReader
from jobs.enrich.properties import flatten_properties
from jobs.enrich.referrer import ReferrerParser
from jobs.enrich.url import UrlParts, split_url
from jobs.enrich.useragent import UserAgentParser, apply_overrides
from jobs.records import Accepted
from jobs.timefmt import ch_time

# Keys consumed by the server (parsed into columns) or controlled by it.
CONSUMED_KEYS = frozenset(
    {"__path", "__referrer", "__timestamp", "__revenue", "__identify", "__bot", "__bot_reasons"}
)

EVENT_DEFAULTS: dict[str, Any] = {
    "id": "",
    "name": "",
    "sdk_name": "",
    "sdk_version": "",
    "device_id": "",
    "profile_id": "",
    "project_id": "",
    "session_id": "",
    "groups": [],
    "path": "",
    "origin": "",
    "referrer": "",
    "referrer_name": "",
    "referrer_type": "",
    "revenue": 0,
    "duration": 0,
    "properties": {},
    "created_at": "",
    "country": "",
    "city": "",
    "region": "",
    "longitude": None,
    "latitude": None,
    "os": "",
    "os_version": "",
    "browser": "",
    "browser_version": "",
    "device": "",
    "brand": "",
    "model": "",
    "imported_at": None,
}
_EMPTY_URL = UrlParts(origin="", path="", hash="", query={})


@dataclass
class Enricher:
    """Per-event enrichment with shared caches (one instance per pipeline)."""

    geo: GeoReader
    user_agents: UserAgentParser
    referrers: ReferrerParser
    store_ip: bool = False

    def client_context(self, ip: str, ua: str, props: dict[str, Any]) -> dict[str, Any]:
        """Geo and device columns for a client (also used for profile properties)."""
        geo = self.geo.lookup(ip)
        dev = apply_overrides(self.user_agents.parse(ua), props)
        return {
            "country": geo.country,
            "region": geo.region,
            "city": geo.city,
            "latitude": geo.latitude,
            "longitude": geo.longitude,
            "os": dev.os,
            "os_version": dev.os_version,
            "browser": dev.browser,
            "browser_version": dev.browser_version,
            "device": dev.device,
            "brand": dev.brand,
            "model": dev.model,
        }

    def track_event(self, record: Accepted) -> dict[str, Any]:
        """The `events` row for an accepted track record (before session processing)."""
        payload = record.payload
        props: dict[str, Any] = payload.get("properties") or {}
        page = _text(props.get("__path", props.get("path")))
        url = split_url(page) if page else _EMPTY_URL
        ref = self.referrers.parse(
            _text(props.get("__referrer", props.get("referrer"))), page, url.query
        )
        kept = {k: v for k, v in props.items() if k not in CONSUMED_KEYS}
        if not self.store_ip:
            kept.pop("__ip", None)
        flat = flatten_properties(kept)
        if url.hash:
            flat["__hash"] = url.hash
        for key, value in url.query.items():
            flat[f"__query.{key}"] = value
        name = payload["name"]
        revenue = props.get("__revenue")
        row = dict(EVENT_DEFAULTS)
        row.update(self.client_context(record.ip, record.ua, props))
        row.update(
            id=record.event_id,
            name=name,
            sdk_name=record.sdk_name,
            sdk_version=record.sdk_version,
            device_id=record.device_id,
            profile_id=record.profile_id,
            project_id=record.project_id,
            session_id=record.session_id,
            groups=list(payload.get("groups") or []),
            path=url.path,
            origin=url.origin,
            referrer=ref.url,
            referrer_name=ref.name,
            referrer_type=ref.type,
            properties=flat,
            created_at=ch_time(record.event_ms),
            revenue=revenue if name == "revenue" and _is_amount(revenue) else 0,
        )
        return row


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _is_amount(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
