"""The Realtime page over real HTTP: the live visitor count, recent activity and the map of the
last 30 minutes on events sent now, and the SDK debugger's Server-Sent Events (an event sent
after the stream opened arrives with its place and raw row; a refused request arrives with its
status, reason and raw body; a probe without `Accept: text/event-stream` gets one message)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site, start_server
from tests.dashboard.tracking import (
    CHROME,
    LONDON,
    SAFARI,
    US,
    Tracker,
    browser_client_id,
    table_rows,
    tracker,
    wait_for_events,
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Site]:
    """A fresh appliance whose project received nothing yet."""
    server = start_server(
        tmp_path_factory.mktemp("realtime"), {"OPENPANEL_GEOIP_DB": str(geoip_db)}
    )
    owner = BrowserSession(server.url)
    try:
        created = owner.setup()
        yield Site(server, owner, created.headers["location"].split("/")[2])
    finally:
        owner.close()
        server.stop()


@pytest.fixture(scope="module")
def sender(site: Site) -> Tracker:
    return tracker(site)


def part(site: Site, name: str) -> str:
    response = site.owner.get(site.page(f"realtime/{name}"))
    assert response.status_code == 200 and "<html" not in response.text
    return response.text


class Stream:
    """The debugger's stream as the browser's EventSource reads it."""

    def __init__(self, site: Site) -> None:
        self.response = site.owner.http.send(
            site.owner.http.build_request(
                "GET", site.page("realtime/stream"), headers={"accept": "text/event-stream"}
            ),
            stream=True,
        )
        self.lines = self.response.iter_lines()

    def next(self) -> dict[str, object]:
        """The next data message (pings skipped)."""
        for line in self.lines:
            if line.startswith("data: "):
                message: dict[str, object] = json.loads(line[len("data: ") :])
                if message["type"] != "ping":
                    return message
        raise AssertionError("the stream ended")

    def close(self) -> None:
        self.response.close()


@pytest.fixture
def stream(site: Site) -> Iterator[Stream]:
    opened = Stream(site)
    try:
        yield opened
    finally:
        opened.close()


def test_the_page_before_any_event(site: Site) -> None:
    page = site.owner.get(site.page("realtime"))
    assert page.status_code == 200
    assert f'data-stream="/dashboard/{site.project_id}/realtime/stream"' in page.text
    assert 'hx-trigger="load, every 10s, oplive from:body delay:700ms"' in page.text
    assert "<strong data-live-visitors>0</strong>" in part(site, "live")
    assert "No events in the last 30 minutes" in part(site, "activity")
    assert "No located visitors" in part(site, "map")


def test_an_event_sent_after_the_stream_opened_arrives(
    site: Site, sender: Tracker, stream: Stream
) -> None:
    assert stream.next() == {"type": "hello", "projectId": site.project_id}
    sender.send("screen_view", LONDON, CHROME, "/checkout", plan="pro")
    start, view = stream.next(), stream.next()
    assert (start["type"], start["name"]) == ("event", "session_start")
    assert (view["type"], view["name"], view["path"]) == ("event", "screen_view", "/checkout")
    assert view["place"] == "London, United Kingdom"
    assert view["client"] == "Chrome · Windows · desktop"
    raw = view["raw"]
    assert isinstance(raw, dict) and raw["properties"]["plan"] == "pro"
    assert str(view["clock"]).count(":") == 2


def test_a_refused_request_arrives_with_its_reason(
    site: Site, sender: Tracker, stream: Stream
) -> None:
    assert stream.next()["type"] == "hello"
    refused = sender.post(sender.body("${jndi:ldap://x}", "/x", 0, {}), US, SAFARI)
    assert refused.status_code == 400
    message = stream.next()
    assert (message["type"], message["status"], message["name"]) == (
        "rejected",
        400,
        "${jndi:ldap://x}",
    )
    assert message["reason"] == "payload.name: event name contains the blocked sequence '${'"
    assert json.loads(str(message["raw"]))["payload"]["name"] == "${jndi:ldap://x}"
    reserved = sender.post(sender.body("session_start", "/x", 0, {}), US, SAFARI)
    assert reserved.status_code == 400
    assert "reserved event name" in str(stream.next()["reason"])
    wrong_origin = Tracker(sender.url, sender.client_id, "https://evil.example")
    denied = wrong_origin.post(wrong_origin.body("screen_view", "/", 0, {}), US, SAFARI)
    assert denied.status_code == 401
    message = stream.next()
    assert (message["type"], message["status"]) == ("rejected", 401)
    assert message["reason"] == denied.text


def test_a_probe_gets_the_opening_message_only(site: Site) -> None:
    probe = site.owner.get(site.page("realtime/stream"))
    assert probe.status_code == 200
    assert probe.headers["content-type"].startswith("text/event-stream")
    assert probe.text.strip() == f'data: {{"type":"hello","projectId":"{site.project_id}"}}'


def test_live_count_activity_and_map_of_recent_visitors(site: Site) -> None:
    made = site.owner.post(
        site.page("projects/new"),
        {"project": "Live", "domain": "live.example.com", "timezone": "UTC"},
    )
    live = Site(site.server, site.owner, made.headers["location"].split("/")[2])
    sender = Tracker(
        site.server.url, browser_client_id(site.owner, live.project_id), "https://live.example.com"
    )
    sender.send("screen_view", LONDON, CHROME, "/")
    sender.send("screen_view", US, SAFARI, "/pricing")
    sender.send("signup", US, SAFARI, "/pricing")
    wait_for_events(live, 5)  # each visit's session_start and the 3 events
    assert "<strong data-live-visitors>2</strong>" in part(live, "live")
    activity = part(live, "activity")
    names = [n for n in ("signup", "screen_view") if f'activity-name">{n}<' in activity]
    assert names == ["signup", "screen_view"] and "session_start" not in activity
    assert activity.index("signup") < activity.index("/pricing") < activity.rindex("screen_view")
    assert "Mountain View, United States · Mobile Safari · iOS · mobile" in activity
    map_part = part(live, "map")
    assert "United Kingdom 1" in map_part and "United States 1" in map_part
    assert "scattergeo" in map_part and table_rows(map_part) == []
