"""The rollup worker as the pipeline runs it: a stored batch with rows in a settled hour marks
that hour dirty, so reports read it raw until it is rolled again (real pipeline, real chDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.rollups import Roller
from tests.jobs.test_pipeline import track
from tests.support.stores import TIMEOUT_MS, Harness


def markers(h: Harness) -> list[dict]:
    return h.store.query(
        "SELECT toString(hour) AS hour, state FROM openpanel.rollup_hours FINAL "
        "WHERE project_id = {p:String} ORDER BY hour",
        {"p": h.project_id},
    )


def test_a_late_event_dirties_its_hour_and_a_fresh_one_does_not(harness: Harness) -> None:
    harness.pipeline.roller = Roller(harness.store, TIMEOUT_MS)
    late = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)
    track(harness, "purchase", {"__timestamp": late.isoformat().replace("+00:00", "Z")})
    track(harness, "screen_view", {"__path": "https://shop.example/"})
    harness.flush()
    hour = late.replace(minute=0, second=0).strftime("%Y-%m-%d %H:%M:%S")
    assert markers(harness) == [{"hour": hour, "state": 0}]

    track(harness, "purchase", {"__timestamp": late.isoformat().replace("+00:00", "Z"), "n": 2})
    harness.flush()
    written = harness.store.scalar(
        "SELECT count() FROM openpanel.rollup_hours WHERE project_id = {p:String}",
        {"p": harness.project_id},
    )
    assert written == 1  # already known dirty: not written again
