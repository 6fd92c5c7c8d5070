"""Funnels (openpanel-compat.md §4.3): ordered steps, each an event name with its own filters,
completed within a window (hours) by one visit (`session_id`) or one visitor (`profile_id`).

Levels come from ClickHouse `windowFunnel(window, 'strict_increase')`, OpenPanel's choice: a
step must happen strictly after the previous one (same-millisecond events do not chain), other
events may come in between, and the window is measured from the chain's first step (a step at
exactly `window` counts). Events are read inside the report's time range only.

Time to convert replays the same chain search over each group's sorted `(time, step)` list with
`arrayFold` and keeps the chain that first completes the funnel (for groups that did not finish,
the latest chain that reached their deepest step); times are milliseconds in SQL, seconds out.

With `profile_id` grouping an event counts for its visit's profile (`sessions.profile_id`), so
anonymous steps before a sign-in join the identified ones, as in OpenPanel. A breakdown value is
the one on the group's first first-step event; the top 10 values are kept, the rest merged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, column_for, compile_filters, parse_filters
from embedded_db.reports.suggestions import suggest
from embedded_db.sql import array_literal, select, select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, change

MIN_STEPS, MAX_STEPS = 2, 10
MAX_WINDOW_HOURS = 24 * 365
GROUPS = ("session_id", "profile_id")
BREAKDOWN_LIMIT = 10
NOT_SET = "(not set)"
OTHER = "(other)"

# The windowFunnel chain search replayed over a group's sorted (ms, step) list. State: (done,
# chains) where chains[k] holds the times of the chain that last reached step k (1-based).
_FOLD = (
    "arrayFold((acc, x) -> if(acc.1 = 1, acc, if(x.2 = 0, "
    "(toUInt8(0), arrayMap((c, i) -> if(i = 1, [x.1], c), acc.2, arrayEnumerate(acc.2))), "
    "if(notEmpty(acc.2[x.2]) AND x.1 <= acc.2[x.2][1] + {window_ms:Int64} "
    "AND acc.2[x.2][-1] < x.1, "
    "(toUInt8(x.2 + 1 = {steps:UInt8}), arrayMap((c, i) -> "
    "if(i = x.2 + 1, arrayPushBack(acc.2[x.2], x.1), c), acc.2, arrayEnumerate(acc.2))), "
    "acc))), arraySort(groupArray((t, step))), "
    "(toUInt8(0), arrayWithConstant({steps:UInt8}, CAST([], 'Array(Int64)'))))"
)
_PATH = "arrayLast(c -> notEmpty(c), " + _FOLD + ".2) AS path"
_PROFILE_GROUP = "if(s.pid != '', s.pid, e.profile_id)"
# Level counts per breakdown value and, in the same pass (the grand-total grouping set), the
# times between steps of the groups that got past the first one.
_LEVELS_AND_TIMING = (
    "grouping(level, bv) != 0 AS total_row, level, bv, count() AS n, "
    "countIf(length(path) = {steps:UInt8}) AS converted, "
    "ifNotFinite(avgIf(path[-1] - path[1], length(path) = {steps:UInt8}), 0) AS ttc_avg, "
    "ifNotFinite(quantileExactInclusiveIf(0.5)(path[-1] - path[1], "
    "length(path) = {steps:UInt8}), 0) AS ttc_median, "
    "avgForEachIf(arrayDifference(path), level > 1) AS gap_avg, "
    "quantileExactInclusiveForEachIf(0.5)(arrayDifference(path), level > 1) AS gap_median"
)


@dataclass(frozen=True)
class Step:
    """One funnel step: an event name, its own filters and an optional display name."""

    name: str
    filters: list[Filter] = field(default_factory=list)
    display_name: str | None = None

    @property
    def label(self) -> str:
        """How the step reads in text: its display name, a viewed path, or the event name."""
        if self.display_name:
            return self.display_name
        paths = [f for f in self.filters if f.name == "path" and f.operator == "is"]
        if self.name == "screen_view" and len(paths) == 1 and len(paths[0].value) == 1:
            return str(paths[0].value[0])
        return self.name


def parse_steps(raw: Any, where: str = "steps") -> list[Step]:
    """2–10 steps from a JSON-decoded list of names or `{name, filters?, displayName?}`;
    raise ValidationError naming the bad step (`steps.1.filters.0.operator`)."""
    if not isinstance(raw, list) or not MIN_STEPS <= len(raw) <= MAX_STEPS:
        raise ValidationError(where, f"must be a JSON array of {MIN_STEPS} to {MAX_STEPS} steps")
    steps = []
    for i, item in enumerate(raw):
        entry = {"name": item} if isinstance(item, str) else item
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ValidationError(f"{where}.{i}.name", "each step needs an event name")
        name = entry["name"].strip()
        if not 1 <= len(name) <= 200:
            raise ValidationError(f"{where}.{i}.name", "must be 1 to 200 characters")
        try:
            filters = parse_filters(entry.get("filters"))
        except ValidationError as exc:
            raise ValidationError(f"{where}.{i}.{exc.field}", exc.message) from None
        display = entry.get("displayName")
        label = str(display)[:200] if display else None
        steps.append(Step(name=name, filters=filters, display_name=label))
    return steps


@dataclass
class FunnelQuery:
    project_id: str
    window: Window
    steps: list[Step]
    window_hours: float = 24
    group: str = "session_id"
    filters: list[Filter] = field(default_factory=list)
    breakdown: str | None = None
    previous: bool = False

    def check(self) -> None:
        """Raise ValidationError for a bad step count, window or group."""
        if not MIN_STEPS <= len(self.steps) <= MAX_STEPS:
            raise ValidationError("steps", f"a funnel has {MIN_STEPS} to {MAX_STEPS} steps")
        if not 0 < self.window_hours <= MAX_WINDOW_HOURS:
            raise ValidationError("window", f"must be more than 0 and at most {MAX_WINDOW_HOURS}")
        if self.group not in GROUPS:
            raise ValidationError("group", f"must be one of {', '.join(GROUPS)}")


def breakdown_expression(name: str, params: dict[str, Any]) -> str:
    """SQL for a breakdown by one event column or `properties.<key>` (key bound as `bk`)."""
    scope, expr, key = column_for(name, "breakdown")
    if scope != "event" or expr == "has_profile" or (key and ("*" in key or "%" in key)):
        raise ValidationError("breakdown", "must be an event column or properties.<key>")
    if key is None:
        return expr
    params["bk"] = key
    return "properties[{bk:String}]"


def group_sql(q: FunnelQuery, window: Window, with_path: bool = True) -> tuple[str, dict[str, Any]]:
    """The per-group subquery: g, level, bv (breakdown value), first_at (first first-step
    event, UTC) and, `with_path`, path (ms times of the chain that reached the group's deepest
    step; replaying the chain costs as much as the funnel itself)."""
    q.check()
    params: dict[str, Any] = {
        "project": q.project_id,
        **window.params(),
        "names": array_literal(sorted({s.name for s in q.steps})),
        "window_ms": round(q.window_hours * 3_600_000),
        "steps": len(q.steps),
    }
    flags = []
    for i, step in enumerate(q.steps):
        params[f"s{i}"] = step.name
        try:
            compiled = compile_filters(step.filters, prefix=f"s{i}f")
        except ValidationError as exc:
            raise ValidationError(f"steps.{i}.{exc.field}", exc.message) from None
        params.update(compiled.params)
        cond = " AND ".join([f"name = {{s{i}:String}}", *compiled.conditions])
        flags.append(f"if({cond}, {i}, -1)")
    compiled = compile_filters(q.filters, prefix="g")
    params.update(compiled.params)
    bexpr = breakdown_expression(q.breakdown, params) if q.breakdown else "''"
    where = [
        "project_id = {project:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
        "name IN {names:Array(String)}",
        "session_id != ''" if q.group == "session_id" else "profile_id != ''",
        *compiled.conditions,
    ]
    events = select(
        "session_id, profile_id, created_at, toInt64(toUnixTimestamp64Milli(created_at)) AS t, "
        "arrayJoin(arrayFilter(i -> i >= 0, [" + ", ".join(flags) + "])) AS step, "
        "toString(" + bexpr + ") AS b",
        "events",
        where,
    )
    conds = ", ".join(f"step = {i}" for i in range(len(q.steps)))
    columns = (
        ("session_id" if q.group == "session_id" else _PROFILE_GROUP) + " AS g, "
        "windowFunnel({window_ms:UInt64}, 'strict_increase')(toUInt64(t), " + conds + ") "
        "AS level, argMinIf(b, t, step = 0) AS bv, minIf(created_at, step = 0) AS first_at"
        + (", " + _PATH if with_path else "")
    )
    tail = "AS e GROUP BY g"
    if q.group == "profile_id":
        visits = select(
            "id AS sid, profile_id AS pid",
            "sessions",
            [
                "project_id = {project:String}",
                "created_at >= {start:DateTime64(3, 'UTC')} - INTERVAL 1 DAY",
                "created_at < {end:DateTime64(3, 'UTC')}",
            ],
            final=True,
        )
        tail = "AS e LEFT JOIN (" + visits + ") AS s ON s.sid = e.session_id GROUP BY g"
    return select_from(columns, events, tail), params


def funnel(store: EventStore, q: FunnelQuery) -> dict[str, Any]:
    """Steps (count, % of the first, drop-offs), totals with time to convert (seconds), an
    optional breakdown, the previous period and plain-English suggestions."""
    levels, timing = _scan(store, q)
    total = _merge(levels.values(), len(q.steps))
    steps = step_rows(q.steps, total)
    for row, gap in zip(steps[1:], timing["gaps"], strict=False):
        row["time"] = gap
    result: dict[str, Any] = {
        "steps": steps,
        "totals": _totals(total, timing["timeToConvert"]),
        "group": q.group,
        "windowHours": q.window_hours,
    }
    result.update(_openpanel_totals(total))
    segments = _breakdown(q, levels) if q.breakdown else []
    if q.breakdown:
        result["breakdown"] = {"name": q.breakdown, "series": segments}
    if q.previous:
        before = _merge(_levels(store, q, q.window.previous()).values(), len(q.steps))
        result["previous"] = {
            "steps": step_rows(q.steps, before),
            "totals": _totals(before, None),
            "change": change(_rate(total), _rate(before)),
        }
    result["suggestions"] = suggest(
        [{"name": row["label"], "count": row["count"], **(row["time"] or {})} for row in steps],
        window_hours=q.window_hours,
        unit="visits" if q.group == "session_id" else "visitors",
        segments=[{"label": s["value"], **s["totals"]} for s in segments if s["value"] != OTHER],
        dimension=q.breakdown,
    )
    return result


def _levels(store: EventStore, q: FunnelQuery, window: Window) -> dict[str, list[int]]:
    """Groups that reached exactly level k (index k-1), per breakdown value."""
    sql, params = group_sql(q, window, with_path=False)
    rows = store.query(
        select_from("level, bv, count() AS n", sql, "WHERE level > 0 GROUP BY level, bv"), params
    )
    return _histograms(rows, len(q.steps))


def _histograms(rows: list[dict[str, Any]], size: int) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for row in sorted(rows, key=lambda r: (r["bv"], int(r["level"]))):
        exact = out.setdefault(row["bv"] or NOT_SET, [0] * size)
        exact[int(row["level"]) - 1] += int(row["n"])
    return out


def _scan(store: EventStore, q: FunnelQuery) -> tuple[dict[str, list[int]], dict[str, Any]]:
    """Level histograms per breakdown value and the timing, in one pass over the window."""
    sql, params = group_sql(q, q.window)
    rows = store.query(
        select_from(
            _LEVELS_AND_TIMING, sql, "WHERE level > 0 GROUP BY GROUPING SETS ((level, bv), ())"
        ),
        params,
    )
    levels = _histograms([r for r in rows if not r["total_row"]], len(q.steps))
    totals = [r for r in rows if r["total_row"]]
    return levels, _timing(totals[0] if totals else None)


def _merge(histograms: Any, size: int) -> list[int]:
    """Cumulative step counts (reached step k or further) from exact-level histograms."""
    exact = [0] * size
    for hist in histograms:
        exact = [a + b for a, b in zip(exact, hist, strict=True)]
    return [sum(exact[k:]) for k in range(size)]


def step_rows(steps: Sequence[Step], counts: Sequence[int]) -> list[dict[str, Any]]:
    """Per step: count, % of the first step, lost since the previous step and (OpenPanel's
    `dropoff*`) lost before the next one, with the largest drop-off flagged."""
    first = counts[0] if counts else 0
    drops = [counts[i] - counts[i + 1] for i in range(len(counts) - 1)]
    worst = max(drops, default=0)
    rows = []
    for i, (step, count) in enumerate(zip(steps, counts, strict=True)):
        prev = counts[i - 1] if i else count
        nxt = counts[i + 1] if i + 1 < len(counts) else None
        drop = None if nxt is None else count - nxt
        rows.append(
            {
                "step": i + 1,
                "name": step.name,
                "label": step.label,
                "eventName": step.display_name or step.name,
                "count": count,
                "users": count,
                "percent": _pct(count, first),
                "conversionRateFromStart": _pct(count, first),
                "previousCount": prev,
                "lostFromPrevious": prev - count,
                "lostFromPreviousPercent": _pct(prev - count, prev),
                "nextCount": nxt,
                "dropoffCount": drop,
                "dropoffPercent": None if drop is None else _pct(drop, count),
                "isHighestDropoff": bool(worst) and drop == worst and drops.index(worst) == i,
                "time": None,
            }
        )
    return rows


def _timing(row: dict[str, Any] | None) -> dict[str, Any]:
    converted = int(row["converted"]) if row else 0
    ttc = {
        "convertedGroups": converted,
        "medianSeconds": _seconds(row["ttc_median"]) if row and converted else None,
        "averageSeconds": _seconds(row["ttc_avg"]) if row and converted else None,
    }
    gaps = (
        [
            {"medianSeconds": _seconds(median), "averageSeconds": _seconds(avg)}
            for median, avg in zip(row["gap_median"][1:], row["gap_avg"][1:], strict=True)
        ]
        if row
        else []
    )
    return {"timeToConvert": ttc, "gaps": gaps}


def _totals(counts: Sequence[int], ttc: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "first": counts[0],
        "converted": counts[-1],
        "conversion": _rate(counts),
    }
    if ttc is not None:
        out["timeToConvert"] = ttc
    return out


def _openpanel_totals(counts: Sequence[int]) -> dict[str, Any]:
    """The top-level fields of OpenPanel's `/insights/:id/funnel` answer."""
    return {
        "totalUsers": counts[0],
        "completedUsers": counts[-1],
        "overallConversionRate": _rate(counts),
    }


def _breakdown(q: FunnelQuery, levels: dict[str, list[int]]) -> list[dict[str, Any]]:
    """The top values by first-step count (ties by value), then everything else merged."""
    ranked = sorted(levels.items(), key=lambda kv: (-sum(kv[1]), kv[0]))
    kept = ranked[:BREAKDOWN_LIMIT]
    rest = ranked[BREAKDOWN_LIMIT:]
    if rest:
        kept.append((OTHER, [sum(col) for col in zip(*(h for _, h in rest), strict=True)]))
    series = []
    for value, hist in kept:
        counts = _merge([hist], len(q.steps))
        series.append(
            {
                "id": value,
                "value": value,
                "breakdowns": [value],
                "steps": step_rows(q.steps, counts),
                "totals": _totals(counts, None),
            }
        )
    return series


def _rate(counts: Sequence[int]) -> float:
    return _pct(counts[-1], counts[0]) if counts else 0.0


def _pct(part: float, whole: float) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def _seconds(ms: Any) -> float:
    return round(float(ms) / 1000, 3)
