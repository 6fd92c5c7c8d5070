"""Top lists (openpanel-compat.md §4.2): pages, entry and exit pages, and one list per visit
dimension (referrers, UTM, geo, device, browser, OS), paginated and searchable.

Pages come from `screen_view` events; entry/exit pages and dimensions from visits (`sessions
FINAL`). Dimension names are looked up in a registry; search and paging values are bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import select
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

# Visit columns a list can group by; `prefix` columns are shown with their parent (§4.2).
DIMENSIONS = {
    "referrer": None,
    "referrer_name": None,
    "referrer_type": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_campaign": None,
    "utm_term": None,
    "utm_content": None,
    "country": None,
    "region": "country",
    "city": "country",
    "device": None,
    "brand": None,
    "model": "brand",
    "browser": None,
    "browser_version": "browser",
    "os": None,
    "os_version": "os",
}
MAX_LIMIT = 1000


@dataclass
class ListQuery:
    project_id: str
    window: Window
    filters: list[Filter] = field(default_factory=list)
    search: str = ""
    limit: int = 10
    offset: int = 0


def _check(q: ListQuery) -> None:
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    if q.offset < 0:
        raise ValidationError("cursor", "must not be negative")
    if len(q.search) > 200:
        raise ValidationError("search", "at most 200 characters")


def _base(q: ListQuery) -> tuple[list[str], dict[str, Any]]:
    params: dict[str, Any] = {
        "project": q.project_id,
        "limit": q.limit,
        "offset": q.offset,
        **q.window.params(),
    }
    where = [
        "project_id = {project:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
    ]
    return where, params


def _visits_matching(q: ListQuery, where: list[str], params: dict[str, Any]) -> list[str]:
    """Visit conditions: the window, plus 'has an event matching the filters'."""
    if not q.filters:
        return where
    compiled = compile_filters(q.filters)
    params.update(compiled.params)
    return [*where, "id IN (" + select("session_id", "events", where + compiled.conditions) + ")"]


def _page(sql_rows: list[dict[str, Any]], q: ListQuery) -> dict[str, Any]:
    return {
        "data": sql_rows,
        "limit": q.limit,
        "offset": q.offset,
        "next": q.offset + q.limit if len(sql_rows) == q.limit else None,
    }


def top_pages(store: EventStore, q: ListQuery) -> dict[str, Any]:
    """Pages by visits: origin, path, sessions, pageviews, revenue of the visits."""
    _check(q)
    where, params = _base(q)
    where.append("name = 'screen_view'")
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where += compiled.conditions
    if q.search:
        params["search"] = f"%{_escape(q.search)}%"
        where.append("path ILIKE {search:String}")
    rows = store.query(
        select(
            "origin, path, uniq(session_id) AS sessions, count() AS pageviews",
            "events",
            where,
            "GROUP BY origin, path ORDER BY sessions DESC, pageviews DESC, path "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )
    return _page(rows, q)


def entry_exit_pages(store: EventStore, q: ListQuery, mode: str) -> dict[str, Any]:
    """Where visits start (`entry`) or end (`exit`): sessions and their pageviews."""
    _check(q)
    if mode not in ("entry", "exit"):
        raise ValidationError("mode", "must be entry or exit")
    origin, path = (f"{mode}_origin", f"{mode}_path")
    where, params = _base(q)
    where = _visits_matching(q, where, params)
    if q.search:
        params["search"] = f"%{_escape(q.search)}%"
        where.append(f"{path} ILIKE {{search:String}}")
    rows = store.query(
        select(
            f"{origin} AS origin, {path} AS path, count() AS sessions, "
            "sum(screen_view_count) AS pageviews",
            "sessions",
            where,
            "GROUP BY origin, path ORDER BY sessions DESC, path "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
            final=True,
        ),
        params,
    )
    return _page(rows, q)


def dimension_list(store: EventStore, q: ListQuery, dimension: str) -> dict[str, Any]:
    """Visits grouped by one dimension: name (and its parent, e.g. a city's country),
    sessions, pageviews, bounce rate and average visit duration (seconds)."""
    _check(q)
    if dimension not in DIMENSIONS:
        raise ValidationError("dimension", f"must be one of {', '.join(DIMENSIONS)}")
    parent = DIMENSIONS[dimension]
    where, params = _base(q)
    where = _visits_matching(q, where, params)
    if q.search:
        params["search"] = f"%{_escape(q.search)}%"
        where.append(f"toString({dimension}) ILIKE {{search:String}}")
    prefix = f"toString({parent})" if parent else "''"
    rows = store.query(
        select(
            f"toString({dimension}) AS name, {prefix} AS prefix, count() AS sessions, "
            "sum(screen_view_count) AS pageviews, "
            "round(countIf(is_bounce) * 100 / count(), 2) AS bounce_rate, "
            "round(ifNotFinite(avgIf(duration, duration > 0) / 1000, 0), 2) "
            "AS avg_session_duration",
            "sessions",
            where,
            "GROUP BY name, prefix ORDER BY sessions DESC, name "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
            final=True,
        ),
        params,
    )
    return _page(rows, q)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
