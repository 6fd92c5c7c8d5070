"""Funnels over hand-built events with explicit times (real chDB); expected values by hand.

Steps: A = screen_view of /pricing, B = signup, C = purchase. Minutes after T0 (03-02 12:00 UTC):
  s1: A0  B10  C30         → 3 steps, 30 min to convert
  s2: A0  B20              → 2
  s3: B0  A5   C6          → 1 (B before A does not count)
  s4: A0  B60  C61         → 3 in 24 h (61 min); with a 1 h window only 2 (C is 61 min after A)
  s5: A0  B60m1s           → 2 in 24 h; with a 1 h window 1 (B just outside)
  s6: /home                → not in the funnel
  s7: A0  B1   C2          → 3, 2 min
"""

from __future__ import annotations

from typing import Any

import pytest

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.funnels import FunnelQuery, Step, funnel, group_sql, parse_steps
from embedded_db.store import EventStore
from tests.embedded_db.reports.analysis_fixtures import Events, at, day_window

PRICING = {
    "name": "screen_view",
    "filters": [{"name": "path", "operator": "is", "value": ["/pricing"]}],
}
ABC = parse_steps([PRICING, "signup", "purchase"])
AB = ABC[:2]
DAY = day_window("2026-03-02", "2026-03-02")


@pytest.fixture(scope="module")
def shop(store: EventStore) -> str:
    ev = Events(store)
    ev.steps("s1", "u1", ("/pricing", at(0)), ("signup", at(10)), ("purchase", at(30)))
    ev.steps("s2", "u2", ("/pricing", at(0)), ("signup", at(20)))
    ev.steps("s3", "u3", ("signup", at(0)), ("/pricing", at(5)), ("purchase", at(6)))
    ev.steps("s4", "u4", ("/pricing", at(0)), ("signup", at(60)), ("purchase", at(61)))
    ev.steps("s5", "u5", ("/pricing", at(0)), ("signup", at(60, seconds=1)))
    ev.steps("s6", "u6", ("/home", at(0)))
    ev.steps("s7", "u7", ("/pricing", at(0)), ("signup", at(1)), ("purchase", at(2)))
    return ev.save().project


def run(store: EventStore, project: str, steps: list[Step] = ABC, **options: Any) -> dict[str, Any]:
    return funnel(store, FunnelQuery(project_id=project, window=DAY, steps=steps, **options))


def counts(result: dict[str, Any]) -> list[int]:
    return [s["count"] for s in result["steps"]]


def test_steps_count_ordered_completions_with_drop_offs(store: EventStore, shop: str) -> None:
    result = run(store, shop)
    assert counts(result) == [6, 5, 3]
    a, b, c = result["steps"]
    assert (a["percent"], b["percent"], c["percent"]) == (100.0, 83.33, 50.0)
    assert (b["previousCount"], b["lostFromPrevious"], b["lostFromPreviousPercent"]) == (
        6,
        1,
        16.67,
    )
    assert (c["previousCount"], c["lostFromPrevious"], c["lostFromPreviousPercent"]) == (5, 2, 40.0)
    assert (a["dropoffCount"], a["dropoffPercent"], a["nextCount"]) == (1, 16.67, 5)
    assert (b["dropoffCount"], b["dropoffPercent"]) == (2, 40.0)
    assert c["dropoffCount"] is None and c["nextCount"] is None
    assert [s["isHighestDropoff"] for s in result["steps"]] == [False, True, False]
    assert [s["label"] for s in result["steps"]] == ["/pricing", "signup", "purchase"]
    assert result["totals"]["first"] == 6 and result["totals"]["converted"] == 3
    assert result["totals"]["conversion"] == 50.0
    assert (result["totalUsers"], result["completedUsers"], result["overallConversionRate"]) == (
        6,
        3,
        50.0,
    )


def test_time_to_convert_and_per_step_times(store: EventStore, shop: str) -> None:
    result = run(store, shop)
    # Converted: s7 120 s, s1 1800 s, s4 3660 s.
    assert result["totals"]["timeToConvert"] == {
        "convertedGroups": 3,
        "medianSeconds": 1800.0,
        "averageSeconds": 1860.0,
    }
    # A→B: s7 60, s1 600, s2 1200, s4 3600, s5 3601; B→C: s7 60, s4 60, s1 1200.
    assert result["steps"][0]["time"] is None
    assert result["steps"][1]["time"] == {"medianSeconds": 1200.0, "averageSeconds": 1812.2}
    assert result["steps"][2]["time"] == {"medianSeconds": 60.0, "averageSeconds": 440.0}


