"""Referrer classification (compat §2.3) and the bundled host table."""

from __future__ import annotations

import functools
import json
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.enrich.referrer import (
    REFERRER_TYPES,
    Referrer,
    ReferrerParser,
    load_referrer_hosts,
)

PAGE = "https://example.com/pricing"


@functools.cache
def _shared_parser() -> ReferrerParser:
    return ReferrerParser()


@pytest.fixture
def parser() -> ReferrerParser:
    return _shared_parser()


def test_data_file_declares_its_source_and_valid_types() -> None:
    raw = json.loads(
        resources.files("jobs.enrich").joinpath("data/referrers.json").read_text("utf-8")
    )
    assert "hand-curated" in raw["source"]
    assert set(raw["types"]) == REFERRER_TYPES
    for host, (name, kind) in raw["hosts"].items():
        assert host == host.lower() and not host.startswith("www."), host
        assert name and kind in REFERRER_TYPES, host


def test_table_covers_the_required_hosts() -> None:
    hosts = load_referrer_hosts()
    required = {
        "bing.com": "search",
        "duckduckgo.com": "search",
        "search.yahoo.com": "search",
        "yandex.ru": "search",
        "baidu.com": "search",
        "ecosia.org": "search",
        "search.brave.com": "search",
        "qwant.com": "search",
        "startpage.com": "search",
        "search.naver.com": "search",
        "seznam.cz": "search",
        "sogou.com": "search",
        "l.facebook.com": "social",
        "lm.facebook.com": "social",
        "instagram.com": "social",
        "t.co": "social",
        "x.com": "social",
        "lnkd.in": "social",
        "old.reddit.com": "social",
        "out.reddit.com": "social",
        "pinterest.com": "social",
        "youtube.com": "social",
        "tiktok.com": "social",
        "threads.net": "social",
        "mastodon.social": "social",
        "bsky.app": "social",
        "vk.com": "social",
        "weibo.com": "social",
        "quora.com": "social",
        "news.ycombinator.com": "social",
        "producthunt.com": "social",
        "discord.com": "social",
        "t.me": "social",
        "web.whatsapp.com": "social",
        "app.slack.com": "social",
        "mail.google.com": "email",
        "outlook.live.com": "email",
        "mail.yahoo.com": "email",
        "chatgpt.com": "ai",
        "chat.openai.com": "ai",
        "claude.ai": "ai",
        "perplexity.ai": "ai",
        "gemini.google.com": "ai",
        "copilot.microsoft.com": "ai",
        "github.com": "tech",
        "stackoverflow.com": "tech",
        "gitlab.com": "tech",
        "medium.com": "content",
        "substack.com": "content",
        "wikipedia.org": "content",
        "amazon.com": "commerce",
        "ebay.com": "commerce",
        "googleads.g.doubleclick.net": "paid",
        "googlesyndication.com": "paid",
    }
    assert {host: hosts[host][1] for host in required} == required


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("https://www.google.com/", Referrer("https://www.google.com", "Google", "search")),
        ("https://google.de/", Referrer("https://google.de", "Google", "search")),
        ("https://www.google.co.uk/", Referrer("https://www.google.co.uk", "Google", "search")),
        ("https://www.google.com.br", Referrer("https://www.google.com.br", "Google", "search")),
        (
            "https://news.google.com/x",
            Referrer("https://news.google.com/x", "Google News", "content"),
        ),
        ("https://mail.google.com/", Referrer("https://mail.google.com", "Gmail", "email")),
        ("https://gemini.google.com/", Referrer("https://gemini.google.com", "Gemini", "ai")),
        ("https://m.facebook.com/", Referrer("https://m.facebook.com", "Facebook", "social")),
        (
            "https://l.facebook.com/l.php?u=x",
            Referrer("https://l.facebook.com/l.php?u=x", "Facebook", "social"),
        ),
        ("https://t.co/abc", Referrer("https://t.co/abc", "Twitter", "social")),
        (
            "https://uk.search.yahoo.com/",
            Referrer("https://uk.search.yahoo.com", "Yahoo!", "search"),
        ),
        ("https://docs.github.com/en", Referrer("https://docs.github.com/en", "GitHub", "tech")),
        (
            "https://someone.substack.com/p/post",
            Referrer("https://someone.substack.com/p/post", "Substack", "content"),
        ),
        (
            "https://en.m.wikipedia.org/wiki/X",
            Referrer("https://en.m.wikipedia.org/wiki/X", "Wikipedia", "content"),
        ),
        ("https://www.amazon.co.jp/", Referrer("https://www.amazon.co.jp", "Amazon", "commerce")),
        ("https://chatgpt.com/", Referrer("https://chatgpt.com", "ChatGPT", "ai")),
        (
            "android-app://com.google.android.gm/",
            Referrer("android-app://com.google.android.gm", "Gmail", "email"),
        ),
        (
            "HTTPS://WWW.BING.COM/search?q=x",
            Referrer("HTTPS://WWW.BING.COM/search?q=x", "Bing", "search"),
        ),
    ],
)
def test_known_referrers(parser: ReferrerParser, referrer: str, expected: Referrer) -> None:
    assert parser.parse(referrer, PAGE, {}) == expected


