"""Profile list, search, power users, metrics and the profile page over hand-built rows.

Profiles (last seen): anon 11:30 (anonymous), u1 Ada Lovelace 11:00, u2 Grace Hopper 10:30
(an older version of u2 with another email is replaced), odd 10:10 (hostile characters).
Events in the window: u2 five, u1 four (+ a session_start), ghost two (no profile row),
anon one; u1 also has one screen_view five days earlier.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.reports.profiles import (
    PowerUsersQuery,
    ProfileListQuery,
    get_profile,
    list_profiles,
    power_users,
    profile_detail,
    profile_metrics,
)
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, window

ODD_FIRST = "O'Brien {x:String}"
ODD_LAST = "100% \\ back\tslash"


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    book = Book(store)
    book.profile("u2", at(0), is_external=True, first_name="Grace", email="old@example.com")
    book.profile(
        "u2", at(30), is_external=True, first_name="Grace", last_name="Hopper",
        email="grace_h@example.com",
    )  # fmt: skip
    book.profile(
        "u1", at(60), is_external=True, first_name="Ada", last_name="Lovelace",
        email="ada@example.com", properties={"plan": "pro"}, created=at(0, days=-5),
    )  # fmt: skip
    book.profile("anon", at(90))
    book.profile(
        "odd", at(10), is_external=True, first_name=ODD_FIRST, last_name=ODD_LAST,
        email="a_b@example.com",
    )  # fmt: skip
    book.event("session_start", at(0) - timedelta(seconds=1), "s1", "u1")
    book.event("screen_view", at(0), "s1", "u1", path="/a")
    book.event("screen_view", at(1), "s1", "u1", path="/b")
    book.event("revenue", at(2), "s1", "u1", revenue=500)
    book.event("click", at(-420), "s0", "u1")  # 03:00 UTC: the evening before in New York
    book.event("screen_view", at(0, days=-5), "sx", "u1", path="/a")
    for i in range(5):
        book.event("click", at(10 + i), "s2", "u2")
    book.event("click", at(20), "s3", "ghost")
    book.event("click", at(21), "s3", "ghost")
    book.event("screen_view", at(25), "s4", "anon", path="/")
    book.session("s1", "u1", at(0), minutes=5, screen_view_count=2)
    book.session("s0", "u1", at(-420), is_bounce=True)
    book.session("s2", "u2", at(10), minutes=1)
    return book.save().project


def profiles(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    return list_profiles(store, ProfileListQuery(project_id=project, **options))


def ids(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["data"]]


def test_the_list_is_most_recently_seen_first_and_paged(store: EventStore, project: str) -> None:
    result = profiles(store, project)
    assert ids(result) == ["anon", "u1", "u2", "odd"]
    assert (result["total"], result["next"]) == (4, None)
    first = profiles(store, project, limit=2)
    assert (ids(first), first["total"], first["next"]) == (["anon", "u1"], 4, 2)
    second = profiles(store, project, limit=2, offset=2)
    assert (ids(second), second["next"]) == (["u2", "odd"], None)


def test_rows_are_camel_case_profiles(store: EventStore, project: str) -> None:
    [ada] = profiles(store, project, search="ada")["data"]
    assert ada == {
        "id": "u1",
        "isExternal": True,
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
        "avatar": "",
        "properties": {"plan": "pro"},
        "groups": [],
        "projectId": project,
        "createdAt": "2026-02-25T10:00:00.000Z",
        "lastSeenAt": "2026-03-02T11:00:00.000Z",
    }


def test_identified_only(store: EventStore, project: str) -> None:
    result = profiles(store, project, identified=True)
    assert (ids(result), result["total"]) == (["u1", "u2", "odd"], 3)


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ada", ["u1"]),
        ("HOPPER", ["u2"]),
        ("Ada Love", ["u1"]),
        ("u2", ["u2"]),
        ("old@", []),  # the replaced version of u2 is not searched
        ("%", ["odd"]),
        ("_", ["u2", "odd"]),
        ("a%b", []),
        ("a_b", ["odd"]),
        ("'", ["odd"]),
        ("\\", ["odd"]),
        ("\\ back\ts", ["odd"]),
        ("{x:String}", ["odd"]),
        ("' OR 1=1 --", []),
    ],
)
def test_search_is_literal(
    store: EventStore, project: str, search: str, expected: list[str]
) -> None:
    assert ids(profiles(store, project, search=search)) == expected


def test_power_users_have_the_most_events_in_the_window(store: EventStore, project: str) -> None:
    result = power_users(store, PowerUsersQuery(project_id=project, window=window()))
    assert [(r["id"], r["eventCount"]) for r in result["data"]] == [
        ("u2", 5),
        ("u1", 4),
        ("ghost", 2),
        ("anon", 1),
    ]
    assert result["total"] == 4
    assert result["data"][0]["lastName"] == "Hopper"
    assert result["data"][2] == {"id": "ghost", "eventCount": 2}
    known = power_users(
        store, PowerUsersQuery(project_id=project, window=window(), identified=True, limit=1)
    )
    assert ([r["id"] for r in known["data"]], known["total"], known["next"]) == (["u2"], 2, 1)


def test_metrics_of_a_profile(store: EventStore, project: str) -> None:
    assert profile_metrics(store, project, "u1") == {
        "sessions": 2,
        "screen_views": 3,
        "events": 5,
        "avg_session_duration": 300.0,
        "bounce_rate": 50.0,
        "revenue": 500,
        "first_seen": "2026-02-25T10:00:00.000Z",
        "last_seen": "2026-03-02T10:02:00.000Z",
    }
    assert profile_metrics(store, project, "odd") == {
        "sessions": 0,
        "screen_views": 0,
        "events": 0,
        "avg_session_duration": 0.0,
        "bounce_rate": 0.0,
        "revenue": 0,
        "first_seen": None,
        "last_seen": None,
    }


def test_the_profile_page(store: EventStore, project: str) -> None:
    detail = profile_detail(store, project, "u1", window())
    assert detail["profile"]["email"] == "ada@example.com"
    assert [e["name"] for e in detail["recentEvents"]] == [
        "revenue",
        "screen_view",
        "screen_view",
        "session_start",
        "click",
        "screen_view",
    ]
    assert detail["topEvents"] == [
        {"name": "screen_view", "count": 2},
        {"name": "click", "count": 1},
        {"name": "revenue", "count": 1},
    ]
    assert detail["topPages"] == [
        {"origin": "https://shop.example", "path": "/a", "count": 1},
        {"origin": "https://shop.example", "path": "/b", "count": 1},
    ]
    assert detail["activity"] == [
        {"date": "2026-03-01", "count": 0},
        {"date": "2026-03-02", "count": 4},
        {"date": "2026-03-03", "count": 0},
    ]


def test_activity_days_are_in_the_project_timezone(store: EventStore, project: str) -> None:
    detail = profile_detail(store, project, "u1", window(tz="America/New_York"))
    assert detail["activity"] == [
        {"date": "2026-03-01", "count": 1},
        {"date": "2026-03-02", "count": 3},
        {"date": "2026-03-03", "count": 0},
    ]


def test_unknown_profiles_are_not_found(store: EventStore, project: str) -> None:
    for call in (
        lambda: get_profile(store, project, "nobody"),
        lambda: profile_metrics(store, project, "nobody"),
        lambda: profile_detail(store, project, "nobody", window()),
        lambda: get_profile(store, "another-project", "u1"),
        lambda: get_profile(store, project, "u1' OR '1'='1"),
    ):
        with pytest.raises(NotFoundError):
            call()


@pytest.mark.parametrize(
    ("options", "field"),
    [({"limit": 0}, "limit"), ({"offset": -1}, "cursor"), ({"search": "x" * 201}, "search")],
)
def test_bad_list_options_name_the_field(
    store: EventStore, project: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        profiles(store, project, **options)
    assert caught.value.field == field
