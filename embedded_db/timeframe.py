"""The time part of the query model (openpanel-compat.md §4.4): named ranges, intervals, their
defaults and limits, the previous period, and the bucket starts a chart is zero-filled with.

Everything is computed in the project's timezone and handed to SQL as UTC instants plus the
timezone name (storage stays UTC; ClickHouse buckets with `toStartOf…(created_at, tz)`).
Pure functions: `now` is always passed in, so tests pin the clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from embedded_db.errors import ValidationError

RANGES = (
    "30min",
    "lastHour",
    "last24h",
    "today",
    "yesterday",
    "7d",
    "30d",
    "3m",
    "6m",
    "12m",
    "monthToDate",
    "lastMonth",
    "yearToDate",
    "lastYear",
    "custom",
)
INTERVALS = ("minute", "hour", "day", "week", "month")
MAX_CUSTOM_DAYS = 3660
MAX_BUCKETS = 5000

# ClickHouse bucketing function per interval (a Date for day/week/month; weeks start Monday).
BUCKET_SQL = {
    "minute": "toStartOfMinute",
    "hour": "toStartOfHour",
    "day": "toDate",
    "week": "toMonday",
    "month": "toStartOfMonth",
}

_DEFAULT_INTERVAL = {
    "30min": "minute",
    "lastHour": "minute",
    "last24h": "hour",
    "today": "hour",
    "yesterday": "hour",
    "7d": "day",
    "30d": "day",
    "3m": "day",
    "monthToDate": "day",
    "lastMonth": "day",
    "6m": "week",
}


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open time window [start, end) in UTC, with the timezone it was built in."""

    start: datetime
    end: datetime
    tz: str

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Window:
        """The window of the same length immediately before this one."""
        return Window(self.start - self.length, self.start, self.tz)

    def params(self, prefix: str = "") -> dict[str, str]:
        """`{start, end, tz}` for binding as DateTime64(3, 'UTC') and String parameters."""
        fmt = "%Y-%m-%d %H:%M:%S.%f"
        return {
            f"{prefix}start": self.start.strftime(fmt)[:-3],
            f"{prefix}end": self.end.strftime(fmt)[:-3],
            f"{prefix}tz": self.tz,
        }


def zone(name: str) -> ZoneInfo:
    """The timezone, or a ValidationError naming it."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("timezone", f"unknown timezone {name!r}") from None


def resolve_range(
    range_: str, tz: str, now: datetime, start_date: str | None = None, end_date: str | None = None
) -> Window:
    """The window of a named range (or `custom` dates) at `now`, in timezone `tz`.

    Day-based ranges count whole calendar days ending with today (`7d` is today and the six
    days before it; `3m` the days since the same date three months ago); they end at tonight's
    midnight, so a chart shows today's later buckets as zeros, like OpenPanel's."""
    if range_ not in RANGES:
        raise ValidationError("range", f"must be one of {', '.join(RANGES)}")
    zi = zone(tz)
    local = now.astimezone(zi)
    today = local.date()
    midnight = _at(today, zi)
    tonight = _at(today + timedelta(days=1), zi)
    if range_ == "30min":
        return _window(local - timedelta(minutes=30), local, tz)
    if range_ == "lastHour":
        return _window(local - timedelta(hours=1), local, tz)
    if range_ == "last24h":
        return _window(local - timedelta(hours=24), local, tz)
    if range_ == "today":
        return _window(midnight, tonight, tz)
    if range_ == "yesterday":
        return _window(_at(today - timedelta(days=1), zi), midnight, tz)
    if range_ in ("7d", "30d"):
        days = int(range_[:-1])
        return _window(_at(today - timedelta(days=days - 1), zi), _at(today + timedelta(1), zi), tz)
    if range_ in ("3m", "6m", "12m"):
        start = _add_months(today, -int(range_[:-1])) + timedelta(days=1)
        return _window(_at(start, zi), tonight, tz)
    if range_ == "monthToDate":
        return _window(_at(today.replace(day=1), zi), tonight, tz)
    if range_ == "lastMonth":
        first = today.replace(day=1)
        return _window(_at(_add_months(first, -1), zi), _at(first, zi), tz)
    if range_ == "yearToDate":
        return _window(_at(date(today.year, 1, 1), zi), tonight, tz)
    if range_ == "lastYear":
        return _window(_at(date(today.year - 1, 1, 1), zi), _at(date(today.year, 1, 1), zi), tz)
    return _custom(start_date, end_date, zi, tz)


def default_interval(range_: str, window: Window) -> str:
    """OpenPanel's default interval for a range (custom: by its length)."""
    if range_ != "custom":
        return _DEFAULT_INTERVAL.get(range_, "month")
    days = window.length / timedelta(days=1)
    if days <= 1:
        return "hour"
    if days <= 92:
        return "day"
    return "week" if days <= 186 else "month"


