"""Profiles (openpanel-compat.md §4.6 profiles, §4.8 `profiles…`): the searchable list, power
users, and one profile's page — its properties, metrics, most frequent events and pages, an
activity heatmap and its recent events.

Profiles come from `profiles FINAL` (newest `last_seen_at` wins); metrics from the profile's
visits (`sessions FINAL`) and events. Search is literal (LIKE wildcards escaped) and bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.exports import PROFILE_SELECT, camel_profile, iso_time, load_profiles
from embedded_db.filters import NOT_SYNTHETIC, like_pattern
from embedded_db.reports.events import EventListQuery, check_search, list_events
from embedded_db.reports.sessions import check_page, page
from embedded_db.sql import select
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, bucket_starts

TOP = 10
_SEARCH = (
    "(id ILIKE {search:String} OR first_name ILIKE {search:String} "
    "OR last_name ILIKE {search:String} OR email ILIKE {search:String} "
    "OR concat(first_name, ' ', last_name) ILIKE {search:String})"
)
_VISIT_METRICS = (
    "count() AS sessions, "
    "round(ifNotFinite(avgIf(duration, duration > 0) / 1000, 0), 2) AS avg_session_duration, "
    "if(count() = 0, 0, round(countIf(is_bounce) * 100 / count(), 2)) AS bounce_rate"
)
_EVENT_METRICS = (
    f"countIf({NOT_SYNTHETIC}) AS events, countIf(name = 'screen_view') AS screen_views, "
    "sumIf(revenue, name = 'revenue') AS revenue, "
    f"toString(minIf(created_at, {NOT_SYNTHETIC})) AS first_seen, "
    f"toString(maxIf(created_at, {NOT_SYNTHETIC})) AS last_seen"
)


# Orders the profile list can be sorted by (each then by id, so pages are stable).
PROFILE_SORTS = {
    "lastSeen": "last_seen_at",
    "firstSeen": "created_at",
    "name": "lower(concat(first_name, ' ', last_name))",
    "email": "lower(email)",
}


@dataclass
class ProfileListQuery:
    project_id: str
    search: str = ""
    identified: bool = False
    limit: int = 50
    offset: int = 0
    sort: str = "lastSeen"  # a key of PROFILE_SORTS
    descending: bool = True


@dataclass
class PowerUsersQuery:
    project_id: str
    window: Window
    identified: bool = False
    limit: int = 10
    offset: int = 0


def list_profiles(store: EventStore, q: ProfileListQuery) -> dict[str, Any]:
    """One page of profiles, most recently seen first (or in `sort` order), with the total;
    `identified` keeps only identified (external) profiles. Raises ValidationError for bad
    paging, search or sort."""
    check_page(q.limit, q.offset)
    check_search(q.search)
    if q.sort not in PROFILE_SORTS:
        raise ValidationError("sort", f"must be one of {', '.join(PROFILE_SORTS)}")
    order = PROFILE_SORTS[q.sort] + (" DESC" if q.descending else " ASC")
    params: dict[str, Any] = {"project": q.project_id, "limit": q.limit, "offset": q.offset}
    where = ["project_id = {project:String}"]
    if q.search:
        params["search"] = like_pattern(q.search)
        where.append(_SEARCH)
    if q.identified:
        where.append("is_external")
    count = select("count() AS n", "profiles", where, final=True)
    total = int(store.scalar(count, params) or 0)
    rows = store.query(
        select(
            PROFILE_SELECT,
            "profiles",
            where,
            "ORDER BY " + order + ", id LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
            final=True,
        ),
        params,
    )
    return page([camel_profile(r, q.project_id) for r in rows], total, q.limit, q.offset)


def power_users(store: EventStore, q: PowerUsersQuery) -> dict[str, Any]:
    """Profiles with the most events in the window (session_start/end not counted), each with
    `eventCount`, most active first; raises ValidationError for bad paging."""
    check_page(q.limit, q.offset)
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
        "profile_id != ''",
        NOT_SYNTHETIC,
    ]
    if q.identified:
        known = select(
            "id", "profiles", ["project_id = {project:String}", "is_external"], final=True
        )
        where.append("profile_id IN (" + known + ")")
    total = int(store.scalar(select("uniqExact(profile_id) AS n", "events", where), params) or 0)
    rows = store.query(
        select(
            "profile_id, count() AS events",
            "events",
            where,
            "GROUP BY profile_id ORDER BY events DESC, profile_id "
            "LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
        ),
        params,
    )
    profiles = load_profiles(store, q.project_id, {r["profile_id"] for r in rows})
    data = [
        {**profiles.get(r["profile_id"], {"id": r["profile_id"]}), "eventCount": int(r["events"])}
        for r in rows
    ]
    return page(data, total, q.limit, q.offset)


def get_profile(store: EventStore, project_id: str, profile_id: str) -> dict[str, Any]:
    """One profile in camelCase; NotFoundError if the project has no such profile."""
    found = load_profiles(store, project_id, {profile_id})
    if profile_id not in found:
        raise NotFoundError(f"profile {profile_id!r} not found")
    return found[profile_id]


def profile_metrics(store: EventStore, project_id: str, profile_id: str) -> dict[str, Any]:
    """All-time numbers of a profile: visits, screen views, events, average visit duration (s),
    bounce rate (%), revenue and first/last event times (ISO UTC, None without events).
    Raises NotFoundError for an unknown profile."""
    get_profile(store, project_id, profile_id)
    params = {"project": project_id, "profile": profile_id}
    where = ["project_id = {project:String}", "profile_id = {profile:String}"]
    [visits] = store.query(select(_VISIT_METRICS, "sessions", where, final=True), params)
    [events] = store.query(select(_EVENT_METRICS, "events", where), params)
    seen = int(events["events"]) > 0
    return {
        "sessions": int(visits["sessions"]),
        "screen_views": int(events["screen_views"]),
        "events": int(events["events"]),
        "avg_session_duration": float(visits["avg_session_duration"]),
        "bounce_rate": float(visits["bounce_rate"]),
        "revenue": int(events["revenue"] or 0),
        "first_seen": iso_time(events["first_seen"]) if seen else None,
        "last_seen": iso_time(events["last_seen"]) if seen else None,
    }


def profile_detail(
    store: EventStore, project_id: str, profile_id: str, window: Window, recent: int = 10
) -> dict[str, Any]:
    """A profile with its `recent` latest events (all time) and, over the window, its most
    frequent events, most visited pages and events per day (project timezone, zero-filled).
    Raises NotFoundError for an unknown profile."""
    profile = get_profile(store, project_id, profile_id)
    params: dict[str, Any] = {"project": project_id, "profile": profile_id, **window.params()}
    where = [
        "project_id = {project:String}",
        "profile_id = {profile:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
        NOT_SYNTHETIC,
    ]
    params["top"] = TOP
    top_events = store.query(
        select(
            "toString(name) AS name, count() AS count",
            "events",
            where,
            "GROUP BY name ORDER BY count DESC, name LIMIT {top:UInt32}",
        ),
        params,
    )
    top_pages = store.query(
        select(
            "origin, path, count() AS count",
            "events",
            [*where, "name = 'screen_view'"],
            "GROUP BY origin, path ORDER BY count DESC, path, origin LIMIT {top:UInt32}",
        ),
        params,
    )
    latest = list_events(
        store, EventListQuery(project_id=project_id, profile_id=profile_id, limit=recent)
    )
    return {
        "profile": profile,
        "recentEvents": latest["data"],
        "topEvents": top_events,
        "topPages": top_pages,
        "activity": _activity(store, window, where, params),
    }


def _activity(
    store: EventStore, window: Window, where: list[str], params: dict[str, Any]
) -> list[dict[str, Any]]:
    rows = store.query(
        select(
            "toString(toDate(created_at, {tz:String})) AS day, count() AS count",
            "events",
            where,
            "GROUP BY day",
        ),
        params,
    )
    counts = {r["day"]: int(r["count"]) for r in rows}
    days = (start.strftime("%Y-%m-%d") for start in bucket_starts(window, "day"))
    return [{"date": day, "count": counts.get(day, 0)} for day in days]
