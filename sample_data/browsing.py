"""One visit's browsing: landing page, think times, next pages, custom events and the signup
funnel, as the requests the site's web SDK sends (`Hit`s).

Conventions of `@openpanel/web` (openpanel-compat.md Part B §2): screen views carry the full page
URL as `__path` and `__title`; `op.track()` events carry the last screen view's URL as `__path`;
auto events (`link_out`) and `data-track` clicks (`cta_clicked`) carry none. The identify call
goes out on login and on sign up, with the SDK's global `__referrer` among its properties.
"""

from __future__ import annotations

import bisect
import functools
import math
import random
from dataclasses import dataclass, field

from sample_data.plans import MAX_THINK_MS, Hit, Scenario, VisitPlan
from sample_data.site import (
    BLOG_POSTS,
    DOCS_PAGES,
    DOCS_QUERIES,
    FEATURES,
    LANDINGS,
    NEXT_PAGES,
    OUTBOUND_LINKS,
    PLANS,
    Source,
    page_title,
)
from sample_data.visitors import User, Visitors

MAX_PAGES = 40
_THINK_MU = math.log(25_000)  # median think time 25 s, log-normal


@dataclass(slots=True)
class _Walk:
    """The state of a visit being written."""

    origin: str
    referrer: str
    t: int
    page: str = "/"
    url: str = ""
    profile: str = ""
    pages: int = 0
    hits: list[Hit] = field(default_factory=list)


def _zipf(n: int) -> list[float]:
    out, total = [], 0.0
    for i in range(n):
        total += 1 / (i + 1)
        out.append(total)
    return out


_POPULAR = {
    "@blog": (["/blog/" + s for s in BLOG_POSTS], _zipf(len(BLOG_POSTS))),
    "@docs": (["/docs/" + s for s in DOCS_PAGES], _zipf(len(DOCS_PAGES))),
    "@feature": (["/features/" + s for s in FEATURES], _zipf(len(FEATURES))),
}


def page_kind(path: str) -> str:
    """The navigation kind of a path (a key of site.NEXT_PAGES)."""
    if path in ("/", "/pricing", "/blog", "/docs"):
        return path
    for prefix, kind in (("/blog/", "blog"), ("/docs/", "docs"), ("/features/", "feature")):
        if path.startswith(prefix):
            return kind
    return "other"


