"""The chart engine (openpanel-compat.md §4.3): event series counted by segment, broken down by
up to three dimensions (top groups by window total, the rest optionally folded into "Others"),
formulas per bucket and breakdown group, and the previous period aligned by bucket index.

Buckets are zero-filled in the project's timezone. The output is OpenPanel's linear-family
shape (`series[]` sorted by sum, and chart-wide `metrics`), used for every chart type here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from embedded_db.formula import Formula, evaluate
from embedded_db.reports.chart_query import ALPHA, ChartQuery, EventSeries, FormulaSeries
from embedded_db.reports.chart_sql import aggregate, rank_groups, series_sql
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, bucket_starts, change

OTHERS = "Others"
_DATE_ONLY = {"day", "week", "month"}
Labels = tuple[str, ...]


@dataclass
class Line:
    """One concrete series: a definition (by index) for one breakdown group (or Others)."""

    index: int
    labels: Labels
    values: list[float]
    total: float
    others: bool = False

    @property
    def key(self) -> tuple[bool, Labels]:
        return self.others, self.labels


@dataclass
class Groups:
    """The breakdown groups chosen for a series in the current period (reused for the previous
    one) and whether an Others line was made."""

    labels: list[Labels] = field(default_factory=list)
    others: bool = False


def chart(store: EventStore, q: ChartQuery) -> dict[str, Any]:
    """`{series, metrics}` for a validated query; dates are bucket starts in the project tz."""
    buckets = bucket_starts(q.window, q.interval)
    current, groups = _lines(store, q, q.window, buckets, None)
    previous: list[Line] | None = None
    if q.previous:
        before = q.window.previous()
        previous, _ = _lines(store, q, before, bucket_starts(before, q.interval), groups)
    return _format(q, buckets, current, previous)


# -- computing lines -------------------------------------------------------------------------------
def _lines(
    store: EventStore,
    q: ChartQuery,
    window: Window,
    buckets: list[datetime],
    known: dict[int, Groups] | None,
) -> tuple[list[Line], dict[int, Groups]]:
    """Every line of every series over one window, formulas included (report formula last)."""
    lines: list[Line] = []
    chosen: dict[int, Groups] = {}
    for index, s in enumerate(q.series):
        if isinstance(s, EventSeries):
            found, chosen[index] = _event_lines(
                store, q, s, index, window, buckets, None if known is None else known[index]
            )
            lines += found
        else:
            lines += _formula_lines(s.formula, index, lines, len(buckets))
    if q.formula is not None:
        lines = _formula_lines(q.formula, len(q.series), lines, len(buckets))
    return lines, chosen


def _event_lines(
    store: EventStore,
    q: ChartQuery,
    s: EventSeries,
    index: int,
    window: Window,
    buckets: list[datetime],
    known: Groups | None,
) -> tuple[list[Line], Groups]:
    sql = series_sql(
        q.project_id,
        s.name,
        s.segment,
        s.property,
        list(s.filters),
        q.global_filters,
        q.breakdowns,
    )
    keys = [_key(b, q.interval) for b in buckets]
    if not q.breakdowns:
        rows = aggregate(store, sql, window, q.interval, None)
        total = _total(aggregate(store, sql, window, None, None))
        return [Line(index, (), _fill(rows, keys), total)], Groups()
    width = len(q.breakdowns)
    if known is None:
        ranked = rank_groups(store, sql, window, q.limit, q.offset)
        groups = [_labels(r, width) for r in ranked]
        totals = {g: _number(r["value"]) for g, r in zip(groups, ranked, strict=True)}
    else:
        groups = known.labels
        rows = aggregate(store, sql, window, None, groups) if groups else []
        totals = {_labels(r, width): _number(r["value"]) for r in rows}
    lines = []
    if groups:
        by_group: dict[Labels, list[dict[str, Any]]] = {}
        for row in aggregate(store, sql, window, q.interval, groups):
            by_group.setdefault(_labels(row, width), []).append(row)
        lines = [Line(index, g, _fill(by_group.get(g, []), keys), totals.get(g, 0)) for g in groups]
    others = False
    if q.others and groups and (known is None or known.others):
        rows = aggregate(store, sql, window, q.interval, groups, others=True)
        if rows or known is not None:
            total = _total(aggregate(store, sql, window, None, groups, others=True))
            lines.append(Line(index, (), _fill(rows, keys), total, others=True))
            others = True
    return lines, Groups(groups, others)


def _formula_lines(formula: Formula, index: int, lines: list[Line], width: int) -> list[Line]:
    """The formula over the earlier lines, once per breakdown group (OpenPanel groups every
    earlier series by its breakdown values; a letter missing from a group counts as 0)."""
    by_key: dict[tuple[bool, Labels], dict[str, Line]] = {}
    for line in lines:
        if line.index < index:
            by_key.setdefault(line.key, {})[ALPHA[line.index]] = line
    out = []
    for (others, labels), members in by_key.items():
        values = [
            evaluate(formula, {a: m.values[b] for a, m in members.items()}) for b in range(width)
        ]
        total = evaluate(formula, {a: m.total for a, m in members.items()})
        out.append(Line(index, labels, values, total, others))
    return out


def _fill(rows: list[dict[str, Any]], keys: list[str]) -> list[float]:
    found = {r["bucket"]: _number(r["value"]) for r in rows}
    return [found.get(k, 0) for k in keys]


def _total(rows: list[dict[str, Any]]) -> float:
    return _number(rows[0]["value"]) if rows else 0


def _labels(row: dict[str, Any], width: int) -> Labels:
    return tuple(str(row[f"l{i}"]) for i in range(width))


def _number(value: Any) -> float:
    """A finite number rounded to 2 places (an int when whole); NULL/NaN → 0."""
    if value is None or isinstance(value, str):
        return 0
    number = float(value)
    if not math.isfinite(number):
        return 0
    rounded = round(number, 2)
    return int(rounded) if rounded.is_integer() else rounded


def _key(start: datetime, interval: str) -> str:
    """The text ClickHouse gives for a bucket start (a Date or a DateTime in the project tz)."""
    return start.strftime("%Y-%m-%d" if interval in _DATE_ONLY else "%Y-%m-%d %H:%M:%S")


# -- output ----------------------------------------------------------------------------------------
def _format(
    q: ChartQuery, buckets: list[datetime], lines: list[Line], previous: list[Line] | None
) -> dict[str, Any]:
    hidden = q.hidden
    visible = [ln for ln in lines if ln.index >= len(q.series) or ALPHA[ln.index] not in hidden]
    before = {(ln.index, ln.key): ln for ln in previous or []}
    dates = [b.isoformat() for b in buckets]
    series = [_serie(q, ln, dates, before.get((ln.index, ln.key)), previous) for ln in visible]
    if q.chart_type in ("pie", "metric"):
        series.sort(key=lambda s: -(s["metrics"].get(q.metric) or 0))
    else:
        series.sort(key=lambda s: -s["metrics"]["sum"])
    values = [v for ln in visible for v in ln.values]
    metrics: dict[str, Any] = _summary(values)
    if previous is not None:
        old = [v for ln in visible for v in _values(before.get((ln.index, ln.key)))]
        summary = _summary(old)
        metrics["previous"] = {k: change(metrics[k], summary[k]) for k in summary}
    return {"series": series, "metrics": metrics}


def _serie(
    q: ChartQuery,
    line: Line,
    dates: list[str],
    before: Line | None,
    previous: list[Line] | None,
) -> dict[str, Any]:
    name, event_name, ident = _title(q, line.index)
    lettered = len(q.series) > 1 and line.index < len(q.series)
    first = f"({ALPHA[line.index]}) {name}" if lettered else name
    labels = [OTHERS] if line.others else list(line.labels)
    dims = zip(q.breakdowns, line.labels, strict=False)
    metrics: dict[str, Any] = {**_summary(line.values), "count": line.total}
    out_id = "-".join([ident, event_name, *labels])
    if previous is not None:
        old = _values(before)
        summary = {**_summary(old), "count": before.total if before else 0}
        metrics["previous"] = {k: change(metrics[k], summary[k]) for k in summary}
    data = []
    for i, (date, value) in enumerate(zip(dates, line.values, strict=True)):
        point: dict[str, Any] = {"date": date, "count": value}
        if before is not None and i < len(before.values):
            point["previous"] = change(value, before.values[i])
        data.append(point)
    serie: dict[str, Any] = {
        "id": out_id,
        "names": [first, *labels],
        "event": {
            "id": ident,
            "name": event_name,
            "breakdowns": {d.name: v for d, v in dims if v},
        },
        "metrics": metrics,
        "data": data,
    }
    if line.others:
        serie["others"] = True
    return serie


def _title(q: ChartQuery, index: int) -> tuple[str, str, str]:
    """(shown name, event name, id) of a line's definition; the report formula's id is
    `formula`, a formula's event name is its display name or text (as OpenPanel's)."""
    if index >= len(q.series):
        assert q.formula is not None
        return q.formula.text, q.formula.text, "formula"
    s = q.series[index]
    if isinstance(s, FormulaSeries):
        shown = s.display_name or s.formula.text
        return shown, shown, s.id
    return s.display_name or s.name, s.name, s.id


def _values(line: Line | None) -> list[float]:
    return line.values if line is not None else []


def _summary(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"sum": 0, "average": 0, "min": 0, "max": 0}
    return {
        "sum": _number(sum(values)),
        "average": _number(sum(values) / len(values)),
        "min": _number(min(values)),
        "max": _number(max(values)),
    }
