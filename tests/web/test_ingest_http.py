"""The ingest API over real HTTP against a running appliance (openpanel-compat.md §1)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import ApiClient, LiveServer, make_server

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36"
)
ORIGIN = "https://example.com"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[LiveServer]:
    srv = make_server(tmp_path_factory.mktemp("ingest"), {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    srv.create_project("Ingest", cors=(ORIGIN, "https://*.example.org"))
    srv.start()
    yield srv
    srv.stop()


def post(
    server: LiveServer,
    body: Any,
    *,
    path: str = "/track",
    origin: str | None = ORIGIN,
    secret: bool = False,
    client: ApiClient | None = None,
    ua: str = CHROME,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    client = client or server.write
    h = {
        "content-type": "application/json",
        "user-agent": ua,
        **client.headers(secret=secret),
        **(headers or {}),
    }
    if origin:
        h["origin"] = origin
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.url + path, content=data, headers=h, timeout=30)


def track(name: str, **props: Any) -> dict[str, Any]:
    return {"type": "track", "payload": {"name": name, "properties": props}}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


def marker() -> str:
    return f"m{time.monotonic_ns()}"


def by_mark(mark: str) -> list[dict[str, Any]]:
    """Filters for the events a test sent (session_start copies the first event's props)."""
    return [
        {"name": "properties.mark", "operator": "is", "value": [mark]},
        {"name": "name", "operator": "isNot", "value": ["session_start"]},
    ]


def stored(server: LiveServer, mark: str, timeout: float = 10) -> list[dict[str, Any]]:
    return server.wait_for(lambda ev: len(ev) > 0, timeout, filters=by_mark(mark))


def test_a_browser_event_is_accepted_with_ids_and_stored(server: LiveServer) -> None:
    mark = marker()
    r = post(
        server,
        track("screen_view", __path="https://example.com/a?x=1", mark=mark),
        headers={"x-forwarded-for": "81.2.69.142, 10.0.0.1"},
    )
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    ids = r.json()
    assert set(ids) == {"deviceId", "sessionId"} and ids["deviceId"] and ids["sessionId"]
    assert r.headers["access-control-allow-origin"] == "*"
    [event] = stored(server, mark)
    assert (event["deviceId"], event["sessionId"]) == (ids["deviceId"], ids["sessionId"])
    assert (event["path"], event["country"], event["city"]) == ("/a", "GB", "London")


def test_the_api_is_also_served_under_api(server: LiveServer) -> None:
    mark = marker()
    assert post(server, track("clicked", mark=mark), path="/api/track").status_code == 200
    assert stored(server, mark)[0]["name"] == "clicked"


@pytest.mark.parametrize(
    ("headers", "body_extra", "message"),
    [
        ({}, {}, "Ingestion: Missing client id"),
        ({"openpanel-client-id": "not-a-uuid"}, {}, "Ingestion: Client ID must be a valid UUIDv4"),
        (
            {"openpanel-client-id": "00000000-0000-4000-8000-000000000000"},
            {},
            "Ingestion: Invalid client id",
        ),
    ],
)
def test_auth_failures_are_plain_text_401(
    server: LiveServer, headers: dict[str, str], body_extra: dict[str, str], message: str
) -> None:
    r = httpx.post(
        server.url + "/track",
        json={**track("x"), **body_extra},
        headers={"origin": ORIGIN, **headers},
        timeout=30,
    )
    assert (r.status_code, r.text) == (401, message)
    assert r.headers["content-type"].startswith("text/plain")


def test_origins_are_matched_against_the_cors_list(server: LiveServer) -> None:
    for ok in (
        "https://example.com",
        "https://www.example.com/",
        "http://example.com",
        "https://shop.example.org",
    ):
        assert post(server, track("o"), origin=ok).status_code == 200, ok
    bad = post(server, track("o"), origin="https://evil.com")
    assert bad.status_code == 401
    assert "https://evil.com" in bad.text and server.project_id in bad.text
    assert post(server, track("o"), origin=None).status_code == 401


def test_secrets_authenticate_server_side_callers(server: LiveServer) -> None:
    assert post(server, track("s"), origin=None, secret=True, ua="node").status_code == 200
    wrong = ApiClient(server.write.id, "sec_wrong")
    r = post(server, track("s"), origin=None, secret=True, client=wrong, ua="node")
    assert (r.status_code, r.text) == (401, "Ingestion: Invalid cors or secret")
    body = {**track("s"), "clientId": server.write.id, "clientSecret": server.write.secret}
    r = httpx.post(server.url + "/track", json=body, timeout=30)
    assert r.status_code == 200
    legacy = {"mixan-client-id": server.write.id, "mixan-client-secret": server.write.secret}
    assert (
        httpx.post(server.url + "/track", json=track("s"), headers=legacy, timeout=30).status_code
        == 200
    )


def test_preflight_allows_the_sdk_headers(server: LiveServer) -> None:
    for path in ("/track", "/api/track"):
        r = httpx.options(
            server.url + path,
            headers={
                "origin": "http://127.0.0.1:5555",
                "access-control-request-method": "POST",
                "access-control-request-headers": "content-type,openpanel-client-id,"
                "openpanel-sdk-name,openpanel-sdk-version,openpanel-client-secret",
            },
            timeout=30,
        )
        assert r.status_code in (200, 204)
        assert r.headers["access-control-allow-origin"] == "*"
        allowed = r.headers["access-control-allow-headers"].lower()
        assert "openpanel-client-id" in allowed and "openpanel-sdk-version" in allowed
        assert int(r.headers["access-control-max-age"]) >= 86400


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("session_start", "reserved"),
        ("session_end", "reserved"),
        ("a" * 81, "80"),
        ("/wp-login.php", ""),
        ("x' or '1'='1", ""),
        ("a\nb", ""),
    ],
)
def test_reserved_and_blocked_names_are_refused(server: LiveServer, name: str, reason: str) -> None:
    r = post(server, track(name))
    assert r.status_code == 400
    body = r.json()
    assert body["status"] == 400 and body["field"] == "payload.name" and reason in body["message"]


