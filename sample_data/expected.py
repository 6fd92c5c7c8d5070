"""What a scenario should produce, counted in plain Python from its plans (no pipeline code).

Tests compare stored data against these numbers; the funnel counts also show how close the
observed conversion comes to the scenario's known probabilities.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sample_data.plans import Scenario, VisitPlan
from sample_data.scenario import generate

FUNNEL_STEPS = ("view /pricing", "sign_up_started", "sign_up", "purchase")


@dataclass
class Expected:
    """Counts over the whole scenario (events include session_start/session_end)."""

    visits: int = 0
    bounces: int = 0  # visits with at most one page view
    pageviews: int = 0
    duration_ms: int = 0  # sum of visit durations (first to last event)
    revenue: int = 0  # sum of `revenue` events' __revenue (cents)
    identifies: int = 0
    visitors: int = 0  # distinct visitors (browsers)
    events: Counter[str] = field(default_factory=Counter)  # per event name
    paths: Counter[str] = field(default_factory=Counter)  # page views per path
    entry_paths: Counter[str] = field(default_factory=Counter)
    exit_paths: Counter[str] = field(default_factory=Counter)
    # Visits that were anonymous when they started, reaching each FUNNEL_STEPS step in order,
    # and the distinct visitors among them.
    funnel_visits: list[int] = field(default_factory=lambda: [0] * len(FUNNEL_STEPS))
    funnel_visitors: list[int] = field(default_factory=lambda: [0] * len(FUNNEL_STEPS))

    @property
    def bounce_rate(self) -> float:
        """Percent of visits that bounced."""
        return 100 * self.bounces / self.visits if self.visits else 0.0

    def conversion(self) -> list[float]:
        """Observed step-to-step conversion of the funnel (compare with Scenario.funnel)."""
        v = self.funnel_visits
        return [v[i + 1] / v[i] if v[i] else 0.0 for i in range(len(v) - 1)]


def funnel_step(plan: VisitPlan) -> int:
    """How many funnel steps the visit completed in order (0 to 4)."""
    step = 0
    for hit in plan.hits:
        if hit.kind != "track" or step == len(FUNNEL_STEPS):
            continue
        if step == 0:
            step = int(hit.name == "screen_view" and _path(hit.url) == "/pricing")
        elif hit.name == FUNNEL_STEPS[step]:
            step += 1
    return step


def _path(url: str | None) -> str:
    if not url:
        return ""
    rest = url.split("://", 1)[-1]
    slash = rest.find("/")
    return rest[slash:].split("?", 1)[0].split("#", 1)[0] if slash >= 0 else "/"


def expected(scenario: Scenario) -> Expected:
    """Count the scenario (regenerates it: same seed, same plans)."""
    out = Expected()
    visitors: set[int] = set()
    funnel_sets: list[set[int]] = [set() for _ in FUNNEL_STEPS]
    for plans in generate(scenario):
        for plan in plans:
            _count_visit(out, plan)
            visitors.add(plan.visitor)
            if not plan.hits[0].profile_id:
                for i in range(funnel_step(plan)):
                    out.funnel_visits[i] += 1
                    funnel_sets[i].add(plan.visitor)
    out.visitors = len(visitors)
    out.funnel_visitors = [len(s) for s in funnel_sets]
    return out


def _count_visit(out: Expected, plan: VisitPlan) -> None:
    out.visits += 1
    out.events["session_start"] += 1
    out.events["session_end"] += 1
    views = 0
    exit_path = ""
    last = plan.start_ms
    for hit in plan.hits:
        if hit.kind == "identify":
            out.identifies += 1
            continue
        last = hit.at_ms
        out.events[hit.name] += 1
        path = _path(hit.url)
        if path:
            exit_path = path
        if hit.name == "screen_view":
            views += 1
            out.paths[path] += 1
        if hit.name == "revenue":
            out.revenue += int(hit.props["__revenue"])
    out.duration_ms += last - plan.start_ms  # first to last event (identify is no event)
    out.pageviews += views
    out.bounces += views <= 1
    out.entry_paths[_path(plan.hits[0].url)] += 1
    out.exit_paths[exit_path] += 1
