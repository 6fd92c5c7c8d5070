"""In-process realtime hub: the pipeline publishes stored events (and the ingest API rejected
requests) per project; SSE/WebSocket handlers subscribe with a bounded asyncio queue.

Publishing is thread-safe and never blocks the pipeline: a slow subscriber loses messages
(counted in `dropped`) instead of holding events back.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Subscription:
    project_id: str
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(maxsize=1000)
    )
    dropped: int = 0

    def _offer(self, message: dict[str, Any]) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.dropped += 1


class Hub:
    """Fan-out of messages `{"type": "event"|"rejected", ...}` to subscribers of a project."""

    def __init__(self) -> None:
        self._subs: dict[str, set[Subscription]] = defaultdict(set)
        self._lock = threading.Lock()

    def subscribe(self, project_id: str) -> Subscription:
        sub = Subscription(project_id, asyncio.get_running_loop())
        with self._lock:
            self._subs[project_id].add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs[sub.project_id].discard(sub)

    def subscribers(self, project_id: str) -> int:
        with self._lock:
            return len(self._subs.get(project_id, ()))

    def publish_events(self, events: list[dict[str, Any]]) -> None:
        """Deliver a stored batch; projects without subscribers cost one set lookup."""
        with self._lock:
            watched = {p for p, subs in self._subs.items() if subs}
        if not watched:
            return
        for event in events:
            if event["project_id"] in watched:
                self.publish(event["project_id"], {"type": "event", "event": event})

    def publish(self, project_id: str, message: dict[str, Any]) -> None:
        """Deliver to every subscriber of the project (callable from any thread)."""
        with self._lock:
            subs = list(self._subs.get(project_id, ()))
        for sub in subs:
            try:
                sub.loop.call_soon_threadsafe(sub._offer, message)
            except RuntimeError:  # the subscriber's loop closed; it will unsubscribe itself
                continue
