"""What the dashboard keeps per process: account stores over the MetaStore, the login failure
limiter and the CSRF signing key. Built on first use from `app.state` (the lifespan owns the
MetaStore) and kept there as `app.state.dashboard`."""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar

from embedded_db.accounts import Accounts
from embedded_db.logins import Logins

LOGIN_FAILURES = 5  # wrong passwords allowed per (client IP, email) …
LOGIN_WINDOW_SECONDS = 15 * 60  # … within this window
IP_FAILURES = 50  # and per client IP over all emails (password spraying)


class FailureLimiter:
    """Counts failures per key in a sliding window; a key with `limit` failures is blocked until
    the oldest one leaves the window. Only failures count, so checking is free."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        hits = self._failures.get(key)
        if not hits:
            return False
        cutoff = time.monotonic() - self.seconds
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return len(hits) >= self.limit

    def failed(self, key: str) -> None:
        self._failures.setdefault(key, deque()).append(time.monotonic())
        if len(self._failures) > 10_000:
            cutoff = time.monotonic() - self.seconds
            self._failures = {k: v for k, v in self._failures.items() if v and v[-1] > cutoff}

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)


@dataclass
class Dashboard:
    accounts: Accounts
    logins: Logins
    csrf_key: bytes
    per_login: FailureLimiter
    per_ip: FailureLimiter
    local_mode: bool
    public_url: str
    geo_attribution: str = ""  # shown wherever geo data appears (DB-IP's CC BY licence)


def dashboard(app: Litestar) -> Dashboard:
    """The process's dashboard state (built once, after the lifespan opened the MetaStore)."""
    state = app.state
    found: Dashboard | None = getattr(state, "dashboard", None)
    if found is None:
        settings: Any = getattr(state, "settings", None)
        logins = Logins(state.meta)
        found = Dashboard(
            accounts=logins.accounts,
            logins=logins,
            csrf_key=logins.server_secret("csrf").encode(),
            per_login=FailureLimiter(LOGIN_FAILURES, LOGIN_WINDOW_SECONDS),
            per_ip=FailureLimiter(IP_FAILURES, LOGIN_WINDOW_SECONDS),
            local_mode=bool(getattr(settings, "dashboard_local_mode", False)),
            public_url=str(getattr(settings, "public_url", "") or ""),
            geo_attribution=geo_attribution(settings),
        )
        state.dashboard = found
    return found


def geo_attribution(settings: Any) -> str:
    """The first line of the ATTRIBUTION.txt beside the GeoIP database, if there is one (the
    Docker image's DB-IP database carries one: its licence asks to credit DB-IP)."""
    resolve = getattr(settings, "resolved_geoip_db", None)
    database = resolve() if callable(resolve) else None
    if database is None:
        return ""
    note = Path(database).with_name("ATTRIBUTION.txt")
    try:
        return note.read_text(encoding="utf-8").strip().splitlines()[0][:300]
    except (OSError, IndexError, UnicodeDecodeError):
        return ""
