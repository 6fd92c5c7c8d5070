"""Rollups give exactly the raw answers (real chDB): every overview metric and list, and the
retention matrix, over many windows, timezones and intervals, before and after late rows dirty a
rolled hour."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from embedded_db.reports.overview import OverviewQuery, overview
from embedded_db.reports.retention import (
    CRITERIA,
    RETENTION_INTERVALS,
    RetentionQuery,
    retention,
    retention_sql,
)
from embedded_db.reports.toplists import (
    DIMENSIONS,
    ListQuery,
    dimension_list,
    entry_exit_pages,
    top_pages,
)
from embedded_db.rollups import (
    mark_dirty,
    mark_empty,
    pending_hours,
    plan,
    roll_hours,
    sweep,
)
from embedded_db.store import EventStore, migration_files, split_statements
from embedded_db.timeframe import Window, resolve_range
from jobs.rollups import Roller
from jobs.timefmt import ch_time
from tests.support.stores import unique_project

NOW = datetime.now(UTC).replace(minute=7, second=0, microsecond=0)
PATHS = ["/", "/pricing", "/blog/a", "/blog/b", "/signup", "/checkout"]
COUNTRIES = [("GB", "London"), ("US", "Mountain View"), ("KR", "Seoul"), ("DE", "Berlin")]
BROWSERS = [("Chrome", "131"), ("Firefox", "133"), ("Safari", "17.5")]
REFERRERS = [("", "", ""), ("https://www.google.com/", "Google", "search"), ("x", "X", "social")]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def visit_rows(project: str, rng: random.Random, start: datetime) -> tuple[list, dict]:
    """One visit: its events (session_start, views, maybe revenue) and its session row."""
    sid = str(uuid.UUID(int=rng.getrandbits(128)))
    device = f"d{rng.randrange(40)}"
    profile = f"user{rng.randrange(10)}" if rng.random() < 0.3 else device
    country, city = rng.choice(COUNTRIES)
    browser, version = rng.choice(BROWSERS)
    referrer, ref_name, ref_type = rng.choice(REFERRERS)
    common = {
        "project_id": project,
        "session_id": sid,
        "device_id": device,
        "profile_id": profile,
        "origin": "https://shop.example",
        "country": country,
        "city": city,
        "browser": browser,
        "browser_version": version,
        "os": "Windows",
        "device": "desktop",
        "referrer": referrer,
        "referrer_name": ref_name,
        "referrer_type": ref_type,
    }
    views = [rng.choice(PATHS) for _ in range(rng.choice([1, 1, 2, 3, 5]))]
    at = start
    events = [
        {
            **common,
            "id": str(uuid.uuid4()),
            "name": "session_start",
            "path": views[0],
            "created_at": ch_time(_ms(at)),
        }
    ]
    for path in views:
        events.append(
            {
                **common,
                "id": str(uuid.uuid4()),
                "name": "screen_view",
                "path": path,
                "created_at": ch_time(_ms(at)),
            }
        )
        at += timedelta(seconds=rng.randrange(5, 400))
    if rng.random() < 0.15:
        events.append(
            {
                **common,
                "id": str(uuid.uuid4()),
                "name": "revenue",
                "path": "",
                "revenue": rng.randrange(100, 5000),
                "created_at": ch_time(_ms(at)),
            }
        )
    duration = _ms(at) - _ms(start) if len(views) > 1 else 0
    session = {
        **{
            k: common[k]
            for k in (
                "project_id",
                "profile_id",
                "device_id",
                "country",
                "city",
                "browser",
                "browser_version",
                "os",
                "device",
                "referrer",
                "referrer_name",
                "referrer_type",
            )
        },
        "id": sid,
        "created_at": ch_time(_ms(start)),
        "ended_at": ch_time(_ms(at)),
        "is_bounce": len(views) == 1,
        "entry_origin": "https://shop.example",
        "entry_path": views[0],
        "exit_origin": "https://shop.example",
        "exit_path": views[-1],
        "screen_view_count": len(views),
        "event_count": len(events),
        "duration": duration,
        "utm_source": rng.choice(["", "", "newsletter", "twitter"]),
        "version": 1,
    }
    return events, session


def load(store: EventStore, project: str, count: int, seed: int, days: int = 4) -> None:
    rng = random.Random(seed)
    events: list[dict[str, Any]] = []
    sessions = []
    for _ in range(count):
        start = NOW - timedelta(minutes=rng.randrange(60, days * 24 * 60))
        evs, sess = visit_rows(project, rng, start)
        events += evs
        sessions.append(sess)
    store.insert("events", events)
    store.insert("sessions", sessions)


def roll_all(store: EventStore, project: str, before: datetime = NOW) -> int:
    todo = pending_hours(store, before)[project]
    mark_empty(store, project, todo.empty, todo.version)
    roll_hours(store, project, todo.hours)
    return len(todo.hours)


def windows() -> list[tuple[str, Window, str]]:
    out = []
    for tz in ("UTC", "Asia/Seoul", "America/Los_Angeles", "Asia/Kolkata"):
        for range_, interval in (("7d", "day"), ("30d", "week"), ("today", "hour")):
            out.append((f"{tz} {range_}", resolve_range(range_, tz, NOW), interval))
    odd = Window(NOW - timedelta(days=2, minutes=17), NOW - timedelta(hours=3, minutes=41), "UTC")
    out.append(("partial hours", odd, "hour"))
    return out


def answers(store: EventStore, project: str, window: Window, interval: str, rolled: bool) -> Any:
    q = OverviewQuery(project, window, interval, rollups=rolled)
    lq = ListQuery(project, window, limit=1000, rollups=rolled)
    lists = {d: dimension_list(store, lq, d)["data"] for d in DIMENSIONS}
    lists["entry"] = entry_exit_pages(store, lq, "entry")["data"]
    lists["exit"] = entry_exit_pages(store, lq, "exit")["data"]
    lists["pages"] = top_pages(store, lq)["data"]
    searched = ListQuery(project, window, search="blog", limit=1000, rollups=rolled)
    lists["search"] = top_pages(store, searched)["data"]
    every = interval if interval in RETENTION_INTERVALS else "day"
    for criteria in CRITERIA:
        rq = RetentionQuery(project, window, every, criteria, now=NOW, rollups=rolled)
        lists[f"retention {criteria}"] = retention(store, rq)
    return overview(store, q), lists


@pytest.fixture(scope="module")
def rolled_project(store: EventStore) -> str:
    project = unique_project()
    load(store, project, 600, seed=7)
    assert roll_all(store, project) > 50
    return project


@pytest.mark.parametrize(("label", "window", "interval"), windows(), ids=lambda v: str(v)[:20])
def test_rolled_and_raw_answers_are_identical(
    store: EventStore, rolled_project: str, label: str, window: Window, interval: str
) -> None:
    raw = answers(store, rolled_project, window, interval, rolled=False)
    assert raw == answers(store, rolled_project, window, interval, rolled=True)
    assert raw[0]["metrics"]["total_sessions"]["value"] > 0 or label.endswith("today")


def test_reports_really_read_the_rollups(store: EventStore, rolled_project: str) -> None:
    week = resolve_range("7d", "Asia/Seoul", NOW)
    assert len(plan(store, rolled_project, week, "day").rolled) > 24
    # Kolkata days start at :30 UTC, so a day series can't use hours; totals still can.
    kolkata = resolve_range("7d", "Asia/Kolkata", NOW)
    assert plan(store, rolled_project, kolkata, "day").rolled == []
    assert plan(store, rolled_project, kolkata).rolled
    # retention's default question reads who was active per hour, unless filtered
    assert "rollup_active" in retention_sql(store, RetentionQuery(rolled_project, week, "day"))
    named = RetentionQuery(rolled_project, week, "day", start_events=["screen_view"])
    assert "rollup_active" not in retention_sql(store, named)


def test_a_late_row_dirties_its_hour_until_it_is_rolled_again(store: EventStore) -> None:
    project = unique_project()
    load(store, project, 120, seed=3, days=2)
    roll_all(store, project)
    window = resolve_range("7d", "UTC", NOW)
    before = overview(store, OverviewQuery(project, window, "day", previous=False))
    hour = (NOW - timedelta(hours=20)).replace(minute=0)
    rolled_hours = {h for h, _ in plan(store, project, window).rolled}
    assert hour in rolled_hours

    events, session = visit_rows(project, random.Random(99), hour + timedelta(minutes=5))
    store.insert("events", events)
    store.insert("sessions", [session])
    mark_dirty(store, [(project, hour)])
    assert hour not in {h for h, _ in plan(store, project, window).rolled}
    after = overview(store, OverviewQuery(project, window, "day", previous=False))
    assert after["metrics"]["total_sessions"]["value"] == (
        before["metrics"]["total_sessions"]["value"] + 1
    )
    assert after == overview(
        store, OverviewQuery(project, window, "day", previous=False, rollups=False)
    )

    assert pending_hours(store, NOW)[project].hours == [hour]
    roll_all(store, project)
    assert hour in {h for h, _ in plan(store, project, window).rolled}
    assert after == overview(store, OverviewQuery(project, window, "day", previous=False))


def test_rolling_again_supersedes_the_previous_rows(store: EventStore) -> None:
    project = unique_project()
    load(store, project, 50, seed=5, days=1)
    todo = pending_hours(store, NOW)[project]
    mark_empty(store, project, todo.empty, todo.version)
    hours = todo.hours
    first = roll_hours(store, project, hours)
    version = roll_hours(store, project, hours)
    query = (
        "SELECT DISTINCT version FROM openpanel.rollup_visits WHERE project_id = {p:String} "
        "ORDER BY version"
    )
    # superseded rows stay a while (a report may have planned with them) …
    assert store.query(query, {"p": project}) == [{"version": first}, {"version": version}]
    sweep(store)
    assert len(store.query(query, {"p": project})) == 2
    sweep(store, grace_s=0)  # … and go once older than the grace period
    versions = store.query(
        "SELECT DISTINCT version FROM openpanel.rollup_visits WHERE project_id = {p:String}",
        {"p": project},
    )
    assert versions == [{"version": version}]
    assert pending_hours(store, NOW).get(project) is None


def test_the_worker_marks_late_rows_and_rolls_settled_hours(store: EventStore) -> None:
    project = unique_project()
    roller = Roller(store, timeout_ms=30 * 60_000, budget_s=60)
    now_ms = _ms(NOW)
    load(store, project, 40, seed=11, days=1)
    while roller.run(now_ms):  # the shared store holds other tests' projects too
        pass
    settled = {h for h, _ in plan(store, project, resolve_range("7d", "UTC", NOW)).rolled}
    assert settled and max(settled) < NOW - timedelta(minutes=40)

    late = {"project_id": project, "created_at": ch_time(_ms(min(settled)) + 60_000)}
    fresh = {"project_id": project, "created_at": ch_time(now_ms - 60_000)}
    roller.note(now_ms, [late, fresh])
    markers = store.query(
        "SELECT hour, state FROM openpanel.rollup_hours FINAL WHERE project_id = {p:String} "
        "AND state = 0",
        {"p": project},
    )
    assert [m["hour"] for m in markers] == [min(settled).strftime("%Y-%m-%d %H:%M:%S")]


def test_the_activity_rollup_migration_rolls_rolled_hours_again(store: EventStore) -> None:
    """Hours rolled before `rollup_active` existed have no rows in it: migration 0007 marks them
    dirty so the worker recomputes every rollup of them (run here for one project only)."""
    project = unique_project()
    load(store, project, 40, seed=13, days=1)
    rolled = roll_all(store, project)
    week = resolve_range("7d", "UTC", NOW)
    assert len(plan(store, project, week).rolled) >= rolled > 0
    [migration] = [sql for version, _, sql in migration_files() if version == 7]
    mark_dirty_again = split_statements(migration)[-1]
    store.execute(mark_dirty_again + " AND project_id = {p:String}", {"p": project})
    assert plan(store, project, week).rolled == []  # read raw until rolled again
    assert len(pending_hours(store, NOW)[project].hours) >= rolled
    roll_all(store, project)
    query = RetentionQuery(project, week, "day", now=NOW)
    assert "rollup_active" in retention_sql(store, query)
    assert retention(store, query) == retention(
        store, RetentionQuery(project, week, "day", now=NOW, rollups=False)
    )