def test_bad_payloads_name_the_field(server: LiveServer) -> None:
    cases = [
        (b"{not json", "body"),
        (json.dumps({"type": "nope", "payload": {}}).encode(), "type"),
        (json.dumps({"type": "track", "payload": {"name": 5}}).encode(), "payload.name"),
        (
            json.dumps(
                {"type": "identify", "payload": {"profileId": "u", "email": "nope"}}
            ).encode(),
            "payload.email",
        ),
        (
            json.dumps(
                {"type": "increment", "payload": {"profileId": "u", "property": "n", "value": -3}}
            ).encode(),
            "payload.value",
        ),
        (json.dumps(track("x", deep=nested(12))).encode(), "payload.properties"),
    ]
    for body, field in cases:
        r = post(server, body)
        assert r.status_code == 400, body
        assert r.json()["field"].startswith(field), (body, r.json())


def test_revenue_needs_a_secret_unless_the_project_allows_it(server: LiveServer) -> None:
    mark = marker()
    r = post(server, track("revenue", __revenue=1999, mark=mark))
    assert (r.status_code, r.text) == (
        401,
        "Ingestion: Revenue tracking is not allowed without a client secret",
    )
    assert (
        post(server, track("revenue", __revenue=19.5), secret=True, origin=None).status_code == 400
    )
    assert (
        post(
            server, track("revenue", __revenue=1999, mark=mark), secret=True, origin=None, ua="node"
        ).status_code
        == 200
    )
    [event] = stored(server, mark)
    assert event["revenue"] == 1999 and "__revenue" not in event["properties"]


