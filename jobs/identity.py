"""Device and session ids decided when a request is accepted.

device id = SHAKE256("<ua>:<ip>:<projectId>:<salt>", 16 bytes) as hex, with a daily salt and the
previous salt kept for visits that cross midnight (openpanel-compat.md §2.5). The session id is
the live visit's id, or a deterministic id of the 30-minute bucket (§2.6) so that ids survive a
restart. The live index is small and in memory; the pipeline owns the full visit rows.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass


def device_id(ua: str, ip: str, project_id: str, salt: str) -> str:
    """The cookieless device id (32 hex characters)."""
    return hashlib.shake_256(f"{ua}:{ip}:{project_id}:{salt}".encode()).hexdigest(16)


def bucket_session_id(project_id: str, device: str, event_ms: int, timeout_ms: int) -> str:
    """Deterministic session id for a visit starting at `event_ms` (22 url-safe characters)."""
    bucket = event_ms // timeout_ms
    grace = min(5000, timeout_ms // 6)
    if event_ms - bucket * timeout_ms < grace:
        bucket -= 1
    digest = hashlib.sha256(f"sess:v1:{project_id}:{device}:{bucket}".encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")


@dataclass(slots=True)
class LiveVisit:
    session_id: str
    last_ms: int  # event time of the latest event, epoch ms
    profile_id: str = ""


@dataclass(frozen=True, slots=True)
class Identity:
    device_id: str
    session_id: str
    profile_id: str
    attached: bool = False


class LiveIndex:
    """(project, device) → live visit, and (project, profile) → device; thread-safe."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self._visits: dict[tuple[str, str], LiveVisit] = {}
        self._profiles: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._visits)

    def active(self, project_id: str, device: str, at_ms: int) -> LiveVisit | None:
        visit = self._visits.get((project_id, device))
        if visit and at_ms - visit.last_ms <= self.timeout_ms:
            return visit
        return None

    def touch(self, project_id: str, device: str, event_ms: int, profile_id: str) -> str:
        """Record an event of a browser/app visit; return its session id."""
        with self._lock:
            visit = self.active(project_id, device, event_ms)
            if visit is None:
                visit = LiveVisit(
                    bucket_session_id(project_id, device, event_ms, self.timeout_ms), event_ms
                )
                self._visits[(project_id, device)] = visit
            visit.last_ms = max(visit.last_ms, event_ms)
            if profile_id and profile_id != device:
                visit.profile_id = profile_id
                self._profiles[(project_id, profile_id)] = device
            return visit.session_id

    def visit_of_profile(
        self, project_id: str, profile_id: str, at_ms: int
    ) -> tuple[str, LiveVisit] | None:
        """The live visit a profile is in, for attaching server-side events."""
        device = self._profiles.get((project_id, profile_id))
        if device is None:
            return None
        visit = self.active(project_id, device, at_ms)
        return (device, visit) if visit else None

    def restore(self, project_id: str, device: str, visit: LiveVisit) -> None:
        with self._lock:
            current = self._visits.get((project_id, device))
            if current is None or current.last_ms <= visit.last_ms:
                self._visits[(project_id, device)] = visit
            if visit.profile_id:
                self._profiles[(project_id, visit.profile_id)] = device

    def expire(self, now_ms: int) -> int:
        """Forget visits idle longer than the timeout; return how many."""
        with self._lock:
            stale = [k for k, v in self._visits.items() if now_ms - v.last_ms > self.timeout_ms]
            for key in stale:
                del self._visits[key]
            live = set(self._visits)
            for pkey, device in list(self._profiles.items()):
                if (pkey[0], device) not in live:
                    del self._profiles[pkey]
            return len(stale)


class IdentityResolver:
    """Chooses device and session ids for an accepted event."""

    def __init__(self, index: LiveIndex, salts: Callable[[], tuple[str, str]]) -> None:
        self.index = index
        self._salts = salts

    def resolve(
        self,
        *,
        project_id: str,
        ua: str,
        ip: str,
        event_ms: int,
        profile_id: str,
        device_override: str = "",
        sessionless: bool = False,
    ) -> Identity:
        """Ids for one event. `sessionless` (server UA or past event) never opens a visit: it
        gets an empty session id unless its profile is in a live visit (then `attached`)."""
        if device_override:
            device = device_override
        else:
            current, previous = self._salts()
            device = device_id(ua, ip, project_id, current)
            if self.index.active(project_id, device, event_ms) is None:
                old = device_id(ua, ip, project_id, previous)
                if self.index.active(project_id, old, event_ms) is not None:
                    device = old
        if sessionless:
            found = (
                self.index.visit_of_profile(project_id, profile_id, event_ms)
                if profile_id
                else None
            )
            if found is not None:
                dev, visit = found
                return Identity(dev, visit.session_id, profile_id, attached=True)
            return Identity(device, "", profile_id)
        session = self.index.touch(project_id, device, event_ms, profile_id)
        return Identity(device, session, profile_id or device)

    def peek(self, *, project_id: str, ua: str, ip: str, at_ms: int) -> tuple[str, str, str]:
        """(device id, session id or "", which salt matched) without recording an event."""
        current, previous = self._salts()
        for label, salt in (("current", current), ("previous", previous)):
            dev = device_id(ua, ip, project_id, salt)
            visit = self.index.active(project_id, dev, at_ms)
            if visit is not None:
                return dev, visit.session_id, label
        return device_id(ua, ip, project_id, current), "", ""
