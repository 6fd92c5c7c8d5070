"""What a project says about its event names beyond the rows themselves, kept in the MetaStore
(SQLite table `event_meta`, migration m0004): for now whether an event name is a conversion.

An event name without a row is an ordinary event. Names are stored exactly as the events carry
them; every value is bound, never spliced into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from embedded_db.errors import ValidationError
from embedded_db.meta import MetaStore, now_iso

MAX_NAME = 200
_ONE = "SELECT name, conversion, updated_at, updated_by FROM event_meta "
_BY_NAME = _ONE + "WHERE project_id = ? AND name = ?"
_CONVERSIONS = "SELECT name FROM event_meta WHERE project_id = ? AND conversion = 1 ORDER BY name"


@dataclass(frozen=True, slots=True)
class EventMeta:
    """One event name of a project and what the team marked it as."""

    project_id: str
    name: str
    conversion: bool = False
    updated_at: str = ""
    updated_by: str = ""


def check_name(name: str) -> str:
    """The event name, or ValidationError("event") when empty or longer than MAX_NAME."""
    if not name or len(name) > MAX_NAME:
        raise ValidationError("event", f"an event name of 1 to {MAX_NAME} characters")
    return name


def event_meta(meta: MetaStore, project_id: str, name: str) -> EventMeta:
    """The stored facts about an event name (defaults when nothing was stored)."""
    with meta.transaction() as db:
        row = db.execute(_BY_NAME, [project_id, name]).fetchone()
    if row is None:
        return EventMeta(project_id, name)
    return EventMeta(project_id, row[0], bool(row[1]), row[2] or "", row[3] or "")


def conversions(meta: MetaStore, project_id: str) -> list[str]:
    """The project's event names marked as conversions, sorted."""
    with meta.transaction() as db:
        return [str(row[0]) for row in db.execute(_CONVERSIONS, [project_id]).fetchall()]


def set_conversion(
    meta: MetaStore, project_id: str, name: str, conversion: bool, user_id: str = ""
) -> EventMeta:
    """Mark (or unmark) an event name as a conversion; raises ValidationError for a bad name and
    NotFoundError for an unknown project."""
    check_name(name)
    meta.get_project(project_id)
    row = {
        "project_id": project_id,
        "name": name,
        "conversion": int(conversion),
        "updated_at": now_iso(),
        "updated_by": user_id,
    }
    with meta.transaction() as db:
        db.table("event_meta").upsert(row, pk=("project_id", "name"))
    return event_meta(meta, project_id, name)
