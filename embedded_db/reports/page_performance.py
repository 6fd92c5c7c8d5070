"""Page performance (openpanel-compat.md §4.2): every page of a window with its views, visits,
visitors, bounce rate and average time on page — the Pages section of the dashboard.

Read from `screen_view` events (one per page view). Time on page is not stored (§2.6): it is the
gap to the next page view of the same visit, computed with a window function over the visit's
page views; a visit's last page view has no next one and is left out of the average. A visit
bounced when `sessions.is_bounce` (it saw one page); a page's bounce rate is the share of the
visits that viewed it which bounced. Filters select page views *after* the gaps are computed,
so filtering on one page keeps its time on page. Sort columns come from a registry; search and
paging values are bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters, like_pattern
from embedded_db.reports.toplists import MAX_LIMIT
from embedded_db.sql import select, select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

SORTS = ("views", "sessions", "visitors", "bounce_rate", "avg_time", "path")
_ORDER = {
    ("views", "desc"): "views DESC",
    ("views", "asc"): "views ASC",
    ("sessions", "desc"): "sessions DESC",
    ("sessions", "asc"): "sessions ASC",
    ("visitors", "desc"): "visitors DESC",
    ("visitors", "asc"): "visitors ASC",
    ("bounce_rate", "desc"): "bounce_rate DESC",
    ("bounce_rate", "asc"): "bounce_rate ASC",
    ("avg_time", "desc"): "avg_time DESC",
    ("avg_time", "asc"): "avg_time ASC",
    ("path", "desc"): "path DESC",
    ("path", "asc"): "path ASC",
}
# Bounced visits: looked up a day before the window too, for visits that began just before it.
_BOUNCED = (
    "session_id IN ("
    + select(
        "id",
        "sessions",
        [
            "project_id = {project:String}",
            "is_bounce",
            "created_at >= {start:DateTime64(3, 'UTC')} - INTERVAL 1 DAY",
            "created_at < {end:DateTime64(3, 'UTC')}",
        ],
        final=True,
    )
    + ") AS bounced"
)
_GAP = (
    "toUnixTimestamp64Milli(leadInFrame(created_at) OVER (PARTITION BY session_id "
    "ORDER BY created_at, id ROWS BETWEEN CURRENT ROW AND 1 FOLLOWING)) "
    "- toUnixTimestamp64Milli(created_at) AS gap"
)
_COLUMNS = (
    "origin, path, count() AS views, uniq(session_id) AS sessions, "
    "uniq(profile_id) AS visitors, "
    "round(uniqIf(session_id, bounced) * 100 / uniq(session_id), 2) AS bounce_rate, "
    "countIf(gap > 0) AS timed_views, "
    "round(ifNotFinite(avgIf(gap, gap > 0) / 1000, 0), 2) AS avg_time, "
    "count() OVER () AS total"
)


@dataclass
class PageQuery:
    """Pages of a project in `window`, sorted by one of SORTS (`desc` or `asc`)."""

    project_id: str
    window: Window
    filters: list[Filter] = field(default_factory=list)
    search: str = ""
    sort: str = "views"
    direction: str = "desc"
    limit: int = 25
    offset: int = 0


def _check(q: PageQuery) -> str:
    """The ORDER BY of the query; ValidationError for a bad sort, page or search."""
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    if q.offset < 0:
        raise ValidationError("offset", "must not be negative")
    if len(q.search) > 200:
        raise ValidationError("search", "at most 200 characters")
    order = _ORDER.get((q.sort, q.direction))
    if order is None:
        raise ValidationError("sort", f"must be one of {', '.join(SORTS)} (asc or desc)")
    return order


def page_performance(store: EventStore, q: PageQuery) -> dict[str, Any]:
    """One page of pages: origin, path, views, sessions, visitors, bounce_rate (percent),
    avg_time (seconds on the page, over `timed_views` views that had a next one); plus the
    number of pages in `total` and the next offset (None on the last page)."""
    order = _check(q)
    params: dict[str, Any] = {
        "project": q.project_id,
        "limit": q.limit,
        "offset": q.offset,
        **q.window.params(),
    }
    matched = "1"
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        matched = "(" + " AND ".join(compiled.conditions) + ")"
    views = select(
        f"origin, path, session_id, profile_id, {_BOUNCED}, {_GAP}, {matched} AS matched",
        "events",
        [
            "project_id = {project:String}",
            "created_at >= {start:DateTime64(3, 'UTC')}",
            "created_at < {end:DateTime64(3, 'UTC')}",
            "name = 'screen_view'",
            "session_id != ''",
        ],
    )
    where = "WHERE matched"
    if q.search:
        params["search"] = like_pattern(q.search)
        where += " AND path ILIKE {search:String}"
    rows = store.query(
        select_from(
            _COLUMNS,
            views,
            where + " GROUP BY origin, path ORDER BY " + order + ", path, origin "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )
    total = int(rows[0]["total"]) if rows else 0
    data = [{k: v for k, v in row.items() if k != "total"} for row in rows]
    more = q.offset + len(data) < total
    return {
        "data": data,
        "total": total,
        "limit": q.limit,
        "offset": q.offset,
        "next": q.offset + q.limit if more else None,
    }
