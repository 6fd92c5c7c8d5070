"""Device-id salts: daily rotation keeps yesterday's salt; a stale salt is replaced at start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from embedded_db.meta import MetaStore
from jobs.salts import SaltCache


def test_rotation_keeps_the_previous_salt_for_visits_across_midnight(tmp_path: Path) -> None:
    salts = SaltCache(MetaStore(tmp_path / "meta.db"))
    current, _ = salts.get()
    new_current, previous = salts.rotate()
    assert previous == current != new_current
    assert salts.get() == (new_current, previous)


def test_a_salt_older_than_a_day_is_rotated_at_start(tmp_path: Path) -> None:
    meta = MetaStore(tmp_path / "meta.db")
    salts = SaltCache(meta)
    now = datetime.now(UTC)
    assert salts.rotate_if_stale(now) is False
    before = salts.get()
    assert salts.rotate_if_stale(now + timedelta(days=2)) is True
    assert salts.get()[1] == before[0]
