"""The chart engine over real chDB: every segment, property aggregates, filters, formulas, the
previous period and timezone bucketing, with numbers worked out by hand from the rows."""

from __future__ import annotations

import pytest

from embedded_db.errors import ValidationError
from embedded_db.store import EventStore
from tests.embedded_db.reports.chart_fixtures import Events, by_name, counts


@pytest.fixture(scope="module")
def shop(store: EventStore) -> Events:
    """Three days (2026-03-02..04, UTC); the last one has no events.

    day 1: u1 views /a twice (s1, price 10, pro, SE) and buys (revenue 3000, price 30);
           u2 views /b (s2, price 5, free, US)
    day 2: u1 views /a (s3, pro, no price); u3 views /c (s4, price 'abc', free, DE);
           u4 views /d from a server (no session, price 2, US)
    """
    ev = Events(store)
    ev.add("screen_view", "2026-03-02 10:00", "u1", "s1", {"price": "10", "plan": "pro"},
           country="SE", path="/a", groups=["g1"])  # fmt: skip
    ev.add("screen_view", "2026-03-02 10:05", "u1", "s1", {"price": "10", "plan": "pro"},
           country="SE", path="/a", groups=["g1", "g2"])  # fmt: skip
    ev.add("purchase", "2026-03-02 10:10", "u1", "s1", {"price": "30"}, country="SE", revenue=3000)
    ev.add("screen_view", "2026-03-02 11:00", "u2", "s2", {"price": "5", "plan": "free"},
           country="US", path="/b")  # fmt: skip
    ev.add("screen_view", "2026-03-03 09:00", "u1", "s3", {"plan": "pro"}, country="SE", path="/a")
    ev.add("screen_view", "2026-03-03 09:30", "u3", "s4", {"price": "abc", "plan": "free"},
           country="DE", path="/c", groups=["g3"])  # fmt: skip
    ev.add("screen_view", "2026-03-03 12:00", "u4", "", {"price": "2"}, country="US", path="/d")
    return ev.save()


def one(result: dict) -> dict:
    [serie] = result["series"]
    return serie


@pytest.mark.parametrize(
    ("segment", "data", "count"),
    [
        ("event", [3, 3, 0], 6),
        ("user", [2, 3, 0], 4),
        ("session", [2, 2, 0], 4),  # the server event has no session
        ("group", [2, 1, 0], 3),
        ("user_average", [1.5, 1, 0], 1.5),
        ("one_event_per_user", [1, 3, 0], 4),  # u1, u3, u4 last seen on day 2
    ],
)
def test_segments(shop: Events, segment: str, data: list, count: float) -> None:
    serie = one(shop.chart(series=[{"name": "screen_view", "segment": segment}]))
    assert counts(serie) == data
    assert serie["metrics"]["count"] == count
    assert serie["metrics"]["sum"] == sum(data)


@pytest.mark.parametrize(
    ("segment", "data", "count"),
    [
        ("property_sum", [25, 2, 0], 27),
        ("property_average", [8.33, 2, 0], 6.75),  # 'abc' and a missing price are skipped
        ("property_max", [10, 2, 0], 10),
        ("property_min", [5, 2, 0], 2),
    ],
)
def test_property_aggregates(shop: Events, segment: str, data: list, count: float) -> None:
    series = [{"name": "screen_view", "segment": segment, "property": "properties.price"}]
    serie = one(shop.chart(series=series))
    assert counts(serie) == data and serie["metrics"]["count"] == count


def test_revenue_column_and_any_event(shop: Events) -> None:
    revenue = [{"name": "purchase", "segment": "property_sum", "property": "revenue"}]
    assert counts(one(shop.chart(series=revenue))) == [3000, 0, 0]
    assert counts(one(shop.chart(series=[{"name": "*"}]))) == [4, 3, 0]


def test_output_shape_and_metrics(shop: Events) -> None:
    result = shop.chart(series=[{"name": "screen_view", "displayName": "Views"}])
    serie = one(result)
    assert serie["names"] == ["Views"]
    assert serie["event"] == {"id": "A", "name": "screen_view", "breakdowns": {}}
    assert serie["id"] == "A-screen_view"
    assert serie["metrics"] == {"sum": 6, "average": 2, "min": 0, "max": 3, "count": 6}
    assert [p["date"] for p in serie["data"]] == [
        "2026-03-02T00:00:00+00:00",
        "2026-03-03T00:00:00+00:00",
        "2026-03-04T00:00:00+00:00",
    ]
    assert "previous" not in serie["data"][0]
    assert result["metrics"] == {"sum": 6, "average": 2, "min": 0, "max": 3}


def test_series_sorted_by_sum_and_lettered(shop: Events) -> None:
    result = shop.chart(series=[{"name": "purchase"}, {"name": "screen_view"}])
    assert [s["names"][0] for s in result["series"]] == ["(B) screen_view", "(A) purchase"]
    assert result["metrics"]["sum"] == 7 and result["metrics"]["max"] == 3


def test_global_and_series_filters_are_anded(shop: Events) -> None:
    result = shop.chart(
        series=[
            {
                "name": "screen_view",
                "filters": [{"name": "properties.plan", "operator": "is", "value": ["free"]}],
            },
            {"name": "screen_view", "displayName": "all"},
        ],
        globalFilters=[{"name": "country", "operator": "is", "value": ["SE", "US"]}],
    )
    series = by_name(result)
    assert counts(series["(A) screen_view"]) == [1, 0, 0]  # u2 only; u3 (free) is in DE
    assert counts(series["(B) all"]) == [3, 2, 0]


