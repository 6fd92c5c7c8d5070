"""Engagement (openpanel-compat.md §4.8 `engagement`): identified users by how long ago they
were last seen — a summary in recency buckets and the full distribution by day.

Users are identified profiles (`is_external`) of `profiles FINAL`; a profile's age is the whole
days (24 h periods, UTC) from its `last_seen_at` to `now`, never negative.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from embedded_db.sql import select
from embedded_db.store import EventStore

# (summary key, first day, last day) — the buckets cover every age; None is open-ended.
BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("active_last_7_days", 0, 7),
    ("active_8_to_14_days", 8, 14),
    ("active_15_to_30_days", 15, 30),
    ("inactive_31_to_60_days", 31, 60),
    ("churned_60_plus_days", 61, None),
)
_DAYS = (
    "toUInt32(greatest(0, intDiv(dateDiff('second', last_seen_at, "
    "{now:DateTime64(3, 'UTC')}), 86400))) AS days"
)


def engagement(store: EventStore, project_id: str, now: datetime) -> dict[str, Any]:
    """`{summary: {total_identified_users, <bucket>: users…}, distribution: [{days, users}…]}`
    as of `now`; the distribution is ascending by days and lists only days with users."""
    moment = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    params = {"project": project_id, "now": moment}
    rows = store.query(
        select(
            f"{_DAYS}, count() AS users",
            "profiles",
            ["project_id = {project:String}", "is_external"],
            "GROUP BY days ORDER BY days",
            final=True,
        ),
        params,
    )
    distribution = [{"days": int(r["days"]), "users": int(r["users"])} for r in rows]
    summary = {"total_identified_users": sum(d["users"] for d in distribution)}
    for key, low, high in BUCKETS:
        summary[key] = sum(
            d["users"]
            for d in distribution
            if d["days"] >= low and (high is None or d["days"] <= high)
        )
    return {"summary": summary, "distribution": distribution}
