"""The published `@openpanel/nextjs` 1.5.1 first-party proxy (`createRouteHandler`) in Node.

node/nextjs-route-handler.mjs mounts the real handler (with the real `next` package for
NextResponse) as if at `/api/op/[...op]` and feeds it web Requests like a browser would send
to the site. The proxy forwards only content type, client id, origin, user agent and
`openpanel-client-ip` (taken from x-forwarded-for), and drops the SDK name/version headers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.compat.helpers import DESKTOP_CHROME_UA, flush, only, run_node
from tests.support.server import LiveServer

pytestmark = pytest.mark.node

SITE = "http://127.0.0.1:3000"  # the Next.js app; matches the project's http://127.0.0.1:* entry
PROXY = SITE + "/api/op"


def through_proxy(
    node_dir: Path, server: LiveServer, requests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Send `requests` through createRouteHandler({apiUrl: server}); the responses it gave."""
    results: list[dict[str, Any]] = run_node(
        node_dir, "nextjs-route-handler.mjs", stdin={"apiUrl": server.url, "requests": requests}
    )
    return results


def browser_headers(server: LiveServer, **extra: str) -> dict[str, str]:
    """What the web SDK in a visitor's browser sends to the site's proxy route."""
    return {
        "content-type": "application/json",
        "openpanel-client-id": server.write.id,
        "openpanel-sdk-name": "nextjs",
        "openpanel-sdk-version": "1.5.1",
        "user-agent": DESKTOP_CHROME_UA,
        **extra,
    }


def screen_view(url: str) -> dict[str, Any]:
    return {
        "type": "track",
        "payload": {
            "name": "screen_view",
            "properties": {"__referrer": "", "__path": url, "__title": "Checkout"},
        },
    }


def json_body(result: dict[str, Any]) -> Any:
    assert "application/json" in (result["contentType"] or ""), result
    return json.loads(result["body"])


def test_proxied_track_gets_ids_and_geo_of_the_forwarded_visitor_ip(
    live_server: LiveServer, node_dir: Path
) -> None:
    headers = browser_headers(
        live_server, origin="https://example.com", **{"x-forwarded-for": "8.8.8.8, 10.0.0.7"}
    )
    tracked, device = through_proxy(
        node_dir,
        live_server,
        [
            {
                "method": "POST",
                "url": PROXY + "/track",
                "headers": headers,
                "body": screen_view("https://example.com/checkout?utm_source=proxy"),
            },
            {"method": "GET", "url": PROXY + "/track/device-id", "headers": headers},
        ],
    )

    assert tracked["status"] == 200, tracked
    ids = json_body(tracked)
    assert set(ids) == {"deviceId", "sessionId"}
    assert ids["deviceId"] and ids["sessionId"]
    assert device["status"] == 200, device
    looked_up = json_body(device)
    assert (looked_up["deviceId"], looked_up["sessionId"]) == (ids["deviceId"], ids["sessionId"])

    events = flush(live_server, "compat_flush")
    view = only(events, "screen_view")
    assert (view["country"], view["region"], view["city"]) == ("US", "California", "Mountain View")
    assert view["sessionId"] == ids["sessionId"]
    assert (view["origin"], view["path"]) == ("https://example.com", "/checkout")
    assert view["properties"]["__query.utm_source"] == "proxy"
    assert view["browser"] == "Chrome"
    # The proxy does not forward the SDK headers.
    assert (view["sdkName"], view["sdkVersion"]) == ("", "")
    assert only(events, "session_start")["sessionId"] == ids["sessionId"]


def test_proxy_without_browser_origin_sends_the_site_origin(
    live_server: LiveServer, node_dir: Path
) -> None:
    (result,) = through_proxy(
        node_dir,
        live_server,
        [
            {
                "method": "POST",
                "url": PROXY + "/track",
                "headers": browser_headers(live_server, **{"x-forwarded-for": "81.2.69.142"}),
                "body": screen_view(SITE + "/pricing"),
            }
        ],
    )
    assert result["status"] == 200, result
    assert json_body(result)["sessionId"]
    view = only(flush(live_server, "compat_flush"), "screen_view")
    assert (view["origin"], view["path"], view["country"]) == (SITE, "/pricing", "GB")


def test_proxy_passes_an_origin_rejection_through_as_401(
    live_server: LiveServer, node_dir: Path
) -> None:
    (result,) = through_proxy(
        node_dir,
        live_server,
        [
            {
                "method": "POST",
                "url": PROXY + "/track",
                "headers": browser_headers(live_server, origin="https://not-allowed.example"),
                "body": screen_view("https://not-allowed.example/"),
            }
        ],
    )
    assert result["status"] == 401, result
    # The proxy re-wraps the plain-text 401 as a JSON string.
    assert "Invalid cors or secret" in json_body(result)
    assert "screen_view" not in [e["name"] for e in flush(live_server, "compat_flush")]
