"""Data lifecycle: per-project retention (days), deleting a project's data, and deleting one
person's data (a GDPR erasure request), keeping the rollups consistent.

Deletions are chDB lightweight DELETEs. Hours whose rows changed are marked dirty (reports read
them raw until re-rolled); hours dropped wholesale lose their rollup rows and markers too, so no
report can read a rollup of deleted data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.meta import MetaStore
from embedded_db.rollups import ROLLUP_TABLES, mark_dirty, mark_dirty_range
from embedded_db.sql import delete_where, select
from embedded_db.store import EventStore

PROJECT_TABLES = (
    "events",
    "sessions",
    "profiles",
    "events_bots",
    "groups",
    "session_replay_chunks",
    "profile_aliases",
    "rollup_visits",
    "rollup_pages",
    "rollup_active",
    "rollup_hours",
)
MAX_RETENTION_DAYS = 36_500
_FMT = "%Y-%m-%d %H:%M:%S.%f"


@dataclass(frozen=True)
class Erased:
    """What a profile deletion removed."""

    events: int
    sessions: int
    profiles: int


def retention_days(meta: MetaStore, project_id: str) -> int | None:
    """A project's retention in days (None: keep forever)."""
    meta.get_project(project_id)
    with meta.transaction() as db:
        row = db.execute("SELECT retention_days FROM projects WHERE id = ?", [project_id])
        value = row.fetchone()[0]
    return int(value) if value else None


def set_retention_days(meta: MetaStore, project_id: str, days: int | None) -> None:
    """Keep a project's events and visits for `days` days (None or 0: forever)."""
    if days is not None and not 0 <= days <= MAX_RETENTION_DAYS:
        raise ValidationError("days", f"must be between 1 and {MAX_RETENTION_DAYS} (0 = forever)")
    meta.get_project(project_id)
    with meta.transaction() as db:
        db.execute(
            "UPDATE projects SET retention_days = ? WHERE id = ?", [days or None, project_id]
        )


def projects_with_retention(meta: MetaStore) -> dict[str, int]:
    """{project id: retention days} of every project that has a limit."""
    with meta.transaction() as db:
        rows = db.execute(
            "SELECT id, retention_days FROM projects WHERE deleted_at IS NULL "
            "AND retention_days > 0"
        ).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}


def apply_retention(store: EventStore, project_id: str, days: int, now: datetime) -> int:
    """Delete a project's events and visits older than `days` before `now` (UTC); returns the
    events deleted. Rollups of whole hours before the cut go; the cut's hour is marked dirty."""
    cutoff = now.astimezone(UTC) - timedelta(days=days)
    params = {"project": project_id, "cutoff": cutoff.strftime(_FMT)[:-3]}
    old = ["project_id = {project:String}", "created_at < {cutoff:DateTime64(3, 'UTC')}"]
    count = int(store.scalar(select("count() AS n", "events", old), params) or 0)
    if not count and not store.scalar(select("count() AS n", "sessions", old), params):
        return 0
    store.execute(delete_where("sessions", old), params)
    store.execute(delete_where("events", old), params)
    hour = cutoff.replace(minute=0, second=0, microsecond=0)
    rolled = ["project_id = {project:String}", "hour < {hour:DateTime('UTC')}"]
    hour_params = {"project": project_id, "hour": hour.strftime("%Y-%m-%d %H:%M:%S")}
    for name in (*ROLLUP_TABLES, "rollup_hours"):
        store.execute(delete_where(name, rolled), hour_params)
    mark_dirty_range(store, project_id, hour, hour + timedelta(hours=1))
    return count


def delete_project_data(store: EventStore, project_id: str) -> None:
    """Delete every row a project has in the event store (its configuration stays)."""
    for name in PROJECT_TABLES:
        store.execute(
            delete_where(name, ["project_id = {project:String}"]), {"project": project_id}
        )


def delete_profile(store: EventStore, project_id: str, profile_id: str) -> Erased:
    """Erase one person: their profile, their visits, the events of those visits and every
    event carrying their profile id; the hours touched are marked dirty."""
    if not profile_id:
        raise ValidationError("profileId", "a profile id is required")
    params: dict[str, Any] = {"project": project_id, "profile": profile_id}
    project = "project_id = {project:String}"
    visits = select("id", "sessions", [project, "profile_id = {profile:String}"], final=True)
    events = [project, f"(profile_id = {{profile:String}} OR session_id IN ({visits}))"]
    [span] = store.query(
        select(
            "count() AS n, toString(min(created_at)) AS first, toString(max(created_at)) AS last",
            "events",
            events,
        ),
        params,
    )
    mine = [project, "profile_id = {profile:String}"]
    sessions = int(store.scalar(select("count() AS n", "sessions", mine, final=True), params) or 0)
    has_profile = int(
        store.scalar(select("count() AS n", "profiles", [project, "id = {profile:String}"]), params)
        or 0
    )
    # Who was active when (retention's rollup) names the person and their visits' devices: those
    # rows go now, not when the rollup worker next recomputes, and their hours are marked dirty
    # (the device's other visits in them are read raw until then).
    devices = select("cityHash64(device_id)", "sessions", [*mine, "device_id != ''"], final=True)
    active = [project, f"(visitor = cityHash64({{profile:String}}) OR visitor IN ({devices}))"]
    active_hours = store.query(
        select("DISTINCT toString(hour) AS h", "rollup_active", active), params
    )
    store.execute(delete_where("rollup_active", active), params)
    store.execute(delete_where("events", events), params)
    store.execute(delete_where("sessions", mine), params)
    store.execute(delete_where("profiles", [project, "id = {profile:String}"]), params)
    store.execute(
        delete_where("profile_aliases", [project, "profile_id = {profile:String}"]), params
    )
    if int(span["n"]):
        first = datetime.fromisoformat(span["first"]).replace(tzinfo=UTC)
        last = datetime.fromisoformat(span["last"]).replace(tzinfo=UTC)
        mark_dirty_range(store, project_id, first, last + timedelta(seconds=1))
    hours = [datetime.fromisoformat(r["h"]).replace(tzinfo=UTC) for r in active_hours]
    mark_dirty(store, [(project_id, hour) for hour in hours])
    return Erased(events=int(span["n"]), sessions=sessions, profiles=min(has_profile, 1))
