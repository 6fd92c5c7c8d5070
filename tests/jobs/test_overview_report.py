"""The overview report over visits the real pipeline stored (real chDB)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from embedded_db.filters import parse_filters
from embedded_db.reports.overview import OverviewQuery, live_visitors, overview
from embedded_db.timeframe import resolve_range
from jobs.timefmt import now_ms
from tests.jobs.test_pipeline import track, view
from tests.support.stores import TIMEOUT_MS, Harness


def visit(h: Harness, ip: str, *paths: str, ua: str | None = None) -> None:
    extra = {"ua": ua} if ua else {}
    for path in paths:
        track(h, "screen_view", {"__path": f"https://shop.example{path}"}, ip=ip, **extra)


def test_overview_counts_visits_and_compares_with_the_previous_period(harness: Harness) -> None:
    sent = datetime.now(UTC)
    visit(harness, "81.2.69.142", "/", "/pricing", "/signup")  # 3 views, not a bounce
    visit(harness, "8.8.8.8", "/")  # a bounce
    visit(harness, "81.2.69.143", "/pricing")  # a bounce
    track(harness, "revenue", {"__revenue": 1999}, ip="81.2.69.142")
    harness.flush()
    harness.command("reap", now_ms() + TIMEOUT_MS + 60_000)  # end the visits: durations known
    harness.flush()
    window = resolve_range("today", "UTC", sent)
    result = overview(harness.store, OverviewQuery(harness.project_id, window, "hour"))
    m = {k: v["value"] for k, v in result["metrics"].items()}
    assert m["unique_visitors"] == 3 and m["total_sessions"] == 3
    assert m["total_screen_views"] == 5 and m["views_per_session"] == round(5 / 3, 2)
    assert m["bounce_rate"] == round(2 * 100 / 3, 2)
    assert m["total_revenue"] == 1999
    assert result["metrics"]["total_sessions"]["previous"] == {
        "diff": None,
        "state": "positive",
        "value": 0,
    }
    assert len(result["series"]) == 24
    hour = sent.replace(minute=0, second=0, microsecond=0).isoformat()
    [point] = [p for p in result["series"] if p["date"] == hour]
    assert point["total_sessions"] == 3 and point["total_revenue"] == 1999
    assert sum(p["total_sessions"] for p in result["series"]) == 3


def test_filters_select_the_visits_with_a_matching_event(harness: Harness) -> None:
    visit(harness, "81.2.69.142", "/", "/pricing")
    visit(harness, "8.8.8.8", "/blog")
    harness.flush()
    window = resolve_range("today", "Europe/Paris", datetime.now(UTC))
    flt = parse_filters([{"name": "path", "operator": "is", "value": ["/pricing"]}])
    result = overview(
        harness.store, OverviewQuery(harness.project_id, window, "day", flt, previous=False)
    )
    assert result["metrics"]["total_sessions"]["value"] == 1
    assert result["metrics"]["unique_visitors"]["value"] == 1
    assert "previous" not in result["metrics"]["bounce_rate"]
    country = parse_filters([{"name": "country", "operator": "is", "value": ["US"]}])
    us = overview(harness.store, OverviewQuery(harness.project_id, window, "day", country))
    assert us["metrics"]["total_sessions"]["value"] == 1
    paris_today = window.start.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    assert us["series"][0]["date"].startswith(paris_today)


def test_live_visitors_count_the_last_five_minutes(harness: Harness) -> None:
    view(harness, "https://shop.example/")
    track(harness, "clicked", ip="8.8.8.8")
    harness.flush()
    assert live_visitors(harness.store, harness.project_id, datetime.now(UTC)) == 2
    assert live_visitors(harness.store, "nobody", datetime.now(UTC)) == 0
