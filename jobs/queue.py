"""Huey on SQLite, run in-process: the factory, a consumer that leaves signals alone, and the
periodic work of the pipeline (reaping idle visits, rotating the device-id salt).

Huey is for coarse jobs only; events never become Huey tasks (ARCHITECTURE.md §3).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from huey import SqliteHuey, crontab
from huey.consumer import Consumer

log = logging.getLogger(__name__)


def make_huey(path: Path, *, immediate: bool = False) -> SqliteHuey:
    """The appliance's task queue, stored in `path` (jobs.db)."""
    return SqliteHuey(name="openpanel", filename=str(path), immediate=immediate, utc=True)


class InProcessConsumer(Consumer):
    """Huey's thread consumer without signal handlers: the server process owns signals."""

    def _set_signal_handlers(self) -> None:
        return None

    @property
    def alive(self) -> bool:
        return all(proc.is_alive() for _, proc in self.worker_threads) and self.scheduler.is_alive()


def start_consumer(huey: SqliteHuey, workers: int = 1) -> InProcessConsumer:
    """Start worker and scheduler threads (max pickup delay 0.5 s after idle)."""
    consumer = InProcessConsumer(
        huey,
        workers=workers,
        worker_type="thread",
        periodic=True,
        initial_delay=0.05,
        max_delay=0.5,
        check_worker_health=False,
    )
    consumer.start()
    return consumer


def stop_consumer(consumer: InProcessConsumer) -> None:
    consumer.stop(graceful=True)


def register_periodic(
    huey: SqliteHuey, *, reap_sessions: Callable[[], object], rotate_salt: Callable[[], object]
) -> None:
    """Register the pipeline's periodic tasks onto `huey`."""

    @huey.periodic_task(crontab(minute="*"), name="reap_idle_sessions")
    def reap_idle_sessions() -> None:
        reap_sessions()

    @huey.periodic_task(crontab(minute="0", hour="0"), name="rotate_device_salt")
    def rotate_device_salt() -> None:
        rotate_salt()
