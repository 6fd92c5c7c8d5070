"""User flow (sankey) over hand-built visits with known paths; expected values worked out by hand.

Visits (one event a minute, session_start/session_end around each):
  A: /  /pricing  signup  signup  /welcome
  B: /  /pricing
  C: /  /docs  /pricing  signup
  D: /docs  /
  E: /blog
  F: signup  /welcome
  G: /  /pricing   (five days earlier: outside the window)
"""

from __future__ import annotations

from typing import Any

import pytest

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter
from embedded_db.reports.flows import FlowEvent, FlowQuery, user_flow
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, window

HOME = FlowEvent("screen_view", [Filter(name="path", operator="is", value=["/"])])
SIGNUP = FlowEvent("signup")


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    book = Book(store)
    book.visit("A", at(0), "/", "/pricing", "signup", "signup", "/welcome")
    book.visit("B", at(10), "/", "/pricing")
    book.visit("C", at(20), "/", "/docs", "/pricing", "signup")
    book.visit("D", at(30), "/docs", "/")
    book.visit("E", at(40), "/blog")
    book.visit("F", at(50), "signup", "/welcome")
    book.visit("G", at(0, days=-5), "/", "/pricing")
    return book.save().project


def flow(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    return user_flow(store, FlowQuery(project_id=project, window=window(), **options))


def nodes(result: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(n["id"], n["value"], n["dropoff"]) for n in result["nodes"]]


def links(result: dict[str, Any]) -> list[tuple[str, str, int]]:
    return [(x["source"], x["target"], x["value"]) for x in result["links"]]


def test_after_a_page_follows_each_visit_for_the_chosen_steps(
    store: EventStore, project: str
) -> None:
    result = flow(store, project, start=HOME, steps=3)
    assert nodes(result) == [
        ("1:screen_view:/", 4, 1),  # D ends on /
        ("2:screen_view:/pricing", 2, 1),  # B ends on /pricing
        ("2:screen_view:/docs", 1, 0),
        ("3:screen_view:/pricing", 1, 0),  # C goes on to signup (beyond 3 steps)
        ("3:signup", 1, 0),  # A goes on to /welcome
    ]
    assert links(result) == [
        ("1:screen_view:/", "2:screen_view:/pricing", 2),
        ("1:screen_view:/", "2:screen_view:/docs", 1),
        ("2:screen_view:/docs", "3:screen_view:/pricing", 1),
        ("2:screen_view:/pricing", "3:signup", 1),
    ]
    assert result["totals"] == {
        "sessions": 4,
        "matched": 4,
        "not_reached": 0,
        "longer_than_steps": 0,
    }
    first = result["nodes"][0]
    assert first == {
        "id": "1:screen_view:/",
        "label": "/",
        "name": "screen_view",
        "step": 1,
        "value": 4,
        "dropoff": 1,
        "percent": 100.0,
    }
    assert [n["percent"] for n in result["nodes"]] == [100.0, 50.0, 25.0, 25.0, 25.0]
    assert result["suggestions"] == [
        {
            "kind": "node",
            "node": "2:screen_view:/pricing",
            "lost": 1,
            "percent": 50.0,
            "text": "50% of sessions that reached /pricing ended there",
        },
        {
            "kind": "node",
            "node": "1:screen_view:/",
            "lost": 1,
            "percent": 25.0,
            "text": "25% of sessions that reached / ended there",
        },
    ]


def test_after_an_event_collapses_repeats_and_counts_drop_offs(
    store: EventStore, project: str
) -> None:
    result = flow(store, project, start=SIGNUP, steps=2)
    assert nodes(result) == [("1:signup", 3, 1), ("2:screen_view:/welcome", 2, 2)]
    assert links(result) == [("1:signup", "2:screen_view:/welcome", 2)]
    assert [(s["node"], s["lost"], s["percent"], s["text"]) for s in result["suggestions"]] == [
        (
            "2:screen_view:/welcome",
            2,
            100.0,
            "100% of sessions that reached /welcome ended there",
        ),
        ("1:signup", 1, 33.3, "33.3% of sessions that reached signup ended there"),
    ]


def test_before_an_event_aligns_paths_on_the_last_step(store: EventStore, project: str) -> None:
    result = flow(store, project, mode="before", start=SIGNUP, steps=3)
    assert nodes(result) == [
        ("1:screen_view:/", 1, 0),
        ("1:screen_view:/docs", 1, 0),
        ("2:screen_view:/pricing", 2, 0),
        ("3:signup", 3, 1),  # only C's visit ends on signup; F's is one step long
    ]
    assert links(result) == [
        ("1:screen_view:/", "2:screen_view:/pricing", 1),
        ("1:screen_view:/docs", "2:screen_view:/pricing", 1),
        ("2:screen_view:/pricing", "3:signup", 2),
    ]
    assert result["totals"]["sessions"] == 3
    shorter = flow(store, project, mode="before", start=SIGNUP, steps=2)
    assert nodes(shorter) == [("1:screen_view:/pricing", 2, 0), ("2:signup", 3, 1)]


def test_between_two_events_and_the_steps_limit(store: EventStore, project: str) -> None:
    result = flow(store, project, mode="between", start=HOME, end=SIGNUP, steps=4)
    assert nodes(result) == [
        ("1:screen_view:/", 2, 0),
        ("2:screen_view:/docs", 1, 0),
        ("2:screen_view:/pricing", 1, 0),
        ("3:screen_view:/pricing", 1, 0),
        ("3:signup", 1, 0),  # A continues to /welcome
        ("4:signup", 1, 1),  # C ends on signup
    ]
    assert result["totals"] == {
        "sessions": 2,
        "matched": 4,
        "not_reached": 2,  # B and D never reach signup
        "longer_than_steps": 0,
    }
    assert [s["text"] for s in result["suggestions"]] == [
        "50% of sessions with / never reached signup",
        "100% of sessions that reached signup ended there",
    ]
    assert result["suggestions"][0]["kind"] == "goal" and result["suggestions"][0]["lost"] == 2
    limited = flow(store, project, mode="between", start=HOME, end=SIGNUP, steps=3)
    assert limited["totals"] == {
        "sessions": 1,
        "matched": 4,
        "not_reached": 2,
        "longer_than_steps": 1,  # C needs four steps
    }
    assert nodes(limited) == [
        ("1:screen_view:/", 1, 0),
        ("2:screen_view:/pricing", 1, 0),
        ("3:signup", 1, 0),
    ]


def test_exclude_drops_events_and_include_keeps_only_some(store: EventStore, project: str) -> None:
    excluded = flow(store, project, start=HOME, steps=3, exclude=["signup"])
    assert nodes(excluded) == [
        ("1:screen_view:/", 4, 1),
        ("2:screen_view:/pricing", 2, 1),
        ("2:screen_view:/docs", 1, 0),
        ("3:screen_view:/pricing", 1, 1),
        ("3:screen_view:/welcome", 1, 1),
    ]
    included = flow(store, project, start=HOME, steps=3, include=["signup"])
    assert nodes(included) == [("1:screen_view:/", 4, 2), ("2:signup", 2, 2)]


def test_session_start_and_end_only_appear_when_included(store: EventStore, project: str) -> None:
    plain = flow(store, project, mode="before", start=HOME, steps=2)
    assert not [n for n in plain["nodes"] if n["name"].startswith("session_")]
    result = flow(store, project, mode="before", start=HOME, steps=2, include=["session_start"])
    assert nodes(result) == [("1:session_start", 4, 0), ("2:screen_view:/", 4, 4)]


def test_filters_select_the_visits_containing_a_match(store: EventStore, project: str) -> None:
    docs = [Filter(name="path", operator="is", value=["/docs"])]
    result = flow(store, project, start=HOME, steps=3, filters=docs)
    assert nodes(result) == [
        ("1:screen_view:/", 2, 1),
        ("2:screen_view:/docs", 1, 0),
        ("3:screen_view:/pricing", 1, 0),
    ]


def test_hostile_names_are_values_not_sql(store: EventStore, project: str) -> None:
    odd = "it's {a:String} \\' % _ ) OR 1=1 --"
    result = flow(store, project, start=FlowEvent(odd), steps=2, include=[odd], exclude=[odd + "x"])
    assert result["nodes"] == [] and result["totals"]["sessions"] == 0
    assert result["suggestions"] == []


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"steps": 1}, "steps"),
        ({"steps": 11}, "steps"),
        ({"mode": "sideways"}, "mode"),
        ({"mode": "between"}, "endEvent"),
        ({"start": FlowEvent("")}, "event"),
        ({"exclude": ["x"] * 101}, "exclude"),
    ],
)
def test_bad_options_name_the_field(
    store: EventStore, project: str, options: dict[str, Any], field: str
) -> None:
    options.setdefault("start", SIGNUP)
    with pytest.raises(ValidationError) as caught:
        flow(store, project, **options)
    assert caught.value.field == field
