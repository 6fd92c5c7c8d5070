"""The chart request (openpanel-compat.md §4.3, §1.8 `/export/charts`) validated before any SQL
exists: series (events and formulas, lettered A, B, C…), breakdowns, global filters, chart
type, metric, previous period, paging of breakdown groups and the time window.

`parse_chart` takes the JSON-ish dict OpenPanel clients send (query-string values already
coerced: numbers, booleans, JSON arrays) and raises ValidationError naming the field.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters, parse_filters
from embedded_db.formula import Formula, parse_formula
from embedded_db.reports.chart_sql import SEGMENTS, Dimension, dimension_of, property_of
from embedded_db.timeframe import Window, check_interval, default_interval, resolve_range

CHART_TYPES = ("linear", "area", "bar", "histogram", "pie", "metric", "map")
METRICS = ("sum", "average", "min", "max", "count")
MAX_SERIES = 20
MAX_BREAKDOWNS = 3
MAX_LIMIT = 500
DEFAULT_LIMIT = 10
ALPHA = string.ascii_uppercase


@dataclass(frozen=True, slots=True)
class EventSeries:
    """Events named `name` (`*`: any) counted by `segment`, narrowed by `filters`."""

    alpha: str
    id: str
    name: str
    segment: str = "event"
    property: tuple[str, str] | None = None
    filters: tuple[Filter, ...] = ()
    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class FormulaSeries:
    """Arithmetic over earlier series, per bucket and per breakdown group."""

    alpha: str
    id: str
    formula: Formula
    display_name: str | None = None
    hide: tuple[str, ...] = ()


Series = EventSeries | FormulaSeries


@dataclass
class ChartQuery:
    """A validated chart request for one project."""

    project_id: str
    window: Window
    interval: str
    series: list[Series]
    range: str = "30d"
    breakdowns: list[Dimension] = field(default_factory=list)
    global_filters: list[Filter] = field(default_factory=list)
    chart_type: str = "linear"
    metric: str = "sum"
    previous: bool = False
    limit: int = DEFAULT_LIMIT
    offset: int = 0
    others: bool = False
    formula: Formula | None = None

    @property
    def hidden(self) -> set[str]:
        """Letters of the series a formula asked to hide."""
        return {a for s in self.series if isinstance(s, FormulaSeries) for a in s.hide}


def parse_chart(
    raw: Mapping[str, Any], project_id: str, timezone: str, now: datetime, default_range: str
) -> ChartQuery:
    """Validate a chart request; the window is resolved at `now` in the project `timezone`."""
    range_ = _text(raw.get("range"), "range", 20)
    start, end = _text(raw.get("startDate"), "startDate"), _text(raw.get("endDate"), "endDate")
    if range_ is None:
        range_ = "custom" if start and end else default_range
    window = resolve_range(range_, timezone, now, start, end)
    interval = _text(raw.get("interval"), "interval", 20) or default_interval(range_, window)
    chart_type = _choice(raw.get("chartType"), "chartType", CHART_TYPES, "linear")
    breakdowns = _breakdowns(raw.get("breakdowns"))
    if chart_type == "map" and not breakdowns:
        breakdowns = [dimension_of("country", "breakdowns.0.name")]
    series = _series_list(raw.get("series", raw.get("events")))
    formula = None
    if raw.get("formula") not in (None, ""):
        formula = parse_formula(_text(raw.get("formula"), "formula", 1000))
        _check_references(formula, len(series), "formula")
    return ChartQuery(
        project_id=project_id,
        window=window,
        interval=check_interval(interval, range_, window),
        series=series,
        range=range_,
        breakdowns=breakdowns,
        global_filters=_filters(raw.get("globalFilters"), "globalFilters"),
        chart_type=chart_type,
        metric=_choice(raw.get("metric"), "metric", METRICS, "sum"),
        previous=_flag(raw.get("previous"), "previous"),
        limit=_int(raw.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT),
        offset=_int(raw.get("offset"), "offset", 0, 0, 100_000),
        others=_flag(raw.get("others"), "others"),
        formula=formula,
    )


# -- series ----------------------------------------------------------------------------------------
def _series_list(raw: Any) -> list[Series]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_SERIES:
        raise ValidationError("series", f"must be a JSON array of 1 to {MAX_SERIES} series")
    out: list[Series] = []
    for i, item in enumerate(raw):
        where = f"series.{i}"
        if not isinstance(item, dict):
            raise ValidationError(where, "must be an object")
        kind = item.get("type", "event")
        alpha = ALPHA[i]
        ident = _text(item.get("id"), f"{where}.id", 100) or alpha
        display = _text(item.get("displayName"), f"{where}.displayName", 200)
        if kind == "formula":
            formula = parse_formula(item.get("formula"), f"{where}.formula")
            _check_references(formula, i, f"{where}.formula")
            hide = _hide(item.get("hideSeries"), formula, out, where)
            out.append(FormulaSeries(alpha, ident, formula, display, hide))
        elif kind == "event":
            out.append(_event_series(item, alpha, ident, display, where))
        else:
            raise ValidationError(f"{where}.type", "must be event or formula")
    if not any(isinstance(s, EventSeries) for s in out):
        raise ValidationError("series", "needs at least one event series")
    return out


def _event_series(
    item: dict[str, Any], alpha: str, ident: str, display: str | None, where: str
) -> EventSeries:
    name = _text(item.get("name"), f"{where}.name", 200)
    if not name:
        raise ValidationError(f"{where}.name", "an event series needs an event name (or *)")
    segment = _choice(item.get("segment"), f"{where}.segment", SEGMENTS, "event")
    prop = None
    if segment.startswith("property_"):
        prop = property_of(item.get("property"), f"{where}.property")
    filters = _filters(item.get("filters"), f"{where}.filters")
    return EventSeries(alpha, ident, name, segment, prop, tuple(filters), display)


def _check_references(formula: Formula, available: int, where: str) -> None:
    unknown = sorted(r for r in formula.references if ALPHA.index(r) >= available)
    if unknown:
        raise ValidationError(where, f"refers to {', '.join(unknown)}, not an earlier series")


def _hide(raw: Any, formula: Formula, earlier: list[Series], where: str) -> tuple[str, ...]:
    """`hideSeries`: earlier series to leave out of the output, by letter or id (`true`: the
    series the formula uses)."""
    if raw in (None, False, ""):
        return ()
    if raw is True:
        return tuple(sorted(formula.references))
    if not isinstance(raw, list) or len(raw) > MAX_SERIES:
        raise ValidationError(f"{where}.hideSeries", "must be a list of series letters or ids")
    by_key = {key: s.alpha for s in earlier for key in (s.alpha, s.id)}
    unknown = [v for v in raw if not isinstance(v, str) or v not in by_key]
    if unknown:
        raise ValidationError(f"{where}.hideSeries", "may only name earlier series")
    return tuple(by_key[v] for v in raw)


# -- other fields ----------------------------------------------------------------------------------
def _breakdowns(raw: Any) -> list[Dimension]:
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or len(raw) > MAX_BREAKDOWNS:
        raise ValidationError("breakdowns", f"must be a JSON array of at most {MAX_BREAKDOWNS}")
    out = []
    for i, item in enumerate(raw):
        name = item.get("name") if isinstance(item, dict) else item
        out.append(dimension_of(name, f"breakdowns.{i}.name"))
    return out


def _filters(raw: Any, where: str) -> list[Filter]:
    """Parsed and compiled once here, so a bad value is refused before any query runs."""
    try:
        filters = parse_filters(raw)
        compile_filters(filters)
        return filters
    except ValidationError as exc:
        raise ValidationError(f"{where}{exc.field.removeprefix('filters')}", exc.message) from None


def _text(raw: Any, where: str, limit: int = 100) -> str | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValidationError(where, "must be a string")
    text = str(raw)
    if len(text) > limit:
        raise ValidationError(where, f"at most {limit} characters")
    return text


def _choice(raw: Any, where: str, allowed: tuple[str, ...], default: str) -> str:
    if raw in (None, ""):
        return default
    if not isinstance(raw, str) or raw not in allowed:
        raise ValidationError(where, f"must be one of {', '.join(allowed)}")
    return raw


def _flag(raw: Any, where: str) -> bool:
    if raw in (None, "", False, 0, "false", "0"):
        return False
    if raw in (True, 1, "true", "1"):
        return True
    raise ValidationError(where, "must be true or false")


def _int(raw: Any, where: str, default: int, low: int, high: int) -> int:
    if raw in (None, ""):
        return default
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError(where, "must be a whole number")
    if isinstance(raw, float) and not raw.is_integer():
        raise ValidationError(where, "must be a whole number")
    if not low <= int(raw) <= high:
        raise ValidationError(where, f"must be between {low} and {high}")
    return int(raw)
