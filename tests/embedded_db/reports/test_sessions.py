"""Visit list and visit detail over hand-built visits and events with explicit times."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.filters import Filter
from embedded_db.reports.sessions import SessionQuery, list_sessions, session_detail
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, window

S1 = {
    "entry_origin": "https://shop.example",
    "entry_path": "/",
    "exit_origin": "https://shop.example",
    "exit_path": "/pricing",
    "screen_view_count": 2,
    "event_count": 1,
    "is_bounce": False,
    "revenue": 12.5,
    "referrer": "https://www.google.com/",
    "referrer_name": "Google",
    "referrer_type": "search",
    "utm_source": "newsletter",
    "country": "SE",
    "region": "Stockholm County",
    "city": "Stockholm",
    "device": "desktop",
    "browser": "Firefox",
    "browser_version": "128.0",
    "os": "Linux",
    "os_version": "6.1",
}


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    book = Book(store)
    book.session("s1", "u1", at(0), minutes=5, **S1)
    book.session("s2", "u2", at(30), is_bounce=True, entry_path="/blog", exit_path="/blog")
    book.session("s3", "u1", at(60), minutes=2, entry_path="/docs", exit_path="/docs")
    book.session("s0", "u1", at(0, days=-5), minutes=1)  # outside the window
    book.event("session_start", at(0) - timedelta(seconds=1), "s1", "u1")
    book.event("screen_view", at(0), "s1", "u1", path="/")
    book.event("add_to_cart", at(1), "s1", "u1", path="/", props={"sku": "A-1"})
    book.event("screen_view", at(2), "s1", "u1", path="/pricing")
    book.event("session_end", at(5), "s1", "u1")
    book.event("screen_view", at(30), "s2", "u2", path="/blog")
    book.event("screen_view", at(60), "s3", "u1", path="/docs")
    book.event("signup", at(61), "s3", "u1")
    book.event("screen_view", at(0, days=-5), "s0", "u1", path="/")
    return book.save().project


def ids(result: dict[str, Any]) -> list[str]:
    return [row["id"] for row in result["data"]]


def sessions(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    options.setdefault("window", window())
    return list_sessions(store, SessionQuery(project_id=project, **options))


def test_the_list_is_newest_first_and_paged(store: EventStore, project: str) -> None:
    result = sessions(store, project)
    assert ids(result) == ["s3", "s2", "s1"]
    assert (result["total"], result["next"]) == (3, None)
    first = sessions(store, project, limit=2)
    assert (ids(first), first["total"], first["next"]) == (["s3", "s2"], 3, 2)
    second = sessions(store, project, limit=2, offset=2)
    assert (ids(second), second["next"]) == (["s1"], None)


def test_a_row_carries_the_visit_columns_in_camel_case(store: EventStore, project: str) -> None:
    [row] = [r for r in sessions(store, project)["data"] if r["id"] == "s1"]
    assert row == {
        "id": "s1",
        "profileId": "u1",
        "deviceId": "u1",
        "projectId": project,
        "createdAt": "2026-03-02T10:00:00.000Z",
        "endedAt": "2026-03-02T10:05:00.000Z",
        "duration": 300_000,
        "isBounce": False,
        "screenViewCount": 2,
        "eventCount": 1,
        "revenue": 12.5,
        "entryOrigin": "https://shop.example",
        "entryPath": "/",
        "exitOrigin": "https://shop.example",
        "exitPath": "/pricing",
        "referrer": "https://www.google.com/",
        "referrerName": "Google",
        "referrerType": "search",
        "utmSource": "newsletter",
        "utmMedium": "",
        "utmCampaign": "",
        "utmContent": "",
        "utmTerm": "",
        "country": "SE",
        "region": "Stockholm County",
        "city": "Stockholm",
        "longitude": None,
        "latitude": None,
        "device": "desktop",
        "brand": "",
        "model": "",
        "browser": "Firefox",
        "browserVersion": "128.0",
        "os": "Linux",
        "osVersion": "6.1",
        "groups": [],
    }
    [bounce] = [r for r in sessions(store, project)["data"] if r["id"] == "s2"]
    assert bounce["isBounce"] is True and bounce["duration"] == 0


def test_filters_keep_visits_with_a_matching_event(store: EventStore, project: str) -> None:
    pricing = [Filter(name="path", operator="is", value=["/pricing"])]
    assert ids(sessions(store, project, filters=pricing)) == ["s1"]
    signup = [Filter(name="name", operator="is", value=["signup"])]
    assert ids(sessions(store, project, filters=signup)) == ["s3"]
    sku = [Filter(name="properties.sku", operator="startsWith", value=["A-"])]
    assert ids(sessions(store, project, filters=sku)) == ["s1"]


def test_a_profiles_visits_of_all_time(store: EventStore, project: str) -> None:
    result = sessions(store, project, window=None, profile_id="u1")
    assert ids(result) == ["s3", "s1", "s0"] and result["total"] == 3
    assert ids(sessions(store, project, profile_id="u2")) == ["s2"]
    assert sessions(store, project, profile_id="nobody")["data"] == []


def test_the_detail_is_the_visit_and_its_timeline(store: EventStore, project: str) -> None:
    detail = session_detail(store, project, "s1")
    assert detail["session"]["id"] == "s1" and detail["session"]["exitPath"] == "/pricing"
    timeline = [(e["name"], e["path"], e["createdAt"]) for e in detail["events"]]
    assert timeline == [
        ("session_start", "", "2026-03-02T09:59:59.000Z"),
        ("screen_view", "/", "2026-03-02T10:00:00.000Z"),
        ("add_to_cart", "/", "2026-03-02T10:01:00.000Z"),
        ("screen_view", "/pricing", "2026-03-02T10:02:00.000Z"),
        ("session_end", "", "2026-03-02T10:05:00.000Z"),
    ]
    assert detail["events"][2]["properties"] == {"sku": "A-1"}
    assert detail["events"][2]["sessionId"] == "s1"


def test_unknown_visits_and_other_projects_are_not_found(store: EventStore, project: str) -> None:
    with pytest.raises(NotFoundError):
        session_detail(store, project, "nope")
    with pytest.raises(NotFoundError):
        session_detail(store, "another-project", "s1")


def test_hostile_values_are_matched_literally(store: EventStore, project: str) -> None:
    odd = "s1' OR '1'='1 {x:String} \\"
    with pytest.raises(NotFoundError):
        session_detail(store, project, odd)
    hostile = [Filter(name="path", operator="contains", value=[odd, "%", "_"])]
    assert sessions(store, project, filters=hostile)["data"] == []
    assert sessions(store, project, profile_id=odd)["total"] == 0


@pytest.mark.parametrize(
    ("options", "field"), [({"limit": 0}, "limit"), ({"offset": -1}, "cursor")]
)
def test_bad_paging_names_the_field(
    store: EventStore, project: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        sessions(store, project, **options)
    assert caught.value.field == field
