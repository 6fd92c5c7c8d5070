"""Retention, per-profile erasure and project data deletion, with rollups kept exact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from embedded_db.errors import ValidationError
from embedded_db.lifecycle import (
    delete_profile,
    delete_project_data,
    retention_days,
    set_retention_days,
)
from embedded_db.reports.overview import OverviewQuery, overview
from embedded_db.reports.retention import RetentionQuery, retention
from embedded_db.rollups import plan, roll_hours
from embedded_db.timeframe import Window
from jobs.lifecycle import apply_retention_everywhere
from tests.imports import samples
from tests.imports.conftest import Imports

DAY = datetime(2024, 5, 1, tzinfo=UTC)
WINDOW = Window(start=DAY, end=DAY + timedelta(days=1), tz="UTC")


def _totals(imports: Imports, rollups: bool) -> dict[str, float]:
    report = overview(
        imports.store,
        OverviewQuery(imports.project_id, WINDOW, "hour", previous=False, rollups=rollups),
    )
    return {k: v["value"] for k, v in report["metrics"].items()}


def _retention(imports: Imports, rollups: bool) -> list[dict]:
    query = RetentionQuery(imports.project_id, WINDOW, "day", now=WINDOW.end, rollups=rollups)
    return retention(imports.store, query)["cohorts"]


def _active_rows(imports: Imports, visitor: str) -> int:
    """Rows of `rollup_active` (retention's rollup) for a profile or device id."""
    return int(
        imports.store.scalar(
            "SELECT count() FROM openpanel.rollup_active WHERE project_id = {p:String} "
            "AND visitor = cityHash64({v:String})",
            {"p": imports.project_id, "v": visitor},
        )
    )


def _imported(imports: Imports) -> None:
    imports.importer.run(samples.write_ndjson(imports.tmp / "e.ndjson"), imports.project_id)


def _roll_everything(imports: Imports) -> None:
    roll_hours(imports.store, imports.project_id, [DAY + timedelta(hours=h) for h in range(24)])
    assert len(_rolled(imports)) == 24  # reports read these hours from the rollups


def _rolled(imports: Imports) -> list[datetime]:
    return [h for h, _ in plan(imports.store, imports.project_id, WINDOW, "hour").rolled]


def test_retention_deletes_old_rows_and_keeps_rollups_exact(imports: Imports) -> None:
    _imported(imports)
    _roll_everything(imports)
    set_retention_days(imports.meta, imports.project_id, 1)
    assert retention_days(imports.meta, imports.project_id) == 1

    deleted = apply_retention_everywhere(
        imports.store, imports.meta, now=datetime(2024, 5, 2, 10, 30, tzinfo=UTC)
    )
    assert deleted[imports.project_id] == 8  # visits of dev-a (5 events) and dev-b (3)
    left = [(e["name"], e["created_at"]) for e in imports.events()]
    assert left == [
        ("session_start", "2024-05-01 10:59:59.900"),
        ("screen_view", "2024-05-01 11:00:00.000"),
        ("session_end", "2024-05-01 11:00:01.000"),
        ("invoice_paid", "2024-05-01 12:00:00.000"),
    ]
    assert [s["created_at"] for s in imports.sessions()] == ["2024-05-01 11:00:00.000"]
    assert _totals(imports, rollups=True) == _totals(imports, rollups=False)
    assert _totals(imports, rollups=False)["total_sessions"] == 1


def test_retention_limits_are_checked(imports: Imports) -> None:
    with pytest.raises(ValidationError, match="days"):
        set_retention_days(imports.meta, imports.project_id, -3)
    set_retention_days(imports.meta, imports.project_id, 0)
    assert retention_days(imports.meta, imports.project_id) is None


def test_erasing_a_profile_removes_their_visits_and_events(imports: Imports) -> None:
    _imported(imports)
    _roll_everything(imports)
    before = _totals(imports, rollups=True)
    assert before["total_sessions"] == 3 and before["unique_visitors"] == 3

    # active visitors: dev-a (anonymous), user-1, dev-b and user-9 (server-side)
    cohorts = _retention(imports, rollups=True)
    assert cohorts == _retention(imports, rollups=False) and cohorts[0]["size"] == 4
    assert _active_rows(imports, "user-1") and _active_rows(imports, "dev-a")

    erased = delete_profile(imports.store, imports.project_id, "user-1")
    assert DAY + timedelta(hours=10) not in _rolled(imports)  # marked dirty: read raw
    # nothing in the rollups names them or the device of their visit any more
    assert not _active_rows(imports, "user-1") and not _active_rows(imports, "dev-a")
    assert DAY + timedelta(hours=11) not in _rolled(imports)  # dev-a's other visit: read raw
    cohorts = _retention(imports, rollups=True)  # dev-a's later visit, dev-b, user-9
    assert cohorts == _retention(imports, rollups=False) and cohorts[0]["size"] == 3
    # user-1's visit: its 5 events (the anonymous page views of that visit included)
    assert (erased.events, erased.sessions, erased.profiles) == (5, 1, 1)
    assert "user-1" not in imports.profiles()
    assert all(e["profile_id"] != "user-1" for e in imports.events())
    after = _totals(imports, rollups=True)
    assert after == _totals(imports, rollups=False)
    assert after["total_sessions"] == 2 and after["total_screen_views"] == 2


def test_deleting_a_project_s_data(imports: Imports) -> None:
    _imported(imports)
    _roll_everything(imports)
    other = imports.new_project()
    imports.importer.run(samples.write_ndjson(imports.tmp / "other.ndjson"), other)
    delete_project_data(imports.store, imports.project_id)
    assert imports.events() == [] and imports.sessions() == [] and imports.profiles() == {}
    assert _totals(imports, rollups=True)["total_sessions"] == 0
    assert len(imports.events(other)) == samples.STORED_EVENTS