@pytest.mark.parametrize(
    "value",
    ["'; DROP TABLE openpanel.events; --", "back\\slash", "{start:String}", "ünï😀", '"', ""],
)
def test_hostile_filter_values_match_nothing(shop: Events, value: str) -> None:
    for operator in ("is", "contains", "startsWith"):
        flt = [{"name": "properties.plan", "operator": operator, "value": [value]}]
        serie = one(shop.chart(series=[{"name": "screen_view", "filters": flt}]))
        expected = 0 if value else (1 if operator == "is" else 6)  # '' is u4's missing plan
        assert serie["metrics"]["sum"] == expected, operator


@pytest.mark.parametrize("pattern", ["(?=pro)", "(?P<x>p)(?P=x)", "p{1,5000}"])
def test_regexes_re2_cannot_compile_are_refused(shop: Events, pattern: str) -> None:
    flt = [{"name": "properties.plan", "operator": "regex", "value": ["^p", pattern]}]
    with pytest.raises(ValidationError) as caught:
        shop.chart(series=[{"name": "e"}, {"name": "screen_view", "filters": flt}])
    assert caught.value.field == "series.1.filters.value"
    ok = [{"name": "properties.plan", "operator": "regex", "value": ["^p", "e$"]}]
    assert one(shop.chart(series=[{"name": "screen_view", "filters": ok}]))["metrics"]["sum"] == 5


def test_formula_per_bucket_with_division_by_zero(shop: Events) -> None:
    result = shop.chart(
        series=[
            {"name": "screen_view"},
            {"name": "screen_view", "segment": "user"},
            {"type": "formula", "formula": "A/B", "displayName": "views per user"},
        ]
    )
    series = by_name(result)
    assert counts(series["(C) views per user"]) == [1.5, 1, 0]  # day 3: 0/0 → 0
    assert series["(C) views per user"]["metrics"]["count"] == 1.5  # 6 views / 4 users
    assert counts(series["(A) screen_view"]) == [3, 3, 0]


def test_formula_can_hide_its_inputs(shop: Events) -> None:
    result = shop.chart(
        series=[
            {"name": "screen_view"},
            {"name": "purchase"},
            {"type": "formula", "formula": "(A + B) * 2", "hideSeries": ["A", "B"]},
        ]
    )
    serie = one(result)
    assert serie["names"] == ["(C) (A + B) * 2"] and counts(serie) == [8, 6, 0]


def test_report_formula_replaces_the_series(shop: Events) -> None:
    result = shop.chart(
        series=[{"name": "purchase"}, {"name": "screen_view"}], formula="A / B * 100"
    )
    serie = one(result)
    assert serie["names"] == ["A / B * 100"] and counts(serie) == [33.33, 0, 0]


def test_previous_period_aligned_by_bucket(store: EventStore) -> None:
    ev = Events(store)
    for when in ("2026-02-28 10:00", "2026-02-28 11:00", "2026-03-01 09:00"):  # previous
        ev.add("screen_view", when)
    for when in ("2026-03-02 10:00", "2026-03-03 10:00", "2026-03-03 11:00", "2026-03-03 12:00"):
        ev.add("screen_view", when)
    ev.add("screen_view", "2026-02-26 23:59")  # before the previous window
    result = ev.save().chart(series=[{"name": "screen_view"}], previous=True)
    serie = one(result)
    assert [p["previous"] for p in serie["data"]] == [
        {"diff": None, "state": "positive", "value": 0},
        {"diff": 50.0, "state": "positive", "value": 2},
        {"diff": -100.0, "state": "negative", "value": 1},
    ]
    assert serie["metrics"]["previous"]["sum"] == {"diff": 33.33, "state": "positive", "value": 3}
    assert serie["metrics"]["previous"]["count"]["value"] == 3
    assert result["metrics"]["previous"]["max"]["value"] == 2


def test_buckets_follow_the_project_timezone(store: EventStore) -> None:
    ev = Events(store)
    ev.add("screen_view", "2026-03-01 15:00")  # 03-02 00:00 in Seoul: first local day
    ev.add("screen_view", "2026-03-02 14:59")  # 03-02 23:59 in Seoul
    ev.add("screen_view", "2026-03-02 23:30")  # 03-03 08:30 in Seoul: the next local day
    ev.add("screen_view", "2026-03-01 14:59")  # 03-01 in Seoul: outside the window
    serie = one(ev.save().chart(tz="Asia/Seoul", series=[{"name": "screen_view"}]))
    assert counts(serie) == [2, 1, 0]
    assert serie["data"][1]["date"] == "2026-03-03T00:00:00+09:00"
    hourly = one(
        ev.chart(
            tz="Asia/Seoul", series=[{"name": "screen_view"}], interval="hour", endDate="2026-03-03"
        )
    )
    assert len(hourly["data"]) == 48
    assert {p["date"][11:16]: p["count"] for p in hourly["data"] if p["count"]} == {
        "00:00": 1,
        "23:00": 1,
        "08:00": 1,
    }


def test_month_interval(store: EventStore) -> None:
    ev = Events(store)
    ev.add("e", "2026-01-15 10:00").add("e", "2026-03-31 23:00").add("e", "2026-03-01 00:00")
    serie = one(
        ev.save().chart(
            series=[{"name": "e"}], startDate="2026-01-01", endDate="2026-03-31", interval="month"
        )
    )
    assert counts(serie) == [1, 0, 2]
    assert serie["data"][1]["date"] == "2026-02-01T00:00:00+00:00"


def test_pie_and_metric_sort_by_the_chosen_metric(shop: Events) -> None:
    series = [{"name": "screen_view", "segment": "user"}, {"name": "screen_view"}]
    result = shop.chart(series=series, chartType="metric", metric="max")
    assert [s["metrics"]["max"] for s in result["series"]] == [3, 3]
    result = shop.chart(series=series, chartType="pie", metric="count")
    assert [s["metrics"]["count"] for s in result["series"]] == [6, 4]
