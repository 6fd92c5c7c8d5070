"""Retention cohorts (openpanel-compat.md §4.3 `retention`, §4.8 `retention/cohort`): visitors
grouped by when they first did the start event, and how many came back with the return event
in each later day, week or month.

Choices, stated once:
* A visitor is a `profile_id` (the device id while anonymous).
* The cohort is decided by the visitor's first start event **inside the report range**, as in
  OpenPanel; there is no look-back, so someone first seen earlier joins the cohort of their first
  visit in range. Without a start event any event counts, except the pipeline's synthetic
  `session_start`/`session_end` (a visit's end can fall on the next day).
* The return event defaults to the start event(s) (to any event when there is none), and only
  return events at or after the visitor's first start event count; so with the same event
  period 0 is the whole cohort. Global filters apply to both events.
* Periods are whole days (local midnight to midnight), Monday weeks or calendar months in the
  project's timezone. There are as many periods (0 … n-1) as cohorts in the range; returns are
  read past the range's end until every cohort's last period is over, and a cell whose period
  has not started yet (`now`) is null. `on` counts visitors active in period n; `on_or_after`
  those active in period n or any later one (a return past the matrix counts for its last
  period).
* The overall row weights each period by the cohorts that can have it (non-null cells).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import array_literal, select, select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import BUCKET_SQL, Window, bucket_starts, zone

CRITERIA = ("on", "on_or_after")
RETENTION_INTERVALS = ("day", "week", "month")
MAX_COHORTS = 120
SYNTHETIC = "name NOT IN ('session_start', 'session_end')"
# Period number of a return bucket `b` after the cohort's bucket, both local Dates.
_PERIOD = {
    "day": "dateDiff('day', cohort, b)",
    "week": "intDiv(dateDiff('day', cohort, b), 7)",
    "month": "dateDiff('month', cohort, b)",
}


@dataclass
class RetentionQuery:
    project_id: str
    window: Window
    interval: str = "day"
    criteria: str = "on_or_after"
    start_events: list[str] = field(default_factory=list)
    return_events: list[str] | None = None
    filters: list[Filter] = field(default_factory=list)
    now: datetime | None = None

    def check(self) -> None:
        """Raise ValidationError for an unknown interval or criteria."""
        if self.interval not in RETENTION_INTERVALS:
            raise ValidationError("interval", f"must be one of {', '.join(RETENTION_INTERVALS)}")
        if self.criteria not in CRITERIA:
            raise ValidationError("criteria", f"must be one of {', '.join(CRITERIA)}")


def retention(store: EventStore, q: RetentionQuery) -> dict[str, Any]:
    """The cohort matrix: per cohort its size and, per period, returning visitors and percent
    of the cohort (2 decimals; null when the period has not started), plus a weighted row."""
    q.check()
    starts = bucket_starts(q.window, q.interval)
    if len(starts) > MAX_COHORTS:
        raise ValidationError("interval", f"more than {MAX_COHORTS} cohorts; pick a longer one")
    sql, params = _matrix_sql(q, starts)
    sizes: dict[str, int] = {}
    counts: dict[tuple[str, int], int] = {}
    for r in store.query(sql, params):
        if int(r["period"]) < 0:
            sizes[r["cohort"]] = int(r["n"])
        else:
            counts[(r["cohort"], int(r["period"]))] = int(r["n"])
    now = q.now or datetime.now(UTC)
    cohorts = []
    for i, start in enumerate(starts):
        key = start.date().isoformat()
        size = sizes.get(key, 0)
        values: list[dict[str, Any] | None] = []
        for k in range(len(starts)):
            if _advance(starts[0], q.interval, i + k, q.window.tz) > now:
                values.append(None)
                continue
            n = counts.get((key, k), 0)
            values.append({"period": k, "count": n, "percent": _pct(n, size)})
        cohorts.append({"date": start.isoformat(), "size": size, "values": values})
    return {
        "interval": q.interval,
        "criteria": q.criteria,
        "startEvents": q.start_events,
        "returnEvents": _return_events(q),
        "periods": len(starts),
        "cohorts": cohorts,
        "overall": _overall(cohorts, len(starts)),
    }


def _return_events(q: RetentionQuery) -> list[str]:
    return q.start_events if q.return_events is None else q.return_events


def _name_condition(names: list[str], param: str, params: dict[str, Any]) -> str:
    if not names:
        return SYNTHETIC
    params[param] = array_literal(names)
    return f"name IN {{{param}:Array(String)}}"


def _matrix_sql(q: RetentionQuery, starts: list[datetime]) -> tuple[str, dict[str, Any]]:
    """One pass over the events: per visitor, the first start event in range and the latest
    return time in each local bucket; then (cohort, period, visitors) rows, with period -1
    giving each cohort's size."""
    observe_end = _advance(starts[0], q.interval, 2 * len(starts) - 1, q.window.tz)
    params: dict[str, Any] = {
        "project": q.project_id,
        **q.window.params(),
        "observe_end": observe_end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "last": len(starts) - 1,
    }
    compiled = compile_filters(q.filters)
    params.update(compiled.params)
    started = (
        "("
        + _name_condition(q.start_events, "start_names", params)
        + " AND created_at < {end:DateTime64(3, 'UTC')})"
    )
    returned = _name_condition(_return_events(q), "return_names", params)
    bucket = BUCKET_SQL[q.interval]
    same = set(q.start_events) == set(_return_events(q))
    if same:
        # the first start event is itself the earliest return: the set of return buckets is
        # enough (half the cost of keeping the latest return time per bucket)
        latest = f"groupUniqArrayIf({bucket}(created_at, {{tz:String}}), {returned}) AS latest"
    else:
        latest = (
            f"maxMapIf([{bucket}(created_at, {{tz:String}})], "
            f"[toUnixTimestamp64Milli(created_at)], {returned}) AS latest"
        )
    per_visitor = select(
        f"profile_id, minIf(created_at, {started}) AS first_at, {latest}",
        "events",
        [
            "project_id = {project:String}",
            "profile_id != ''",
            *compiled.conditions,
            "created_at >= {start:DateTime64(3, 'UTC')}",
            "created_at < {observe_end:DateTime64(3, 'UTC')}",
            f"({started} OR {returned})",
        ],
        f"GROUP BY profile_id HAVING countIf({started}) > 0",
    )
    # return buckets at or after the first start event (only the cohort's own bucket can hold
    # earlier ones), as period numbers
    if same:
        periods = f"arrayFilter(p -> p >= 0, arrayMap(b -> {_PERIOD[q.interval]}, latest))"
    else:
        periods = (
            f"arrayMap(b -> {_PERIOD[q.interval]}, arrayFilter((b, t) -> "
            "t >= toUnixTimestamp64Milli(first_at), latest.1, latest.2))"
        )
    if q.criteria == "on":
        active = f"arrayFilter(p -> p <= {{last:Int32}}, {periods})"
    else:  # on_or_after: every period up to the latest active one (capped at the matrix)
        top = f"least(arrayMax(arrayConcat([-1], {periods})), {{last:Int32}})"
        active = f"range(toInt32({top}) + 1)"
    rows = select_from(
        f"profile_id, {bucket}(first_at, {{tz:String}}) AS cohort, "
        f"arrayJoin(arrayConcat([-1], {active})) AS period",
        per_visitor,
    )
    sql = select_from(
        "toString(cohort) AS cohort, period, count() AS n", rows, "GROUP BY cohort, period"
    )
    return sql, params


def _overall(cohorts: list[dict[str, Any]], periods: int) -> dict[str, Any]:
    values = []
    for k in range(periods):
        seen = [c for c in cohorts if c["values"][k] is not None]
        size = sum(c["size"] for c in seen)
        count = sum(c["values"][k]["count"] for c in seen)
        values.append({"period": k, "count": count, "size": size, "percent": _pct(count, size)})
    return {"size": sum(c["size"] for c in cohorts), "values": values}


def _advance(first: datetime, interval: str, n: int, tz: str) -> datetime:
    """The local start (in `tz`) of the bucket `n` intervals after bucket start `first`."""
    zi = zone(tz)
    day = first.date()
    if interval == "day":
        day += timedelta(days=n)
    elif interval == "week":
        day += timedelta(days=7 * n)
    else:
        index = day.year * 12 + day.month - 1 + n
        day = date(index // 12, index % 12 + 1, 1)
    return datetime.combine(day, time.min, zi)


def _pct(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0
