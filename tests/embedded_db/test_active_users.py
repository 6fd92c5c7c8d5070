"""Rolling active users per local day (real chDB), worked out by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from embedded_db.errors import ValidationError
from embedded_db.reports.active_users import ActiveUsersQuery, active_users
from embedded_db.store import EventStore
from embedded_db.timeframe import Window
from tests.support.stores import unique_project

LA = ZoneInfo("America/Los_Angeles")


def local(day: int, hour: int = 12, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LA)


VISITS = [  # (profile, local time)
    ("u4", local(28, month=2)),  # before the window: only the rolling counts see it
    ("u1", local(1)),
    ("u1", local(2)),
    ("u2", local(2, 9)),
    ("u3", local(5)),
    ("u5", local(5, 23, 30)),  # 07:30 UTC on the 6th: still the 5th in Los Angeles
]


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    project = unique_project()
    store.insert(
        "events",
        [
            {
                "id": f"00000000-0000-0000-0000-{i:012d}",
                "project_id": project,
                "name": "screen_view",
                "profile_id": profile,
                "created_at": at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S.000"),
            }
            for i, (profile, at) in enumerate(VISITS)
        ],
    )
    return project


WINDOW = Window(local(1, 0), local(9, 0), "America/Los_Angeles")  # March 1–8


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (1, [1, 2, 0, 0, 2, 0, 0, 0]),
        (3, [2, 3, 2, 2, 2, 2, 2, 0]),
        (7, [2, 3, 3, 3, 5, 5, 4, 4]),  # u4 (Feb 28) drops out on March 7
    ],
)
def test_rolling_active_users(store: EventStore, project: str, days: int, expected: list) -> None:
    result = active_users(store, ActiveUsersQuery(project, WINDOW, days))
    assert [p["date"][:10] for p in result["data"]] == [f"2026-03-0{d}" for d in range(1, 9)]
    assert [p["users"] for p in result["data"]] == expected


def test_days_are_bounded(store: EventStore, project: str) -> None:
    for days in (0, 91):
        with pytest.raises(ValidationError):
            active_users(store, ActiveUsersQuery(project, WINDOW, days))