def check_interval(interval: str, range_: str, window: Window) -> str:
    """Validate an interval for a window: minute only for the short ranges, hour up to 7 days,
    and never more buckets than a chart can show."""
    if interval not in INTERVALS:
        raise ValidationError("interval", f"must be one of {', '.join(INTERVALS)}")
    if interval == "minute" and window.length > timedelta(hours=1):
        raise ValidationError("interval", "minute is only allowed for 30min and lastHour")
    if interval == "hour" and window.length > timedelta(days=7, hours=1):
        raise ValidationError("interval", "hour is only allowed for ranges up to 7 days")
    return interval


def bucket_starts(window: Window, interval: str) -> list[datetime]:
    """Every bucket start (timezone-aware, local) overlapping the window, for zero-filling."""
    zi = zone(window.tz)
    cursor = _floor(window.start.astimezone(zi), interval, zi)
    end = window.end.astimezone(zi)
    out: list[datetime] = []
    while cursor < end:
        out.append(cursor)
        if len(out) > MAX_BUCKETS:
            raise ValidationError("interval", f"more than {MAX_BUCKETS} buckets; pick a wider one")
        cursor = _next(cursor, interval, zi)
    return out


def change(current: float, previous: float) -> dict[str, float | str | None]:
    """Change vs the previous period: `diff` in percent (None when there is no base) and the
    direction, as OpenPanel's cards show it."""
    if previous == 0:
        return {"diff": None, "state": "positive" if current > 0 else "neutral", "value": previous}
    diff = round((current / previous - 1) * 100, 2)
    state = "positive" if diff > 0 else "negative" if diff < 0 else "neutral"
    return {"diff": diff, "state": state, "value": previous}


# -- internals -------------------------------------------------------------------------------------
def _at(day: date, zi: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zi)


def _window(start: datetime, end: datetime, tz: str) -> Window:
    return Window(start.astimezone(UTC), end.astimezone(UTC), tz)


def _add_months(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    last = _days_in_month(year, month + 1)
    return date(year, month + 1, min(day.day, last))


def _days_in_month(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt - timedelta(days=1)).day


def _custom(start_date: str | None, end_date: str | None, zi: ZoneInfo, tz: str) -> Window:
    if not start_date or not end_date:
        raise ValidationError("startDate", "a custom range needs startDate and endDate")
    start = _parse_local(start_date, zi, "startDate", end=False)
    end = _parse_local(end_date, zi, "endDate", end=True)
    if end <= start:
        raise ValidationError("endDate", "must be after startDate")
    if end - start > timedelta(days=MAX_CUSTOM_DAYS):
        raise ValidationError("endDate", f"a range may span at most {MAX_CUSTOM_DAYS} days")
    return _window(start, end, tz)


def _parse_local(value: str, zi: ZoneInfo, field: str, *, end: bool) -> datetime:
    """A date (`2026-05-01`; as an end it includes that whole day) or a date-time (naive means
    the project's timezone)."""
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return _at(day + timedelta(days=1) if end else day, zi)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(field, f"{text[:40]!r} is not a date") from None
    return parsed.replace(tzinfo=zi) if parsed.tzinfo is None else parsed


def _floor(moment: datetime, interval: str, zi: ZoneInfo) -> datetime:
    if interval == "minute":
        return moment.replace(second=0, microsecond=0)
    if interval == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.date()
    if interval == "week":
        day -= timedelta(days=day.weekday())
    elif interval == "month":
        day = day.replace(day=1)
    return _at(day, zi)


def _next(moment: datetime, interval: str, zi: ZoneInfo) -> datetime:
    if interval in ("minute", "hour"):
        step = timedelta(minutes=1) if interval == "minute" else timedelta(hours=1)
        # Step in UTC so DST changes neither skip nor repeat an instant.
        return (moment.astimezone(UTC) + step).astimezone(zi)
    day = moment.date()
    if interval == "day":
        return _at(day + timedelta(days=1), zi)
    if interval == "week":
        return _at(day + timedelta(days=7), zi)
    return _at(_add_months(day, 1), zi)
