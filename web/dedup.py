"""Duplicate-request window (openpanel-compat.md §1.4): a byte-identical body from the same
browser (IP, Origin, client id) within the window is answered with the first request's ids and
stored once. Upstream answers with the text "Duplicate event", which makes the SDK retry; we
answer with JSON so the SDK is satisfied.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any


class DuplicateWindow:
    """Remembers recent request fingerprints for `window_ms`."""

    def __init__(self, window_ms: int) -> None:
        self.window = window_ms / 1000
        self._seen: dict[bytes, tuple[float, asyncio.Future[Any]]] = {}
        self._last_sweep = 0.0

    @staticmethod
    def fingerprint(body: bytes, ip: str, origin: str, client_id: str) -> bytes:
        digest = hashlib.blake2b(body, digest_size=16)
        digest.update(f"\0{ip}\0{origin}\0{client_id}".encode())
        return digest.digest()

    def claim(self, key: bytes) -> asyncio.Future[Any] | None:
        """None if this request is the first: the caller must `settle` it. Otherwise the first
        request's future, which resolves to its response."""
        now = time.monotonic()
        if now - self._last_sweep > 1:
            self._sweep(now)
        hit = self._seen.get(key)
        if hit and hit[0] > now:
            return hit[1]
        self._seen[key] = (now + self.window, asyncio.get_running_loop().create_future())
        return None

    def settle(self, key: bytes, response: Any) -> None:
        hit = self._seen.get(key)
        if hit and not hit[1].done():
            hit[1].set_result(response)

    def forget(self, key: bytes, exc: BaseException) -> None:
        hit = self._seen.pop(key, None)
        if hit and not hit[1].done():
            hit[1].set_exception(exc)
            hit[1].exception()  # mark retrieved: nobody may be waiting

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, (exp, _) in self._seen.items() if exp <= now]:
            del self._seen[key]
