"""Events (openpanel-compat.md §4.6 events list, §4.8 `events`, `events/names`,
`events/properties`, `events/property_values`): a paged list newest first, in the export's
camelCase row shape, and the names, property keys and property values seen in a window.

Filters (including `properties.<key>`) select events; `search` matches the name or the path
literally (LIKE wildcards in it are escaped). Every value is a bound parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.exports import EVENT_SELECT, camel_event
from embedded_db.filters import EVENT_COLUMNS, Filter, column_for, compile_filters, like_pattern
from embedded_db.reports.sessions import check_page, page
from embedded_db.sql import array_literal, select
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

MAX_KEYS = 1000


@dataclass
class EventListQuery:
    """Events of a project in `window` (None: all time), optionally of one profile or visit."""

    project_id: str
    window: Window | None = None
    filters: list[Filter] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    search: str = ""
    profile_id: str | None = None
    limit: int = 50
    offset: int = 0


def check_search(search: str) -> None:
    if len(search) > 200:
        raise ValidationError("search", "at most 200 characters")


def _where(project_id: str, window: Window | None) -> tuple[list[str], dict[str, Any]]:
    params: dict[str, Any] = {"project": project_id}
    where = ["project_id = {project:String}"]
    if window is not None:
        params.update(window.params())
        where += [
            "created_at >= {start:DateTime64(3, 'UTC')}",
            "created_at < {end:DateTime64(3, 'UTC')}",
        ]
    return where, params


def list_events(store: EventStore, q: EventListQuery) -> dict[str, Any]:
    """One page of events, newest first, and the total; raises ValidationError."""
    check_page(q.limit, q.offset)
    check_search(q.search)
    if len(q.names) > 100:
        raise ValidationError("event", "at most 100 event names")
    where, params = _where(q.project_id, q.window)
    if q.profile_id is not None:
        params["profile"] = q.profile_id
        where.append("profile_id = {profile:String}")
    if q.names:
        params["names"] = array_literal(q.names)
        where.append("name IN {names:Array(String)}")
    if q.search:
        params["search"] = like_pattern(q.search)
        where.append("(name ILIKE {search:String} OR path ILIKE {search:String})")
    compiled = compile_filters(q.filters)
    params.update(compiled.params)
    where += compiled.conditions
    total = int(store.scalar(select("count() AS n", "events", where), params) or 0)
    params.update(limit=q.limit, offset=q.offset)
    rows = store.query(
        select(
            EVENT_SELECT,
            "events",
            where,
            "ORDER BY created_at DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
        ),
        params,
    )
    return page([camel_event(r) for r in rows], total, q.limit, q.offset)


def has_events(store: EventStore, project_id: str) -> bool:
    """Whether the project has stored any event at all (the dashboard's empty states)."""
    sql = select("1 AS found", "events", ["project_id = {project:String}"], "LIMIT 1")
    return bool(store.query(sql, {"project": project_id}))


def event_names(store: EventStore, project_id: str, window: Window) -> dict[str, Any]:
    """Every event name in the window with its count, most frequent first."""
    where, params = _where(project_id, window)
    rows = store.query(
        select(
            "toString(name) AS name, count() AS count",
            "events",
            where,
            "GROUP BY name ORDER BY count DESC, name",
        ),
        params,
    )
    return {"data": rows}


def event_properties(
    store: EventStore, project_id: str, window: Window, event: str | None = None
) -> dict[str, Any]:
    """Property keys seen in the window (of one event name, or all) with how many events
    carry each, most common first (at most MAX_KEYS)."""
    where, params = _where(project_id, window)
    if event:
        params["event"] = event
        where.append("name = {event:String}")
    params["limit"] = MAX_KEYS
    rows = store.query(
        select(
            "arrayJoin(mapKeys(properties)) AS key, count() AS count",
            "events",
            where,
            "GROUP BY key ORDER BY count DESC, key LIMIT {limit:UInt32}",
        ),
        params,
    )
    return {"data": rows}


def property_values(
    store: EventStore,
    project_id: str,
    window: Window,
    prop: str,
    event: str | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """The most common non-empty values of a property (`properties.<key>`, a bare key, or an
    event column such as `path`) in the window, with counts; raises ValidationError."""
    if not prop:
        raise ValidationError("property", "is required")
    check_page(limit, 0)
    expr, key = _property_expr(prop)
    where, params = _where(project_id, window)
    if key is not None:
        params["key"] = key
        where.append("mapContains(properties, {key:String})")
        expr = "properties[{key:String}]"
    if event:
        params["event"] = event
        where.append("name = {event:String}")
    params["limit"] = limit
    rows = store.query(
        select(
            f"{expr} AS value, count() AS count",
            "events",
            [*where, f"{expr} != ''"],
            "GROUP BY value ORDER BY count DESC, value LIMIT {limit:UInt32}",
        ),
        params,
    )
    return {"data": rows}


def _property_expr(prop: str) -> tuple[str, str | None]:
    """(SQL expression, map key or None) for a property name; columns come from the registry."""
    name = prop if prop.startswith("properties.") or prop in EVENT_COLUMNS else "properties." + prop
    scope, expr, key = column_for(name, "property")
    if scope != "event" or expr == "has_profile":
        raise ValidationError("property", f"unknown property {prop!r}")
    return expr, key
