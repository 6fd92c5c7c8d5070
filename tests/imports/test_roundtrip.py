"""Round trip: live traffic through the real pipeline → export as CSV, NDJSON and Parquet →
import each into a fresh project → every overview metric (totals and series) is equal."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from embedded_db.export_files import export_to_file
from embedded_db.exports import EventQuery
from embedded_db.reports.overview import OverviewQuery, overview
from embedded_db.store import EventStore
from embedded_db.timeframe import Window
from jobs.timefmt import now_ms
from tests.imports.conftest import Imports
from tests.support.stores import Harness, make_harness

SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.fixture
def harness(store: EventStore, tmp_path: Path, geoip_db: Path) -> Iterator[Harness]:
    yield from make_harness(store, tmp_path / "live", geoip_db)


def _send(
    h: Harness, at_ms: int, name: str, props: dict[str, Any], profile: str = "", **ctx: Any
) -> None:
    stamp = datetime.fromtimestamp(at_ms / 1000, UTC).isoformat().replace("+00:00", "Z")
    payload = {"name": name, "properties": {**props, "__timestamp": stamp}}
    asyncio.run(h.acceptor.track(h.ctx(**ctx), payload, profile))


def _live_traffic(h: Harness) -> Window:
    """Send a small day of traffic; answer the window (fixed once) that holds it."""
    base = now_ms() - 12 * 60_000
    minute = 60_000
    site = "https://shop.example"
    _send(
        h,
        base,
        "screen_view",
        {"__path": f"{site}/?utm_source=news", "__referrer": "https://www.google.com/"},
    )
    _send(h, base + minute, "screen_view", {"__path": f"{site}/pricing"})
    _send(h, base + 2 * minute, "revenue", {"__revenue": 4900}, profile="buyer-1")
    _send(h, base + 3 * minute, "screen_view", {"__path": f"{site}/thanks"}, profile="buyer-1")
    _send(h, base + minute, "screen_view", {"__path": f"{site}/blog"}, ip="8.8.8.8", ua=SAFARI)
    _send(h, base + 4 * minute, "screen_view", {"__path": f"{site}/"}, ip="203.0.113.9", ua=FIREFOX)
    _send(h, base + 5 * minute, "click", {"__path": f"{site}/"}, ip="203.0.113.9", ua=FIREFOX)
    h.flush()
    h.command("reap", now_ms() + 3_600_000)  # every visit ends: session_end events
    h.flush()
    hour = datetime.fromtimestamp(base / 1000, UTC).replace(minute=0, second=0, microsecond=0)
    return Window(start=hour - timedelta(hours=2), end=hour + timedelta(hours=2), tz="UTC")


def _metrics(store: EventStore, project: str, window: Window) -> dict[str, Any]:
    # The same fixed window for both projects: a window taken from the clock at each call
    # would slide by an hour when the test crosses the top of an hour.
    report = overview(store, OverviewQuery(project, window, "hour", previous=False))
    return {
        "totals": {k: v["value"] for k, v in report["metrics"].items()},
        "series": report["series"],
    }


@pytest.mark.parametrize("fmt", ["csv", "ndjson", "parquet"])
def test_exported_files_reimport_to_the_same_numbers(
    harness: Harness, imports: Imports, fmt: str
) -> None:
    window = _live_traffic(harness)
    live = _metrics(harness.store, harness.project_id, window)
    assert live["totals"]["total_sessions"] == 3 and live["totals"]["total_revenue"] == 4900
    assert live["totals"]["total_screen_views"] == 5

    path = imports.tmp / f"export.{fmt}"
    count = export_to_file(harness.store, EventQuery(project_id=harness.project_id), fmt, path)
    assert count == len(harness.events())
    result = imports.importer.run(path, imports.project_id)
    assert result.format == "openpanel" and result.sessions == 3

    assert _metrics(imports.store, imports.project_id, window) == live
    assert len(imports.events()) == count
