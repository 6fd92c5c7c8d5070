"""Conversion over time over hand-built events (real chDB); expected values by hand.

Steps A = /pricing view, B = signup (24 h window). Visits (UTC):
  c1: A 03-02 12:00  B 12:05           → bucket 03-02, converted
  c2: A 03-02 13:00                    → bucket 03-02
  c3: A 03-02 23:50  B 03-03 00:10     → bucket 03-02 (where A fell), converted
  c4: A 03-03 09:00  B 09:30           → bucket 03-03, converted
  c5: B 03-03 10:00                    → not in the funnel
"""

from __future__ import annotations

from typing import Any

import pytest

from embedded_db.reports.conversion import ConversionQuery, conversion
from embedded_db.reports.funnels import FunnelQuery, parse_steps
from embedded_db.store import EventStore
from embedded_db.timeframe import Window
from tests.embedded_db.reports.analysis_fixtures import Events, at, day_window

PRICING = {
    "name": "screen_view",
    "filters": [{"name": "path", "operator": "is", "value": ["/pricing"]}],
}
AB = parse_steps([PRICING, "signup"])
LA = "America/Los_Angeles"


@pytest.fixture(scope="module")
def shop(store: EventStore) -> str:
    ev = Events(store)
    ev.add("screen_view", at(0), "c1", "u1", path="/pricing", browser="Chrome")
    ev.add("signup", at(5), "c1", "u1", browser="Chrome")
    ev.add("screen_view", at(60), "c2", "u2", path="/pricing", browser="Chrome")
    ev.add("screen_view", at(hours=11, minutes=50), "c3", "u3", path="/pricing", browser="Safari")
    ev.add("signup", at(hours=12, minutes=10), "c3", "u3", browser="Safari")
    ev.add("screen_view", at(hours=21), "c4", "u4", path="/pricing", browser="Safari")
    ev.add("signup", at(hours=21, minutes=30), "c4", "u4", browser="Safari")
    ev.add("signup", at(hours=22), "c5", "u5")
    return ev.save().project


def run(store: EventStore, project: str, window: Window, interval: str, **opts: Any) -> Any:
    query = FunnelQuery(project_id=project, window=window, steps=AB, **opts)
    return conversion(store, ConversionQuery(query, interval))


def points(series: dict[str, Any]) -> list[tuple[str, int, int, float]]:
    return [(p["date"], p["total"], p["conversions"], p["rate"]) for p in series["data"]]


def test_daily_conversion_by_the_day_of_the_first_step(store: EventStore, shop: str) -> None:
    result = run(store, shop, day_window("2026-03-01", "2026-03-03"), "day")
    [series] = result["series"]
    assert points(series) == [
        ("2026-03-01T00:00:00+00:00", 0, 0, 0.0),
        ("2026-03-02T00:00:00+00:00", 3, 2, 66.67),
        ("2026-03-03T00:00:00+00:00", 1, 1, 100.0),
    ]
    assert result["totals"] == {"total": 4, "conversions": 3, "rate": 75.0}
    assert series["id"] == "conversion" and series["breakdowns"] == []


def test_hourly_buckets_are_zero_filled(store: EventStore, shop: str) -> None:
    [series] = run(store, shop, day_window("2026-03-02", "2026-03-02"), "hour")["series"]
    assert len(series["data"]) == 24
    busy = [(d, t, c) for d, t, c, _ in points(series) if t]
    assert busy == [
        ("2026-03-02T12:00:00+00:00", 1, 1),
        ("2026-03-02T13:00:00+00:00", 1, 0),
        ("2026-03-02T23:00:00+00:00", 1, 0),  # B came after midnight: outside the range
    ]


def test_one_series_per_breakdown_value(store: EventStore, shop: str) -> None:
    result = run(store, shop, day_window("2026-03-02", "2026-03-03"), "day", breakdown="browser")
    chrome, safari = result["series"]
    assert (chrome["id"], chrome["breakdowns"]) == ("Chrome", ["Chrome"])
    assert [p[1:] for p in points(chrome)] == [(2, 1, 50.0), (0, 0, 0.0)]
    assert [p[1:] for p in points(safari)] == [(1, 1, 100.0), (1, 1, 100.0)]
    assert result["totals"] == {"total": 4, "conversions": 3, "rate": 75.0}


def test_buckets_are_local_days_of_the_project(store: EventStore) -> None:
    # 03-03 05:00 UTC is 03-02 21:00 in Los Angeles (PST, UTC-8); 09:00 UTC is 01:00 local.
    ev = Events(store)
    ev.add("screen_view", at(hours=17), "l1", "u1", path="/pricing")
    ev.add("signup", at(hours=17, minutes=10), "l1", "u1")
    ev.add("screen_view", at(hours=21), "l2", "u2", path="/pricing").save()
    result = run(store, ev.project, day_window("2026-03-02", "2026-03-03", LA), "day")
    assert points(result["series"][0]) == [
        ("2026-03-02T00:00:00-08:00", 1, 1, 100.0),
        ("2026-03-03T00:00:00-08:00", 1, 0, 0.0),
    ]
