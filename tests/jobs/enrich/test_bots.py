"""Crawler detection built from the crawler-user-agents package."""

from __future__ import annotations

import functools
import re

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.enrich.bots import NOT_BOT_SAMPLES, BotDetector, BotMatch
from tests.jobs.enrich.user_agents import BOT_UAS, BROWSER_UAS, SERVER_UAS


@functools.cache
def _shared_detector() -> BotDetector:
    return BotDetector()


@pytest.fixture
def detector() -> BotDetector:
    return _shared_detector()


@pytest.mark.parametrize("key", sorted(BROWSER_UAS))
def test_browsers_are_not_bots(detector: BotDetector, key: str) -> None:
    assert detector.match(BROWSER_UAS[key]) is None


@pytest.mark.parametrize("key", sorted(SERVER_UAS))
def test_server_sdk_clients_are_not_bots(detector: BotDetector, key: str) -> None:
    assert detector.match(SERVER_UAS[key]) is None


@pytest.mark.parametrize(
    ("key", "name", "kind"),
    [
        ("googlebot", "Googlebot", "search-engine"),
        ("bingbot", "bingbot", "search-engine"),
        ("yandexbot", "YandexBot", "search-engine"),
        ("gptbot", "GPTBot", "ai-crawler"),
        ("facebook_preview", "facebookexternalhit", "social-preview"),
        ("ahrefs", "AhrefsBot", "seo"),
        ("headless_chrome", "HeadlessChrome", "browser-automation"),
    ],
)
def test_known_crawlers(detector: BotDetector, key: str, name: str, kind: str) -> None:
    assert detector.match(BOT_UAS[key]) == BotMatch(name=name, type=kind)


def test_headless_chrome_is_in_the_list(detector: BotDetector) -> None:
    # Recorded decision: the upstream list tags HeadlessChrome as browser automation.
    assert detector.is_bot(BOT_UAS["headless_chrome"])


def test_every_kept_pattern_matches_its_own_examples(detector: BotDetector) -> None:
    """The combined trie+regex must agree with the patterns one by one."""
    dropped = [
        item
        for item in CRAWLER_USER_AGENTS_DATA
        if any(re.search(item["pattern"], sample) for sample in NOT_BOT_SAMPLES)
    ]
    assert detector.size == len(CRAWLER_USER_AGENTS_DATA) - len(dropped)
    dropped_patterns = {item["pattern"] for item in dropped}
    missed = [
        instance
        for item in CRAWLER_USER_AGENTS_DATA
        if item["pattern"] not in dropped_patterns
        for instance in item.get("instances", [])
        if detector.match(instance) is None
        # An instance may also contain a dropped pattern's text only; skip those.
        and not any(re.search(p, instance) for p in dropped_patterns)
    ]
    assert missed == []


def test_only_generic_clients_are_dropped() -> None:
    dropped = {
        item["pattern"]
        for item in CRAWLER_USER_AGENTS_DATA
        if any(re.search(item["pattern"], sample) for sample in NOT_BOT_SAMPLES)
    }
    # A new upstream pattern catching a whole browser family would show up here.
    assert len(dropped) < 25
    assert "HeadlessChrome" not in dropped
    assert "Googlebot\\/" not in dropped


def test_names_are_readable(detector: BotDetector) -> None:
    for item in CRAWLER_USER_AGENTS_DATA:
        for instance in item.get("instances", [])[:1]:
            found = detector.match(instance)
            if found is not None:
                assert found.name.strip() == found.name
                assert found.name and "\\" not in found.name
                assert found.type


def test_empty_ua_is_not_a_bot(detector: BotDetector) -> None:
    assert detector.match("") is None


def test_results_are_cached(detector: BotDetector) -> None:
    first = detector.match(BOT_UAS["googlebot"])
    assert detector.match(BOT_UAS["googlebot"]) is first
    assert detector.cache_info().hits >= 1


def test_custom_entries_and_regex_patterns() -> None:
    entries = [
        {"pattern": "ExampleBot\\/", "instances": ["ExampleBot/1.0"], "tags": ["seo"]},
        {"pattern": "^Scan(ner|ster) ", "instances": ["Scanster v2"]},
        {"pattern": "[wW]idget[cC]rawler", "instances": []},
        {"pattern": "python-requests", "instances": ["python-requests/2.0"]},
    ]
    detector = BotDetector(entries)
    assert detector.size == 3  # python-requests dropped: server SDKs use it
    assert detector.match("Mozilla/5.0 ExampleBot/1.0") == BotMatch("ExampleBot", "seo")
    assert detector.match("Scanster v2") == BotMatch("Scanster", "bot")
    assert detector.match("x WidgetCrawler y") == BotMatch("WidgetCrawler", "bot")
    assert detector.match("python-requests/2.32.3") is None
    assert detector.match("Not Scanner at start") is None


def test_overlapping_literals_resolve_to_a_listed_pattern() -> None:
    entries = [
        {"pattern": "Bot", "instances": ["Bot"]},
        {"pattern": "BotX", "instances": ["BotX"], "tags": ["seo"]},
    ]
    detector = BotDetector(entries, not_bots=())
    assert detector.match("a BotX b") == BotMatch("BotX", "seo")
    assert detector.match("a Bot b") == BotMatch("Bot", "bot")
    assert detector.match("a BotY b") == BotMatch("Bot", "bot")


def test_an_empty_list_matches_nothing() -> None:
    assert BotDetector([]).match("Googlebot/2.1") is None


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200))
def test_match_never_raises(ua: str) -> None:
    result = _shared_detector().match(ua)
    assert result is None or isinstance(result, BotMatch)
