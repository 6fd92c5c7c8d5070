"""Visits (openpanel-compat.md §4.6 sessions, §4.8 `sessions`): a paged list, newest first, and
one visit with its event timeline.

Visits come from `sessions FINAL` (one row per visit); filters apply to events and select the
visits that contain a matching event. Rows use OpenPanel's camelCase names; times are ISO UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.exports import EVENT_SELECT, camel_event, iso_time
from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import select
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

MAX_LIMIT = 1000
MAX_TIMELINE = 2000
SESSION_FIELDS = (
    ("id", "id"),
    ("profileId", "profile_id"),
    ("deviceId", "device_id"),
    ("projectId", "project_id"),
    ("createdAt", "created_at"),
    ("endedAt", "ended_at"),
    ("duration", "duration"),
    ("isBounce", "is_bounce"),
    ("screenViewCount", "screen_view_count"),
    ("eventCount", "event_count"),
    ("revenue", "revenue"),
    ("entryOrigin", "entry_origin"),
    ("entryPath", "entry_path"),
    ("exitOrigin", "exit_origin"),
    ("exitPath", "exit_path"),
    ("referrer", "referrer"),
    ("referrerName", "referrer_name"),
    ("referrerType", "referrer_type"),
    ("utmSource", "utm_source"),
    ("utmMedium", "utm_medium"),
    ("utmCampaign", "utm_campaign"),
    ("utmContent", "utm_content"),
    ("utmTerm", "utm_term"),
    ("country", "country"),
    ("region", "region"),
    ("city", "city"),
    ("longitude", "longitude"),
    ("latitude", "latitude"),
    ("device", "device"),
    ("brand", "brand"),
    ("model", "model"),
    ("browser", "browser"),
    ("browserVersion", "browser_version"),
    ("os", "os"),
    ("osVersion", "os_version"),
    ("groups", "groups"),
)
SESSION_SELECT = ", ".join(col for _, col in SESSION_FIELDS)


@dataclass
class SessionQuery:
    """Visits of a project (optionally of one profile) started in `window` (None: all time)."""

    project_id: str
    window: Window | None = None
    filters: list[Filter] = field(default_factory=list)
    profile_id: str | None = None
    limit: int = 50
    offset: int = 0


def check_page(limit: int, offset: int, high: int = MAX_LIMIT) -> None:
    """Paging bounds shared by the people lists; raise ValidationError naming limit/cursor."""
    if not 1 <= limit <= high:
        raise ValidationError("limit", f"must be between 1 and {high}")
    if offset < 0:
        raise ValidationError("cursor", "must not be negative")


def page(data: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    """`{data, total, limit, offset, next}`; `next` is the cursor of the next page or None."""
    more = offset + len(data) < total
    return {
        "data": data,
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": offset + limit if more else None,
    }


def camel_session(row: dict[str, Any]) -> dict[str, Any]:
    """A sessions row in camelCase; duration stays in ms, times become ISO UTC."""
    out = {camel: row.get(col) for camel, col in SESSION_FIELDS}
    out["createdAt"] = iso_time(out["createdAt"])
    out["endedAt"] = iso_time(out["endedAt"])
    return out


def list_sessions(store: EventStore, q: SessionQuery) -> dict[str, Any]:
    """One page of visits, newest first, with the total count; raises ValidationError."""
    check_page(q.limit, q.offset)
    params: dict[str, Any] = {"project": q.project_id}
    where = ["project_id = {project:String}"]
    if q.window is not None:
        params.update(q.window.params())
        where += [
            "created_at >= {start:DateTime64(3, 'UTC')}",
            "created_at < {end:DateTime64(3, 'UTC')}",
        ]
    if q.filters:
        compiled = compile_filters(q.filters)
        params.update(compiled.params)
        matching = select("session_id", "events", where + compiled.conditions)
        where = [*where, "id IN (" + matching + ")"]
    if q.profile_id is not None:
        params["profile"] = q.profile_id
        where = [*where, "profile_id = {profile:String}"]
    total = int(store.scalar(select("count() AS n", "sessions", where, final=True), params) or 0)
    params.update(limit=q.limit, offset=q.offset)
    rows = store.query(
        select(
            SESSION_SELECT,
            "sessions",
            where,
            "ORDER BY created_at DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
            final=True,
        ),
        params,
    )
    return page([camel_session(r) for r in rows], total, q.limit, q.offset)


def session_detail(store: EventStore, project_id: str, session_id: str) -> dict[str, Any]:
    """A visit and its events in time order (at most MAX_TIMELINE); NotFoundError if unknown."""
    params = {"project": project_id, "session": session_id, "limit": MAX_TIMELINE}
    where = ["project_id = {project:String}", "id = {session:String}"]
    rows = store.query(select(SESSION_SELECT, "sessions", where, "LIMIT 1", final=True), params)
    if not rows:
        raise NotFoundError(f"session {session_id!r} not found")
    events = store.query(
        select(
            EVENT_SELECT,
            "events",
            ["project_id = {project:String}", "session_id = {session:String}"],
            "ORDER BY created_at, name, id LIMIT {limit:UInt32}",
        ),
        params,
    )
    return {"session": camel_session(rows[0]), "events": [camel_event(e) for e in events]}
