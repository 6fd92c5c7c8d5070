"""Ranges, intervals, previous periods and zero-fill buckets in the project's timezone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedded_db.errors import ValidationError
from embedded_db.timeframe import (
    RANGES,
    Window,
    bucket_starts,
    change,
    check_interval,
    default_interval,
    resolve_range,
)

NOW = datetime(2026, 3, 29, 10, 30, tzinfo=UTC)  # the morning after Europe's spring DST change


def local(window: Window) -> tuple[str, str]:
    from zoneinfo import ZoneInfo

    zi = ZoneInfo(window.tz)
    return (window.start.astimezone(zi).isoformat(), window.end.astimezone(zi).isoformat())


@pytest.mark.parametrize(
    ("range_", "start", "end"),
    [
        ("today", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
        ("yesterday", "2026-03-28T00:00:00+01:00", "2026-03-29T00:00:00+01:00"),
        ("7d", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
        ("monthToDate", "2026-03-01T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
        ("lastMonth", "2026-02-01T00:00:00+01:00", "2026-03-01T00:00:00+01:00"),
        ("yearToDate", "2026-01-01T00:00:00+01:00", "2026-03-30T00:00:00+02:00"),
        ("lastYear", "2025-01-01T00:00:00+01:00", "2026-01-01T00:00:00+01:00"),
        ("30min", "2026-03-29T12:00:00+02:00", "2026-03-29T12:30:00+02:00"),
    ],
)
def test_named_ranges_follow_the_project_calendar(range_: str, start: str, end: str) -> None:
    assert local(resolve_range(range_, "Europe/Paris", NOW)) == (start, end)


def test_day_ranges_cover_whole_days_including_today() -> None:
    window = resolve_range("30d", "UTC", NOW)
    assert window.start == datetime(2026, 2, 28, tzinfo=UTC)
    assert window.end == datetime(2026, 3, 30, tzinfo=UTC)
    three = resolve_range("3m", "UTC", NOW)
    assert three.start == datetime(2025, 12, 30, tzinfo=UTC)


def test_custom_dates_include_the_end_day_and_are_validated() -> None:
    window = resolve_range("custom", "America/New_York", NOW, "2026-01-01", "2026-01-31")
    assert local(window) == ("2026-01-01T00:00:00-05:00", "2026-02-01T00:00:00-05:00")
    assert default_interval("custom", window) == "day"
    with pytest.raises(ValidationError) as err:
        resolve_range("custom", "UTC", NOW, "2026-02-01", "2026-01-01")
    assert err.value.field == "endDate"
    with pytest.raises(ValidationError):
        resolve_range("custom", "UTC", NOW, "yesterday", "2026-01-01")
    with pytest.raises(ValidationError) as err:
        resolve_range("5y", "UTC", NOW)
    assert err.value.field == "range"
    with pytest.raises(ValidationError) as err:
        resolve_range("today", "Mars/Olympus", NOW)
    assert err.value.field == "timezone"


def test_default_intervals_and_limits() -> None:
    for range_, interval in (
        ("30min", "minute"),
        ("today", "hour"),
        ("7d", "day"),
        ("6m", "week"),
        ("12m", "month"),
        ("lastYear", "month"),
    ):
        window = resolve_range(range_, "UTC", NOW)
        assert default_interval(range_, window) == interval
        assert check_interval(interval, range_, window) == interval
    month = resolve_range("30d", "UTC", NOW)
    with pytest.raises(ValidationError, match="minute"):
        check_interval("minute", "30d", month)
    with pytest.raises(ValidationError, match="hour"):
        check_interval("hour", "30d", month)
    long_custom = resolve_range("custom", "UTC", NOW, "2025-01-01", "2025-12-31")
    assert default_interval("custom", long_custom) == "month"


def test_buckets_zero_fill_across_a_dst_change() -> None:
    window = resolve_range("yesterday", "Europe/Paris", datetime(2026, 3, 30, 8, tzinfo=UTC))
    hours = bucket_starts(window, "hour")
    assert len(hours) == 23  # the night the clocks went forward
    assert hours[0].isoformat() == "2026-03-29T00:00:00+01:00"
    assert hours[2].isoformat() == "2026-03-29T03:00:00+02:00"
    days = bucket_starts(resolve_range("7d", "Europe/Paris", NOW), "day")
    assert [d.day for d in days] == [23, 24, 25, 26, 27, 28, 29]
    weeks = bucket_starts(resolve_range("lastMonth", "UTC", NOW), "week")
    assert weeks[0].date().isoformat() == "2026-01-26" and all(w.weekday() == 0 for w in weeks)


def test_previous_period_is_the_same_length_just_before() -> None:
    window = resolve_range("7d", "UTC", NOW)
    prev = window.previous()
    assert prev.end == window.start and prev.length == window.length == timedelta(days=7)
    assert window.params() == {
        "start": "2026-03-23 00:00:00.000",
        "end": "2026-03-30 00:00:00.000",
        "tz": "UTC",
    }


def test_change_percentages() -> None:
    assert change(150, 100) == {"diff": 50.0, "state": "positive", "value": 100}
    assert change(50, 100)["state"] == "negative"
    assert change(5, 0) == {"diff": None, "state": "positive", "value": 0}
    assert change(0, 0)["state"] == "neutral"


@given(
    range_=st.sampled_from([r for r in RANGES if r != "custom"]),
    tz=st.sampled_from(
        [
            "UTC",
            "Europe/Paris",
            "America/Los_Angeles",
            "Asia/Kolkata",
            "Australia/Lord_Howe",
            "Pacific/Chatham",
        ]
    ),
    now=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
)
def test_every_range_is_a_nonempty_window_with_buckets(range_: str, tz: str, now: datetime) -> None:
    window = resolve_range(range_, tz, now)
    assert window.start < window.end
    interval = default_interval(range_, window)
    buckets = bucket_starts(window, check_interval(interval, range_, window))
    assert buckets and buckets[0] <= window.start + timedelta(seconds=1)
    assert all(a < b for a, b in zip(buckets, buckets[1:], strict=False))
