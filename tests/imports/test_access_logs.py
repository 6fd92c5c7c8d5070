"""Web server access logs become page views with geo (test GeoIP database), device, referrer and
visits; bots, static files, non-2xx answers, non-GET requests and junk lines are counted."""

from __future__ import annotations

import gzip
from pathlib import Path

from embedded_db.imports.accesslog import pattern_of
from embedded_db.imports.formats import Options
from tests.imports.conftest import Imports

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


def _line(ip: str, when: str, request: str, status: int, referrer: str, ua: str) -> str:
    return f'{ip} - - [{when}] "{request}" {status} 512 "{referrer}" "{ua}"'


LINES = [
    _line(
        "81.2.69.142",
        "01/May/2024:10:00:00 +0000",
        "GET / HTTP/1.1",
        200,
        "https://www.google.com/",
        CHROME,
    ),
    _line(
        "81.2.69.142",
        "01/May/2024:10:00:01 +0000",
        "GET /style.css?v=3 HTTP/1.1",
        200,
        "https://shop.example/",
        CHROME,
    ),
    _line(
        "81.2.69.142",
        "01/May/2024:10:01:00 +0000",
        "GET /about HTTP/1.1",
        200,
        "https://shop.example/",
        CHROME,
    ),
    _line("8.8.8.8", "01/May/2024:10:02:00 +0000", "GET /pricing HTTP/1.1", 404, "-", CHROME),
    _line("8.8.8.8", "01/May/2024:10:03:00 +0000", "GET /pricing HTTP/1.1", 200, "-", GOOGLEBOT),
    _line("203.0.113.7", "01/May/2024:10:04:00 +0000", "POST /api HTTP/1.1", 200, "-", IPHONE),
    "this is not a log line",
    _line(
        "203.0.113.7",
        "01/May/2024:10:30:00 +0200",
        "GET /blog?utm_source=reddit HTTP/2.0",
        200,
        "-",
        IPHONE,
    ),
    _line("81.2.69.142", "01/May/2024:12:00:00 +0000", "GET / HTTP/1.1", 200, "-", CHROME),
]


def _views(imports: Imports) -> list[dict]:
    return [e for e in imports.events() if e["name"] == "screen_view"]


def test_combined_log_becomes_visits(imports: Imports) -> None:
    path = imports.tmp / "access.log.gz"
    path.write_bytes(gzip.compress(("\n".join(LINES) + "\n").encode()))
    result = imports.importer.run(path, imports.project_id, Options(origin="https://shop.example"))

    assert result.format == "access-log"
    assert result.rows_read == 9 and result.sessions == 3 and result.events == 4 + 2 * 3
    assert result.skipped == {
        "bot": 1,
        "not a GET request": 1,
        "response not 2xx": 1,
        "static asset": 1,
        "unparsable line": 1,
    }
    assert "include 7" in result.notes[0]
    paris, london_home, london_about, london_again = _views(imports)
    assert paris["created_at"] == "2024-05-01 08:30:00.000" and paris["path"] == "/blog"
    assert (paris["country"], paris["city"], paris["device"], paris["os"]) == (
        "FR",
        "Paris",
        "mobile",
        "iOS",
    )
    assert (paris["referrer_name"], paris["referrer_type"]) == ("Reddit", "social")
    assert (london_home["origin"], london_home["path"]) == ("https://shop.example", "/")
    assert (london_home["country"], london_home["city"], london_home["browser"]) == (
        "GB",
        "London",
        "Chrome",
    )
    assert london_home["device_id"] == london_about["device_id"] == london_again["device_id"]
    assert london_home["session_id"] == london_about["session_id"] != london_again["session_id"]
    visits = {s["entry_path"] + ">" + s["exit_path"]: s for s in imports.sessions()}
    first = visits["/>/about"]
    assert (first["referrer_name"], first["referrer_type"]) == ("Google", "search")
    assert first["screen_view_count"] == 2 and first["duration"] == 60_000
    assert first["country"] == "GB" and first["is_bounce"] is False
    assert len(imports.sessions()) == 3


def test_custom_nginx_log_format_with_host(imports: Imports) -> None:
    fmt = '$remote_addr [$time_local] "$request" $status "$http_user_agent" $host'
    path = imports.tmp / "custom.log"
    path.write_text(
        f'8.8.8.8 [01/May/2024:09:00:00 +0000] "GET /docs HTTP/1.1" 200 "{CHROME}" docs.example\n',
        encoding="utf-8",
    )
    result = imports.importer.run(path, imports.project_id, Options(log_format=fmt))
    assert result.skipped == {} and result.sessions == 1
    [view] = _views(imports)
    assert (view["origin"], view["path"], view["country"]) == (
        "https://docs.example",
        "/docs",
        "US",
    )


def test_apache_log_format_translates() -> None:
    pattern, names = pattern_of(
        '%h %l %u %t \\"%r\\" %>s %b \\"%{Referer}i\\" \\"%{User-agent}i\\"'
    )
    assert names == ["ip", "time", "request", "status", "referrer", "ua"]
    assert pattern.startswith("^(\\S+) \\S* \\S* \\[([^\\]]+)\\]")


def test_a_log_with_only_junk_stores_nothing(imports: Imports, tmp_path: Path) -> None:
    path = tmp_path / "junk.log"
    path.write_text(LINES[0] + "\nnope\n", encoding="utf-8")
    result = imports.importer.run(path, imports.project_id)
    assert result.skipped == {"unparsable line": 1} and result.sessions == 1
