"""Turning an `/insights`-style query string into report inputs: OpenPanel's coercion
(openpanel-compat.md §1.8), the date window in the project's timezone, filters and paging.
Shared by every report endpoint so they all read parameters the same way."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request

from embedded_db.filters import parse_filters
from embedded_db.reports.toplists import ListQuery
from embedded_db.timeframe import Window, check_interval, default_interval, resolve_range
from web.query_params import coerce, int_param

Params = dict[str, Any]


def params_of(request: Request[Any, Any, Any]) -> Params:
    """The query string with every value coerced (numbers, booleans, JSON)."""
    return {k: coerce(v) for k, v in request.query_params.items()}


def window_of(params: Params, timezone: str, default_range: str) -> tuple[str, Window]:
    """`range` (+ `startDate`/`endDate` for custom) resolved now, in `timezone`."""
    range_ = str(params.get("range") or default_range)
    window = resolve_range(
        range_,
        timezone,
        datetime.now(UTC),
        text_of(params.get("startDate")),
        text_of(params.get("endDate")),
    )
    return range_, window


def interval_of(params: Params, range_: str, window: Window) -> str:
    """`interval` checked against the range, or the range's default."""
    interval = str(params.get("interval") or default_interval(range_, window))
    return check_interval(interval, range_, window)


def text_of(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def list_query(project_id: str, timezone: str, params: Params) -> ListQuery:
    """A paged, searchable list over a window (default range 7d, limit 10, `cursor` offset)."""
    _, window = window_of(params, timezone, "7d")
    return ListQuery(
        project_id=project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        search=str(params.get("search") or ""),
        limit=int_param(params.get("limit"), "limit", default=10, low=1, high=1000),
        offset=int_param(params.get("cursor"), "cursor", default=0, low=0, high=10**9),
    )