def test_bots_get_202_and_are_not_stored(server: LiveServer) -> None:
    mark = marker()
    bot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
    r = post(server, track("screen_view", __path="https://example.com/", mark=mark), ua=bot)
    assert r.status_code == 202 and r.json()["bot"]["name"]
    ok = post(server, track("screen_view", mark=mark), ua=bot, secret=True, origin=None)
    assert ok.status_code == 200  # secret-authenticated calls are never bot-screened
    events = stored(server, mark)
    time.sleep(0.5)
    assert len(server.events(filters=by_mark(mark))) == len(events) == 1


def test_duplicates_within_the_window_get_json_and_are_stored_once(server: LiveServer) -> None:
    mark = marker()
    body = track("double_click", mark=mark)
    ip = {"x-forwarded-for": "8.8.8.8"}
    with httpx.Client(timeout=30) as client:
        h = {
            "content-type": "application/json",
            "user-agent": CHROME,
            "origin": ORIGIN,
            **server.write.headers(secret=False),
            **ip,
        }
        first = client.post(server.url + "/track", content=json.dumps(body), headers=h)
        second = client.post(server.url + "/track", content=json.dumps(body), headers=h)
    assert first.status_code == second.status_code == 200
    assert second.json()["deviceId"] == first.json()["deviceId"]
    assert second.json()["sessionId"] == first.json()["sessionId"]
    assert second.json().get("duplicate") is True
    stored(server, mark)
    time.sleep(0.5)
    assert len(server.events(filters=by_mark(mark))) == 1


def test_every_type_answers_with_ids(server: LiveServer) -> None:
    bodies = [
        {
            "type": "identify",
            "payload": {"profileId": "u-1", "firstName": "Ada", "properties": {"plan": "pro"}},
        },
        {"type": "increment", "payload": {"profileId": "u-1", "property": "visits"}},
        {"type": "decrement", "payload": {"profileId": "u-1", "property": "visits", "value": None}},
        {"type": "alias", "payload": {"profileId": "u-1", "alias": "anon-1"}},
        {"type": "group", "payload": {"id": "g1", "type": "company", "name": "Acme"}},
        {"type": "assign_group", "payload": {"groupIds": ["g1"], "profileId": "u-1"}},
        {
            "type": "replay",
            "payload": {
                "chunk_index": 0,
                "events_count": 1,
                "is_full_snapshot": True,
                "started_at": "2026-01-01T00:00:00Z",
                "ended_at": "2026-01-01T00:00:01Z",
                "payload": "[]",
                "sessionId": "abc",
            },
        },
        {"type": "track", "payload": {"name": "py", "properties": {}, "profileId": None}},
    ]
    for body in bodies:
        r = post(server, body, secret=True, origin=None, ua="python-requests/2.32")
        assert r.status_code == 200, (body["type"], r.text)
        assert set(r.json()) == {"deviceId", "sessionId"}


def test_legacy_endpoints(server: LiveServer) -> None:
    mark = marker()
    r = post(server, {"name": "legacy_event", "properties": {"mark": mark}}, path="/event")
    assert (r.status_code, r.text) == (202, "ok")
    r = post(server, {"profileId": "legacy-1", "firstName": "Lin"}, path="/profile")
    assert (r.status_code, r.text) == (202, "legacy-1")
    r = post(
        server, {"profileId": "legacy-1", "property": "n", "value": 2}, path="/profile/increment"
    )
    assert (r.status_code, r.text) == (202, "legacy-1")
    r = post(
        server, {"profileId": "legacy-1", "property": "n", "value": "x"}, path="/profile/decrement"
    )
    assert (r.status_code, r.text) == (400, "Not number")
    [event] = stored(server, mark)
    assert event["name"] == "legacy_event"
    r = httpx.get(
        server.url + "/track/device-id",
        headers={**server.write.headers(secret=False), "origin": ORIGIN, "user-agent": CHROME},
        timeout=30,
    )
    assert r.status_code == 200 and len(r.json()["deviceId"]) == 32 and "message" in r.json()


