"""User-agent parsing into OpenPanel's device fields (compat §2.2).

ua-parser's Rust-backed resolver does the matching; this module derives the device type
(mobile/tablet/desktop, plus smarttv/console where obvious), drops placeholder brand/model
values and classifies server-side clients (SDKs, HTTP libraries) as ``device="server"``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import ua_parser
from ua_parser import Domain, PartialResult

__all__ = [
    "SERVER_DEVICE",
    "Device",
    "UserAgentParser",
    "apply_overrides",
    "is_server_user_agent",
]


@dataclass(frozen=True, slots=True)
class Device:
    """What the event's user agent says about the client; strings are "" when unknown."""

    os: str = ""
    os_version: str = ""
    browser: str = ""
    browser_version: str = ""
    device: str = ""
    brand: str = ""
    model: str = ""
    is_server: bool = False


SERVER_DEVICE = Device(device="server", is_server=True)

# "node/20", "Go-http-client/1.1", "unknown/1.0": a bare product token is a server client.
_PRODUCT_TOKEN = re.compile(r"^[^/]+/[\d.]+$")
# ua-parser's stand-ins for "no idea" (and "Spider" for crawlers), never shown to users.
_PLACEHOLDERS = frozenset(
    {"Other", "Generic", "Generic_Android", "Generic_Android_Tablet", "Generic Feature Phone"}
    | {"Generic Smartphone", "Generic Tablet", "Generic_Inettv", "Spider", "iOS-Device"}
)
# Chrome's reduced Android UA reports the model as "K" whatever the phone is; crawlers get
# "Desktop"/"Smartphone" as their model.
_PLACEHOLDER_MODELS = frozenset({"K", "Smartphone", "Desktop"})
_TABLET_HINT = re.compile(
    r"iPad|Tablet|\bTab\b|Kindle|\bSilk\b|PlayBook|Nexus (?:7|9|10)\b|SM-[PTX]\d|GT-P\d"
)
_TABLET_BRANDS = frozenset({"Generic_Android_Tablet", "Generic Tablet"})
_MOBILE_HINT = re.compile(r"Mobi|iPhone|iPod|Windows Phone|BlackBerry|BB10|Opera Mini")
_TV_HINT = re.compile(r"SMART-TV|SmartTV|Smart TV|GoogleTV|Android TV|AppleTV|\bTV\b|HbbTV|Roku")
_CONSOLE_HINT = re.compile(r"PlayStation|Xbox|Nintendo")
_TV_OS = frozenset({"Tizen", "webOS", "Roku"})
_MOBILE_OS = frozenset({"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS"})

_OVERRIDE_FIELDS = (
    ("__os", "os"),
    ("__osVersion", "os_version"),
    ("__browser", "browser"),
    ("__browserVersion", "browser_version"),
    ("__device", "device"),
    ("__brand", "brand"),
    ("__model", "model"),
)


class UserAgentParser:
    """Parses UA strings into Device values, memoising the last ``cache_size`` distinct UAs."""

    def __init__(self, cache_size: int = 20000) -> None:
        """Build the regex resolver once (≈0.2 s); parses are then a few microseconds each."""
        self._resolve = _best_resolver()
        self._cached = functools.lru_cache(maxsize=cache_size)(self._parse_uncached)

    def parse(self, ua: str) -> Device:
        """Return the Device for ``ua``; the same UA string yields the same (cached) object."""
        if not ua:
            return SERVER_DEVICE
        return self._cached(ua)

    def cache_info(self) -> Any:
        """Hit/miss counters of the parse cache (functools ``CacheInfo``)."""
        return self._cached.cache_info()

    def _parse_uncached(self, ua: str) -> Device:
        stripped = ua.strip()
        if is_server_user_agent(stripped):
            return SERVER_DEVICE
        result: PartialResult = self._resolve(stripped, Domain.ALL)
        agent, os_, dev = result.user_agent, result.os, result.device
        browser = _clean(agent.family) if agent else ""
        os_name = _clean(os_.family) if os_ else ""
        family = dev.family if dev else ""
        brand = _clean(dev.brand) if dev else ""
        model = _clean(dev.model) if dev else ""
        if model in _PLACEHOLDER_MODELS:
            model = ""
        if not (browser or os_name or brand or model):
            return SERVER_DEVICE
        return Device(
            os=os_name,
            os_version=_version(os_) if os_name and os_ else "",
            browser=browser,
            browser_version=_version(agent) if browser and agent else "",
            device=_device_type(stripped, os_name, family, (dev.brand or "") if dev else ""),
            brand=brand,
            model=model,
        )


def is_server_user_agent(ua: str) -> bool:
    """True for UAs of server-side clients: empty, ``name/1.2.3``, or one bare token."""
    if not ua:
        return True
    if _PRODUCT_TOKEN.match(ua):
        return True
    # "node", "undici", "okhttp/4.12.0-RC": one token without spaces or comments.
    return " " not in ua and "(" not in ua


def apply_overrides(device: Device, properties: Mapping[str, Any]) -> Device:
    """Apply the SDK's ``__os``/``__browser``/... property overrides (non-empty strings only)."""
    changes: dict[str, Any] = {}
    for key, field in _OVERRIDE_FIELDS:
        value = properties.get(key)
        if isinstance(value, str) and value:
            changes[field] = value
    if not changes:
        return device
    if "device" in changes and changes["device"] != "server":
        changes["is_server"] = False
    return replace(device, **changes)


def _best_resolver() -> Any:
    """The Rust regex resolver (``ua-parser[regex]``), else ua-parser's pure-Python one."""
    try:
        from ua_parser.regex import Resolver
    except ImportError:  # ua-parser-rs wheel missing on this platform: slower but correct
        return ua_parser.BasicResolver(ua_parser.load_builtins())
    return Resolver(ua_parser.load_lazy_builtins())


def _clean(value: str | None) -> str:
    """Drop ua-parser placeholder values ("Other", "Generic_Android", ...)."""
    if not value or value in _PLACEHOLDERS:
        return ""
    return value


def _version(part: Any) -> str:
    """Join the present version components: ``17.5``, ``126.0.6478.122``."""
    pieces = (part.major, part.minor, part.patch, part.patch_minor)
    out: list[str] = []
    for piece in pieces:
        if not piece:
            break
        out.append(piece)
    return ".".join(out)


def _device_type(ua: str, os_name: str, family: str, brand: str) -> str:
    """Guess ua-parser-js style device type from the UA text and ua-parser's device match."""
    if _CONSOLE_HINT.search(ua):
        return "console"
    if _TV_HINT.search(ua) or (os_name in _TV_OS and "Mobile" not in ua):
        return "smarttv"
    if brand in _TABLET_BRANDS or _TABLET_HINT.search(ua) or _TABLET_HINT.search(family):
        return "tablet"
    if _MOBILE_HINT.search(ua) or os_name in _MOBILE_OS:
        # Android without a tablet hint counts as a phone, as upstream does.
        return "mobile"
    return "desktop"
