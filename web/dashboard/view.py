"""The state of a dashboard view, read from and written to the URL query string so any view can
be bookmarked and shared: date range (every range of `embedded_db.timeframe` plus custom dates),
interval, comparison with the previous period, filters and the charted metric.

Query keys: `range`, `startDate`, `endDate`, `interval`, `compare=1`, `filters` (the JSON array
the insights API takes) and `metric`. The filter builder submits `fname`/`fop`/`fvalue`, which
`view_of` folds into `filters` and answers with a redirect to the canonical URL.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request

from embedded_db.errors import ValidationError
from embedded_db.filters import OPERATORS, Filter, parse_filters
from embedded_db.timeframe import (
    INTERVALS,
    RANGES,
    Window,
    check_interval,
    default_interval,
    resolve_range,
)

DEFAULT_RANGE = "7d"
RANGE_LABELS = {
    "30min": "Last 30 minutes",
    "lastHour": "Last hour",
    "last24h": "Last 24 hours",
    "today": "Today",
    "yesterday": "Yesterday",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "3m": "Last 3 months",
    "6m": "Last 6 months",
    "12m": "Last 12 months",
    "monthToDate": "Month to date",
    "lastMonth": "Last month",
    "yearToDate": "Year to date",
    "lastYear": "Last year",
    "custom": "Custom dates",
}
OPERATOR_LABELS = {
    "is": "is",
    "isNot": "is not",
    "contains": "contains",
    "doesNotContain": "does not contain",
    "startsWith": "starts with",
    "endsWith": "ends with",
    "regex": "matches",
    "isNull": "is empty",
    "isNotNull": "is set",
    "gt": ">",
    "lt": "<",
    "gte": "≥",
    "lte": "≤",
}
FILTER_FIELDS = (
    "path",
    "origin",
    "name",
    "referrer_name",
    "referrer_type",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "country",
    "city",
    "browser",
    "os",
    "device",
    "properties.",
)
VIEW_KEYS = ("range", "startDate", "endDate", "interval", "compare", "filters", "metric")
assert set(RANGE_LABELS) == set(RANGES) and set(OPERATOR_LABELS) == set(OPERATORS)


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str
    url: str
    active: bool
    allowed: bool = True


@dataclass(frozen=True, slots=True)
class Chip:
    label: str
    remove_url: str


@dataclass(frozen=True)
class View:
    """One view's parameters, resolved in the project's timezone."""

    path: str
    params: dict[str, str]  # the view keys present in the URL (canonical text)
    range: str
    window: Window
    interval: str
    compare: bool
    filters: list[Filter]
    metric: str
    redirect: str | None = None  # set when the URL should be replaced by its canonical form
    range_labels: dict[str, str] = field(default_factory=lambda: RANGE_LABELS)

    def url(self, path: str | None = None, **changes: str | None) -> str:
        """This view's URL (on `path`, default the current page) with some keys changed;
        a None or empty value removes the key."""
        merged = {**self.params, **changes}
        query = {k: v for k, v in merged.items() if v not in (None, "")}
        return (path or self.path) + ("?" + urlencode(query) if query else "")

    def ranges(self) -> list[Option]:
        return [
            Option(r, RANGE_LABELS[r], self.url(range=r, interval=None), r == self.range)
            for r in RANGES
            if r != "custom"
        ]

    def intervals(self) -> list[Option]:
        return [
            Option(i, i, self.url(interval=i), i == self.interval, _interval_ok(i, self))
            for i in INTERVALS
        ]

    def chips(self) -> list[Chip]:
        """One removable chip per filter."""
        raw = _raw_filters(self.filters)
        chips = []
        for i, flt in enumerate(self.filters):
            rest = raw[:i] + raw[i + 1 :]
            values = ", ".join("" if v is None else str(v) for v in flt.value)
            label = f"{flt.name} {OPERATOR_LABELS[flt.operator]} {values}".strip()
            chips.append(Chip(label, self.url(filters=json.dumps(rest) if rest else None)))
        return chips

    def hidden(self, *dropped: str) -> list[tuple[str, str]]:
        """The view's keys as (name, value) pairs for a GET form's hidden inputs."""
        return [(k, v) for k, v in self.params.items() if k not in dropped and v]

    @property
    def start_date(self) -> str:
        return self.params.get("startDate", "")

    @property
    def end_date(self) -> str:
        return self.params.get("endDate", "")


def view_of(
    request: Request[Any, Any, Any],
    timezone: str,
    metrics: tuple[str, ...] = (),
    now: datetime | None = None,
) -> View:
    """The view of a page request; ValidationError for a bad range, date or filter."""
    query = request.query_params
    params = {k: str(query.get(k)) for k in VIEW_KEYS if query.get(k) not in (None, "")}
    range_ = params.get("range", DEFAULT_RANGE)
    window = resolve_range(
        range_,
        timezone,
        now or datetime.now(UTC),
        params.get("startDate"),
        params.get("endDate"),
    )
    filters = parse_filters(_json(params.get("filters")))
    redirect = None
    added = _added_filter(query.get("fname"), query.get("fop"), query.get("fvalue"))
    if added is not None:
        filters = [*filters, *parse_filters([added])]
        params["filters"] = json.dumps(_raw_filters(filters))
        redirect = request.url.path + "?" + urlencode(params)
    interval = params.get("interval") or default_interval(range_, window)
    if not _interval_fits(interval, range_, window):
        interval = default_interval(range_, window)
        params.pop("interval", None)
    metric = params.get("metric", metrics[0] if metrics else "")
    if metrics and metric not in metrics:
        raise ValidationError("metric", f"must be one of {', '.join(metrics)}")
    return View(
        path=request.url.path,
        params=params,
        range=range_,
        window=window,
        interval=interval,
        compare=params.get("compare") in ("1", "true", "on"),
        filters=filters,
        metric=metric,
        redirect=redirect,
    )


def _json(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        raise ValidationError("filters", "must be a JSON array of filters") from None


def _added_filter(name: Any, operator: Any, value: Any) -> dict[str, Any] | None:
    if not name:
        return None
    op = str(operator or "is")
    values = [] if op in ("isNull", "isNotNull") else [str(value or "")]
    return {"name": str(name).strip(), "operator": op, "value": values}


def _raw_filters(filters: list[Filter]) -> list[dict[str, Any]]:
    return [
        {"name": f.name, "operator": f.operator, "value": msgspec.to_builtins(f.value)}
        for f in filters
    ]


def _interval_fits(interval: str, range_: str, window: Window) -> bool:
    try:
        check_interval(interval, range_, window)
    except ValidationError:
        return False
    return True


def _interval_ok(interval: str, view: View) -> bool:
    return _interval_fits(interval, view.range, view.window)
