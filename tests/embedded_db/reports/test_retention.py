"""Retention cohorts over hand-built events days and weeks apart (real chDB); matrices by hand.

Daily fixture, range 03-02 … 03-05 (four cohorts, periods 0-3), start = return = `open`:
  pA: open 03-02 10:00, 03-03, 03-05; purchase 03-02 09:00 (before its first open), 03-04
  pB: open 03-02 15:00, 03-04
  pC: open 03-03, 03-06 (after the range: still read, period 3)
  pD: open 03-04, 03-05
  pE: only `other` events
  pF: open 03-01 (before the range: no look-back), 03-03
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.retention import RetentionQuery, retention
from embedded_db.store import EventStore
from tests.embedded_db.reports.analysis_fixtures import Events, at, day_window

FAR = datetime(2030, 1, 1, tzinfo=UTC)
DAYS = day_window("2026-03-02", "2026-03-05")


def day(n: int, hour: int = 12) -> datetime:
    """03-02 (n = 0) + n days at `hour`:00 UTC."""
    return at(days=n, hours=hour - 12)


@pytest.fixture(scope="module")
def app(store: EventStore) -> str:
    ev = Events(store)
    for profile, days in {
        "pA": [0, 1, 3],
        "pB": [0, 2],
        "pC": [1, 4],
        "pD": [2, 3],
        "pF": [-1, 1],
    }.items():
        for n in days:
            ev.add("open", day(n, 15 if profile == "pB" else 10), f"{profile}{n}", profile)
    ev.add("purchase", day(0, 9), "pA0", "pA").add("purchase", day(2), "pA2", "pA")
    ev.add("other", day(0), "pE0", "pE", country="GB").add("other", day(1), "pE1", "pE")
    ev.add("session_end", day(2), "pE1", "pE")  # synthetic: not a return on day 2
    return ev.save().project


def matrix(result: dict[str, Any]) -> list[tuple[str, int, list[int | None]]]:
    return [
        (c["date"][:10], c["size"], [v and v["count"] for v in c["values"]])
        for c in result["cohorts"]
    ]


def run(store: EventStore, project: str, **options: Any) -> dict[str, Any]:
    options.setdefault("window", DAYS)
    options.setdefault("now", FAR)
    return retention(store, RetentionQuery(project_id=project, **options))


def test_on_counts_returns_in_exactly_that_period(store: EventStore, app: str) -> None:
    result = run(store, app, criteria="on", start_events=["open"])
    assert matrix(result) == [
        ("2026-03-02", 2, [2, 1, 1, 1]),  # pA, pB: pA day 1 and 3, pB day 2
        ("2026-03-03", 2, [2, 0, 0, 1]),  # pC, pF: pC again on 03-06
        ("2026-03-04", 1, [1, 1, 0, 0]),  # pD
        ("2026-03-05", 0, [0, 0, 0, 0]),
    ]
    first = result["cohorts"][0]["values"]
    assert [v["percent"] for v in first] == [100.0, 50.0, 50.0, 50.0]
    overall = result["overall"]
    assert overall["size"] == 5
    assert [(v["count"], v["size"], v["percent"]) for v in overall["values"]] == [
        (5, 5, 100.0),
        (2, 5, 40.0),
        (1, 5, 20.0),
        (2, 5, 40.0),
    ]


def test_on_or_after_counts_any_later_return(store: EventStore, app: str) -> None:
    result = run(store, app, criteria="on_or_after", start_events=["open"])
    assert matrix(result) == [
        ("2026-03-02", 2, [2, 2, 2, 1]),  # pA last seen day 3, pB day 2
        ("2026-03-03", 2, [2, 1, 1, 1]),  # pC last seen day 3, pF day 0
        ("2026-03-04", 1, [1, 1, 0, 0]),
        ("2026-03-05", 0, [0, 0, 0, 0]),
    ]


def test_periods_not_started_yet_are_null(store: EventStore, app: str) -> None:
    now = datetime(2026, 3, 5, 12, tzinfo=UTC)  # day 3: periods starting 03-06 are future
    result = run(store, app, criteria="on", start_events=["open"], now=now)
    assert matrix(result) == [
        ("2026-03-02", 2, [2, 1, 1, 1]),
        ("2026-03-03", 2, [2, 0, 0, None]),
        ("2026-03-04", 1, [1, 1, None, None]),
        ("2026-03-05", 0, [0, None, None, None]),
    ]
    assert [(v["count"], v["size"], v["percent"]) for v in result["overall"]["values"]] == [
        (5, 5, 100.0),
        (2, 5, 40.0),
        (1, 4, 25.0),
        (1, 2, 50.0),
    ]


def test_a_different_return_event_counts_only_after_the_start(store: EventStore, app: str) -> None:
    result = run(store, app, criteria="on", start_events=["open"], return_events=["purchase"])
    # pA's 09:00 purchase precedes its 10:00 open; its 03-04 purchase is period 2.
    assert matrix(result)[0] == ("2026-03-02", 2, [0, 0, 1, 0])
    assert result["returnEvents"] == ["purchase"]


def test_without_a_start_event_any_real_event_counts(store: EventStore, app: str) -> None:
    result = run(store, app, criteria="on")
    # pE joins 03-02 through `other` (its session_end is not activity). Active days: pA 0, 1,
    # 2 (purchase), 3; pB 0, 2; pE 0, 1.
    assert matrix(result)[0] == ("2026-03-02", 3, [3, 2, 2, 1])
    assert result["startEvents"] == [] and result["returnEvents"] == []


def test_filters_narrow_the_visitors(store: EventStore, app: str) -> None:
    gb = parse_filters([{"name": "country", "operator": "is", "value": ["GB"]}])
    result = run(store, app, criteria="on", filters=gb)
    assert matrix(result)[0] == ("2026-03-02", 1, [1, 0, 0, 0])  # pE; its 03-03 event is not GB


def test_weekly_cohorts_start_on_monday(store: EventStore) -> None:
    ev = Events(store)
    for n in (1, 8, 22):  # Tue 03-03 (week 0), Tue 03-10 (week 1), Tue 03-24 (week 3)
        ev.add("open", day(n), f"w1-{n}", "w1")
    for n in (9, 10, 14):  # Wed 03-11, Thu 03-12 (same week), Mon 03-16 (next week)
        ev.add("open", day(n), f"w2-{n}", "w2")
    ev.save()
    window = day_window("2026-03-02", "2026-03-22")  # three Monday weeks
    on = run(store, ev.project, window=window, interval="week", criteria="on")
    assert matrix(on) == [
        ("2026-03-02", 1, [1, 1, 0]),
        ("2026-03-09", 1, [1, 1, 0]),
        ("2026-03-16", 0, [0, 0, 0]),
    ]
    after = run(store, ev.project, window=window, interval="week", criteria="on_or_after")
    # w1's return in week 3 lies past the matrix but is still "on or after" week 2.
    assert matrix(after)[:2] == [("2026-03-02", 1, [1, 1, 1]), ("2026-03-09", 1, [1, 1, 0])]


def test_monthly_cohorts(store: EventStore) -> None:
    ev = Events(store)
    ev.add("open", datetime(2026, 1, 31, 23, tzinfo=UTC), "m1", "m1")
    ev.add("open", datetime(2026, 2, 1, 1, tzinfo=UTC), "m2", "m1")  # next month: period 1
    ev.add("open", datetime(2026, 2, 15, tzinfo=UTC), "m3", "m2").save()
    window = day_window("2026-01-01", "2026-02-28")
    result = run(store, ev.project, window=window, interval="month", criteria="on")
    assert matrix(result) == [("2026-01-01", 1, [1, 1]), ("2026-02-01", 1, [1, 0])]


def test_cohort_days_are_local_to_the_project(store: EventStore) -> None:
    # Los Angeles is UTC-8 in early March: 03-03 06:00 UTC is 03-02 22:00 local, 09:00 UTC is
    # 03-03 01:00 local. In UTC both are the same day; locally the second is a day later.
    ev = Events(store)
    ev.add("open", datetime(2026, 3, 3, 6, tzinfo=UTC), "l1", "l1")
    ev.add("open", datetime(2026, 3, 3, 9, tzinfo=UTC), "l2", "l1")
    ev.add("open", datetime(2026, 3, 2, 7, tzinfo=UTC), "l3", "l2")  # 03-01 23:00 local: before
    ev.save()
    window = day_window("2026-03-02", "2026-03-03", "America/Los_Angeles")
    result = run(store, ev.project, window=window, criteria="on")
    assert [c["date"] for c in result["cohorts"]] == [
        "2026-03-02T00:00:00-08:00",
        "2026-03-03T00:00:00-08:00",
    ]
    assert matrix(result) == [("2026-03-02", 1, [1, 1]), ("2026-03-03", 0, [0, 0])]


def test_bad_options_are_refused(store: EventStore, app: str) -> None:
    for options, field in (
        ({"interval": "hour"}, "interval"),
        ({"criteria": "sometimes"}, "criteria"),
        ({"window": day_window("2025-01-01", "2026-01-01")}, "interval"),  # 366 daily cohorts
    ):
        with pytest.raises(ValidationError) as exc:
            run(store, app, **options)
        assert exc.value.field == field


def test_a_regex_re2_cannot_compile_is_a_validation_error(store: EventStore, app: str) -> None:
    flt = parse_filters([{"name": "name", "operator": "regex", "value": ["(?!open)"]}])
    with pytest.raises(ValidationError) as exc:
        run(store, app, filters=flt)
    assert exc.value.field == "filters.value"
