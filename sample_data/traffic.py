"""A scenario as the requests the web SDK sends, and a driver that feeds them to the real
in-process acceptor and pipeline on a synthetic clock.

`requests(scenario)` yields every request in time order: the `/track` payload (`name`,
`properties` with `__path` and `__referrer` as `@openpanel/web` sends them, `profileId` once the
visitor is known; or an `identify` payload) plus the client context (IP, user agent) and the
moment it is sent (epoch ms). No `__timestamp`: the receiving clock dates every event.

`feed(acceptor, project_id, scenario)` accepts each request "as if received" at its moment
(`Acceptor.track(..., received_ms=…)`) and appends `reap` commands as the synthetic clock moves,
so the pipeline ends visits exactly as a live appliance would have.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from jobs.accept import Acceptor, Context
from jobs.records import Accepted, encode
from sample_data.plans import MINUTE_MS, TIMEOUT_MS, Hit, Scenario, VisitPlan
from sample_data.scenario import Generator
from sample_data.site import SDK_NAME, SDK_VERSION, USER_AGENTS
from sample_data.visitors import Visitors

REAP_EVERY_MS = 5 * MINUTE_MS


@dataclass(frozen=True, slots=True)
class Request:
    """One SDK request: `kind` is the `/track` envelope type ("track" or "identify")."""

    at_ms: int
    kind: str
    ip: str
    ua: str
    profile_id: str
    payload: dict[str, Any]
    visitor: int

    def envelope(self) -> dict[str, Any]:
        """The `POST /track` body."""
        return {"type": self.kind, "payload": self.payload}


def visit_requests(plan: VisitPlan, visitors: Visitors) -> list[Request]:
    """The requests of one visit, in order."""
    ip, ua = visitors.ip_text(plan.visitor), USER_AGENTS[visitors.ua[plan.visitor]][0]
    return [_request(hit, plan, ip, ua) for hit in plan.hits]


def _request(hit: Hit, plan: VisitPlan, ip: str, ua: str) -> Request:
    if hit.kind == "identify":
        payload = {**hit.props, "properties": dict(hit.props.get("properties") or {})}
    else:
        props: dict[str, Any] = {"__referrer": plan.referrer, **hit.props}
        if hit.url is not None:
            props["__path"] = hit.url
        payload = {"name": hit.name, "properties": props}
        if hit.profile_id:
            payload["profileId"] = hit.profile_id
    return Request(hit.at_ms, hit.kind, ip, ua, hit.profile_id, payload, plan.visitor)


def requests(scenario: Scenario) -> Iterator[Request]:
    """Every request of the scenario in time order (ties keep each visit's order)."""
    gen = Generator(scenario)
    heap: list[tuple[int, int, Request]] = []
    order = itertools.count()
    for plans in gen.days():
        for plan in plans:
            while heap and heap[0][0] < plan.start_ms:
                yield heapq.heappop(heap)[2]
            for req in visit_requests(plan, gen.visitors):
                heapq.heappush(heap, (req.at_ms, next(order), req))
    while heap:
        yield heapq.heappop(heap)[2]


@dataclass
class FeedStats:
    """What `feed` accepted."""

    tracks: int = 0
    identifies: int = 0
    reaps: int = 0
    last_ms: int = 0
    per_name: dict[str, int] = field(default_factory=dict)


async def feed(
    acceptor: Acceptor,
    project_id: str,
    scenario: Scenario,
    *,
    on_tick: Callable[[], None] | None = None,
    reap_every_ms: int = REAP_EVERY_MS,
    window: int = 512,
) -> FeedStats:
    """Accept the scenario's requests into `project_id` at their own times, with a `reap`
    command whenever the clock passes a multiple of `reap_every_ms` and a final one after the
    last visit timed out. `on_tick()` runs after each reap (e.g. to drain the pipeline)."""
    stats = FeedStats()
    contexts: dict[tuple[str, str], Context] = {}
    pending: list[Awaitable[Any]] = []
    next_reap = scenario.start_ms + reap_every_ms

    async def settle() -> None:
        await asyncio.gather(*pending)
        pending.clear()

    async def reap(at_ms: int) -> None:
        await settle()
        await acceptor.spool.append(encode(Accepted(kind="reap", received_ms=at_ms)))
        acceptor.identity.index.expire(at_ms)
        stats.reaps += 1
        if on_tick is not None:
            on_tick()

    for req in requests(scenario):
        if req.at_ms >= next_reap:
            await reap(req.at_ms - req.at_ms % reap_every_ms)
            next_reap = req.at_ms - req.at_ms % reap_every_ms + reap_every_ms
        key = (req.ip, req.ua)
        ctx = contexts.get(key)
        if ctx is None:
            ctx = contexts[key] = Context(project_id, req.ip, req.ua, SDK_NAME, SDK_VERSION)
        if req.kind == "track":
            pending.append(acceptor.track(ctx, req.payload, req.profile_id, req.at_ms))
            stats.tracks += 1
            name = req.payload["name"]
            stats.per_name[name] = stats.per_name.get(name, 0) + 1
        else:
            pending.append(acceptor.other("identify", ctx, req.payload, req.at_ms))
            stats.identifies += 1
        stats.last_ms = req.at_ms
        if len(pending) >= window:
            await settle()
    await reap(stats.last_ms + TIMEOUT_MS + reap_every_ms)
    return stats
