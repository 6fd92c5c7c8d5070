"""Hourly rollups: visit and page aggregates per hour, recomputed from the raw tables, and the
plan a report follows to combine them with raw rows (docs/design.md "Rollups").

An hour is *rolled* when `rollup_hours` holds its latest marker with state 1; the marker's
version names the one computation whose rows are valid. Anything that writes rows into an hour
after it was rolled (late events, imports, deletions) marks the hour dirty (state 0, newer
version) *after* writing, and a computation stamps its rows with the time it *started*, so a
marker can only ever point at rows computed from data that includes every earlier write. Reports
read rolled hours from the rollup tables and everything else of their window raw: the answer is
the same as reading raw, only cheaper. Weekly and monthly figures are derived from hours at
query time (a rolled month is ~720 rows per dimension value).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.filters import NOT_SYNTHETIC
from embedded_db.sql import delete_where, insert_select, select
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, bucket_starts

HOUR = timedelta(hours=1)
ROLLUP_TABLES = ("rollup_visits", "rollup_pages", "rollup_active")  # rows versioned by hour
MAX_RAW_RANGES = 48  # more holes than this and a report reads raw instead
_FMT = "%Y-%m-%d %H:%M:%S"

# Visit columns lists group by; a `prefix` column is shown with its parent (§4.2).
VISIT_DIMENSIONS: dict[str, str | None] = {
    "referrer": None,
    "referrer_name": None,
    "referrer_type": None,
    "utm_source": None,
    "utm_medium": None,
    "utm_campaign": None,
    "utm_term": None,
    "utm_content": None,
    "country": None,
    "region": "country",
    "city": "country",
    "device": None,
    "brand": None,
    "model": "brand",
    "browser": None,
    "browser_version": "browser",
    "os": None,
    "os_version": "os",
}
# Entry and exit pages are rolled as dimensions too: value = path, prefix = origin.
PAGE_DIMENSIONS = {"entry": ("entry_path", "entry_origin"), "exit": ("exit_path", "exit_origin")}


def _dimension_tuples() -> str:
    items = ["('', '', '')"]
    for name, parent in VISIT_DIMENSIONS.items():
        prefix = f"toString({parent})" if parent else "''"
        items.append(f"('{name}', toString({name}), {prefix})")
    for name, (path, origin) in PAGE_DIMENSIONS.items():
        items.append(f"('{name}', {path}, toString({origin}))")
    return "[" + ", ".join(items) + "] AS d"


_DIMENSION_TUPLES = _dimension_tuples()
# The additive visit aggregates, one per `rollup_visits` column: rolled hours store them and
# reports compute the same ones over the raw hours, then sum both (see `visit_sums`).
_VISIT_SUMS = {
    "sessions": "count()",
    "screen_views": "sum(screen_view_count)",
    "bounces": "countIf(is_bounce)",
    "duration_sum": "sumIf(duration, duration > 0)",
    "duration_count": "countIf(duration > 0)",
}


def visit_sums(prefix: str = "") -> str:
    """The additive visit aggregates over `sessions` rows, named `<prefix><column>`."""
    return ", ".join(f"{agg} AS {prefix}{col}" for col, agg in _VISIT_SUMS.items())


def rolled_sums(prefix: str = "") -> str:
    """The same aggregates as stored in `rollup_visits`, named like `visit_sums(prefix)`."""
    return ", ".join(f"{col} AS {prefix}{col}" for col in _VISIT_SUMS)


_VISIT_ROLLUP = (
    "project_id, toStartOfHour(created_at) AS hour, d.1 AS dimension, d.2 AS value, "
    f"d.3 AS prefix, {visit_sums()}, "
    # visitors are only ever asked of the totals; per-value states would triple the table
    "uniqStateIf(profile_id, d.1 = '') AS visitors, "
    "{version:UInt64} AS version"
)
_VISIT_COLUMNS = (
    "project_id, hour, dimension, value, prefix, sessions, screen_views, bounces, "
    "duration_sum, duration_count, visitors, version"
)
_REVENUE_ROLLUP = (
    "project_id, toStartOfHour(created_at) AS hour, '' AS dimension, '' AS value, "
    "'' AS prefix, sum(revenue) AS revenue, {version:UInt64} AS version"
)
_ACTIVE_ROLLUP = (
    "project_id, toStartOfHour(created_at) AS hour, cityHash64(profile_id) AS visitor, "
    "{version:UInt64} AS version"
)
_PAGE_ROLLUP = (
    "project_id, toStartOfHour(created_at) AS hour, origin, path, count() AS pageviews, "
    "uniqState(session_id) AS sessions, {version:UInt64} AS version"
)


# -- marking --------------------------------------------------------------------------------------
def mark_dirty(store: EventStore, marks: Iterable[tuple[str, datetime]]) -> int:
    """Say that rows of these (project, hour) were written or deleted: reports read them raw
    until the hour is rolled again. Call *after* the write. Returns how many were marked."""
    version = time.time_ns()
    rows = [
        {"project_id": p, "hour": _hour(h).strftime(_FMT), "state": 0, "version": version}
        for p, h in set(marks)
    ]
    return store.insert("rollup_hours", rows)


def mark_dirty_range(store: EventStore, project_id: str, start: datetime, end: datetime) -> int:
    """Mark every hour overlapping [start, end) dirty (imports and deletions use this)."""
    hour, marks = _hour(start), []
    while hour < end:
        marks.append((project_id, hour))
        hour += HOUR
    return mark_dirty(store, marks)


# -- computing ------------------------------------------------------------------------------------
@dataclass
class Pending:
    """What one project needs: hours to compute, and hours with no rows that only need a
    marker (`version` was taken before looking, like a computation's)."""

    hours: list[datetime] = field(default_factory=list)
    empty: list[datetime] = field(default_factory=list)
    version: int = 0


def pending_hours(
    store: EventStore, before: datetime, scan_from: datetime | None = None
) -> dict[str, Pending]:
    """Hours before `before` that need rolling, by project: every hour from the project's
    first event (or from `scan_from`) that is not rolled yet — empty hours too, so a quiet
    night leaves no hole — and every hour marked dirty."""
    version = time.time_ns()
    since = scan_from or _EPOCH
    params = {"before": before.strftime(_FMT), "since": since.strftime(_FMT)}
    # Only projects with events since `since` get markers for their quiet hours: looking back
    # no further than the last turn keeps this off a whole-table scan every minute (an idle
    # project's tail stays unrolled: one raw range with nothing in it).
    firsts = store.query(
        select(
            "project_id, toStartOfHour(min(created_at)) AS first",
            "events",
            ["created_at >= {since:DateTime('UTC')}", "created_at < {before:DateTime('UTC')}"],
            "GROUP BY project_id",
        ),
        params,
    )
    with_data = store.query(
        select(
            "DISTINCT project_id, toStartOfHour(created_at) AS hour",
            "events",
            ["created_at >= {since:DateTime('UTC')}", "created_at < {before:DateTime('UTC')}"],
        ),
        params,
    )
    markers = store.query(
        select(
            "project_id, hour, state",
            "rollup_hours",
            ["hour < {before:DateTime('UTC')}"],
            final=True,
        ),
        params,
    )
    rolled = {(m["project_id"], _parse(m["hour"])) for m in markers if m["state"] == 1}
    busy = {(r["project_id"], _parse(r["hour"])) for r in with_data}
    out: dict[str, Pending] = {}
    for m in markers:
        if m["state"] == 0:  # dirty: recompute, whether rows are left or not
            out.setdefault(m["project_id"], Pending(version=version)).hours.append(
                _parse(m["hour"])
            )
    for row in firsts:
        project, hour = row["project_id"], max(_parse(row["first"]), since)
        while hour < before:
            if (project, hour) not in rolled:
                todo = out.setdefault(project, Pending(version=version))
                if (project, hour) in busy:
                    todo.hours.append(hour)
                elif hour not in todo.hours:
                    todo.empty.append(hour)
            hour += HOUR
    for todo in out.values():
        todo.hours = sorted(set(todo.hours))
    return out


def mark_empty(store: EventStore, project_id: str, hours: list[datetime], version: int) -> int:
    """Record hours that had no rows when `version` was taken as rolled."""
    rows = [
        {"project_id": project_id, "hour": h.strftime(_FMT), "state": 1, "version": version}
        for h in hours
    ]
    return store.insert("rollup_hours", rows)


def roll_hours(store: EventStore, project_id: str, hours: list[datetime]) -> int:
    """Recompute the rollups of these hours of one project from the raw tables and mark them
    rolled. Returns the version written."""
    if not hours:
        return 0
    version = time.time_ns()  # taken before reading: later writes mark the hours dirty again
    hours = sorted(set(map(_hour, hours)))
    params: dict[str, Any] = {
        "project": project_id,
        "version": version,
        "lo": hours[0].strftime(_FMT),
        "hi": (hours[-1] + HOUR).strftime(_FMT),
        "hours": "[" + ", ".join(f"'{h.strftime(_FMT)}'" for h in hours) + "]",
    }
    where = [
        "project_id = {project:String}",
        "created_at >= {lo:DateTime('UTC')}",
        "created_at < {hi:DateTime('UTC')}",
        "toStartOfHour(created_at) IN {hours:Array(DateTime('UTC'))}",
    ]
    group = "GROUP BY project_id, hour, dimension, value, prefix"
    visits = select(
        _VISIT_ROLLUP, "sessions", where, group, final=True, array_join=_DIMENSION_TUPLES
    )
    store.execute(insert_select("rollup_visits", _VISIT_COLUMNS, visits), params)
    revenue = select(
        _REVENUE_ROLLUP, "events", [*where, "name = 'revenue'"], "GROUP BY project_id, hour"
    )
    store.execute(
        insert_select(
            "rollup_visits", "project_id, hour, dimension, value, prefix, revenue, version", revenue
        ),
        params,
    )
    pages = select(
        _PAGE_ROLLUP,
        "events",
        [*where, "name = 'screen_view'"],
        "GROUP BY project_id, hour, origin, path",
    )
    store.execute(
        insert_select(
            "rollup_pages", "project_id, hour, origin, path, pageviews, sessions, version", pages
        ),
        params,
    )
    active = select(
        _ACTIVE_ROLLUP,
        "events",
        [*where, "profile_id != ''", NOT_SYNTHETIC],
        "GROUP BY project_id, hour, visitor",
    )
    store.execute(
        insert_select("rollup_active", "project_id, hour, visitor, version", active), params
    )
    store.insert(
        "rollup_hours",
        [
            {"project_id": project_id, "hour": h.strftime(_FMT), "state": 1, "version": version}
            for h in hours
        ],
    )
    return version


def sweep(store: EventStore, grace_s: float = 600) -> None:
    """Delete rollup rows no marker points at any more, once older than `grace_s` seconds: a
    report that planned with the previous marker a moment ago still finds its rows."""
    cutoff = time.time_ns() - int(grace_s * 1e9)
    stale = [
        "version < {cutoff:UInt64}",
        "(project_id, hour, version) NOT IN ("
        + select("project_id, hour, version", "rollup_hours", ["state = 1"], final=True)
        + ")",
    ]
    for name in ROLLUP_TABLES:
        store.execute(delete_where(name, stale), {"cutoff": cutoff})


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """How a report reads its window: rolled hours from the rollups at their valid version,
    everything else raw (half-open UTC ranges). `versions[i]` is the valid version of hour
    `first + i` (epoch seconds, hourly), 0 when that hour is read raw. `key` prefixes the
    parameter names, so two plans can share a query."""

    first: int
    versions: list[int]
    raw: list[tuple[datetime, datetime]]
    key: str = ""

    @property
    def has_rolled(self) -> bool:
        return any(self.versions)

    @property
    def rolled(self) -> list[tuple[datetime, int]]:
        """(hour, version) of every rolled hour."""
        return [
            (datetime.fromtimestamp(self.first + i * 3600, UTC), v)
            for i, v in enumerate(self.versions)
            if v
        ]

    def params(self) -> dict[str, Any]:
        k = self.key
        out: dict[str, Any] = {
            f"{k}rfirst": self.first,
            f"{k}rcount": len(self.versions),
            f"{k}rversions": "[" + ",".join(map(str, self.versions)) + "]",
        }
        for i, (lo, hi) in enumerate(self.raw):
            out[f"{k}raw{i}a"] = lo.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
            out[f"{k}raw{i}b"] = hi.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
        return out

    @property
    def rolled_condition(self) -> str:
        """Rollup rows of the rolled hours at their valid version (an array lookup by hour)."""
        k = self.key
        first, count = f"{{{k}rfirst:UInt32}}", f"{{{k}rcount:UInt32}}"
        versions = f"{{{k}rversions:Array(UInt64)}}"
        return (
            f"hour >= toDateTime({first}, 'UTC') "
            f"AND hour < toDateTime({first} + 3600 * {count}, 'UTC') "
            f"AND version = arrayElement({versions}, intDiv(toUInt32(hour) - {first}, 3600) + 1)"
        )

    @property
    def raw_condition(self) -> str:
        """`created_at` within the raw ranges (an OR of ranges, so the primary key is used)."""
        if not self.raw:
            return "0"
        k = self.key
        parts = [
            f"(created_at >= {{{k}raw{i}a:DateTime64(3, 'UTC')}} "
            f"AND created_at < {{{k}raw{i}b:DateTime64(3, 'UTC')}})"
            for i in range(len(self.raw))
        ]
        return "(" + " OR ".join(parts) + ")"


def raw_plan(window: Window) -> Plan:
    """Read the whole window raw."""
    return Plan(0, [], [(window.start, window.end)])


def plan(
    store: EventStore,
    project_id: str,
    window: Window,
    interval: str | None = None,
    key: str = "",
) -> Plan:
    """How to read a window: rolled hours from rollups, the rest raw. All raw when nothing is
    rolled, with too many holes, or when buckets do not start on a UTC hour (days in
    Asia/Kolkata). `key` names the plan's parameters (see Plan)."""
    return replace(_plan(store, project_id, window, interval), key=key)


def _plan(store: EventStore, project_id: str, window: Window, interval: str | None) -> Plan:
    if interval == "minute" or (interval and not _hour_aligned(window, interval)):
        return raw_plan(window)
    first = int(_ceil_hour(window.start).timestamp())
    last = int(_hour(window.end).timestamp())
    if first >= last:
        return raw_plan(window)
    rows = store.query(
        select(
            "toUInt32(hour) AS h, state, version",
            "rollup_hours",
            [
                "project_id = {project:String}",
                "hour >= toDateTime({first:UInt32}, 'UTC')",
                "hour < toDateTime({last:UInt32}, 'UTC')",
            ],
            final=True,
        ),
        {"project": project_id, "first": first, "last": last},
    )
    versions = [0] * ((last - first) // 3600)
    for r in rows:
        if r["state"] == 1:
            versions[(r["h"] - first) // 3600] = int(r["version"])
    if not any(versions):
        return raw_plan(window)
    raw: list[tuple[datetime, datetime]] = []
    cursor = window.start
    for i, version in enumerate(versions):
        if version:
            hour = datetime.fromtimestamp(first + i * 3600, UTC)
            if hour > cursor:
                raw.append((cursor, hour))
            cursor = hour + HOUR
    if cursor < window.end:
        raw.append((cursor, window.end))
    if len(raw) > MAX_RAW_RANGES:
        return raw_plan(window)
    return Plan(first, versions, raw)


# -- internals ------------------------------------------------------------------------------------
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _hour(moment)
    return floor if floor == moment else floor + HOUR


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _hour_aligned(window: Window, interval: str) -> bool:
    """Every bucket boundary inside the window falls on a UTC hour."""
    return all(
        start.astimezone(UTC).minute == 0 and start.second == 0
        for start in bucket_starts(window, interval)[1:]
    )
