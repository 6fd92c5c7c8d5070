"""Events list, event names, property keys and property values over hand-built events.

Events in the window (newest last):
  e1 screen_view /a  {plan: pro}                    u1
  e2 click       /a  {button: buy, plan: pro}       u1
  e3 screen_view /b  {plan: free}                   u1
  e4 signup          {plan: pro, odd: 100%_off\\}   u1
  e5 click       /b  {button: cancel}               u2
and one screen_view five days earlier (outside the window).
"""

from __future__ import annotations

from typing import Any

import pytest

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter
from embedded_db.reports.events import (
    EventListQuery,
    event_names,
    event_properties,
    list_events,
    property_values,
)
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, window

ODD = "100%_off\\"


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    book = Book(store)
    book.event("screen_view", at(0), path="/a", props={"plan": "pro"})
    book.event("click", at(1), path="/a", props={"button": "buy", "plan": "pro"})
    book.event("screen_view", at(2), path="/b", props={"plan": "free"})
    book.event("signup", at(3), props={"plan": "pro", "odd": ODD})
    book.event("click", at(4), session="s2", profile="u2", path="/b", props={"button": "cancel"})
    book.event("screen_view", at(0, days=-5), path="/old")
    return book.save().project


def events(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    options.setdefault("window", window())
    return list_events(store, EventListQuery(project_id=project, **options))


def shown(result: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["name"], e["path"]) for e in result["data"]]


def test_the_list_is_newest_first_and_paged(store: EventStore, project: str) -> None:
    result = events(store, project)
    assert shown(result) == [
        ("click", "/b"),
        ("signup", ""),
        ("screen_view", "/b"),
        ("click", "/a"),
        ("screen_view", "/a"),
    ]
    assert (result["total"], result["next"]) == (5, None)
    first = events(store, project, limit=2)
    assert (shown(first), first["next"]) == ([("click", "/b"), ("signup", "")], 2)
    last = events(store, project, limit=2, offset=4)
    assert (shown(last), last["total"], last["next"]) == ([("screen_view", "/a")], 5, None)
    assert events(store, project, window=None)["total"] == 6


def test_rows_have_the_export_shape(store: EventStore, project: str) -> None:
    row = events(store, project, limit=1)["data"][0]
    assert {k: row[k] for k in ("name", "path", "origin", "profileId", "sessionId")} == {
        "name": "click",
        "path": "/b",
        "origin": "https://shop.example",
        "profileId": "u2",
        "sessionId": "s2",
    }
    assert row["createdAt"] == "2026-03-02T10:04:00.000Z"
    assert row["properties"] == {"button": "cancel"} and row["projectId"] == project
    assert {"deviceId", "country", "browser", "referrerName", "revenue", "duration"} <= set(row)


def test_names_profile_and_property_filters(store: EventStore, project: str) -> None:
    assert shown(events(store, project, names=["click"])) == [("click", "/b"), ("click", "/a")]
    assert events(store, project, profile_id="u2")["total"] == 1
    pro = [Filter(name="properties.plan", operator="is", value=["pro"])]
    assert shown(events(store, project, filters=pro)) == [
        ("signup", ""),
        ("click", "/a"),
        ("screen_view", "/a"),
    ]
    odd = [Filter(name="properties.odd", operator="is", value=[ODD])]
    assert shown(events(store, project, filters=odd)) == [("signup", "")]
    contains = [Filter(name="properties.odd", operator="contains", value=["%_off\\"])]
    assert shown(events(store, project, filters=contains)) == [("signup", "")]


def test_search_matches_name_or_path_literally(store: EventStore, project: str) -> None:
    assert shown(events(store, project, search="SIGN")) == [("signup", "")]
    assert shown(events(store, project, search="/b")) == [("click", "/b"), ("screen_view", "/b")]
    assert shown(events(store, project, search="n_v")) == [
        ("screen_view", "/b"),
        ("screen_view", "/a"),
    ]
    for wildcard in ("e_n", "%", "\\", "'", "{search:String}"):
        assert events(store, project, search=wildcard)["data"] == [], wildcard


def test_event_names_with_counts(store: EventStore, project: str) -> None:
    assert event_names(store, project, window())["data"] == [
        {"name": "click", "count": 2},
        {"name": "screen_view", "count": 2},
        {"name": "signup", "count": 1},
    ]


def test_property_keys_of_an_event_or_all(store: EventStore, project: str) -> None:
    assert event_properties(store, project, window(), "click")["data"] == [
        {"key": "button", "count": 2},
        {"key": "plan", "count": 1},
    ]
    assert event_properties(store, project, window())["data"] == [
        {"key": "plan", "count": 4},
        {"key": "button", "count": 2},
        {"key": "odd", "count": 1},
    ]
    assert event_properties(store, project, window(), "it's {x} \\")["data"] == []


def test_property_values_by_key_or_column(store: EventStore, project: str) -> None:
    assert property_values(store, project, window(), "plan")["data"] == [
        {"value": "pro", "count": 3},
        {"value": "free", "count": 1},
    ]
    assert property_values(store, project, window(), "properties.plan", "click")["data"] == [
        {"value": "pro", "count": 1}
    ]
    assert property_values(store, project, window(), "path")["data"] == [
        {"value": "/a", "count": 2},
        {"value": "/b", "count": 2},
    ]
    assert property_values(store, project, window(), "odd")["data"] == [{"value": ODD, "count": 1}]
    assert property_values(store, project, window(), "plan", limit=1)["data"] == [
        {"value": "pro", "count": 1 + 2}
    ]


@pytest.mark.parametrize("prop", ["", "x'); DROP TABLE events --", "properties.bad;key"])
def test_bad_property_names_are_refused(store: EventStore, project: str, prop: str) -> None:
    with pytest.raises(ValidationError) as caught:
        property_values(store, project, window(), prop)
    assert caught.value.field == "property"


@pytest.mark.parametrize(
    ("options", "field"),
    [({"limit": 0}, "limit"), ({"offset": -1}, "cursor"), ({"search": "x" * 201}, "search")],
)
def test_bad_list_options_name_the_field(
    store: EventStore, project: str, options: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        events(store, project, **options)
    assert caught.value.field == field
