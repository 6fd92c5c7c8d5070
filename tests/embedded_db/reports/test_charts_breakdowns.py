"""Chart breakdowns over real chDB: top groups, Others, paging, several dimensions, profile
properties, formulas per group, previous period per group and values that need escaping."""

from __future__ import annotations

import pytest

from embedded_db.store import EventStore
from tests.embedded_db.reports.chart_fixtures import Events, by_name, counts


@pytest.fixture(scope="module")
def paths(store: EventStore) -> Events:
    """Page views (UTC, window 2026-03-02..04):

    day 1: /a u1 (SE), /a u1 (SE), /b u2 (US), /c u1 (SE)
    day 2: /a u2 (US), /b u3 (SE), /d u1 (SE)
    previous window (02-27..03-01): /a u1 on 02-28, /e u2 on 03-01
    profiles: u1 plan=pro, u2 plan=free; u3 has none
    """
    ev = Events(store)
    for when, path, user, country in (
        ("2026-03-02 10:00", "/a", "u1", "SE"),
        ("2026-03-02 10:01", "/a", "u1", "SE"),
        ("2026-03-02 10:02", "/b", "u2", "US"),
        ("2026-03-02 10:03", "/c", "u1", "SE"),
        ("2026-03-03 10:00", "/a", "u2", "US"),
        ("2026-03-03 10:01", "/b", "u3", "SE"),
        ("2026-03-03 10:02", "/d", "u1", "SE"),
        ("2026-02-28 10:00", "/a", "u1", "SE"),
        ("2026-03-01 10:00", "/e", "u2", "US"),
    ):
        ev.add("screen_view", when, user, path=path, country=country)
    ev.profile("u1", {"plan": "pro"}, email="one@example.com").profile("u2", {"plan": "free"})
    return ev.save()


def test_top_groups_and_others(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view"}], breakdowns=[{"name": "path"}], limit=2, others=True
    )
    assert [(s["names"], counts(s)) for s in result["series"]] == [
        (["screen_view", "/a"], [2, 1, 0]),
        (["screen_view", "/b"], [1, 1, 0]),
        (["screen_view", "Others"], [1, 1, 0]),  # /c on day 1, /d on day 2
    ]
    assert result["series"][0]["event"]["breakdowns"] == {"path": "/a"}
    assert result["series"][2]["others"] is True and result["metrics"]["sum"] == 7


def test_others_of_unique_users_is_not_a_sum(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view", "segment": "user"}],
        breakdowns=[{"name": "path"}],
        limit=2,
        others=True,
    )
    series = by_name(result)
    assert set(series) == {"screen_view / /a", "screen_view / /b", "screen_view / Others"}
    others = series["screen_view / Others"]
    assert counts(others) == [1, 1, 0] and others["metrics"]["count"] == 1  # only u1


def test_without_others_the_rest_is_dropped_and_offset_pages(paths: Events) -> None:
    top = paths.chart(series=[{"name": "screen_view"}], breakdowns=[{"name": "path"}], limit=2)
    assert [s["names"][1] for s in top["series"]] == ["/a", "/b"]
    page = paths.chart(
        series=[{"name": "screen_view"}], breakdowns=[{"name": "path"}], limit=2, offset=2
    )
    assert sorted(s["names"][1] for s in page["series"]) == ["/c", "/d"]


def test_two_dimensions(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view"}], breakdowns=[{"name": "country"}, {"name": "path"}]
    )
    found = {tuple(s["names"][1:]): counts(s) for s in result["series"]}
    assert found == {
        ("SE", "/a"): [2, 0, 0],
        ("US", "/b"): [1, 0, 0],
        ("SE", "/c"): [1, 0, 0],
        ("US", "/a"): [0, 1, 0],
        ("SE", "/b"): [0, 1, 0],
        ("SE", "/d"): [0, 1, 0],
    }
    first = result["series"][0]
    assert first["event"]["breakdowns"] == {"country": "SE", "path": "/a"}