def test_unknown_referrer_name_is_the_url_and_type_empty(parser: ReferrerParser) -> None:
    ref = "https://blog.somewhere.dev/post/"
    url = "https://blog.somewhere.dev/post"
    assert parser.parse(ref, PAGE, {}) == Referrer(url, url, "")


def test_lookalike_domains_do_not_match(parser: ReferrerParser) -> None:
    for ref in ("https://notgoogle.com/", "https://google.com.evil.io/", "https://google.example/"):
        assert parser.parse(ref, PAGE, {}).type == ""


def test_same_host_referrer_is_ignored(parser: ReferrerParser) -> None:
    assert parser.parse("https://example.com/blog/", PAGE, {}) == Referrer()
    assert parser.parse("http://EXAMPLE.com:8080/", PAGE, {}) == Referrer()


def test_other_subdomain_is_not_internal(parser: ReferrerParser) -> None:
    ref = "https://docs.example.com/start"
    assert parser.parse(ref, PAGE, {}) == Referrer(ref, ref, "")


def test_relative_page_path_never_counts_as_same_host(parser: ReferrerParser) -> None:
    assert parser.parse("https://example.com/", "/pricing", {}).url == "https://example.com"


def test_empty_or_malformed_referrer(parser: ReferrerParser) -> None:
    assert parser.parse("", PAGE, {}) == Referrer()
    assert parser.parse("   ", PAGE, {}) == Referrer()
    assert parser.parse("https://[::1/", PAGE, {}) == Referrer("https://[::1", "https://[::1", "")
    assert parser.parse("not a url", PAGE, {}) == Referrer("not a url", "not a url", "")


@pytest.mark.parametrize(
    ("query", "name", "kind"),
    [
        ({"utm_source": "google"}, "Google", "search"),
        ({"utm_source": "Facebook"}, "Facebook", "social"),
        ({"utm_source": "chatgpt.com"}, "ChatGPT", "ai"),
        ({"utm_source": "perplexity"}, "Perplexity", "ai"),
        ({"utm_source": "Hacker News"}, "Hacker News", "social"),
        ({"ref": "producthunt"}, "Product Hunt", "social"),
        ({"utm_referrer": "https://news.ycombinator.com/item?id=1"}, "Hacker News", "social"),
        ({"utm_source": "Newsletter"}, "newsletter", ""),
        ({"utm_source": "", "ref": "github"}, "GitHub", "tech"),
        ({"ref": "x", "utm_source": "linkedin"}, "LinkedIn", "social"),
    ],
)
def test_query_source_overrides_name_and_type(
    parser: ReferrerParser, query: dict[str, str], name: str, kind: str
) -> None:
    result = parser.parse("https://www.bing.com/", PAGE, query)
    assert result == Referrer("https://www.bing.com", name, kind)


def test_query_source_applies_without_a_referrer(parser: ReferrerParser) -> None:
    assert parser.parse("", PAGE, {"utm_source": "twitter"}) == Referrer("", "Twitter", "social")
    # Also when the referrer was internal navigation.
    internal = parser.parse("https://example.com/", PAGE, {"ref": "newsletter"})
    assert internal == Referrer("", "newsletter", "")


def test_display_name_lookup_prefers_the_specific_type(parser: ReferrerParser) -> None:
    # "Google" names search hosts and also docs.google.com ("unknown"): search wins.
    assert parser.lookup_source("GOOGLE") == ("Google", "search")
    assert parser.lookup_host("docs.google.com") == ("Google", "unknown")


def test_custom_host_table() -> None:
    custom = ReferrerParser({"Partner.example": ("Partner", "commerce")})
    assert custom.parse("https://www.partner.example/x", PAGE, {}).name == "Partner"
    assert custom.parse("https://www.google.com/", PAGE, {}).name == "Google"  # rule still applies
    assert custom.lookup_host("") is None


@given(
    st.text(max_size=80),
    st.text(max_size=40),
    st.dictionaries(st.text(max_size=12), st.text(max_size=20)),
)
def test_parse_never_raises(referrer: str, page: str, query: dict[str, str]) -> None:
    result = _shared_parser().parse(referrer, page, query)
    assert isinstance(result, Referrer)
    assert result.type in REFERRER_TYPES | {""}