def test_export_requires_a_read_client_of_that_project(server: LiveServer) -> None:
    url = server.url + "/export/events"
    assert httpx.get(url, timeout=30).status_code == 401
    write = httpx.get(url, headers=server.write.headers(), timeout=30)
    assert write.status_code == 403 and write.json()["status"] == 403
    other = httpx.get(
        url, params={"projectId": "someone-else"}, headers=server.read.headers(), timeout=30
    )
    assert other.status_code == 403
    bad = httpx.get(
        url,
        params={"filters": '[{"name":"nope","operator":"is","value":[1]}]'},
        headers=server.read.headers(),
        timeout=30,
    )
    assert bad.status_code == 400 and bad.json()["field"] == "filters.0.name"


def test_export_pages_and_filters(server: LiveServer) -> None:
    mark = marker()
    for i in range(7):
        post(server, track("paged", mark=mark, i=i))
    flt = [{"name": "properties.mark", "operator": "is", "value": [mark]}]
    server.wait_for(lambda ev: len(ev) == 7, 10, filters=flt)
    page = server.export(filters=flt, limit=3, page=3, event="paged")
    assert page["meta"] == {"count": 1, "totalCount": 7, "pages": 3, "current": 3}
    newest = server.export(filters=flt, limit=1)["data"][0]
    assert newest["properties"]["i"] == "6"
    assert set(newest) >= {
        "id",
        "name",
        "deviceId",
        "profileId",
        "projectId",
        "sessionId",
        "createdAt",
        "osVersion",
        "browserVersion",
        "referrerName",
        "sdkName",
        "importedAt",
        "groups",
        "duration",
    }


def test_a_client_created_while_running_works_without_restart(server: LiveServer) -> None:
    created = server.cli("client", "create", "--project", server.project_id, "--json")
    fresh = ApiClient(created["client_id"], created["client_secret"])
    deadline = time.monotonic() + 10
    while True:
        r = post(server, track("fresh"), client=fresh)
        if r.status_code == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status_code == 200


def test_health_and_version(server: LiveServer) -> None:
    health = httpx.get(server.url + "/-/health", timeout=30).json()
    assert health["ok"] is True
    assert set(health["checks"]) == {"chdb", "sqlite", "spool", "pipeline", "consumer"}
    version = httpx.get(server.url + "/-/version", timeout=30).json()
    assert version["version"] and version["chdb"]
    assert httpx.get(server.url + "/documentation/openapi.json", timeout=30).status_code == 200
    root = httpx.get(server.url + "/", timeout=30)
    assert root.json()["status"] == "ok"  # API clients: OpenPanel's root answer
    browser = httpx.get(server.url + "/", headers={"accept": "text/html"}, timeout=30)
    assert (browser.status_code, browser.headers["location"]) == (303, "/dashboard")


def test_live_stream_delivers_new_events(server: LiveServer) -> None:
    mark = marker()
    url = f"{server.url}/live/events/{server.project_id}"
    with httpx.stream("GET", url, headers=server.read.headers(), timeout=30) as stream:
        lines = stream.iter_lines()
        first = next(line for line in lines if line.startswith("data:"))
        assert json.loads(first[5:])["type"] == "hello"
        post(server, track("live_one", mark=mark))
        post(server, track("refused", mark=mark), origin="https://evil.com")
        seen_event = seen_rejection = False
        for line in lines:
            if not line.startswith("data:"):
                continue
            message = json.loads(line[5:])
            if message["type"] == "event" and message["event"]["name"] == "live_one":
                assert message["event"]["properties"]["mark"] == mark
                seen_event = True
            elif message["type"] == "rejected" and mark in message["body"]:
                assert message["status"] == 401 and "https://evil.com" in message["reason"]
                seen_rejection = True
            if seen_event and seen_rejection:
                break
    assert seen_event and seen_rejection
