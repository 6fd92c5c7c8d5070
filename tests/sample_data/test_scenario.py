"""The scenario generator: deterministic, timeout-safe, and shaped like real traffic."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from sample_data.expected import FUNNEL_STEPS, expected, funnel_step
from sample_data.plans import DAY_MS, MAX_THINK_MS, RETURN_GAP_MS, Funnel, Scenario, VisitPlan
from sample_data.scenario import Generator, generate, sized
from sample_data.site import ORIGIN, PLACES, SOURCES
from sample_data.traffic import requests

WEEK = Scenario(seed=7, days=14, visits_per_day=1500)


@pytest.fixture(scope="module")
def week() -> tuple[Generator, list[VisitPlan]]:
    gen = Generator(WEEK)
    plans = [plan for day in gen.days() for plan in day]
    return gen, plans


def test_the_same_seed_gives_the_same_plans_and_another_seed_does_not() -> None:
    small = Scenario(seed=3, days=2, visits_per_day=200)
    first = [p for day in generate(small) for p in day]
    again = [p for day in generate(small) for p in day]
    other = [p for day in generate(Scenario(seed=4, days=2, visits_per_day=200)) for p in day]
    assert first == again
    assert first != other


def test_hits_stay_inside_the_scenario_in_order(week: tuple[Generator, list[VisitPlan]]) -> None:
    _, plans = week
    for plan in plans:
        times = [h.at_ms for h in plan.hits]
        assert times == sorted(times)
        assert WEEK.start_ms <= times[0] and times[-1] < WEEK.end_ms
        assert plan.hits[0].name == "screen_view" and plan.hits[0].url is not None
        assert all(b - a <= MAX_THINK_MS for a, b in pairwise(times))


def test_a_visitors_visits_are_further_apart_than_the_timeout(
    week: tuple[Generator, list[VisitPlan]],
) -> None:
    _, plans = week
    last_end: dict[int, int] = {}
    returning = 0
    for plan in sorted(plans, key=lambda p: p.start_ms):
        if plan.visitor in last_end:
            returning += 1
            assert plan.start_ms - last_end[plan.visitor] >= RETURN_GAP_MS
        last_end[plan.visitor] = plan.end_ms
    assert returning > len(plans) * 0.15  # retention exists


def test_every_visitor_is_a_distinct_browser(week: tuple[Generator, list[VisitPlan]]) -> None:
    gen, _ = week
    pool = gen.visitors
    pairs = {(pool.ip[v], pool.ua[v]) for v in range(len(pool))}
    assert len(pairs) == len(pool)
    assert len({pool.ip[v] for v in range(len(pool))}) == len(pool)


def test_bounces_funnel_and_revenue_look_real() -> None:
    want = expected(WEEK)
    assert 40 <= want.bounce_rate <= 55
    assert 2.0 <= want.pageviews / want.visits <= 3.5
    funnel = Funnel()
    for observed, known in zip(
        want.conversion(), (funnel.start, funnel.complete, funnel.purchase), strict=True
    ):
        assert abs(observed - known) < 0.05
    assert want.funnel_visits[-1] > 50 and len(want.funnel_visits) == len(FUNNEL_STEPS)
    assert want.revenue == 100 * sum(  # cents; every purchase is followed by its revenue event
        plan_amount for plan_amount in _purchase_amounts(WEEK)
    )
    for name in ("sign_up_started", "sign_up", "purchase", "link_out", "cta_clicked"):
        assert want.events[name] > 0
    assert want.events["session_start"] == want.events["session_end"] == want.visits


def _purchase_amounts(scenario: Scenario) -> list[int]:
    return [
        hit.props["amount"]
        for day in generate(scenario)
        for plan in day
        for hit in plan.hits
        if hit.name == "purchase"
    ]


def test_traffic_has_a_daily_and_a_weekly_rhythm(
    week: tuple[Generator, list[VisitPlan]],
) -> None:
    _, plans = week
    by_day = Counter((p.start_ms - WEEK.start_ms) // DAY_MS for p in plans)
    weekday_of = {
        d: datetime.fromtimestamp((WEEK.start_ms + d * DAY_MS) / 1000, UTC).weekday()
        for d in by_day
    }
    weekend = [n for d, n in by_day.items() if weekday_of[d] >= 5]
    weekdays = [n for d, n in by_day.items() if weekday_of[d] < 5 and d != WEEK.days // 2]
    assert max(weekend) < min(weekdays)
    london = [p for p in plans if _place(week[0], p).city == "London"]
    hours = Counter(datetime.fromtimestamp(p.start_ms / 1000, UTC).hour for p in london)
    assert hours[14] > 3 * hours[3]


def _place(gen: Generator, plan: VisitPlan):  # type: ignore[no-untyped-def]
    return PLACES[gen.visitors.place[plan.visitor]]


def test_sources_places_and_accounts_are_all_used(
    week: tuple[Generator, list[VisitPlan]],
) -> None:
    gen, plans = week
    referrers = {p.referrer for p in plans}
    for source in SOURCES:
        assert referrers & set(source.referrers), source.key
    assert {_place(gen, p).country for p in plans} == {p.country for p in PLACES}
    landing = [p.hits[0].url or "" for p in plans]
    assert any("utm_campaign=spring-sale" in url for url in landing)
    users = gen.visitors.users
    assert len(users) > 100 and len({u.email for u in users}) == len(users)
    assert all("@" in u.email and u.email.isascii() for u in users)


def test_funnel_steps_are_counted_in_order() -> None:
    [day] = list(generate(Scenario(seed=2, days=1, visits_per_day=400)))
    steps = Counter(funnel_step(p) for p in day)
    assert steps[0] > steps[1] > 0
    assert set(steps) <= {0, 1, 2, 3, 4}


def test_requests_are_what_the_web_sdk_sends() -> None:
    reqs = list(requests(Scenario(seed=9, days=1, visits_per_day=300)))
    assert [r.at_ms for r in reqs] == sorted(r.at_ms for r in reqs)
    views = [r for r in reqs if r.kind == "track" and r.payload["name"] == "screen_view"]
    assert views and all(r.payload["properties"]["__path"].startswith(ORIGIN) for r in views)
    assert all("__title" in r.payload["properties"] for r in views)
    assert all("__referrer" in r.payload["properties"] for r in reqs if r.kind == "track")
    outbound = [r for r in reqs if r.kind == "track" and r.payload["name"] == "link_out"]
    assert outbound and all("__path" not in r.payload["properties"] for r in outbound)
    identifies = [r for r in reqs if r.kind == "identify"]
    assert identifies and all(r.payload["email"] and r.payload["profileId"] for r in identifies)
    known = [r for r in reqs if r.kind == "track" and r.profile_id]
    assert known and all(r.payload["profileId"] == r.profile_id for r in known)
    revenue = [r for r in reqs if r.kind == "track" and r.payload["name"] == "revenue"]
    assert all(isinstance(r.payload["properties"]["__revenue"], int) for r in revenue)
    assert "__timestamp" not in {k for r in reqs for k in r.payload.get("properties", {})}


def test_a_sized_scenario_has_about_the_events_asked_for() -> None:
    scenario = sized(60_000, days=10, seed=4)
    want = expected(scenario)
    assert abs(sum(want.events.values()) - 60_000) < 6_000
