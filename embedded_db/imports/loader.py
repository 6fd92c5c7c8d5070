"""What an import does to stored rows besides inserting them (imports/visits.py,
imports/profiles.py): undo a failed import.

Imported rows are recognised by `imported_at` (one value per import attempt, recorded in the
ledger), so a rollback needs no list of ids.
"""

from __future__ import annotations

from datetime import datetime

from embedded_db.sql import delete_where, select
from embedded_db.store import EventStore

_IMPORTED = ["project_id = {project:String}", "imported_at = {imported_at:DateTime('UTC')}"]


def ch_time(moment: datetime) -> str:
    """A UTC datetime as ClickHouse DateTime text (seconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def rollback(store: EventStore, project_id: str, imported_at: datetime) -> None:
    """Delete what an import attempt stored (visits first, found through its events)."""
    params = {"project": project_id, "imported_at": ch_time(imported_at)}
    sessions = select("DISTINCT session_id", "events", [*_IMPORTED, "session_id != ''"])
    store.execute(
        delete_where("sessions", ["project_id = {project:String}", f"id IN ({sessions})"]),
        params,
    )
    store.execute(delete_where("events", _IMPORTED), params)


def imported_times(store: EventStore, project_id: str) -> set[str]:
    """`imported_at` values already present in a project (to keep attempts apart)."""
    rows = store.query(
        select(
            "DISTINCT toString(imported_at) AS t",
            "events",
            ["project_id = {project:String}", "imported_at IS NOT NULL"],
        ),
        {"project": project_id},
    )
    return {r["t"] for r in rows}
