"""Device-id salts: read from the MetaStore, cached briefly, rotated daily by a periodic task."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from embedded_db.meta import MetaStore


class SaltCache:
    """(current, previous) salts, re-read at most once a minute."""

    def __init__(self, meta: MetaStore, ttl_seconds: float = 60) -> None:
        self.meta = meta
        self.ttl = ttl_seconds
        self._lock = threading.Lock()
        self._value = meta.salts()
        self._expires = time.monotonic() + ttl_seconds

    def get(self) -> tuple[str, str]:
        if time.monotonic() > self._expires:
            with self._lock:
                self._value = self.meta.salts()
                self._expires = time.monotonic() + self.ttl
        return self._value

    def rotate_if_stale(self, now: datetime) -> bool:
        """Rotate when the current salt is over a day old (the appliance was off at midnight)."""
        if now - self.meta.salt_created_at() > timedelta(days=1):
            self.rotate()
            return True
        return False

    def rotate(self) -> tuple[str, str]:
        """Start a new day's salt (keeps the previous one for visits crossing midnight)."""
        with self._lock:
            self._value = self.meta.rotate_salt()
            self._expires = time.monotonic() + self.ttl
        return self._value
