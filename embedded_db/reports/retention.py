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
* The default question (any event, no filters) reads the rolled hours from `rollup_active`
  (who was active in each hour) and only the rest of the range from the events: the same
  answer, from a few rows per visitor instead of every event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import NOT_SYNTHETIC, Filter, compile_filters
from embedded_db.rollups import plan
from embedded_db.sql import array_literal, select, select_from, select_union
from embedded_db.store import EventStore
from embedded_db.timeframe import BUCKET_SQL, Window, bucket_starts, zone

CRITERIA = ("on", "on_or_after")
RETENTION_INTERVALS = ("day", "week", "month")
MAX_COHORTS = 120
# Period number of a bucket `b` after bucket `a` (both local Dates), as SQL to format.
_PERIOD = {
    "day": "dateDiff('day', {a}, {b})",
    "week": "intDiv(dateDiff('day', {a}, {b}), 7)",
    "month": "dateDiff('month', {a}, {b})",
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
    rollups: bool = True  # False reads everything raw (the rollup equality test compares)

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
    sql, params = _matrix_sql(store, q, starts)
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


def retention_sql(store: EventStore, q: RetentionQuery) -> str:
    """The matrix query `retention` runs for `q` (to see which tables it reads)."""
    return _matrix_sql(store, q, bucket_starts(q.window, q.interval))[0]


def _return_events(q: RetentionQuery) -> list[str]:
    return q.start_events if q.return_events is None else q.return_events


def _name_condition(names: list[str], param: str, params: dict[str, Any]) -> str:
    if not names:
        return NOT_SYNTHETIC
    params[param] = array_literal(names)
    return f"name IN {{{param}:Array(String)}}"


def _matrix_sql(
    store: EventStore, q: RetentionQuery, starts: list[datetime]
) -> tuple[str, dict[str, Any]]:
    """(cohort, period, visitors) rows, with period -1 giving each cohort's size."""
    observe_end = _advance(starts[0], q.interval, 2 * len(starts) - 1, q.window.tz)
    params: dict[str, Any] = {
        "project": q.project_id,
        **q.window.params(),
        "observe_end": observe_end.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "last": len(starts) - 1,
        "first": starts[0].date().isoformat(),
        "cohorts": array_literal([s.date().isoformat() for s in starts]),
    }
    compiled = compile_filters(q.filters)
    params.update(compiled.params)
    started = (
        "("
        + _name_condition(q.start_events, "start_names", params)
        + " AND created_at < {end:DateTime64(3, 'UTC')})"
    )
    returned = _name_condition(_return_events(q), "return_names", params)
    where = [
        "project_id = {project:String}",
        "profile_id != ''",
        *compiled.conditions,
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {observe_end:DateTime64(3, 'UTC')}",
    ]
    if set(q.start_events) == set(_return_events(q)):
        query = _same_event_sql(
            store,
            q,
            observe_end,
            params,
            [*where, f"({started} OR {returned})"],
            started,
            len(starts),
        )
        return query, params
    return _two_event_sql(q, where, started, returned), params


def _active(periods: str, criteria: str) -> str:
    """The periods a visitor counts in, from the periods (≥ 0) they were active in."""
    if criteria == "on":
        return f"arrayFilter(p -> p <= {{last:Int32}}, {periods})"
    # on_or_after: every period up to the latest active one (capped at the matrix)
    top = f"least(arrayMax(arrayConcat([-1], {periods})), {{last:Int32}})"
    return f"range(toInt32({top}) + 1)"


def _same_event_sql(
    store: EventStore,
    q: RetentionQuery,
    observe_end: datetime,
    params: dict[str, Any],
    where: list[str],
    started: str,
    cohorts: int,
) -> str:
    """Start and return events are the same (the default: any event). The first start event
    is then the earliest return, so a visitor is their cohort's bucket number (the smallest
    active one) and a bit mask of the buckets they were active in; visitors sharing both are
    counted together before the periods are unfolded. Visitors are told apart by a 64-bit hash
    of their id (as in `rollup_active`; a collision among millions of visitors is a
    one-in-ten-million event)."""
    span = 2 * cohorts - 1  # buckets from the first cohort's to the end of observation
    mask_type = next(f"UInt{bits}" for bits in (64, 128, 256) if span <= bits)
    bucket = f"{BUCKET_SQL[q.interval]}(t, {{tz:String}})"
    index = _PERIOD[q.interval].format(a="{first:Date}", b=bucket)
    parts = _rolled_parts(store, q, observe_end, params) or [
        select(
            f"cityHash64(profile_id) AS visitor, toDateTime(created_at, 'UTC') AS t, "
            f"{started} AS opens",
            "events",
            where,
        )
    ]
    per_visitor = select_union(
        f"min({index}) AS c, groupBitOr(bitShiftLeft(to{mask_type}(1), {index})) AS mask",
        parts,
        "GROUP BY visitor HAVING max(opens) = 1",
    )
    combos = select_from("c, mask, count() AS n", per_visitor, "GROUP BY c, mask")
    active_buckets = f"arrayFilter(i -> bitAnd(bitShiftRight(mask, i), 1) = 1, range(c, {span}))"
    periods = f"arrayMap(i -> toInt64(i - c), {active_buckets})"
    return select_from(
        "arrayElement({cohorts:Array(String)}, c + 1) AS cohort, "
        f"arrayJoin(arrayConcat([-1], {_active(periods, q.criteria)})) AS period, sum(n) AS n",
        combos,
        "GROUP BY cohort, period",
    )


def _two_event_sql(q: RetentionQuery, where: list[str], started: str, returned: str) -> str:
    """Different start and return events: per visitor the first start event in range and the
    latest return time in each bucket; returns before the first start event do not count."""
    bucket = BUCKET_SQL[q.interval]
    latest = (
        f"maxMapIf([{bucket}(created_at, {{tz:String}})], "
        f"[toUnixTimestamp64Milli(created_at)], {returned}) AS latest"
    )
    per_visitor = select(
        f"profile_id, minIf(created_at, {started}) AS first_at, {latest}",
        "events",
        [*where, f"({started} OR {returned})"],
        f"GROUP BY profile_id HAVING countIf({started}) > 0",
    )
    # return buckets at or after the first start event (only the cohort's own bucket can hold
    # earlier ones), as period numbers
    periods = (
        f"arrayMap(b -> {_PERIOD[q.interval].format(a='cohort', b='b')}, arrayFilter((b, t) -> "
        "t >= toUnixTimestamp64Milli(first_at), latest.1, latest.2))"
    )
    rows = select_from(
        f"profile_id, {bucket}(first_at, {{tz:String}}) AS cohort, "
        f"arrayJoin(arrayConcat([-1], {_active(periods, q.criteria)})) AS period",
        per_visitor,
    )
    return select_from(
        "toString(cohort) AS cohort, period, count() AS n", rows, "GROUP BY cohort, period"
    )


def _rolled_parts(
    store: EventStore, q: RetentionQuery, observe_end: datetime, params: dict[str, Any]
) -> list[str]:
    """The default question (any event, no filters) reads rolled hours from `rollup_active`
    (an hour stands for the moments in it, which fall in one bucket whenever the plan allows
    rollups at all) and the rest raw: rows (visitor, t, opens). The range (where cohorts
    start) and the look past its end (returns only) are planned apart, so an hour split by a
    range end that is not on the hour is read raw. Empty when rollups cannot serve."""
    if not q.rollups or q.filters or q.start_events or _return_events(q):
        return []
    parts: list[str] = []
    roles = (("s", q.window.start, q.window.end, 1), ("r", q.window.end, observe_end, 0))
    for key, start, end, opens in roles:
        p = plan(store, q.project_id, Window(start, max(start, end), q.window.tz), q.interval, key)
        params.update(p.params())
        if p.has_rolled:
            parts.append(
                select(
                    f"visitor, hour AS t, {opens} AS opens",
                    "rollup_active",
                    ["project_id = {project:String}", p.rolled_condition],
                )
            )
        parts.append(
            select(
                f"cityHash64(profile_id) AS visitor, toDateTime(created_at, 'UTC') AS t, "
                f"{opens} AS opens",
                "events",
                [
                    "project_id = {project:String}",
                    "profile_id != ''",
                    NOT_SYNTHETIC,
                    p.raw_condition,
                ],
            )
        )
    return parts if len(parts) > 2 else []  # nothing rolled: one raw pass is cheaper


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