def test_the_window_bounds_each_chain_from_its_first_step(store: EventStore, shop: str) -> None:
    result = run(store, shop, window_hours=1)
    # s4 reaches B at exactly 60 min (inside) but not C; s5's B is one second too late.
    assert counts(result) == [6, 4, 2]
    assert result["totals"]["timeToConvert"]["medianSeconds"] == 960.0  # s7 120, s1 1800


def test_the_level_matches_the_replayed_chain(store: EventStore, shop: str) -> None:
    sql, params = group_sql(FunnelQuery(shop, DAY, ABC, window_hours=1), DAY)
    rows = store.query(sql, params)
    assert {r["g"]: r["level"] for r in rows} == {
        "s1": 3,
        "s2": 2,
        "s3": 1,
        "s4": 2,
        "s5": 1,
        "s7": 3,
    }
    assert all(len(r["path"]) == r["level"] for r in rows)


def test_same_millisecond_steps_do_not_chain(store: EventStore) -> None:
    ev = Events(store).steps("s1", "u1", ("/pricing", at(0)), ("signup", at(0)))
    ev.steps("s2", "u2", ("/pricing", at(0)), ("signup", at(0, seconds=0.001))).save()
    assert counts(run(store, ev.project, AB)) == [2, 1]


def test_the_suggestions_name_the_biggest_drop_off(store: EventStore, shop: str) -> None:
    [top] = [s for s in run(store, shop)["suggestions"] if s["kind"] == "biggest_dropoff"]
    assert (top["from"], top["to"], top["lost"], top["percent"]) == ("signup", "purchase", 2, 40.0)
    assert top["text"] == (
        "40% of visits that reached signup did not go on to purchase within 24 h (2 lost)."
    )


@pytest.fixture(scope="module")
def visitors(store: EventStore) -> str:
    """u8 sees /pricing in one visit and signs up in a visit two hours later; d9 browses
    anonymously and signs up as user9 in the same visit (its visit row is user9's)."""
    ev = Events(store)
    ev.steps("s8a", "u8", ("/pricing", at(0))).visit("s8a", "u8", at(0))
    ev.steps("s8b", "u8", ("signup", at(120))).visit("s8b", "u8", at(120))
    ev.add("screen_view", at(0), "s9", "d9", path="/pricing")
    ev.add("signup", at(3), "s9", "user9", device="d9").visit("s9", "user9", at(0), device="d9")
    return ev.save().project


def test_visit_grouping_keeps_visits_apart(store: EventStore, visitors: str) -> None:
    assert counts(run(store, visitors, AB)) == [2, 1]  # s8a stops, s9 converts


def test_visitor_grouping_joins_visits_and_identities(store: EventStore, visitors: str) -> None:
    result = run(store, visitors, AB, group="profile_id")
    assert counts(result) == [2, 2]
    assert result["totals"]["timeToConvert"]["medianSeconds"] == 3690.0  # (7200 + 180) / 2
    assert counts(run(store, visitors, AB, group="profile_id", window_hours=1)) == [2, 1]


@pytest.fixture(scope="module")
def browsers(store: EventStore) -> str:
    """Per browser: visits with A, and how many of them go on to B."""
    ev = Events(store)
    plan: dict[str, tuple[int, int]] = {
        "Chrome": (5, 4),
        "Safari": (4, 1),
        "Firefox": (1, 0),
        "": (1, 1),
    }
    n = 0
    for browser, (visits, converted) in plan.items():
        for i in range(visits):
            n += 1
            session, props = f"s{n}", {"plan": "pro" if n % 2 else "free"}
            ev.add(
                "screen_view",
                at(n),
                session,
                f"u{n}",
                path="/pricing",
                browser=browser,
                props=props,
            )
            if i < converted:
                ev.add("signup", at(n, seconds=30), session, f"u{n}", browser="changed")
    return ev.save().project


def test_breakdown_by_column_uses_the_first_step_value(store: EventStore, browsers: str) -> None:
    result = run(store, browsers, AB, breakdown="browser")
    assert counts(result) == [11, 6]
    series = result["breakdown"]["series"]
    assert [(s["value"], [st["count"] for st in s["steps"]]) for s in series] == [
        ("Chrome", [5, 4]),
        ("Safari", [4, 1]),
        ("(not set)", [1, 1]),  # ties are ordered by value
        ("Firefox", [1, 0]),
    ]
    assert series[1]["totals"] == {"first": 4, "converted": 1, "conversion": 25.0}


