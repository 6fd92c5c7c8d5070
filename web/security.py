"""Authentication glue for the read APIs (export, insights, live) plus their rate limit."""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from litestar import Request

from embedded_db.errors import AppError
from web.auth import Authenticator, Caller


class RateLimited(AppError):
    """429: too many requests from one client."""


class RateLimiter:
    """Sliding window of `limit` requests per `seconds`, per key."""

    def __init__(self, limit: int, seconds: float = 10) -> None:
        self.limit = limit
        self.seconds = seconds
        self._hits: dict[str, deque[float]] = {}

    def check(self, key: str) -> None:
        now = time.monotonic()
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - self.seconds:
            hits.popleft()
        if len(hits) >= self.limit:
            raise RateLimited("You have exceeded the rate limit for this endpoint.")
        hits.append(now)
        if len(self._hits) > 10_000:
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - self.seconds}


async def read_caller(request: Request[Any, Any, Any], project_id: str | None) -> Caller:
    """The read/root client of this request (rate limited per client id)."""
    state = request.app.state
    limiter: RateLimiter = state.read_limiter
    key = (
        request.headers.get("openpanel-client-id")
        or request.headers.get("x-real-ip")
        or (request.client.host if request.client else "")
    )
    limiter.check(key)
    auth: Authenticator = state.auth
    return await auth.reader(request.headers, project_id)
