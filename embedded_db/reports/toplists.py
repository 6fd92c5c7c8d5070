"""Top lists (openpanel-compat.md §4.2): pages, entry and exit pages, and one list per visit
dimension (referrers, UTM, geo, device, browser, OS), paginated and searchable.

Pages come from `screen_view` events; entry/exit pages and dimensions from visits (`sessions
FINAL`). Dimension names are looked up in a registry; search and paging values are bound.
Without filters, hours the rollup worker has rolled are read from the rollup tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import NOT_SYNTHETIC, Filter, compile_filters, like_pattern
from embedded_db.rollups import (
    PAGE_DIMENSIONS,
    VISIT_DIMENSIONS,
    Plan,
    plan,
    raw_plan,
    rolled_sums,
    visit_sums,
)
from embedded_db.sql import select, select_union
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

DIMENSIONS = VISIT_DIMENSIONS
# Raw and rolled parts name their sums `n_…`: the outer query's `sessions` would shadow them.
_RAW_VISITS = visit_sums("n_")
_ROLLED_VISITS = rolled_sums("n_")
_COMBINED_VISITS = (
    "sum(n_sessions) AS sessions, sum(n_screen_views) AS pageviews, "
    "round(sum(n_bounces) * 100 / sum(n_sessions), 2) AS bounce_rate, "
    "round(ifNotFinite(sum(n_duration_sum) / sum(n_duration_count) / 1000, 0), 2) "
    "AS avg_session_duration"
)
MAX_LIMIT = 1000


@dataclass
class ListQuery:
    project_id: str
    window: Window
    filters: list[Filter] = field(default_factory=list)
    search: str = ""
    limit: int = 10
    offset: int = 0
    rollups: bool = True  # False reads everything raw (the rollup equality test compares)


def _check(q: ListQuery) -> None:
    if not 1 <= q.limit <= MAX_LIMIT:
        raise ValidationError("limit", f"must be between 1 and {MAX_LIMIT}")
    if q.offset < 0:
        raise ValidationError("cursor", "must not be negative")
    if len(q.search) > 200:
        raise ValidationError("search", "at most 200 characters")


def _params(q: ListQuery, p: Plan) -> dict[str, Any]:
    return {"project": q.project_id, "limit": q.limit, "offset": q.offset, **p.params()}


def _visits_matching(q: ListQuery, where: list[str], params: dict[str, Any]) -> list[str]:
    """Visit conditions: `where` (the window), plus 'has an event matching the filters'."""
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


def _plan(store: EventStore, q: ListQuery) -> Plan:
    if q.filters or not q.rollups:
        return raw_plan(q.window)
    return plan(store, q.project_id, q.window)


def _search(q: ListQuery, params: dict[str, Any], column: str) -> list[str]:
    if not q.search:
        return []
    params["search"] = like_pattern(q.search)
    return [f"{column} ILIKE {{search:String}}"]


def top_pages(store: EventStore, q: ListQuery) -> dict[str, Any]:
    """Pages by visits: origin, path, sessions (visits that viewed it) and pageviews."""
    _check(q)
    p = _plan(store, q)
    params: dict[str, Any] = _params(q, p)
    where = ["project_id = {project:String}", p.raw_condition, "name = 'screen_view'"]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where += compiled.conditions
    search = _search(q, params, "path")
    parts: list[str] = []
    if p.raw:
        parts += [
            select(
                "origin, path, uniqState(session_id) AS s_state, count() AS pv",
                "events",
                where + search,
                "GROUP BY origin, path",
            )
        ]
    if p.has_rolled:
        parts.append(
            select(
                "origin, path, sessions AS s_state, pageviews AS pv",
                "rollup_pages",
                ["project_id = {project:String}", p.rolled_condition, *search],
            )
        )
    rows = store.query(
        select_union(
            "origin, path, uniqMerge(s_state) AS sessions, sum(pv) AS pageviews",
            parts,
            "GROUP BY origin, path ORDER BY sessions DESC, pageviews DESC, path "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )
    return _page(rows, q)


def entry_exit_pages(store: EventStore, q: ListQuery, mode: str) -> dict[str, Any]:
    """Where visits start (`entry`) or end (`exit`): sessions and their pageviews."""
    _check(q)
    if mode not in PAGE_DIMENSIONS:
        raise ValidationError("mode", "must be entry or exit")
    path, origin = PAGE_DIMENSIONS[mode]
    rows = _visit_list(store, q, mode, f"{path} AS name, toString({origin}) AS prefix", path)
    data = [
        {
            "origin": r["prefix"],
            "path": r["name"],
            "sessions": r["sessions"],
            "pageviews": r["pageviews"],
        }
        for r in rows
    ]
    return _page(data, q)


def dimension_list(store: EventStore, q: ListQuery, dimension: str) -> dict[str, Any]:
    """Visits grouped by one dimension: name (and its parent, e.g. a city's country),
    sessions, pageviews, bounce rate and average visit duration (seconds)."""
    _check(q)
    if dimension not in DIMENSIONS:
        raise ValidationError("dimension", f"must be one of {', '.join(DIMENSIONS)}")
    parent = DIMENSIONS[dimension]
    prefix = f"toString({parent})" if parent else "''"
    columns = f"toString({dimension}) AS name, {prefix} AS prefix"
    return _page(_visit_list(store, q, dimension, columns, f"toString({dimension})"), q)


def _visit_list(
    store: EventStore, q: ListQuery, dimension: str, name_columns: str, search_column: str
) -> list[dict[str, Any]]:
    """Visits grouped by (name, prefix): raw visits of the window plus rolled hours."""
    p = _plan(store, q)
    params: dict[str, Any] = {**_params(q, p), "dimension": dimension}
    where = _visits_matching(q, ["project_id = {project:String}", p.raw_condition], params)
    parts: list[str] = []
    if p.raw:
        parts += [
            select(
                f"{name_columns}, {_RAW_VISITS}",
                "sessions",
                where + _search(q, params, search_column),
                "GROUP BY name, prefix",
                final=True,
            )
        ]
    if p.has_rolled:
        parts.append(
            select(
                f"value AS name, prefix, {_ROLLED_VISITS}",
                "rollup_visits",
                [
                    "project_id = {project:String}",
                    "dimension = {dimension:String}",
                    p.rolled_condition,
                    *_search(q, params, "value"),
                ],
            )
        )
    return store.query(
        select_union(
            f"name, prefix, {_COMBINED_VISITS}",
            parts,
            "GROUP BY name, prefix ORDER BY sessions DESC, name "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )


def map_points(store: EventStore, q: ListQuery) -> dict[str, Any]:
    """Visits by country and by city with coordinates (averaged over the visits), for a map."""
    _check(q)
    p = raw_plan(q.window)  # coordinates are not rolled up; a window's cities are few
    params = _params(q, p)
    where = _visits_matching(q, ["project_id = {project:String}", p.raw_condition], params)
    countries = store.query(
        select(
            "toString(country) AS country, count() AS sessions, uniq(profile_id) AS visitors",
            "sessions",
            [*where, "country != ''"],
            "GROUP BY country ORDER BY sessions DESC, country LIMIT {limit:UInt32}",
            final=True,
        ),
        params,
    )
    cities = store.query(
        select(
            "toString(country) AS country, toString(region) AS region, city, "
            "count() AS sessions, uniq(profile_id) AS visitors, "
            "round(avg(latitude), 4) AS lat, round(avg(longitude), 4) AS lng",
            "sessions",
            [*where, "city != ''", "latitude IS NOT NULL", "longitude IS NOT NULL"],
            "GROUP BY country, region, city ORDER BY sessions DESC, city LIMIT {limit:UInt32}",
            final=True,
        ),
        params,
    )
    for city in cities:  # named after the columns only here: an alias would shadow them in SQL
        city["latitude"], city["longitude"] = city.pop("lat"), city.pop("lng")
    return {"countries": countries, "cities": cities}


def outbound_links(store: EventStore, q: ListQuery) -> dict[str, Any]:
    """`link_out` events by destination (`properties.href`): clicks and the visits that made
    them (the web SDK's trackOutgoingLinks)."""
    _check(q)
    p = raw_plan(q.window)
    params = _params(q, p)
    where = ["project_id = {project:String}", p.raw_condition, "name = 'link_out'"]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where += compiled.conditions
    href = "properties['href']"
    rows = store.query(
        select(
            f"{href} AS href, count() AS clicks, uniq(session_id) AS sessions",
            "events",
            where + _search(q, params, href),
            "GROUP BY href ORDER BY clicks DESC, href LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )
    return _page(rows, q)


def top_events(store: EventStore, q: ListQuery) -> dict[str, Any]:
    """Event names by count (the overview's top events, §4.2): name, events and the visitors
    who sent them; the pipeline's `session_start`/`session_end` are left out."""
    _check(q)
    p = raw_plan(q.window)
    params = _params(q, p)
    where = [
        "project_id = {project:String}",
        p.raw_condition,
        NOT_SYNTHETIC,
    ]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        where += compiled.conditions
    rows = store.query(
        select(
            "toString(name) AS name, count() AS count, uniq(profile_id) AS visitors",
            "events",
            where + _search(q, params, "name"),
            "GROUP BY name ORDER BY count DESC, name LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        ),
        params,
    )
    return _page(rows, q)
