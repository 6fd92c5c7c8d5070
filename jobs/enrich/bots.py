"""Crawler detection from the ``crawler-user-agents`` package's pattern list.

All ~1,500 patterns become one compiled regex: the plain-literal patterns (the vast majority) are
merged into a prefix trie so the engine tries one branch per character instead of one per pattern,
and the few real regexes are appended as alternatives. A miss costs tens of microseconds; results
are memoised per UA string.

Generic HTTP client libraries that server SDKs use (``python-requests``, ``node-fetch``, ``curl``,
``Go-http-client`` ...) are in the upstream list but are *not* bots here: such requests are
classified as server UAs by the user-agent parser instead.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BROWSER_SAMPLES",
    "NOT_BOT_SAMPLES",
    "SERVER_CLIENT_SAMPLES",
    "BotDetector",
    "BotMatch",
]

# User agents of HTTP stacks that server-side SDKs and scripts send. Any list pattern matching
# one of these (or BROWSER_SAMPLES) is dropped, so an upstream rewording cannot reintroduce it.
SERVER_CLIENT_SAMPLES: tuple[str, ...] = (
    "node",
    "undici",
    "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
    "axios/1.7.2",
    "got (https://github.com/sindresorhus/got)",
    "python-requests/2.32.3",
    "python-httpx/0.28.1",
    "Python-urllib/3.11",
    "Python/3.11 aiohttp/3.9.5",
    "Go-http-client/1.1",
    "Go-http-client/2.0",
    "okhttp/4.12.0",
    "Apache-HttpClient/5.3 (Java/21)",
    "AHC/2.1",
    "Java-http-client/21.0.2",
    "curl/8.5.0",
    "HTTPie/3.2.2",
    "GuzzleHttp/7",
    "Dart/3.5 (dart:io)",
    "Ruby",
)

# Ordinary browsers that some list entries catch by accident. "AP3A.240617.008" is a common
# Android 15 build id (WebView/in-app browsers print it), listed upstream for one scraper.
BROWSER_SAMPLES: tuple[str, ...] = (
    "Mozilla/5.0 (Linux; Android 15; Pixel 8 Build/AP3A.240617.008; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)

NOT_BOT_SAMPLES: tuple[str, ...] = SERVER_CLIENT_SAMPLES + BROWSER_SAMPLES

# A pattern is a plain literal when it has no regex syntax beyond escaped punctuation.
_LITERAL_PATTERN = re.compile(r"(?:\\[^A-Za-z0-9]|[^\\\[\]().*+?{}|^$])+")
_UNESCAPE = re.compile(r"\\(.)")
_NAME_TRIM = " /;:(+,-_"
_COMPATIBLE_TOKEN = re.compile(r"compatible; ?([A-Za-z][\w.-]*[A-Za-z])")


@dataclass(frozen=True)
class BotMatch:
    """A recognised crawler: display name ("Googlebot") and category ("search-engine")."""

    name: str
    type: str


@dataclass(frozen=True, slots=True)
class _Entry:
    pattern: str
    name: str
    type: str


class BotDetector:
    """Matches user agents against the crawler list; ``None`` means not a known crawler."""

    def __init__(
        self,
        entries: Sequence[dict[str, Any]] | None = None,
        cache_size: int = 20000,
        not_bots: Iterable[str] = NOT_BOT_SAMPLES,
    ) -> None:
        """Compile the list (default: the installed crawler-user-agents data) into one regex."""
        raw = _load_package_entries() if entries is None else entries
        samples = tuple(not_bots)
        kept = [_entry(item) for item in raw if not _matches_any(item["pattern"], samples)]
        self.size = len(kept)
        self._by_literal: dict[str, _Entry] = {}
        self._regex_entries: list[tuple[re.Pattern[str], _Entry]] = []
        for entry in kept:
            if _LITERAL_PATTERN.fullmatch(entry.pattern):
                self._by_literal.setdefault(_UNESCAPE.sub(r"\1", entry.pattern), entry)
            else:
                self._regex_entries.append((re.compile(entry.pattern), entry))
        parts = [_trie_regex(self._by_literal)] if self._by_literal else []
        parts += [f"(?:{rx.pattern})" for rx, _ in self._regex_entries]
        self._combined = re.compile("|".join(parts)) if parts else None
        self._cached = functools.lru_cache(maxsize=cache_size)(self._match_uncached)

    def match(self, ua: str) -> BotMatch | None:
        """Return the crawler ``ua`` belongs to, or None (also for empty UAs)."""
        if not ua or self._combined is None:
            return None
        return self._cached(ua)

    def is_bot(self, ua: str) -> bool:
        """True when ``ua`` matches a crawler pattern."""
        return self.match(ua) is not None

    def cache_info(self) -> Any:
        """Hit/miss counters of the match cache (functools ``CacheInfo``)."""
        return self._cached.cache_info()

    def _match_uncached(self, ua: str) -> BotMatch | None:
        assert self._combined is not None
        found = self._combined.search(ua)
        if found is None:
            return None
        text = found.group(0)
        entry = self._by_literal.get(text)
        if entry is None:
            # The hit came from one of the few non-literal patterns: find which.
            for rx, candidate in self._regex_entries:
                if hit := rx.search(ua):
                    entry, text = candidate, hit.group(0)
                    break
        if entry is None:  # pragma: no cover - the combined regex and its parts agree
            return BotMatch(name=_tidy(text) or "bot", type="bot")
        # Patterns without sample UAs are named after the text they matched here.
        return BotMatch(name=entry.name or _tidy(text) or entry.pattern, type=entry.type)


def _load_package_entries() -> list[dict[str, Any]]:
    """Read the crawler list shipped in the ``crawler-user-agents`` distribution."""
    # Imported here: the package parses its JSON at import time, which must not happen when
    # this module is merely imported.
    from crawleruseragents import CRAWLER_USER_AGENTS_DATA

    return list(CRAWLER_USER_AGENTS_DATA)


def _matches_any(pattern: str, samples: Iterable[str]) -> bool:
    compiled = re.compile(pattern)
    return any(compiled.search(sample) for sample in samples)


def _entry(item: dict[str, Any]) -> _Entry:
    pattern = item["pattern"]
    tags = item.get("tags") or []
    return _Entry(
        pattern=pattern, name=_readable_name(pattern, item), type=tags[0] if tags else "bot"
    )


def _readable_name(pattern: str, item: dict[str, Any]) -> str:
    """Name a pattern after its text in a sample UA; "" when it has no (matching) sample."""
    compiled = re.compile(pattern)
    for instance in item.get("instances") or []:
        found = compiled.search(instance)
        if found and _tidy(found.group(0)):
            name = _tidy(found.group(0))
            if "/" in name and (token := _COMPATIBLE_TOKEN.search(instance)):
                # "yandex.com/bots" matched the URL part; the product token reads better.
                return token.group(1)
            return name
    return ""


def _tidy(text: str) -> str:
    """Trim separators around a matched name, and a ")" that closes nothing."""
    text = text.strip(_NAME_TRIM)
    while text.endswith(")") and text.count(")") > text.count("("):
        text = text[:-1].rstrip(_NAME_TRIM)
    return text


def _trie_regex(words: Iterable[str]) -> str:
    """Build a regex matching any of ``words`` whose alternations branch on distinct characters."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _trie_node_regex(root)


def _trie_node_regex(node: dict[str, Any]) -> str:
    # Iterative over the branching, recursive over depth: depth is bounded by the longest
    # pattern (tens of characters), so recursion is safe here.
    ends_here = "" in node
    branches = [
        re.escape(char) + _trie_node_regex(child) for char, child in sorted(node.items()) if char
    ]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    if ends_here:
        # A shorter literal ends here; the longer continuation is optional. Greedy matching
        # prefers the longer literal, and the shorter one is still a complete match.
        return f"(?:{body})?" if len(branches) == 1 else f"{body}?"
    return body
