"""The rollup worker (docs/design.md "Rollups"): runs on the pipeline thread, so it is ordered
with every write the pipeline makes. After each batch it marks the hours that late rows landed
in as dirty; about once a minute it rolls every settled hour that is new or dirty, within a
time budget so ingestion never waits long (a backlog is worked off over several turns).

An hour is settled once the visit timeout plus a margin has passed since it ended: visits that
started in it have ended by then, so it will rarely change again. If it does, it is marked
dirty and rolled again; reports never read a dirty hour from the rollups.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from embedded_db.rollups import mark_dirty, mark_empty, pending_hours, roll_hours, sweep
from embedded_db.store import EventStore
from jobs.timefmt import ch_time

log = logging.getLogger(__name__)

SETTLE_MARGIN_MS = 10 * 60_000
CHUNK_HOURS = 168  # one INSERT … SELECT rolls at most a week of one project
SWEEP_EVERY_S = 3600  # delete superseded rollup rows hourly


class Roller:
    """Marks late rows' hours dirty and rolls settled hours; call from the pipeline thread."""

    def __init__(
        self,
        store: EventStore,
        timeout_ms: int,
        *,
        every_s: float = 60.0,
        budget_s: float = 2.0,
    ) -> None:
        self.store = store
        self.settle_ms = timeout_ms + SETTLE_MARGIN_MS
        self.every_s = every_s
        self.budget_s = budget_s
        self.rolled_hours = 0
        self._scan_from: datetime | None = None  # None: look at all history (first turn)
        self._next_at = 0.0
        self._dirty: set[tuple[str, str]] = set()  # marked since their last roll
        self._swept_at = time.monotonic()

    def note(self, now_ms: int, *row_lists: Iterable[dict[str, Any]]) -> None:
        """After a batch is stored: mark the hours of rows older than the settle time dirty."""
        threshold = ch_time(now_ms - self.settle_ms)
        hours = {
            (row["project_id"], row["created_at"][:13])
            for rows in row_lists
            for row in rows
            if row["created_at"] < threshold
        }
        new = hours - self._dirty
        if new:
            mark_dirty(self.store, [(p, _hour(h)) for p, h in new])
            self._dirty |= new

    def due(self) -> bool:
        return time.monotonic() >= self._next_at

    def defer(self) -> None:
        """Try again a turn later (after a failure)."""
        self._next_at = time.monotonic() + self.every_s

    def run(self, now_ms: int) -> int:
        """Roll pending settled hours for up to the time budget; return how many were rolled."""
        started = time.monotonic()
        watermark = _floor_hour(now_ms - self.settle_ms)
        done = 0
        for project, todo in pending_hours(self.store, watermark, self._scan_from).items():
            mark_empty(self.store, project, todo.empty, todo.version)
            hours = todo.hours
            for i in range(0, len(hours), CHUNK_HOURS):
                chunk = hours[i : i + CHUNK_HOURS]
                roll_hours(self.store, project, chunk)
                self._dirty -= {(project, h.strftime("%Y-%m-%d %H")) for h in chunk}
                done += len(chunk)
                if time.monotonic() - started > self.budget_s:
                    self._next_at = time.monotonic() + 1.0  # more to do: come back soon
                    self.rolled_hours += done
                    return done
        self._scan_from = watermark  # older hours change only through dirty marks now
        if time.monotonic() - self._swept_at > SWEEP_EVERY_S:
            sweep(self.store)
            self._swept_at = time.monotonic()
        self._next_at = time.monotonic() + self.every_s
        self.rolled_hours += done
        if done:
            log.info("rolled up %d hours", done)
        return done


def _hour(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H").replace(tzinfo=UTC)


def _floor_hour(ms: int) -> datetime:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.replace(minute=0, second=0, microsecond=0)
