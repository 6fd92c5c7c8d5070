"""Overview metrics (openpanel-compat.md §4.1): visitors, sessions, pageviews, views per session,
bounce rate, session duration and revenue — totals, a zero-filled series in the project's
timezone, and the change against the previous period.

Visit metrics come from `sessions` (one row per visit, `FINAL`); revenue from `events`. Filters
apply to events and select the visits that contain a matching event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import select
from embedded_db.store import EventStore
from embedded_db.timeframe import BUCKET_SQL, Window, bucket_starts, change

METRICS = (
    "unique_visitors",
    "total_sessions",
    "total_screen_views",
    "views_per_session",
    "bounce_rate",
    "avg_session_duration",
    "total_revenue",
)
_VISIT_COLUMNS = (
    "uniq(profile_id) AS unique_visitors, count() AS total_sessions, "
    "sum(screen_view_count) AS total_screen_views, "
    "if(count() = 0, 0, round(countIf(is_bounce) * 100 / count(), 2)) AS bounce_rate, "
    "round(ifNotFinite(avgIf(duration, duration > 0) / 1000, 0), 2) AS avg_session_duration"
)
_DATE_ONLY = {"day", "week", "month"}


@dataclass
class OverviewQuery:
    project_id: str
    window: Window
    interval: str
    filters: list[Filter] = field(default_factory=list)
    previous: bool = True


def overview(store: EventStore, q: OverviewQuery) -> dict[str, Any]:
    """Totals (with previous-period change) and the per-bucket series."""
    current = _totals(store, q, q.window)
    metrics: dict[str, Any] = {name: {"value": current[name]} for name in METRICS}
    if q.previous:
        before = _totals(store, q, q.window.previous())
        for name in METRICS:
            metrics[name]["previous"] = change(float(current[name]), float(before[name]))
    return {"metrics": metrics, "series": _series(store, q)}


def _where(q: OverviewQuery, window: Window) -> tuple[list[str], dict[str, Any]]:
    params: dict[str, Any] = {"project": q.project_id, **window.params()}
    where = [
        "project_id = {project:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
    ]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where.append("id IN (" + select("session_id", "events", where + compiled.conditions) + ")")
    return where, params


def _totals(store: EventStore, q: OverviewQuery, window: Window) -> dict[str, Any]:
    where, params = _where(q, window)
    [row] = store.query(select(_VISIT_COLUMNS, "sessions", where, final=True), params)
    revenue_where = where[:3] + ["name = 'revenue'"] + where[3:]
    revenue = store.scalar(select("sum(revenue) AS total", "events", revenue_where), params)
    return _finish(row, revenue)


def _finish(row: dict[str, Any], revenue: Any) -> dict[str, Any]:
    sessions = int(row["total_sessions"])
    views = int(row["total_screen_views"])
    return {
        "unique_visitors": int(row["unique_visitors"]),
        "total_sessions": sessions,
        "total_screen_views": views,
        "views_per_session": round(views / sessions, 2) if sessions else 0,
        "bounce_rate": float(row["bounce_rate"]),
        "avg_session_duration": float(row["avg_session_duration"]),
        "total_revenue": int(revenue or 0),
    }


def _series(store: EventStore, q: OverviewQuery) -> list[dict[str, Any]]:
    where, params = _where(q, q.window)
    bucket = f"toString({BUCKET_SQL[q.interval]}(created_at, {{tz:String}}))"
    rows = store.query(
        select(
            f"{bucket} AS bucket, {_VISIT_COLUMNS}",
            "sessions",
            where,
            "GROUP BY bucket",
            final=True,
        ),
        params,
    )
    revenue_rows = store.query(
        select(
            f"{bucket} AS bucket, sum(revenue) AS total",
            "events",
            where[:3] + ["name = 'revenue'"] + where[3:],
            "GROUP BY bucket",
        ),
        params,
    )
    by_bucket = {r["bucket"]: r for r in rows}
    revenue = {r["bucket"]: r["total"] for r in revenue_rows}
    empty = {
        "unique_visitors": 0,
        "total_sessions": 0,
        "total_screen_views": 0,
        "bounce_rate": 0,
        "avg_session_duration": 0,
    }
    series = []
    for start in bucket_starts(q.window, q.interval):
        key = _key(start, q.interval)
        point = _finish(by_bucket.get(key, empty), revenue.get(key))
        series.append({"date": start.isoformat(), **point})
    return series


def _key(start: datetime, interval: str) -> str:
    """The text ClickHouse gives for a bucket start (a Date or a DateTime in the project tz)."""
    return start.strftime("%Y-%m-%d" if interval in _DATE_ONLY else "%Y-%m-%d %H:%M:%S")


def live_visitors(store: EventStore, project_id: str, now: datetime) -> int:
    """Distinct visitors with an event in the last 5 minutes (§4.8 `live`)."""
    params = {"project": project_id, "since": now.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]}
    where = [
        "project_id = {project:String}",
        "created_at >= {since:DateTime64(3, 'UTC')} - INTERVAL 5 MINUTE",
        "name NOT IN ('session_start', 'session_end')",
    ]
    return int(store.scalar(select("uniq(profile_id) AS n", "events", where), params) or 0)
