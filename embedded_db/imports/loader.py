"""What an import does to stored rows besides inserting them (imports/visits.py): merge the
import's profiles over stored ones, undo a failed import.

Imported rows are recognised by `imported_at` (one value per import attempt, recorded in the
ledger), so a rollback needs no list of ids.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from embedded_db.imports.visits import spill
from embedded_db.sql import delete_where, insert_select_token, select, select_source
from embedded_db.store import EventStore

_IMPORTED = ["project_id = {project:String}", "imported_at = {imported_at:DateTime('UTC')}"]
_PROFILE_COLUMNS = (
    "id, is_external, first_name, last_name, email, avatar, properties, project_id, groups, "
    "created_at, last_seen_at"
)
_STORED_PROFILE = (
    "id, is_external, first_name, last_name, email, avatar, properties, groups, created_at, "
    "last_seen_at"
)
_MERGED_PROFILE = (
    "n.id, n.is_external OR o.is_external, o.first_name, o.last_name, o.email, o.avatar, "
    "mapUpdate(o.properties, CAST(n.context, 'Map(String, String)')), {project:String}, "
    "o.groups, if(o.id = '', n.first_seen, least(n.first_seen, o.created_at)), "
    "if(o.id = '', n.last_seen, greatest(n.last_seen, o.last_seen_at))"
)


def ch_time(moment: datetime) -> str:
    """A UTC datetime as ClickHouse DateTime text (seconds)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def write_profiles(store: EventStore, new: str, params: dict[str, Any], token: str) -> None:
    """Upsert the import's profiles (`new`: a query of id, is_external, first_seen, last_seen,
    context, with `params`, which bind `project`) merged over the stored ones: names kept,
    context properties updated, first and last seen widened."""
    old = select(
        _STORED_PROFILE,
        "profiles",
        ["project_id = {project:String}", "id IN (" + select_source("id", f"({new})") + ")"],
        final=True,
    )
    merged = select_source(
        _MERGED_PROFILE,
        f"({new}) AS n LEFT JOIN ({old}) AS o ON o.id = n.id",
        tail="SETTINGS join_use_nulls = 0, " + spill(store),
    )
    store.execute(insert_select_token("profiles", _PROFILE_COLUMNS, merged, f"{token}:p"), params)


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
