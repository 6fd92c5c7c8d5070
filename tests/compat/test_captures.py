"""Replay what the real SDKs sent (captures/*.jsonl, recorded against a capture server) to a
live server and check each answer against the contract (openpanel-compat.md §1.3, Part B).

Each capture is sent as recorded (method, path, headers minus host/content-length, raw body)
with the fake client id/secret replaced by a live write client's. The expected answer follows
from the contract, not from the capture server's canned 200s: no secret and no allowed Origin →
401 text; `__revenue` without a secret → 401; a HeadlessChrome UA without a secret → 202 bot;
otherwise 200 JSON `{deviceId, sessionId}`. Browser requests are from origin
http://127.0.0.1:3400 (the project's `http://127.0.0.1:*` entry); the Next.js proxy capture is
from https://shop.example, allowed by a second project created for it.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.compat.helpers import DESKTOP_CHROME_UA, flush, names, only, running_server
from tests.support.server import ApiClient, LiveServer

CAPTURES = Path(__file__).parent / "captures"
PROXY_FILE = "nextjs-route-handler-proxy.jsonl"
SHOP_ORIGIN = "https://shop.example"
ALLOWED_ORIGINS = {"http://127.0.0.1:3400", SHOP_ORIGIN}
DROPPED_HEADERS = {"host", "content-length"}


@dataclass(frozen=True)
class Capture:
    file: str
    seq: int
    method: str
    path: str
    headers: dict[str, str]
    body_raw: str | None

    @property
    def id(self) -> str:
        parts = [f"{self.file.removesuffix('.jsonl')}#{self.seq}", f"{self.method}{self.path}"]
        parts += [self.body["type"], self.event_name] if self.body else []
        return "-".join(filter(None, parts))

    @property
    def body(self) -> dict[str, Any] | None:
        return json.loads(self.body_raw) if self.body_raw else None

    @property
    def has_secret(self) -> bool:
        return "openpanel-client-secret" in self.headers

    @property
    def origin(self) -> str:
        return self.headers.get("origin", "")

    @property
    def event_name(self) -> str:
        """The event name of a `track` call ("" for anything else)."""
        body = self.body
        return str(body["payload"]["name"]) if body and body["type"] == "track" else ""

    def expected_status(self) -> int:
        """What the contract says the server answers to this request."""
        if self.method == "OPTIONS":
            return 204
        assert not self.origin or self.origin in ALLOWED_ORIGINS, self.origin
        if not self.has_secret and not self.origin:
            return 401  # a server SDK without its secret
        props = (self.body or {}).get("payload", {}).get("properties") or {}
        if "__revenue" in props and not self.has_secret:
            return 401
        if "HeadlessChrome" in self.headers.get("user-agent", "") and not self.has_secret:
            return 202
        return 200

    def with_user_agent(self, ua: str) -> Capture:
        return replace(self, headers={**self.headers, "user-agent": ua})


def load(file: str) -> list[Capture]:
    captures = []
    for line in (CAPTURES / file).read_text().splitlines():
        record = json.loads(line)
        captures.append(
            Capture(
                file=file,
                seq=record["seq"],
                method=record["method"],
                path=record["path"],
                headers=record["headers"],
                body_raw=record["body_raw"],
            )
        )
    return captures


FILES = sorted(p.name for p in CAPTURES.glob("*.jsonl"))
ALL = [c for f in FILES for c in load(f)]


def replay(
    server: LiveServer, capture: Capture, client: ApiClient, api_root: str = ""
) -> httpx.Response:
    """Send `capture` as `client`; `api_root` "/api" is the self-hosting reverse-proxy path."""
    headers = {k: v for k, v in capture.headers.items() if k not in DROPPED_HEADERS}
    headers["openpanel-client-id"] = client.id
    if capture.has_secret:
        headers["openpanel-client-secret"] = client.secret
    return httpx.request(
        capture.method,
        server.url + api_root + capture.path,
        headers=headers,
        content=capture.body_raw.encode() if capture.body_raw is not None else None,
        timeout=30,
    )


def with_shop_project(server: LiveServer) -> LiveServer:
    """The same server seen through a second project that allows the proxy capture's origin."""
    created = server.cli("project", "create", "Shop", "--cors", SHOP_ORIGIN, "--json")
    reader = server.cli(
        "client", "create", "--project", created["project_id"], "--type", "read", "--json"
    )
    return replace(
        server,
        project_id=created["project_id"],
        write=ApiClient(created["client_id"], created["client_secret"]),
        read=ApiClient(reader["client_id"], reader["client_secret"]),
        proc=None,  # a view: stopping it must not stop the server
    )


@dataclass
class Target:
    """A live server with the two projects the captures need."""

    main: LiveServer
    shop: LiveServer

    @classmethod
    def on(cls, server: LiveServer) -> Target:
        return cls(server, with_shop_project(server))

    def project_for(self, capture: Capture) -> LiveServer:
        return self.shop if capture.file == PROXY_FILE else self.main

    def send(self, capture: Capture, api_root: str = "") -> httpx.Response:
        return replay(self.main, capture, self.project_for(capture).write, api_root)

    def replay_all(self, captures: list[Capture]) -> list[Capture]:
        """Replay in order, checking each answer; return the track captures answered 200."""
        stored = []
        for capture in captures:
            response = self.send(capture)
            check_answer(capture, response)
            if capture.event_name and response.status_code == 200:
                stored.append(capture)
        return stored


