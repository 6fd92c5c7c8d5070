"""The scenario sent over HTTP to a running appliance is stored as sent."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sample_data.plans import Scenario
from sample_data.sender import send
from sample_data.site import ORIGIN
from tests.support.server import LiveServer, make_server

SCENARIO = Scenario(seed=5, days=1, visits_per_day=40)


@pytest.fixture
def shop_server(tmp_path: Path, places_geoip_db: Path) -> Iterator[LiveServer]:
    """A running appliance whose project accepts the scenario site's origin."""
    server = make_server(tmp_path, {"OPENPANEL_GEOIP_DB": str(places_geoip_db)})
    server.create_project("Shop", cors=(ORIGIN,))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def total(server: LiveServer, name: str) -> int:
    return int(server.export(event=[name], limit=1)["meta"]["totalCount"])


def test_sent_events_are_stored_with_their_context(shop_server: LiveServer) -> None:
    stats = asyncio.run(
        send(
            shop_server.url, shop_server.write.id, SCENARIO, client_secret=shop_server.write.secret
        )
    )
    assert stats.errors == 0 and set(stats.statuses) == {200}
    assert stats.ok == stats.sent > 60
    # Replayed at full speed, a visitor's repeated page (/ → /pricing → /) can fall inside the
    # server's 100 ms duplicate window; those answers say so and are not counted as stored.
    assert stats.duplicates <= stats.sent // 20
    assert stats.per_name["screen_view"] > 40
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if all(total(shop_server, n) == c for n, c in stats.per_name.items()):
            break
        time.sleep(0.2)
    assert {n: total(shop_server, n) for n in stats.per_name} == dict(stats.per_name)
    views = shop_server.events(event=["screen_view"])
    assert {e["origin"] for e in views} == {ORIGIN}
    assert all(e["country"] and e["browser"] and e["os"] for e in views)
    assert any(e["referrerName"] == "Google" for e in views)


def test_a_budget_stops_sending(shop_server: LiveServer) -> None:
    stats = asyncio.run(send(shop_server.url, shop_server.write.id, SCENARIO, max_requests=25))
    assert stats.sent == 25
