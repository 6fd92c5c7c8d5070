"""Split ``__path`` into origin, path, hash and query the way OpenPanel does (compat §2.4).

Full URLs (``http``/``https``) yield a WHATWG-style origin and an encoded pathname; values that
start with ``/`` are parsed against a dummy host (origin ""); anything else, such as a React
Native route name, is kept verbatim as the path. Malformed input never raises: it falls back
to the verbatim path.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import SplitResult, parse_qsl, quote, urlsplit

__all__ = ["UrlParts", "split_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HTTP_URL = re.compile(r"^https?://", re.IGNORECASE)
# Characters a browser percent-encodes in a path (C0 controls, space, ", #, <, >, ?, `, {, })
# and everything non-ASCII; the rest, including existing %XX escapes, is kept as written.
_PATH_SAFE = "!$%&'()*+,-./:;=@[]\\^_|~"
_QUERY_FIELDS_LIMIT = 1000
# Forbidden host code points (WHATWG) that urlsplit would let through.
_BAD_HOST_CHARS = re.compile(r"[\x00-\x20\x7f<>^`{|}%\"\\]")


@dataclass(frozen=True, slots=True)
class UrlParts:
    """Origin ("" for relative paths), path, ``#fragment`` ("" if none) and first query values."""

    origin: str
    path: str
    hash: str
    query: dict[str, str] = field(default_factory=dict)


# The shape of nearly every real page URL: lowercase http(s) scheme, plain ASCII host, a path
# of characters a browser leaves as they are, no dot segments. Such URLs skip urlsplit, IDNA
# and re-quoting (the pipeline splits one URL per event); the result is the same.
_PLAIN_URL = re.compile(
    r"(https?)://([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)(?::([0-9]{1,5}))?"
    r"(/[A-Za-z0-9!$%&'()*+,\-./:;=@_~]*)?(?:\?([^#\s]*))?(?:#(.*))?"
)


def split_url(value: str) -> UrlParts:
    """Split a page URL, absolute path or route name into its parts; never raises."""
    if not value:
        return UrlParts(origin="", path="", hash="", query={})
    plain = _PLAIN_URL.fullmatch(value)
    if (
        plain is not None
        and "/." not in (plain.group(4) or "")
        and int(plain.group(3) or 0) <= 65535
    ):
        return _split_plain(plain)
    try:
        if _HTTP_URL.match(value):
            return _split_absolute(value)
        if value.startswith("/"):
            return _split_relative(value)
    except (ValueError, UnicodeError):
        pass
    return UrlParts(origin="", path=value, hash="", query={})


def _split_absolute(value: str) -> UrlParts:
    value = value.strip()
    # Browsers read "\" as "/" in http(s) URLs up to the query; urlsplit does not.
    end = min((i for i in (value.find("?"), value.find("#")) if i >= 0), default=len(value))
    parts = urlsplit(value[:end].replace("\\", "/") + value[end:])
    if not parts.hostname or _BAD_HOST_CHARS.search(parts.hostname):
        raise ValueError("URL without a valid host")
    return UrlParts(
        origin=_origin(parts),
        path=_pathname(parts.path),
        hash=_hash(parts.fragment),
        query=_first_values(parts.query),
    )


def _split_plain(match: re.Match[str]) -> UrlParts:
    scheme, host, port, path, query, fragment = match.groups()
    origin = f"{scheme}://{host.lower()}"
    if port is not None and int(port) != _DEFAULT_PORTS[scheme]:
        origin += f":{int(port)}"
    return UrlParts(
        origin=origin,
        path=path or "/",
        hash=_hash(fragment or ""),
        query=_first_values(query or ""),
    )


def _split_relative(value: str) -> UrlParts:
    # "//host/path" is protocol-relative: like `new URL(v, base)`, its path is what follows.
    parts = urlsplit(value)
    return UrlParts(
        origin="",
        path=_pathname(parts.path),
        hash=_hash(parts.fragment),
        query=_first_values(parts.query),
    )


def _origin(parts: SplitResult) -> str:
    """``scheme://host[:port]`` with the default port omitted and the host in IDNA form."""
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    port = parts.port  # raises ValueError on a malformed or out-of-range port
    if ":" in host:
        host = f"[{host}]"
    elif not host.isascii():
        host = host.encode("idna").decode("ascii")
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def _pathname(path: str) -> str:
    """Browser-style pathname: "/" when empty, backslashes as slashes, dot segments resolved."""
    if not path:
        return "/"
    path = path.replace("\\", "/")
    if "/." in path:
        path = _remove_dot_segments(path)
    return quote(path, safe=_PATH_SAFE)


def _remove_dot_segments(path: str) -> str:
    """Resolve ``.`` and ``..`` segments (RFC 3986 §5.2.4) in an absolute path."""
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        if segment == ".":
            if last:
                out.append("")
        elif segment == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(segment)
    return "/" + "/".join(out)


def _hash(fragment: str) -> str:
    return f"#{fragment}" if fragment else ""


def _first_values(query: str) -> dict[str, str]:
    """Decode a query string keeping the first value of each key (blank values included)."""
    return dict(_query_pairs(query)) if query else {}


@functools.lru_cache(maxsize=4096)
def _query_pairs(query: str) -> tuple[tuple[str, str], ...]:
    """First value per key, memoised: the same utm query strings come back all day."""
    result: dict[str, str] = {}
    pairs = parse_qsl(query, keep_blank_values=True, errors="replace")
    for key, value in pairs[:_QUERY_FIELDS_LIMIT]:
        result.setdefault(key, value)
    return tuple(result.items())
