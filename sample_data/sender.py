"""Send a scenario's requests to a running appliance over HTTP (`POST /track`), as browsers
running `@openpanel/web` would: client id, user agent, `x-forwarded-for`, `origin` headers.

Requests go out now, as fast as the server answers (the scenario's times are not replayed, and
no `__timestamp` is sent, so the server dates every event on arrival). Each visitor's requests
are sent in order by one worker; `concurrency` workers run at once. Visits of one visitor sent
within 30 minutes therefore join into one visit on the server. `revenue` events need the
client secret unless the project allows unsafe revenue; without it they are refused (401).
Replayed at full speed, a visitor's repeated request (a page viewed again within 100 ms) can
hit the server's duplicate window: it answers 200 with `duplicate` and stores nothing; those are
counted apart.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx
import msgspec

from sample_data.plans import Scenario
from sample_data.scenario import Generator
from sample_data.site import SDK_NAME, SDK_VERSION
from sample_data.traffic import Request, visit_requests

_encode = msgspec.json.Encoder().encode


@dataclass
class SendStats:
    """What the server answered: 200s (duplicates among them), other statuses, errors."""

    sent: int = 0
    ok: int = 0
    duplicates: int = 0  # 200 answers that said the request was a duplicate (not stored)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: int = 0  # no answer (connection failures, timeouts)
    per_name: Counter[str] = field(default_factory=Counter)  # stored track events per name
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.sent / self.seconds if self.seconds else 0.0


async def send(
    base_url: str,
    client_id: str,
    scenario: Scenario,
    *,
    client_secret: str = "",
    concurrency: int = 32,
    max_requests: int | None = None,
    timeout: float = 30.0,
) -> SendStats:
    """POST the scenario's requests to `base_url` + `/track`; never raises for HTTP errors."""
    stats = SendStats()
    lanes: list[asyncio.Queue[list[Request] | None]] = [
        asyncio.Queue(maxsize=64) for _ in range(concurrency)
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=base_url, timeout=timeout, limits=limits) as client:
        base = {
            "openpanel-client-id": client_id,
            "content-type": "application/json",
            "origin": scenario.origin,
            "openpanel-sdk-name": SDK_NAME,
            "openpanel-sdk-version": SDK_VERSION,
        }
        if client_secret:
            base["openpanel-client-secret"] = client_secret

        async def worker(lane: asyncio.Queue[list[Request] | None]) -> None:
            while (visit := await lane.get()) is not None:
                for req in visit:
                    await _post(client, base, req, stats)

        workers = [asyncio.create_task(worker(lane)) for lane in lanes]
        budget = max_requests if max_requests is not None else -1
        gen = Generator(scenario)
        for plans in gen.days():
            for plan in plans:
                reqs = visit_requests(plan, gen.visitors)
                if budget >= 0:
                    reqs, budget = reqs[:budget], budget - len(reqs[:budget])
                if reqs:
                    await lanes[plan.visitor % concurrency].put(reqs)
                if budget == 0:
                    break
            if budget == 0:
                break
        for lane in lanes:
            await lane.put(None)
        await asyncio.gather(*workers)
    stats.seconds = time.perf_counter() - started
    return stats


async def _post(
    client: httpx.AsyncClient, base: dict[str, str], req: Request, stats: SendStats
) -> None:
    headers = {**base, "user-agent": req.ua, "x-forwarded-for": req.ip}
    stats.sent += 1
    try:
        response = await client.post("/track", content=_encode(req.envelope()), headers=headers)
    except httpx.HTTPError:
        stats.errors += 1
        return
    stats.statuses[response.status_code] += 1
    if response.status_code != 200:
        return
    stats.ok += 1
    if b'"duplicate"' in response.content:
        stats.duplicates += 1
    elif req.kind == "track":
        stats.per_name[req.payload["name"]] += 1
