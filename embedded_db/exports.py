"""Raw event export (`GET /export/events`, openpanel-compat.md §1.8): one page of events, newest
first, in OpenPanel's camelCase shape, with pagination metadata.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import array_literal, select
from embedded_db.store import EventStore

EVENT_FIELDS = (
    ("id", "id"),
    ("name", "name"),
    ("deviceId", "device_id"),
    ("profileId", "profile_id"),
    ("projectId", "project_id"),
    ("sessionId", "session_id"),
    ("properties", "properties"),
    ("createdAt", "created_at"),
    ("country", "country"),
    ("city", "city"),
    ("region", "region"),
    ("longitude", "longitude"),
    ("latitude", "latitude"),
    ("os", "os"),
    ("osVersion", "os_version"),
    ("browser", "browser"),
    ("browserVersion", "browser_version"),
    ("device", "device"),
    ("brand", "brand"),
    ("model", "model"),
    ("path", "path"),
    ("origin", "origin"),
    ("referrer", "referrer"),
    ("referrerName", "referrer_name"),
    ("referrerType", "referrer_type"),
    ("importedAt", "imported_at"),
    ("sdkName", "sdk_name"),
    ("sdkVersion", "sdk_version"),
    ("revenue", "revenue"),
    ("groups", "groups"),
    ("duration", "duration"),
)
_SELECT = ", ".join(
    "toString(country) AS country" if col == "country" else col for _, col in EVENT_FIELDS
)
EVENT_SELECT = _SELECT  # the events columns `camel_event` reads, for other event lists
PROFILE_SELECT = (
    "id, is_external, first_name, last_name, email, avatar, properties, groups, "
    "created_at, last_seen_at"
)


@dataclass
class EventQuery:
    """A validated export request."""

    project_id: str
    profile_id: str | None = None
    events: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    page: int = 1
    limit: int = 50
    filters: list[Filter] = field(default_factory=list)
    include_profile: bool = False


@dataclass
class EventPage:
    data: list[dict[str, Any]]
    total: int
    page: int
    limit: int

    def as_json(self) -> dict[str, Any]:
        pages = -(-self.total // self.limit) if self.total else 0
        return {
            "meta": {
                "count": len(self.data),
                "totalCount": self.total,
                "pages": pages,
                "current": self.page,
            },
            "data": self.data,
        }


def parse_date(value: Any, field_name: str, end_of_day: bool = False) -> datetime | None:
    """A date (`2024-05-01`) or date-time; dates cover the whole day when used as an end."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = datetime.fromisoformat(text).date()
            moment = time.max if end_of_day else time.min
            return datetime.combine(day, moment, UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field_name, f"{text[:40]!r} is not a date") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _ch(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def event_conditions(q: EventQuery) -> tuple[list[str], dict[str, Any]]:
    """The WHERE conditions and bound parameters of an export request (no paging)."""
    params: dict[str, Any] = {"project": q.project_id}
    where = ["project_id = {project:String}"]
    if q.profile_id:
        where.append("profile_id = {profile:String}")
        params["profile"] = q.profile_id
    if q.events:
        where.append("name IN {names:Array(String)}")
        params["names"] = array_literal(q.events)
    if q.start:
        where.append("created_at >= {start:DateTime64(3, 'UTC')}")
        params["start"] = _ch(q.start)
    if q.end:
        where.append("created_at <= {end:DateTime64(3, 'UTC')}")
        params["end"] = _ch(q.end)
    compiled = compile_filters(q.filters)
    where.extend(compiled.conditions)
    params.update(compiled.params)
    return where, params


def export_events(store: EventStore, q: EventQuery) -> EventPage:
    """One page of a project's events (newest first) and the total matching count."""
    where, params = event_conditions(q)
    total = int(store.scalar(select("count() AS n", "events", where), params) or 0)
    params.update(limit=q.limit, offset=(q.page - 1) * q.limit)
    rows = store.query(
        select(
            _SELECT,
            "events",
            where,
            "ORDER BY created_at DESC, id LIMIT {limit:UInt32} OFFSET {offset:UInt64}",
        ),
        params,
    )
    data = [camel_event(row) for row in rows]
    if q.include_profile and data:
        profiles = load_profiles(store, q.project_id, {r["profileId"] for r in data})
        for item in data:
            item["profile"] = profiles.get(item["profileId"])
    return EventPage(data, total, q.page, q.limit)


def camel_event(row: dict[str, Any]) -> dict[str, Any]:
    """An events row in OpenPanel's export shape (ISO times in UTC)."""
    out = {camel: row.get(col) for camel, col in EVENT_FIELDS}
    out["createdAt"] = _iso(out["createdAt"])
    out["importedAt"] = _iso(out["importedAt"]) if out["importedAt"] else None
    out["country"] = (out["country"] or "").rstrip("\x00")
    return out


def _iso(value: Any) -> Any:
    if isinstance(value, str) and value:
        return value.replace(" ", "T") + ("Z" if "." in value else ".000Z")
    return value


iso_time = _iso  # ClickHouse DateTime64 text → ISO-8601 UTC, as the export shapes it


def load_profiles(store: EventStore, project_id: str, ids: set[str]) -> dict[str, dict[str, Any]]:
    """Profiles by id in OpenPanel's camelCase shape."""
    ids.discard("")
    if not ids:
        return {}
    rows = store.query(
        "SELECT id, is_external, first_name, last_name, email, avatar, properties, groups, "
        "created_at, last_seen_at FROM openpanel.profiles FINAL "
        "WHERE project_id = {project:String} AND id IN {ids:Array(String)}",
        {"project": project_id, "ids": array_literal(sorted(ids))},
    )
    return {r["id"]: camel_profile(r, project_id) for r in rows}


def camel_profile(r: dict[str, Any], project_id: str) -> dict[str, Any]:
    """A profiles row (the `PROFILE_SELECT` columns) in OpenPanel's camelCase shape."""
    return {
        "id": r["id"],
        "isExternal": r["is_external"],
        "firstName": r["first_name"],
        "lastName": r["last_name"],
        "email": r["email"],
        "avatar": r["avatar"],
        "properties": r["properties"],
        "groups": r["groups"],
        "projectId": project_id,
        "createdAt": _iso(r["created_at"]),
        "lastSeenAt": _iso(r["last_seen_at"]),
    }