def check_answer(capture: Capture, response: httpx.Response) -> None:
    """Assert that `response` is the contract's answer to `capture`."""
    expected = capture.expected_status()
    where = f"{capture.id}: {response.status_code} {response.text[:300]}"
    if capture.origin:
        # Without it the browser cannot read the answer, and the SDK retries 4 times.
        assert response.headers.get("access-control-allow-origin") in ("*", capture.origin), where
    if capture.method == "OPTIONS":
        check_preflight(capture, response)
        return
    if expected == 401:
        assert response.status_code == 401, where
        assert response.headers["content-type"].startswith("text/plain"), where
        assert response.text.startswith("Ingestion: "), where
        return
    assert response.status_code == expected, where
    assert response.headers["content-type"].startswith("application/json"), where
    body = response.json()
    if expected == 202:
        assert set(body) == {"bot"}, where
        assert body["bot"]["name"] and isinstance(body["bot"]["type"], str), where
        return
    assert {"deviceId", "sessionId"} <= set(body), where
    assert isinstance(body["deviceId"], str) and body["deviceId"], where
    assert isinstance(body["sessionId"], str), where


def check_preflight(capture: Capture, response: httpx.Response) -> None:
    where = f"{capture.id}: {response.status_code} {dict(response.headers)}"
    assert response.status_code in (200, 204), where
    methods = response.headers.get("access-control-allow-methods", "")
    assert methods == "*" or "POST" in [m.strip().upper() for m in methods.split(",")], where
    allowed = response.headers.get("access-control-allow-headers", "")
    allowed_set = {h.strip().lower() for h in allowed.split(",")}
    requested = capture.headers["access-control-request-headers"].split(",")
    missing = [h for h in requested if h.strip().lower() not in allowed_set]
    assert allowed == "*" or not missing, f"{where}; not allowed: {missing}"


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Target]:
    with running_server(tmp_path_factory.mktemp("captures"), geoip_db) as server:
        yield Target.on(server)


@pytest.mark.parametrize("capture", ALL, ids=[c.id for c in ALL])
@pytest.mark.parametrize("api_root", ["", "/api"], ids=["root", "api-prefix"])
def test_captured_request_is_answered_per_contract(
    target: Target, capture: Capture, api_root: str
) -> None:
    check_answer(capture, target.send(capture, api_root))


@pytest.mark.parametrize(
    "capture",
    [c.with_user_agent(DESKTOP_CHROME_UA) for c in load("web.jsonl") if c.method == "POST"],
    ids=lambda c: c.id,
)
def test_web_sdk_request_from_a_real_browser_is_accepted(target: Target, capture: Capture) -> None:
    """The same browser traffic without the headless marker: every body shape the web SDK
    sends (screen views, identify, counters, replay chunks) gets ids; revenue stays refused."""
    check_answer(capture, target.send(capture))


SESSIONS = [
    pytest.param(load(f), id=f.removesuffix(".jsonl")) for f in FILES if f != "web.jsonl"
] + [
    pytest.param(
        [c.with_user_agent(DESKTOP_CHROME_UA) for c in load("web.jsonl")],
        id="web-desktop-chrome",
    )
]


@pytest.mark.parametrize("captures", SESSIONS)
def test_accepted_captured_events_are_exported_and_refused_ones_are_not(
    live_server: LiveServer, captures: list[Capture]
) -> None:
    target = Target.on(live_server)
    stored = target.replay_all(captures)
    events = flush(target.project_for(captures[0]), "compat_flush")
    exported = Counter(
        (e["name"], e["sdkName"], e["sdkVersion"])
        for e in events
        if e["name"] not in ("session_start", "compat_flush")
    )
    assert exported == Counter(
        (
            c.event_name,
            c.headers.get("openpanel-sdk-name", ""),
            c.headers.get("openpanel-sdk-version", ""),
        )
        for c in stored
    )


def test_proxied_capture_gets_geo_from_the_openpanel_client_ip_header(
    live_server: LiveServer,
) -> None:
    target = Target.on(live_server)
    target.replay_all(load(PROXY_FILE))
    event = only(flush(target.shop, "compat_flush"), "via_proxy")
    assert (event["country"], event["city"]) == ("FR", "Paris")  # 203.0.113.9 in the test DB
    assert event["origin"] == SHOP_ORIGIN


def test_queued_node_event_keeps_the_time_it_was_queued(live_server: LiveServer) -> None:
    Target.on(live_server).replay_all(load("node-sdk.jsonl"))
    event = only(flush(live_server, "compat_flush"), "queued_event")
    assert event["createdAt"] == "2026-11-26T04:48:17.076Z"
    assert event["profileId"] == "user-q"
    assert "__timestamp" not in event["properties"]


def test_legacy_sdk_device_id_lookup_returns_json(live_server: LiveServer) -> None:
    """@openpanel/sdk 1.0.x `fetchDeviceId()` configured with its secret."""
    (lookup,) = [c for c in load("legacy-node-sdk-1.0.4.jsonl") if c.method == "GET"]
    headers = {k: v for k, v in lookup.headers.items() if k not in DROPPED_HEADERS}
    headers.update(live_server.write.headers())
    response = httpx.get(live_server.url + lookup.path, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert isinstance(body["deviceId"], str) and len(body["deviceId"]) == 32
    assert "sessionId" in body
    assert names(flush(live_server, "compat_flush")) == ["compat_flush"]