def test_breakdown_by_property(store: EventStore, browsers: str) -> None:
    series = run(store, browsers, AB, breakdown="properties.plan")["breakdown"]["series"]
    # Odd visits (1,3,5,7,9,11) are pro; converted: 1-4 (Chrome), 6 (Safari), 11 (not set).
    assert [(s["value"], s["totals"]["first"], s["totals"]["converted"]) for s in series] == [
        ("pro", 6, 3),  # 1, 3, 11
        ("free", 5, 3),  # 2, 4, 6
    ]


def test_breakdown_keeps_ten_values_and_merges_the_rest(store: EventStore) -> None:
    ev = Events(store)
    for n in range(12):
        ev.add("screen_view", at(n), f"s{n}", f"u{n}", path="/pricing", props={"v": f"v{n:02d}"})
    ev.add("screen_view", at(30), "s99", "u99", path="/pricing", props={"v": "v11"})
    ev.add("signup", at(31), "s99", "u99").save()
    series = run(store, ev.project, AB, breakdown="properties.v")["breakdown"]["series"]
    assert [s["value"] for s in series] == ["v11"] + [f"v{n:02d}" for n in range(9)] + ["(other)"]
    assert series[0]["totals"] == {"first": 2, "converted": 1, "conversion": 50.0}
    assert series[-1]["totals"] == {"first": 2, "converted": 0, "conversion": 0.0}  # v09, v10


def test_filters_apply_to_steps_and_to_the_whole_funnel(store: EventStore, browsers: str) -> None:
    chrome = parse_filters([{"name": "browser", "operator": "is", "value": ["Chrome"]}])
    # The global filter applies to every step's events: signups are "changed", so none match.
    assert counts(run(store, browsers, AB, filters=chrome)) == [5, 0]
    steps = [Step("screen_view", chrome), Step("signup")]
    assert counts(run(store, browsers, steps)) == [5, 4]


def test_hostile_values_are_just_values(store: EventStore, shop: str) -> None:
    hostile = ["x' OR 1=1 --", "\\", "{project:String}", "ünï😀", "%_"]
    for value in hostile:
        flt = parse_filters([{"name": "properties.a b", "operator": "contains", "value": [value]}])
        assert counts(run(store, shop, AB, filters=flt)) == [0, 0]
        assert counts(run(store, shop, [Step(value), Step("signup")])) == [0, 0]


def test_previous_period_is_compared(store: EventStore) -> None:
    ev = Events(store)
    ev.steps("p1", "u1", ("/pricing", at(0, days=-1)), ("signup", at(5, days=-1)))
    ev.steps("s1", "u1", ("/pricing", at(0)), ("signup", at(5)))
    ev.steps("s2", "u2", ("/pricing", at(0))).save()
    result = run(store, ev.project, AB, previous=True)
    assert counts(result) == [2, 1]
    before = result["previous"]
    assert [s["count"] for s in before["steps"]] == [1, 1]
    assert before["totals"]["conversion"] == 100.0
    assert before["change"] == {"diff": -50.0, "state": "negative", "value": 100.0}


def test_bad_funnels_are_refused() -> None:
    with pytest.raises(ValidationError) as one:
        parse_steps(["a"])
    assert one.value.field == "steps"
    with pytest.raises(ValidationError) as bad_name:
        parse_steps(["a", {"name": ""}])
    assert bad_name.value.field == "steps.1.name"
    with pytest.raises(ValidationError) as bad_filter:
        parse_steps(["a", {"name": "b", "filters": [{"name": "path", "operator": "drop"}]}])
    assert bad_filter.value.field == "steps.1.filters.0.operator"
    for options, field in (
        ({"window_hours": 0}, "window"),
        ({"group": "device_id"}, "group"),
        ({"breakdown": "profile.email"}, "breakdown"),
        ({"breakdown": "properties.*"}, "breakdown"),
        ({"breakdown": "nope"}, "breakdown"),
    ):
        with pytest.raises(ValidationError) as exc:
            group_sql(FunnelQuery("p", DAY, AB, **options), DAY)  # type: ignore[arg-type]
        assert exc.value.field == field
    regex = [
        Step("a", parse_filters([{"name": "path", "operator": "regex", "value": ["("]}])),
        Step("b"),
    ]
    with pytest.raises(ValidationError) as bad_regex:
        group_sql(FunnelQuery("p", DAY, regex), DAY)
    assert bad_regex.value.field == "steps.0.filters.value"


def test_a_regex_re2_cannot_compile_is_a_validation_error(store: EventStore, shop: str) -> None:
    for pattern in ("(?=/pricing)", "(/p)\\1"):  # valid for Python's re, not for RE2
        flt = parse_filters([{"name": "path", "operator": "regex", "value": [pattern]}])
        with pytest.raises(ValidationError) as exc:
            run(store, shop, AB, filters=flt)
        assert exc.value.field == "filters.value"
