"""User-agent parsing into OpenPanel device fields (compat §2.2)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.enrich.useragent import (
    SERVER_DEVICE,
    Device,
    UserAgentParser,
    apply_overrides,
    is_server_user_agent,
)
from tests.jobs.enrich.user_agents import BOT_UAS, BROWSER_UAS, SERVER_UAS


@functools.cache
def _shared_parser() -> UserAgentParser:
    """One parser for the whole module (hypothesis tests cannot take function fixtures)."""
    return UserAgentParser()


@pytest.fixture
def parser() -> UserAgentParser:
    return _shared_parser()


# (os, os_version, browser, browser_version major prefix, device, brand, model)
EXPECTED: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "chrome_mac": ("Mac OS X", "10.15.7", "Chrome", "126", "desktop", "Apple", "Mac"),
    "chrome_windows": ("Windows", "10", "Chrome", "126", "desktop", "", ""),
    "firefox_linux": ("Ubuntu", "", "Firefox", "128", "desktop", "", ""),
    "firefox_windows": ("Windows", "10", "Firefox", "128", "desktop", "", ""),
    "safari_mac": ("Mac OS X", "10.15.7", "Safari", "17", "desktop", "Apple", "Mac"),
    "edge_windows": ("Windows", "10", "Edge", "126", "desktop", "", ""),
    "opera_windows": ("Windows", "10", "Opera", "111", "desktop", "", ""),
    "iphone_safari": ("iOS", "17.5", "Mobile Safari", "17", "mobile", "Apple", "iPhone"),
    "iphone_chrome": ("iOS", "17.5", "Chrome Mobile iOS", "126", "mobile", "Apple", "iPhone"),
    "ipad_safari": ("iOS", "17.5", "Mobile Safari", "17", "tablet", "Apple", "iPad"),
    "android_pixel_chrome": (
        "Android",
        "14",
        "Chrome Mobile",
        "126",
        "mobile",
        "Google",
        "Pixel 8",
    ),
    "android_reduced_chrome": ("Android", "10", "Chrome Mobile", "126", "mobile", "", ""),
    "android_tablet_chrome": ("Android", "13", "Chrome", "126", "tablet", "", "SM-X700"),
    "samsung_internet": (
        "Android",
        "14",
        "Samsung Internet",
        "25",
        "mobile",
        "Samsung",
        "SM-S918B",
    ),
    "kindle_silk": ("Android", "9", "Amazon Silk", "126", "tablet", "Amazon", "Kindle"),
    "chromeos": ("Chrome OS", "14541.0.0", "Chrome", "126", "desktop", "", ""),
    "samsung_tv": ("Tizen", "6.0", "Samsung Internet", "4", "smarttv", "Samsung", "SMART-TV"),
}


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_browser_table(parser: UserAgentParser, key: str) -> None:
    os_, os_version, browser, major, device, brand, model = EXPECTED[key]
    parsed = parser.parse(BROWSER_UAS[key])
    assert parsed.os == os_
    assert parsed.os_version == os_version
    assert parsed.browser == browser
    assert parsed.browser_version.split(".")[0] == major
    assert parsed.device == device
    assert parsed.brand == brand
    assert parsed.model == model
    assert parsed.is_server is False


@pytest.mark.parametrize("key", sorted(BROWSER_UAS))
def test_every_browser_is_a_client_device(parser: UserAgentParser, key: str) -> None:
    parsed = parser.parse(BROWSER_UAS[key])
    assert not parsed.is_server
    assert parsed.device in {"desktop", "mobile", "tablet", "smarttv", "console"}


def test_full_browser_version_is_kept(parser: UserAgentParser) -> None:
    parsed = parser.parse(BROWSER_UAS["android_pixel_chrome"])
    assert parsed.browser_version == "126.0.6478.122"


@pytest.mark.parametrize("key", sorted(SERVER_UAS))
def test_server_user_agents(parser: UserAgentParser, key: str) -> None:
    assert parser.parse(SERVER_UAS[key]) == SERVER_DEVICE


def test_server_device_has_every_other_field_empty() -> None:
    assert Device(device="server", is_server=True) == SERVER_DEVICE


def test_unrecognisable_ua_with_spaces_is_a_server(parser: UserAgentParser) -> None:
    # os, browser, brand and model all unknown → server.
    assert parser.parse("totally custom agent string").is_server


def test_app_ua_with_a_known_os_is_not_a_server(parser: UserAgentParser) -> None:
    parsed = parser.parse("MyApp/1.2 (iPhone; iOS 17.5; Scale/3.00)")
    assert not parsed.is_server
    assert parsed.os == "iOS"
    assert parsed.device == "mobile"


def test_crawlers_are_parsed_not_servers(parser: UserAgentParser) -> None:
    # Bot detection is a separate concern; the crawler's placeholder brand/model are dropped.
    parsed = parser.parse(BOT_UAS["googlebot"])
    assert parsed.browser == "Googlebot"
    assert (parsed.brand, parsed.model, parsed.is_server) == ("", "", False)


@pytest.mark.parametrize(
    ("ua", "expected"),
    [
        ("", True),
        ("node", True),
        ("node/20", True),
        ("Go-http-client/1.1", True),
        ("python-requests/2.32.3", True),
        ("okhttp/4.12.0-RC1", True),
        ("Mozilla/5.0 (X11; Linux x86_64)", False),
        ("Foo Bar/1.0", True),
        ("MyApp/1.0 CFNetwork/1496.0.7 Darwin/23.5.0", False),
    ],
)
def test_is_server_user_agent(ua: str, expected: bool) -> None:
    assert is_server_user_agent(ua) is expected


def test_cache_returns_the_same_object(parser: UserAgentParser) -> None:
    ua = BROWSER_UAS["firefox_windows"]
    first = parser.parse(ua)
    assert parser.parse(ua) is first
    assert parser.cache_info().hits >= 1


def test_cache_is_per_instance_and_bounded() -> None:
    small = UserAgentParser(cache_size=2)
    for ua in list(BROWSER_UAS.values())[:5]:
        small.parse(ua)
    assert small.cache_info().currsize == 2


def test_overrides_replace_fields() -> None:
    base = Device(os="Android", browser="Chrome", device="mobile")
    overridden = apply_overrides(
        base,
        {
            "__os": "iOS",
            "__osVersion": "18.0",
            "__browser": "App",
            "__browserVersion": "2.1",
            "__brand": "Apple",
            "__model": "iPhone16,1",
            "__device": "tablet",
            "other": "ignored",
        },
    )
    assert overridden == Device(
        os="iOS",
        os_version="18.0",
        browser="App",
        browser_version="2.1",
        device="tablet",
        brand="Apple",
        model="iPhone16,1",
    )


def test_overrides_ignore_empty_and_non_strings() -> None:
    base = Device(os="Android", browser="Chrome", device="mobile")
    assert apply_overrides(base, {"__os": "", "__browser": None, "__model": 42}) is base
    assert apply_overrides(base, {}) is base


def test_device_override_clears_is_server() -> None:
    assert apply_overrides(SERVER_DEVICE, {"__device": "mobile"}) == Device(device="mobile")
    kept = apply_overrides(SERVER_DEVICE, {"__os": "Linux"})
    assert kept.is_server and kept.device == "server" and kept.os == "Linux"
    assert apply_overrides(SERVER_DEVICE, {"__device": "server"}).is_server


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_never_raises(ua: str) -> None:
    parsed = _shared_parser().parse(ua)
    assert isinstance(parsed, Device)
    assert parsed.is_server == (parsed.device == "server")
