"""Turning an `/insights`-style query string into report inputs: OpenPanel's coercion
(openpanel-compat.md §1.8), the date window in the project's timezone, filters and paging.
Shared by every report endpoint so they all read parameters the same way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.meta import Project
from embedded_db.reports.toplists import ListQuery
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, check_interval, default_interval, resolve_range
from web.query_params import coerce, int_param, list_param
from web.responses import json_response
from web.security import read_caller

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


MAX_EVENT_NAMES = 20


def first_of(params: Params, *names: str) -> Any:
    """The value of the first of `names` that is present (OpenPanel's spelling and ours)."""
    for name in names:
        if params.get(name) not in (None, ""):
            return params[name]
    return None


def event_names_of(value: Any, field: str) -> list[str] | None:
    """Event names from a name, a JSON array or a comma list (None when absent)."""
    if value in (None, ""):
        return None
    names = list_param(value)
    if len(names) > MAX_EVENT_NAMES or not all(
        isinstance(n, str) and 0 < len(n) <= 200 for n in names
    ):
        raise ValidationError(field, f"must be up to {MAX_EVENT_NAMES} event names")
    return [n.strip() for n in names]


def paging_of(params: Params, default: int = 10) -> tuple[int, int]:
    """(limit, offset) from `limit` (1–1000) and `offset` or OpenPanel's `cursor`."""
    limit = int_param(params.get("limit"), "limit", default=default, low=1, high=1000)
    name = "offset" if params.get("offset") not in (None, "") else "cursor"
    offset = int_param(first_of(params, name), name, default=0, low=0, high=10**9)
    return limit, offset


def range_info(range_: str, window: Window, interval: str | None = None) -> dict[str, Any]:
    """The `range` block a report answer carries: what was asked and the window it became."""
    info = {
        "range": range_,
        "startDate": window.start.isoformat(),
        "endDate": window.end.isoformat(),
        "timezone": window.tz,
    }
    if interval:
        info["interval"] = interval
    return info


def list_query(project_id: str, timezone: str, params: Params) -> ListQuery:
    """A paged, searchable list over a window (default range 7d, limit 10, `cursor` offset)."""
    _, window = window_of(params, timezone, "7d")
    limit, offset = paging_of(params)
    return ListQuery(
        project_id=project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        search=str(params.get("search") or ""),
        limit=limit,
        offset=offset,
    )


@dataclass
class ReportCall:
    """One report request of a read/root client: its project, the coerced query string and
    the store the report runs on."""

    project: Project
    params: Params
    store: EventStore

    @property
    def project_id(self) -> str:
        return self.project.id

    def window(self, default_range: str) -> tuple[str, Window]:
        return window_of(self.params, self.project.timezone, default_range)

    def list_query(self) -> ListQuery:
        return list_query(self.project.id, self.project.timezone, self.params)

    async def run(self, report: Callable[..., Any], *args: Any) -> Any:
        """`report(store, *args)` on the reader pool."""
        return await self.store.run(report, self.store, *args)

    async def answer(self, report: Callable[..., Any], *args: Any) -> Response[Any]:
        """`report(store, *args)` as the JSON answer."""
        return json_response(await self.run(report, *args))


async def report_call(request: Request[Any, Any, Any], project_id: str | None) -> ReportCall:
    """Authenticate the read/root client (rate limited) for `project_id` (None: the client's
    own project) and gather what a report needs."""
    caller = await read_caller(request, project_id)
    return ReportCall(caller.project, params_of(request), request.app.state.store)
