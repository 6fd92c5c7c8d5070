"""``__path`` splitting into origin, path, hash and query (compat §2.4)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs.enrich.url import UrlParts, split_url


def test_full_url() -> None:
    parts = split_url("https://example.com/pricing?utm_source=google&plan=pro#faq")
    assert parts == UrlParts(
        origin="https://example.com",
        path="/pricing",
        hash="#faq",
        query={"utm_source": "google", "plan": "pro"},
    )


@pytest.mark.parametrize(
    ("value", "origin"),
    [
        ("https://example.com", "https://example.com"),
        ("https://Example.COM/", "https://example.com"),
        ("HTTP://example.com/", "http://example.com"),
        ("https://example.com:443/", "https://example.com"),
        ("http://example.com:80/", "http://example.com"),
        ("http://localhost:3000/", "http://localhost:3000"),
        ("https://user:secret@example.com/", "https://example.com"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
        ("http://[2001:db8::1]/", "http://[2001:db8::1]"),
        ("http://münchen.de/", "http://xn--mnchen-3ya.de"),
    ],
)
def test_origin(value: str, origin: str) -> None:
    assert split_url(value).origin == origin


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ("https://example.com", "/"),
        ("https://example.com?x=1", "/"),
        ("https://example.com/a/b/", "/a/b/"),
        ("https://example.com/a/../b/./c", "/b/c"),
        ("https://example.com/a/..", "/"),
        ("https://example.com/café menu", "/caf%C3%A9%20menu"),
        ("https://example.com/already%20encoded", "/already%20encoded"),
        ("https://example.com\\a\\b", "/a/b"),
    ],
)
def test_pathname(value: str, path: str) -> None:
    assert split_url(value).path == path


def test_query_keeps_the_first_value_and_decodes() -> None:
    parts = split_url("https://example.com/?a=1&a=2&b=&c=x+y&d=%E2%82%AC&e")
    assert parts.query == {"a": "1", "b": "", "c": "x y", "d": "€", "e": ""}


def test_empty_hash_is_empty_string() -> None:
    assert split_url("https://example.com/#").hash == ""
    assert split_url("https://example.com/").hash == ""


def test_absolute_path_has_no_origin() -> None:
    assert split_url("/docs/start?ref=hn#install") == UrlParts(
        origin="", path="/docs/start", hash="#install", query={"ref": "hn"}
    )


def test_protocol_relative_value_keeps_only_the_path() -> None:
    assert split_url("//evil.example/steal?q=1") == UrlParts(
        origin="", path="/steal", hash="", query={"q": "1"}
    )


@pytest.mark.parametrize("value", ["HomeScreen", "Settings/Profile", "httpfoo", "ftp://x.org/a"])
def test_other_values_are_kept_verbatim(value: str) -> None:
    assert split_url(value) == UrlParts(origin="", path=value, hash="", query={})


@pytest.mark.parametrize(
    "value",
    [
        "http://example.com:99999/",
        "http://example.com:abc/",
        "http://[::1/",
        "http://[not-ipv6]/",
        "https://",
        "http:///path",
        "http://exa mple.com/",
        "http://\u2603\u2603..com/",
    ],
)
def test_malformed_urls_fall_back_to_verbatim(value: str) -> None:
    assert split_url(value) == UrlParts(origin="", path=value, hash="", query={})


def test_empty_value() -> None:
    assert split_url("") == UrlParts(origin="", path="", hash="", query={})


@given(st.text(max_size=120))
def test_never_raises_on_text(value: str) -> None:
    parts = split_url(value)
    assert isinstance(parts.path, str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parts.query.items())


@given(
    st.sampled_from(["http://", "https://", "/", ""]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
)
def test_never_raises_on_url_like_text(prefix: str, rest: str) -> None:
    parts = split_url(prefix + rest)
    assert parts.origin == "" or parts.origin.startswith(("http://", "https://"))
    assert parts.hash == "" or parts.hash.startswith("#")


PLAIN_SHAPES = [
    "https://example.com",
    "https://example.com/",
    "http://Shop.Example.com:8080/a/b?x=1&x=2&y=#top",
    "https://example.com:443/p?utm_source=news%20letter&q=a+b",
    "https://example.com/%7Euser/it's(1)!*;,=@:~$&",
    "https://a-b.example.co.uk/path/with/many/segments?empty",
    "https://example.com/a?b=c#frag/with?chars",
    "http://localhost:3000/dashboard",
    "https://example.com/./x",
    "https://example.com/a/../b",
    "https://example.com:99999/",
    "https://example.com:0080/x",
]


@pytest.mark.parametrize("value", PLAIN_SHAPES)
def test_the_fast_path_agrees_with_the_full_parser(value: str) -> None:
    from jobs.enrich.url import _split_absolute

    try:
        expected = _split_absolute(value)
    except ValueError:
        expected = UrlParts(origin="", path=value, hash="", query={})
    assert split_url(value) == expected


@given(
    host=st.from_regex(r"[a-zA-Z0-9-]{1,10}(\.[a-z0-9-]{1,8}){0,3}", fullmatch=True),
    port=st.none() | st.integers(0, 70000),
    path=st.from_regex(r"(/[A-Za-z0-9!$%&'()*+,\-.:;=@_~]{0,8}){0,4}", fullmatch=True),
    query=st.none() | st.from_regex(r"[a-z0-9=&%+.]{0,20}", fullmatch=True),
    fragment=st.none() | st.from_regex(r"[a-z0-9/?#=]{0,10}", fullmatch=True),
)
def test_the_fast_path_agrees_on_generated_urls(
    host: str, port: int | None, path: str, query: str | None, fragment: str | None
) -> None:
    from jobs.enrich.url import _split_absolute

    value = f"https://{host}{'' if port is None else f':{port}'}{path}"
    value += "" if query is None else f"?{query}"
    value += "" if fragment is None else f"#{fragment}"
    try:
        expected = _split_absolute(value)
    except (ValueError, UnicodeError):
        expected = UrlParts(origin="", path=value, hash="", query={})
    assert split_url(value) == expected
