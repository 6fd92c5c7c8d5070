"""Overview metrics (openpanel-compat.md §4.1): visitors, sessions, pageviews, views per session,
bounce rate, session duration and revenue — totals, a zero-filled series in the project's
timezone, and the change against the previous period.

Visit metrics come from `sessions` (one row per visit, `FINAL`); revenue from `events`. Filters
apply to events and select the visits that contain a matching event. Without filters, hours the
rollup worker has rolled are read from `rollup_visits` (embedded_db/rollups.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from embedded_db.filters import NOT_SYNTHETIC, Filter, compile_filters
from embedded_db.rollups import Plan, plan, raw_plan, rolled_sums, visit_sums
from embedded_db.sql import select, select_union
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
# Per-part aggregates (states and sums) that the outer query combines: rolled hours come from
# `rollup_visits`, the rest of the window from the raw tables (embedded_db/rollups.py).
_RAW_VISITS = f"uniqState(profile_id) AS visitors, {visit_sums()}, 0 AS revenue"
_RAW_REVENUE = (
    "uniqStateIf('', 0) AS visitors, 0 AS sessions, 0 AS screen_views, 0 AS bounces, "
    "0 AS duration_sum, 0 AS duration_count, sum(revenue) AS revenue"
)
_ROLLED = f"visitors, {rolled_sums()}, revenue"
_COMBINED = (
    "uniqMerge(visitors) AS unique_visitors, sum(sessions) AS total_sessions, "
    "sum(screen_views) AS total_screen_views, "
    "if(sum(sessions) = 0, 0, round(sum(bounces) * 100 / sum(sessions), 2)) AS bounce_rate, "
    "round(ifNotFinite(sum(duration_sum) / sum(duration_count) / 1000, 0), 2) "
    "AS avg_session_duration, sum(revenue) AS total_revenue"
)
_DATE_ONLY = {"day", "week", "month"}


@dataclass
class OverviewQuery:
    project_id: str
    window: Window
    interval: str
    filters: list[Filter] = field(default_factory=list)
    previous: bool = True
    rollups: bool = True  # False reads everything raw (the rollup equality test compares)


def overview(store: EventStore, q: OverviewQuery) -> dict[str, Any]:
    """Totals (with previous-period change) and the per-bucket series."""
    current = _totals(store, q, q.window)
    metrics: dict[str, Any] = {name: {"value": current[name]} for name in METRICS}
    if q.previous:
        before = _totals(store, q, q.window.previous())
        for name in METRICS:
            metrics[name]["previous"] = change(float(current[name]), float(before[name]))
    return {"metrics": metrics, "series": _series(store, q)}


def _plan(store: EventStore, q: OverviewQuery, window: Window, interval: str | None) -> Plan:
    if q.filters or not q.rollups:
        return raw_plan(window)
    return plan(store, q.project_id, window, interval)


def _bucket(interval: str | None, column: str) -> str:
    """The bucket column (text of the bucket start in the project tz), or nothing for totals."""
    if interval is None:
        return ""
    return f"toString({BUCKET_SQL[interval]}({column}, {{tz:String}})) AS bucket,"


def _parts(
    q: OverviewQuery, window: Window, p: Plan, interval: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The SELECTs to UNION: raw visits, raw revenue and rolled hours (each with a bucket
    column when `interval` is given)."""
    params: dict[str, Any] = {"project": q.project_id, **window.params(), **p.params()}
    where = ["project_id = {project:String}", p.raw_condition]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where.append("id IN (" + select("session_id", "events", where + compiled.conditions) + ")")
    group = "GROUP BY bucket" if interval else ""
    parts: list[str] = []
    if p.raw:
        parts += [
            select(
                f"{_bucket(interval, 'created_at')} {_RAW_VISITS}",
                "sessions",
                where,
                group,
                final=True,
            ),
            select(
                f"{_bucket(interval, 'created_at')} {_RAW_REVENUE}",
                "events",
                [*where[:2], "name = 'revenue'", *where[2:]],
                group,
            ),
        ]
    if p.has_rolled:
        parts.append(
            select(
                f"{_bucket(interval, 'hour')} {_ROLLED}",
                "rollup_visits",
                ["project_id = {project:String}", "dimension = ''", p.rolled_condition],
            )
        )
    return parts, params


def _totals(store: EventStore, q: OverviewQuery, window: Window) -> dict[str, Any]:
    parts, params = _parts(q, window, _plan(store, q, window, None), None)
    [row] = store.query(select_union(_COMBINED, parts), params)
    return _finish(row)


def _finish(row: dict[str, Any]) -> dict[str, Any]:
    sessions = int(row["total_sessions"])
    views = int(row["total_screen_views"])
    return {
        "unique_visitors": int(row["unique_visitors"]),
        "total_sessions": sessions,
        "total_screen_views": views,
        "views_per_session": round(views / sessions, 2) if sessions else 0,
        "bounce_rate": float(row["bounce_rate"]),
        "avg_session_duration": float(row["avg_session_duration"]),
        "total_revenue": int(row["total_revenue"] or 0),
    }


def _series(store: EventStore, q: OverviewQuery) -> list[dict[str, Any]]:
    p = _plan(store, q, q.window, q.interval)
    parts, params = _parts(q, q.window, p, q.interval)
    rows = store.query(select_union(f"bucket, {_COMBINED}", parts, "GROUP BY bucket"), params)
    by_bucket = {r["bucket"]: r for r in rows}
    empty = {
        "unique_visitors": 0,
        "total_sessions": 0,
        "total_screen_views": 0,
        "bounce_rate": 0,
        "avg_session_duration": 0,
        "total_revenue": 0,
    }
    series = []
    for start in bucket_starts(q.window, q.interval):
        point = _finish(by_bucket.get(_key(start, q.interval), empty))
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
        NOT_SYNTHETIC,
    ]
    return int(store.scalar(select("uniq(profile_id) AS n", "events", where), params) or 0)