class VisitWriter:
    """Writes visits with the scenario's random stream and visitor pool."""

    def __init__(self, rng: random.Random, visitors: Visitors, scenario: Scenario) -> None:
        self.rng = rng
        self.visitors = visitors
        self.scenario = scenario
        self._landings = {k: cum_table(v) for k, v in LANDINGS.items()}
        self._next = {k: cum_table(v) for k, v in NEXT_PAGES.items()}

    def new_account(self, visitor: int, plan: str) -> User:
        """Give the visitor an account with a random name."""
        rng = self.rng
        return self.visitors.give_account(
            visitor, rng.randrange(20), rng.randrange(20), rng.randrange(5), plan
        )

    def visit(self, visitor: int, start_ms: int, source: Source) -> VisitPlan:
        """One visit starting at `start_ms` (hits at or after the scenario's end are dropped)."""
        rng, s = self.rng, self.scenario
        user = self.visitors.account(visitor)
        referrer = source.referrers[rng.randrange(len(source.referrers))]
        walk = _Walk(s.origin, referrer, start_ms, profile=user.profile_id if user else "")
        query = "?" + source.utm[rng.randrange(len(source.utm))] if source.utm else ""
        self._view(walk, self._draw(self._landings[source.landing]), query)
        if user is not None:
            self._identify(walk, walk.t + 150, user)
        funnel_open = user is None
        while walk.pages < MAX_PAGES:
            gap = self._think()
            self._page_events(walk, gap)
            if walk.page == "/pricing" and funnel_open:
                funnel_open = False
                if rng.random() < s.funnel.start:
                    if not self._funnel(walk, gap, visitor):
                        break
                    continue
            chance = s.first_page_continue if walk.pages == 1 else s.next_page_continue
            if rng.random() >= chance:
                break
            nxt = self._draw(self._next[page_kind(walk.page)])
            while nxt == walk.page:  # the SDK sends no screen_view for an unchanged path
                nxt = self._draw(self._next[page_kind(walk.page)])
            walk.t += gap
            self._view(walk, nxt)
        hits = [h for h in walk.hits if h.at_ms < s.end_ms]
        return VisitPlan(visitor, referrer, hits)

    # -- pages -----------------------------------------------------------------------------------
    def _draw(self, table: tuple[list[str], list[float]]) -> str:
        target = table[0][pick(self.rng, table[1])]
        if target.startswith("@"):
            paths, cum = _POPULAR[target]
            return paths[pick(self.rng, cum)]
        return target

    def _view(self, walk: _Walk, path: str, query: str = "") -> None:
        walk.page, walk.url = path, walk.origin + path + query
        walk.pages += 1
        props = {"__title": _title(path)}
        walk.hits.append(Hit(walk.t, "track", "screen_view", walk.url, props, walk.profile))

    def _track(self, walk: _Walk, at: int, name: str, props: dict, with_path: bool = True) -> None:
        url = walk.url if with_path else None
        walk.hits.append(Hit(at, "track", name, url, props, walk.profile))

    def _identify(self, walk: _Walk, at: int, user: User) -> None:
        payload = {
            "profileId": user.profile_id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "email": user.email,
            "properties": {"plan": user.plan, "__referrer": walk.referrer},
        }
        walk.hits.append(Hit(at, "identify", "", None, payload, user.profile_id))

    def _think(self) -> int:
        ms = int(self.rng.lognormvariate(_THINK_MU, 0.9))
        return min(MAX_THINK_MS, max(2_000, ms))

    def _page_events(self, walk: _Walk, gap: int) -> None:
        """Custom events on the current page, inside the time until the next one."""
        rng, kind = self.rng, page_kind(walk.page)
        at = walk.t + int(gap * rng.uniform(0.2, 0.9))
        roll = rng.random()
        if kind == "/" and roll < 0.10:
            self._track(walk, at, "cta_clicked", {"cta": "hero-start-free"}, with_path=False)
        elif kind == "feature" and roll < 0.08:
            video = walk.page.rsplit("/", 1)[-1]
            self._track(walk, at, "video_played", {"video": video, "seconds": rng.randint(5, 120)})
        elif kind == "blog" and roll < 0.07:
            href, text = OUTBOUND_LINKS[rng.randrange(len(OUTBOUND_LINKS))]
            self._track(walk, at, "link_out", {"href": href, "text": text}, with_path=False)
        elif kind == "blog" and roll < 0.09:
            self._track(walk, at, "newsletter_subscribed", {"list": "weekly"})
        elif kind == "docs" and roll < 0.12:
            query = DOCS_QUERIES[rng.randrange(len(DOCS_QUERIES))]
            self._track(walk, at, "docs_search", {"query": query})
        elif kind == "docs" and roll < 0.16:
            href, text = OUTBOUND_LINKS[rng.randrange(len(OUTBOUND_LINKS))]
            self._track(walk, at, "link_out", {"href": href, "text": text}, with_path=False)
        elif walk.page == "/contact" and roll < 0.25:
            topic = "sales" if rng.random() < 0.6 else "support"
            self._track(walk, at, "contact_submitted", {"topic": topic})

    # -- the funnel ------------------------------------------------------------------------------
    def _funnel(self, walk: _Walk, gap: int, visitor: int) -> bool:
        """/pricing → /signup (sign_up_started) → sign_up → /checkout (purchase, revenue).
        Returns whether the visit goes on browsing afterwards."""
        rng, f = self.rng, self.scenario.funnel
        walk.t += gap
        self._view(walk, "/signup")
        self._track(walk, walk.t + rng.randrange(1_500, 6_000), "sign_up_started", {"plan": "free"})
        if rng.random() >= f.complete:
            walk.t += rng.randrange(8_000, 60_000)
            return rng.random() < 0.4
        walk.t += rng.randrange(20_000, 120_000)  # filling in the form
        user = self.visitors.account(visitor) or self.new_account(visitor, "free")
        walk.profile = user.profile_id
        self._identify(walk, walk.t, user)
        method = ("email", "google", "github")[rng.randrange(3)]
        self._track(walk, walk.t + 300, "sign_up", {"method": method})
        walk.t += 300
        if rng.random() >= f.purchase:
            walk.t += self._think()
            self._view(walk, "/docs/getting-started")
            return rng.random() < 0.5
        walk.t += self._think()
        self._view(walk, "/checkout")
        plan, cents = PLANS[rng.randrange(len(PLANS))]
        walk.t += rng.randrange(15_000, 90_000)
        self._track(walk, walk.t, "purchase", {"plan": plan, "amount": cents // 100})
        self._track(walk, walk.t + 200, "revenue", {"__revenue": cents, "plan": plan})
        walk.t += 2_500
        self._view(walk, "/checkout/success")
        return rng.random() < 0.3


@functools.lru_cache(maxsize=256)
def _title(path: str) -> str:
    return page_title(path)


def cum_table(pairs: tuple[tuple[str, float], ...]) -> tuple[list[str], list[float]]:
    names, cum, total = [], [], 0.0
    for name, weight in pairs:
        total += weight
        names.append(name)
        cum.append(total)
    return names, cum


def pick(rng: random.Random, cum: list[float]) -> int:
    """Index drawn with the weights whose running sums are `cum`."""
    return bisect.bisect_right(cum, rng.random() * cum[-1])
