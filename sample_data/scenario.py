"""A seeded scenario of product-analytics traffic for one site, generated day by day.

`Scenario` (sample_data.plans) is the configuration: seed, days, the moment it ends, volume,
funnel probabilities. `generate(scenario)` yields each day's visits as `VisitPlan`s: a visitor of
the pool (returning ones included, so retention exists), the landing page's referrer and the
requests the site's web SDK sends (`Hit`s), with times in epoch ms UTC. Traffic follows a
working-day curve in each visitor's own time zone, a weekly shape, slow growth and one Hacker
News spike. Nothing else is random: the same scenario always yields the same plans (one
`random.Random(seed)`, no global random state).

Visits follow the 30-minute timeout: gaps inside a visit are at most 20 minutes and a visitor's
next visit starts at least 35 minutes after the previous one ended, so the pipeline sees exactly
the planned visits. No hit is at or after `end_ms`.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sample_data.browsing import VisitWriter, pick
from sample_data.plans import DAY_MS, RETURN_GAP_MS, Funnel, Hit, Scenario, VisitPlan, ms_of
from sample_data.site import PLACES, SOURCES, SPIKE_SOURCE, USER_AGENTS
from sample_data.visitors import Visitors

# Visits by local hour (a working-day curve); each place follows it in its own time zone.
HOURLY = (2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8.5, 9, 9.5, 9, 9, 9, 8.5, 8, 7.5, 7, 7, 6.5, 5.5, 4, 3)
WEEKDAY = (1.0, 1.05, 1.05, 1.0, 0.92, 0.62, 0.68)  # Monday … Sunday (UTC date)
SPIKE_VISITS = 1.35  # the spike day has this many times the visits …
SPIKE_SOURCE_WEIGHT = 12  # … and Hacker News this many times its usual share

__all__ = ["Funnel", "Generator", "Hit", "Scenario", "VisitPlan", "generate", "ms_of", "sized"]


class Generator:
    """Generates a scenario's days in order; owns the visitor pool they share."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.rng = random.Random(scenario.seed)
        self.visitors = Visitors(scenario.seed)
        self._place_cum = _cumulative(p.weight for p in PLACES)
        self._ua_cum = _cumulative(w for _, w in USER_AGENTS)
        self._hour_cum = _cumulative(HOURLY)
        self._writer = VisitWriter(self.rng, self.visitors, scenario)
        self._seed_pool()

    def days(self) -> Iterator[list[VisitPlan]]:
        """Each day's visits, in order of their start."""
        s = self.scenario
        spike = s.spike_day if s.spike_day >= 0 else s.days // 2
        for day in range(s.days):
            day_start = s.start_ms + day * DAY_MS
            count = self._visit_count(day, day_start, spike)
            yield self._day(day_start, count, _source_weights(day == spike))

    # -- one day -------------------------------------------------------------------------------
    def _day(self, day_start: int, count: int, source_cum: list[float]) -> list[VisitPlan]:
        rng, pool = self.rng, self.visitors
        slots = []
        for _ in range(count):
            if rng.random() < self.scenario.returning_share:
                visitor = self._returning()
            else:
                visitor = self._new_visitor()
            slots.append((self._start_time(day_start, pool.place[visitor]), visitor))
        slots.sort()
        plans = []
        for start, visitor in slots:
            if start >= self.scenario.end_ms:
                continue
            if pool.last_end[visitor] + RETURN_GAP_MS > start:
                visitor = self._new_visitor(pool.place[visitor])  # still browsing: someone else
            source = SOURCES[pick(rng, source_cum)]
            plan = self._writer.visit(visitor, start, source)
            pool.last_end[visitor] = plan.end_ms
            plans.append(plan)
        return plans

    def _visit_count(self, day: int, day_start: int, spike: int) -> int:
        s = self.scenario
        weekday = datetime.fromtimestamp(day_start / 1000, UTC).weekday()
        trend = 1 + s.growth_per_day * (day - (s.days - 1) / 2)
        noise = 1 + 0.04 * self.rng.uniform(-1, 1)
        boost = SPIKE_VISITS if day == spike else 1.0
        return max(1, round(s.visits_per_day * WEEKDAY[weekday] * trend * noise * boost))

    def _start_time(self, day_start: int, place: int) -> int:
        """A moment of the UTC day, drawn from the hourly curve in the place's time zone."""
        local_ms = pick(self.rng, self._hour_cum) * 3_600_000 + self.rng.randrange(3_600_000)
        return day_start + (local_ms - PLACES[place].utc_offset * 3_600_000) % DAY_MS

    # -- the pool ------------------------------------------------------------------------------
    def _seed_pool(self) -> None:
        """Visitors who knew the site before the first day (some with accounts)."""
        rng = self.rng
        for _ in range(max(10, self.scenario.visits_per_day * 2)):
            visitor = self._new_visitor()
            if rng.random() < self.scenario.account_share:
                self._writer.new_account(visitor, ("free", "free", "pro", "team")[rng.randrange(4)])

    def _new_visitor(self, place: int | None = None) -> int:
        if place is None:
            place = pick(self.rng, self._place_cum)
        return self.visitors.add(place, pick(self.rng, self._ua_cum))

    def _returning(self) -> int:
        """A known visitor; recent ones are likelier (a few days of newcomers back on average)."""
        size = len(self.visitors)
        back = int(self.rng.expovariate(1 / (self.scenario.visits_per_day * 4)))
        return size - 1 - back if back < size else self.rng.randrange(size)


def generate(scenario: Scenario) -> Iterator[list[VisitPlan]]:
    """Each day's visits of `scenario`, in order (a fresh generator: same seed, same plans)."""
    return Generator(scenario).days()


def sized(events: int, days: int = 30, **settings: Any) -> Scenario:
    """A scenario of `days` days that stores about `events` event rows (session_start and
    session_end included); other fields as in `Scenario(**settings)`."""
    probe = replace(Scenario(**settings), days=1, visits_per_day=3_000)
    rows = visits = 0
    for plans in generate(probe):
        for plan in plans:
            visits += 1
            rows += 2 + sum(1 for h in plan.hits if h.kind == "track")
    per_visit = rows / max(visits, 1)
    spike = 1 + (SPIKE_VISITS - 1) / days
    visits_per_day = events / per_visit / days / (sum(WEEKDAY) / 7) / spike
    return replace(Scenario(**settings), days=days, visits_per_day=max(1, round(visits_per_day)))


def _cumulative(weights: Iterable[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _source_weights(spike: bool) -> list[float]:
    factor = {SPIKE_SOURCE: SPIKE_SOURCE_WEIGHT} if spike else {}
    return _cumulative(s.weight * factor.get(s.key, 1) for s in SOURCES)
