"""Page performance on hand-built visits with known gaps: views, visits, visitors, bounce rate
and time on page per page, sorting, search, paging and filters (real chDB)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.page_performance import PageQuery, page_performance
from embedded_db.store import EventStore
from tests.embedded_db.reports.people_fixtures import Book, at, window


@pytest.fixture(scope="module")
def project(store: EventStore) -> str:
    """Four visits: s1 reads three pages (2 and 3 minutes apart), s2 bounces on /pricing after
    a signup event, s3 bounces on /, s4 (u1 again) reloads /pricing after 90 seconds."""
    book = Book(store)
    for sid, profile, start, bounce in (
        ("s1", "u1", at(0), False),
        ("s2", "u2", at(1), True),
        ("s3", "u3", at(6), True),
        ("s4", "u1", at(60), False),
    ):
        book.session(sid, profile, start, is_bounce=bounce, country="DE" if sid == "s3" else "GB")
    for sid, profile, minute, path in (
        ("s1", "u1", 0, "/"),
        ("s1", "u1", 2, "/pricing"),
        ("s1", "u1", 5, "/docs"),
        ("s2", "u2", 1, "/pricing"),
        ("s3", "u3", 6, "/"),
        ("s4", "u1", 60, "/pricing"),
        ("s4", "u1", 61.5, "/pricing"),
    ):
        book.event("screen_view", at(minute), sid, profile, path=path)
    book.event("signup", at(3), "s2", "u2")
    book.event("session_end", at(7), "s1", "u1", path="/docs")
    return book.save().project


def rows(store: EventStore, project: str, **changes: object) -> list[tuple[object, ...]]:
    q = PageQuery(project_id=project, window=window(), **changes)  # type: ignore[arg-type]
    return [
        (
            r["path"],
            r["views"],
            r["sessions"],
            r["visitors"],
            r["bounce_rate"],
            r["timed_views"],
            r["avg_time"],
        )
        for r in page_performance(store, q)["data"]
    ]


def test_each_page_has_views_visits_bounce_rate_and_time_on_page(
    store: EventStore, project: str
) -> None:
    assert rows(store, project) == [
        ("/pricing", 4, 3, 2, 33.33, 2, 135.0),  # gaps: 180 s (s1), 90 s (s4)
        ("/", 2, 2, 2, 50.0, 1, 120.0),  # s3 bounced; s1 stayed 120 s
        ("/docs", 1, 1, 1, 0.0, 0, 0.0),  # a visit's last page has no measured time
    ]
    first = page_performance(store, PageQuery(project_id=project, window=window()))["data"][0]
    assert first["origin"] == "https://shop.example"


def test_sorting_by_any_column_in_both_directions(store: EventStore, project: str) -> None:
    by = lambda sort, direction: [  # noqa: E731
        r[0] for r in rows(store, project, sort=sort, direction=direction)
    ]
    assert by("avg_time", "asc") == ["/docs", "/", "/pricing"]
    assert by("bounce_rate", "desc") == ["/", "/pricing", "/docs"]
    assert by("path", "asc") == ["/", "/docs", "/pricing"]
    assert by("sessions", "asc") == ["/docs", "/", "/pricing"]
    with pytest.raises(ValidationError):
        rows(store, project, sort="views; DROP TABLE events")
    with pytest.raises(ValidationError):
        rows(store, project, direction="sideways")


def test_search_is_literal_and_hostile_text_is_harmless(store: EventStore, project: str) -> None:
    assert [r[0] for r in rows(store, project, search="PRI")] == ["/pricing"]
    assert rows(store, project, search="%") == []
    assert rows(store, project, search="_") == []
    assert rows(store, project, search="'\\{x:String}\"; --") == []


def test_paging_reports_the_total_and_the_next_offset(store: EventStore, project: str) -> None:
    q = PageQuery(project_id=project, window=window(), limit=2)
    first = page_performance(store, q)
    assert (len(first["data"]), first["total"], first["next"]) == (2, 3, 2)
    q.offset = 2
    last = page_performance(store, q)
    assert ([r["path"] for r in last["data"]], last["total"], last["next"]) == (["/docs"], 3, None)


def test_filters_select_views_after_time_on_page_is_measured(
    store: EventStore, project: str
) -> None:
    home = parse_filters([{"name": "path", "operator": "is", "value": ["/"]}])
    assert rows(store, project, filters=home) == [("/", 2, 2, 2, 50.0, 1, 120.0)]
    nothing = parse_filters([{"name": "name", "operator": "is", "value": ["signup"]}])
    assert rows(store, project, filters=nothing) == []


def test_a_window_without_page_views_is_empty(store: EventStore, project: str) -> None:
    later = window()
    empty = type(later)(later.end + timedelta(days=1), later.end + timedelta(days=2), "UTC")
    result = page_performance(store, PageQuery(project_id=project, window=empty))
    assert (result["data"], result["total"], result["next"]) == ([], 0, None)
