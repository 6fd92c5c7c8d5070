"""Rolling active users (openpanel-compat.md §4.8 `active_users?days=`): for every day of the
window, the distinct visitors (profile ids) with an event in the `days` days ending that day —
1 gives daily, 7 weekly and 30 monthly active users. Days are local to the project timezone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.sql import select, select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, bucket_starts

MAX_DAYS = 90


@dataclass
class ActiveUsersQuery:
    project_id: str
    window: Window
    days: int = 1


def active_users(store: EventStore, q: ActiveUsersQuery) -> dict[str, Any]:
    """`{days, data: [{date, users}]}`, one point per local day of the window (zero-filled).
    Raises ValidationError when `days` is outside 1–90."""
    if not 1 <= q.days <= MAX_DAYS:
        raise ValidationError("days", f"must be between 1 and {MAX_DAYS}")
    starts = bucket_starts(q.window, "day")
    params: dict[str, Any] = {
        "project": q.project_id,
        "frame": q.days - 1,
        **q.window.params(),
        **Window(q.window.start - timedelta(days=q.days - 1), q.window.end, q.window.tz).params(
            "look_"
        ),
    }
    per_day = select(
        "toDate(created_at, {tz:String}) AS day, uniqState(profile_id) AS st",
        "events",
        [
            "project_id = {project:String}",
            "created_at >= {look_start:DateTime64(3, 'UTC')}",
            "created_at < {end:DateTime64(3, 'UTC')}",
        ],
        # every local day gets a row (an empty state when quiet), so quiet days still report
        # the visitors of the days before them
        "GROUP BY day ORDER BY day WITH FILL "
        "FROM toDate({look_start:DateTime64(3, 'UTC')}, {tz:String}) "
        "TO toDate({end:DateTime64(3, 'UTC')}, {tz:String}) + 1",
    )
    rows = store.query(
        select_from(
            "toString(day) AS d, uniqMerge(st) OVER (ORDER BY day "
            "RANGE BETWEEN {frame:UInt32} PRECEDING AND CURRENT ROW) AS users",
            per_day,
            "ORDER BY day",
        ),
        params,
    )
    users = {r["d"]: int(r["users"]) for r in rows}
    return {
        "days": q.days,
        "data": [
            {"date": s.isoformat(), "users": users.get(s.strftime("%Y-%m-%d"), 0)} for s in starts
        ],
    }
