"""Engagement over hand-built profiles: identified users by whole days since last seen.

As of NOW (2026-03-02 10:00 UTC), identified profiles last seen 0 (twice), 7, 8, 14, 15, 30,
31, 60, 61 and 200 days ago; a profile seen later than NOW counts as 0; an anonymous profile
and an older version of a profile (replaced by a newer one) are not counted.
"""

from __future__ import annotations

from datetime import timedelta

from embedded_db.reports.engagement import engagement
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import BASE, Book, at

NOW = BASE


def test_identified_users_by_days_since_last_seen(store: EventStore) -> None:
    book = Book(store)
    for days in (0, 7, 8, 14, 15, 30, 31, 60, 61, 200):
        # a little under `days + 1` whole days: still `days` days ago
        book.profile(f"u{days}", at(-60 * 23, days=-days), is_external=True)
    book.profile("today", at(-5), is_external=True)
    book.profile("future", at(90), is_external=True)  # clock skew: never negative
    book.profile("anon", at(0, days=-3))
    book.profile("moved", at(0, days=-40), is_external=True)
    book.profile("moved", at(0, days=-2), is_external=True)  # the newest version wins
    book.save()

    result = engagement(store, book.project, NOW)
    assert result["summary"] == {
        "total_identified_users": 13,
        "active_last_7_days": 5,  # 0, 0, 0 (future), 2 (moved), 7
        "active_8_to_14_days": 2,
        "active_15_to_30_days": 2,
        "inactive_31_to_60_days": 2,
        "churned_60_plus_days": 2,
    }
    assert result["distribution"] == [
        {"days": 0, "users": 3},
        {"days": 2, "users": 1},
        {"days": 7, "users": 1},
        {"days": 8, "users": 1},
        {"days": 14, "users": 1},
        {"days": 15, "users": 1},
        {"days": 30, "users": 1},
        {"days": 31, "users": 1},
        {"days": 60, "users": 1},
        {"days": 61, "users": 1},
        {"days": 200, "users": 1},
    ]


def test_a_project_without_identified_users(store: EventStore) -> None:
    book = Book(store)
    book.profile("anon", NOW - timedelta(days=1))
    book.save()
    assert engagement(store, book.project, NOW) == {
        "summary": {
            "total_identified_users": 0,
            "active_last_7_days": 0,
            "active_8_to_14_days": 0,
            "active_15_to_30_days": 0,
            "inactive_31_to_60_days": 0,
            "churned_60_plus_days": 0,
        },
        "distribution": [],
    }