def test_profile_property_and_column_breakdowns(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view"}], breakdowns=[{"name": "profile.properties.plan"}]
    )
    found = {s["names"][1]: counts(s) for s in result["series"]}
    assert found == {"pro": [3, 1, 0], "free": [1, 1, 0], "": [0, 1, 0]}
    emails = paths.chart(series=[{"name": "screen_view"}], breakdowns=[{"name": "profile.email"}])
    assert {s["names"][1]: s["metrics"]["sum"] for s in emails["series"]} == {
        "one@example.com": 4,
        "": 3,
    }


def test_one_event_per_user_with_a_profile_breakdown_and_profile_filters(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view", "segment": "one_event_per_user"}],
        breakdowns=[{"name": "profile.properties.plan"}],
    )
    found = {s["names"][1]: counts(s) for s in result["series"]}
    assert found == {"pro": [0, 1, 0], "free": [0, 1, 0], "": [0, 1, 0]}  # all last seen day 2
    only_pro = paths.chart(
        series=[{"name": "screen_view"}],
        breakdowns=[{"name": "path"}],
        globalFilters=[{"name": "profile.properties.plan", "operator": "is", "value": ["pro"]}],
    )
    found = {s["names"][1]: counts(s) for s in only_pro["series"]}
    assert found == {"/a": [2, 0, 0], "/c": [1, 0, 0], "/d": [0, 1, 0]}


def test_formula_is_computed_per_group(paths: Events) -> None:
    result = paths.chart(
        series=[
            {"name": "screen_view"},
            {"name": "screen_view", "segment": "user"},
            {"type": "formula", "formula": "A/B", "hideSeries": True},
        ],
        breakdowns=[{"name": "path"}],
        limit=2,
    )
    found = {s["names"][1]: counts(s) for s in result["series"]}
    assert found == {"/a": [2, 1, 0], "/b": [1, 1, 0]}  # /a: 2 views by u1 on day 1
    assert {s["names"][0] for s in result["series"]} == {"(C) A/B"}


def test_previous_period_per_group(paths: Events) -> None:
    result = paths.chart(
        series=[{"name": "screen_view"}], breakdowns=[{"name": "path"}], limit=2, previous=True
    )
    series = by_name(result)
    a = series["screen_view / /a"]
    assert [p["previous"]["value"] for p in a["data"]] == [0, 1, 0]  # 02-28 is index 1
    assert a["metrics"]["previous"]["sum"]["value"] == 1
    b = series["screen_view / /b"]
    assert b["metrics"]["previous"]["count"]["value"] == 0  # /e is not a current group


def test_map_breaks_down_by_country(paths: Events) -> None:
    result = paths.chart(series=[{"name": "screen_view"}], chartType="map")
    assert {s["names"][1]: s["metrics"]["sum"] for s in result["series"]} == {"SE": 5, "US": 2}


def test_no_events_means_no_groups(paths: Events) -> None:
    result = paths.chart(series=[{"name": "nothing"}], breakdowns=[{"name": "path"}], others=True)
    assert result == {"series": [], "metrics": {"sum": 0, "average": 0, "min": 0, "max": 0}}


def test_group_values_that_need_escaping_round_trip(store: EventStore) -> None:
    values = ["it's", "back\\slash", "new\nline", "ünï😀", "{x:String}", "[]", ""]
    ev = Events(store)
    for i, value in enumerate(values):
        for _ in range(i + 1):
            ev.add("click", "2026-03-02 10:00", props={"label": value})
    result = ev.save().chart(
        series=[{"name": "click"}], breakdowns=[{"name": "properties.label"}], limit=20
    )
    assert [(s["names"][1], s["metrics"]["sum"]) for s in result["series"]] == [
        (value, i + 1) for i, value in reversed(list(enumerate(values)))
    ]
