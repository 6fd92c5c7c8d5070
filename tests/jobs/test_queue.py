"""Huey wiring: periodic tasks registered on the factory's instance, an in-process consumer
that leaves signal handlers alone."""

from __future__ import annotations

import signal
import time
from datetime import datetime
from pathlib import Path

from jobs.queue import make_huey, register_periodic, start_consumer, stop_consumer


def test_periodic_tasks_call_the_pipeline_hooks(tmp_path: Path) -> None:
    calls: list[str] = []
    huey = make_huey(tmp_path / "jobs.db", immediate=True)
    register_periodic(
        huey, reap_sessions=lambda: calls.append("reap"), rotate_salt=lambda: calls.append("salt")
    )
    tasks = {t.__name__: t for t in huey._registry._periodic_tasks}
    assert set(tasks) == {"reap_idle_sessions", "rotate_device_salt"}
    for name in ("reap_idle_sessions", "rotate_device_salt"):
        huey.execute(tasks[name]())
    assert calls == ["reap", "salt"]
    minute = datetime(2026, 1, 1, 13, 7)
    assert tasks["reap_idle_sessions"]().validate_datetime(minute)
    assert not tasks["rotate_device_salt"]().validate_datetime(minute)
    assert tasks["rotate_device_salt"]().validate_datetime(datetime(2026, 1, 2, 0, 0))


def test_the_consumer_runs_in_threads_without_taking_signals(tmp_path: Path) -> None:
    before = signal.getsignal(signal.SIGTERM)
    huey = make_huey(tmp_path / "jobs.db")
    done: list[int] = []

    @huey.task()
    def add(x: int) -> None:
        done.append(x)

    consumer = start_consumer(huey)
    try:
        add(7)
        deadline = time.monotonic() + 10
        while not done and time.monotonic() < deadline:
            time.sleep(0.05)
        assert done == [7]
        assert consumer.alive
        assert signal.getsignal(signal.SIGTERM) is before
    finally:
        stop_consumer(consumer)
