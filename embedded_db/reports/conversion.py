"""Conversion over time (openpanel-compat.md §4.3 `conversion`): for each time bucket, the share of
funnel groups (visits or visitors) whose first first-step event fell in that bucket and that
completed every step within the funnel window.

Same funnel semantics as `funnels.py` (windowFunnel 'strict_increase', events inside the report
range). Buckets are zero-filled in the project's timezone like the overview series; an optional
breakdown gives one series per value (top 10 by groups, the rest merged)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from embedded_db.reports.funnels import (
    BREAKDOWN_LIMIT,
    NOT_SET,
    OTHER,
    FunnelQuery,
    group_sql,
)
from embedded_db.sql import select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import BUCKET_SQL, INTERVALS, bucket_starts

_DATE_ONLY = {"day", "week", "month"}
Counts = dict[str, list[int]]  # bucket key -> [groups, conversions]


@dataclass
class ConversionQuery:
    funnel: FunnelQuery
    interval: str


def conversion(store: EventStore, q: ConversionQuery) -> dict[str, Any]:
    """`{series: [{id, breakdowns, data: [{date, total, conversions, rate}], totals}], totals}`;
    rates in percent (2 decimals), dates are local bucket starts (ISO, with offset)."""
    by_value = _counts(store, q)
    overall: Counts = {}
    for buckets in by_value.values():
        _add(overall, buckets)
    series = []
    if q.funnel.breakdown:
        for value, buckets in _top(by_value):
            series.append(_series(value, [value], buckets, q))
    else:
        series.append(_series("conversion", [], overall, q))
    return {
        "series": series,
        "totals": _total(overall),
        "steps": [s.name for s in q.funnel.steps],
        "interval": q.interval,
    }


def _counts(store: EventStore, q: ConversionQuery) -> dict[str, Counts]:
    if q.interval not in INTERVALS:  # the bucket function below comes from this registry
        raise ValueError(f"unknown interval {q.interval!r}")
    sql, params = group_sql(q.funnel, q.funnel.window, with_path=False)
    bucket = f"toString({BUCKET_SQL[q.interval]}(first_at, {{tz:String}}))"
    rows = store.query(
        select_from(
            f"{bucket} AS bucket, bv, count() AS total, "
            "countIf(level = {steps:UInt8}) AS conversions",
            sql,
            "WHERE level > 0 GROUP BY bucket, bv",
        ),
        params,
    )
    out: dict[str, Counts] = {}
    for row in rows:
        buckets = out.setdefault(row["bv"] or NOT_SET, {})
        _add(buckets, {row["bucket"]: [int(row["total"]), int(row["conversions"])]})
    return out


def _add(into: Counts, more: Counts) -> None:
    for key, (total, conversions) in more.items():
        cell = into.setdefault(key, [0, 0])
        cell[0] += total
        cell[1] += conversions


def _top(by_value: dict[str, Counts]) -> list[tuple[str, Counts]]:
    """The values with the most groups (ties by value), then the rest merged as (other)."""
    ranked = sorted(by_value.items(), key=lambda kv: (-_total(kv[1])["total"], kv[0]))
    kept = ranked[:BREAKDOWN_LIMIT]
    if len(ranked) > BREAKDOWN_LIMIT:
        rest: Counts = {}
        for _, buckets in ranked[BREAKDOWN_LIMIT:]:
            _add(rest, buckets)
        kept.append((OTHER, rest))
    return kept


def _series(id_: str, breakdowns: list[str], buckets: Counts, q: ConversionQuery) -> dict[str, Any]:
    data = []
    for start in bucket_starts(q.funnel.window, q.interval):
        total, conversions = buckets.get(_key(start, q.interval), (0, 0))
        data.append(
            {
                "date": start.isoformat(),
                "total": total,
                "conversions": conversions,
                "rate": _rate(conversions, total),
            }
        )
    return {"id": id_, "breakdowns": breakdowns, "data": data, "totals": _total(buckets)}


def _total(buckets: Counts) -> dict[str, Any]:
    total = sum(cell[0] for cell in buckets.values())
    conversions = sum(cell[1] for cell in buckets.values())
    return {"total": total, "conversions": conversions, "rate": _rate(conversions, total)}


def _rate(part: int, whole: int) -> float:
    return round(part * 100 / whole, 2) if whole else 0.0


def _key(start: datetime, interval: str) -> str:
    """The text ClickHouse gives for a bucket start (a Date or a DateTime in the project tz)."""
    return start.strftime("%Y-%m-%d" if interval in _DATE_ONLY else "%Y-%m-%d %H:%M:%S")
