"""What a scenario is made of: its configuration and the planned visits and SDK requests.

All times are epoch milliseconds, UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sample_data.site import ORIGIN

DAY_MS = 86_400_000
MINUTE_MS = 60_000
TIMEOUT_MS = 30 * MINUTE_MS  # the pipeline's visit timeout
MAX_THINK_MS = 20 * MINUTE_MS  # longest gap inside a visit (< the timeout)
RETURN_GAP_MS = 35 * MINUTE_MS  # shortest gap between two visits of a visitor (> the timeout)


@dataclass(frozen=True, slots=True)
class Funnel:
    """Known conversion of the signup funnel: view /pricing → sign_up_started → sign_up →
    purchase. Each value is the probability of the next step given the previous one (for a
    visit without an account, at its first view of /pricing)."""

    start: float = 0.30
    complete: float = 0.55
    purchase: float = 0.35


@dataclass(frozen=True, slots=True)
class Scenario:
    """What to generate: `days` whole days of traffic ending at `end_ms` (epoch ms, UTC)."""

    seed: int = 1
    days: int = 30
    end_ms: int = 1_764_460_800_000  # 2025-11-30 00:00 UTC
    visits_per_day: int = 2_000
    returning_share: float = 0.35
    account_share: float = 0.15  # of the visitors that knew the site before the first day
    funnel: Funnel = field(default_factory=Funnel)
    origin: str = ORIGIN
    spike_day: int = -1  # day index with a Hacker News front page; -1 = the middle day
    growth_per_day: float = 0.005
    first_page_continue: float = 0.5  # P(another page) after the landing page
    next_page_continue: float = 0.62  # P(another page) after any later page

    @property
    def start_ms(self) -> int:
        return self.end_ms - self.days * DAY_MS


def ms_of(moment: datetime) -> int:
    """A timezone-aware datetime as epoch ms."""
    return int(moment.astimezone(UTC).timestamp() * 1000)


class Hit(NamedTuple):
    """One SDK request: a `track` (event name; the page URL the SDK sends as `__path`, or None
    when it sends none; the other properties) or an `identify` (props = its payload)."""

    at_ms: int
    kind: str  # "track" | "identify"
    name: str
    url: str | None
    props: dict[str, Any]
    profile_id: str  # "" while anonymous


@dataclass(slots=True)
class VisitPlan:
    """One visit: the visitor number, the document.referrer of its landing page, its hits
    (in time order; the first is always a screen_view)."""

    visitor: int
    referrer: str
    hits: list[Hit]

    @property
    def start_ms(self) -> int:
        return self.hits[0].at_ms

    @property
    def end_ms(self) -> int:
        return self.hits[-1].at_ms
