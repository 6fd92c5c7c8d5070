"""`/insights/{projectId}/…` (openpanel-compat.md §4.8) for read/root clients: overview, metrics,
live visitors, pages, entry/exit pages and one list per visit dimension. Thin: parse the query
string (OpenPanel's conventions), call a report in `embedded_db.reports`, return its data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.overview import OverviewQuery, live_visitors, overview
from embedded_db.reports.toplists import (
    DIMENSIONS,
    ListQuery,
    dimension_list,
    entry_exit_pages,
    top_pages,
)
from embedded_db.timeframe import Window, check_interval, default_interval, resolve_range
from web.query_params import coerce, int_param
from web.responses import json_response
from web.security import read_caller

Params = dict[str, Any]


def _params(request: Request[Any, Any, Any]) -> Params:
    return {k: coerce(v) for k, v in request.query_params.items()}


def _window(params: Params, timezone: str, default_range: str) -> tuple[str, Window]:
    range_ = str(params.get("range") or default_range)
    window = resolve_range(
        range_,
        timezone,
        datetime.now(UTC),
        _text(params.get("startDate")),
        _text(params.get("endDate")),
    )
    return range_, window


def _text(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def _list_query(project_id: str, timezone: str, params: Params) -> ListQuery:
    _, window = _window(params, timezone, "7d")
    return ListQuery(
        project_id=project_id,
        window=window,
        filters=parse_filters(params.get("filters")),
        search=str(params.get("search") or ""),
        limit=int_param(params.get("limit"), "limit", default=10, low=1, high=1000),
        offset=int_param(params.get("cursor"), "cursor", default=0, low=0, high=10**9),
    )


async def _overview(request: Request[Any, Any, Any], project_id: str) -> dict[str, Any]:
    caller = await read_caller(request, project_id)
    params = _params(request)
    range_, window = _window(params, caller.project.timezone, "30d")
    interval = str(params.get("interval") or default_interval(range_, window))
    query = OverviewQuery(
        project_id=caller.project.id,
        window=window,
        interval=check_interval(interval, range_, window),
        filters=parse_filters(params.get("filters")),
        previous=params.get("previous", True) is not False,
    )
    store = request.app.state.store
    result: dict[str, Any] = await store.run(overview, store, query)
    result["range"] = {
        "range": range_,
        "interval": query.interval,
        "startDate": window.start.isoformat(),
        "endDate": window.end.isoformat(),
        "timezone": window.tz,
    }
    return result


@get("/insights/{project_id:str}/overview", summary="Overview metrics with a series")
async def insights_overview(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    return json_response(await _overview(request, project_id))


@get("/insights/{project_id:str}/metrics", summary="Overview metrics (totals only)")
async def insights_metrics(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    result = await _overview(request, project_id)
    return json_response({"metrics": result["metrics"], "range": result["range"]})


@get("/insights/{project_id:str}/live", summary="Visitors in the last 5 minutes")
async def insights_live(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    store = request.app.state.store
    visitors = await store.run(live_visitors, store, caller.project.id, datetime.now(UTC))
    return json_response({"visitors": visitors})


@get(
    ["/insights/{project_id:str}/pages", "/insights/{project_id:str}/pages/top"],
    summary="Top pages",
)
async def insights_pages(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    query = _list_query(caller.project.id, caller.project.timezone, _params(request))
    store = request.app.state.store
    return json_response(await store.run(top_pages, store, query))


@get("/insights/{project_id:str}/pages/entry_exit", summary="Entry or exit pages")
async def insights_entry_exit(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = _params(request)
    query = _list_query(caller.project.id, caller.project.timezone, params)
    store = request.app.state.store
    mode = str(params.get("mode") or "entry")
    return json_response(await store.run(entry_exit_pages, store, query, mode))


@get("/insights/{project_id:str}/{dimension:str}", summary="Visits by one dimension")
async def insights_dimension(
    request: Request[Any, Any, Any], project_id: FromPath[str], dimension: FromPath[str]
) -> Response[Any]:
    if dimension not in DIMENSIONS:
        raise ValidationError("dimension", f"unknown insight {dimension!r}")
    caller = await read_caller(request, project_id)
    query = _list_query(caller.project.id, caller.project.timezone, _params(request))
    store = request.app.state.store
    return json_response(await store.run(dimension_list, store, query, dimension))


INSIGHTS_HANDLERS = [
    insights_overview,
    insights_metrics,
    insights_live,
    insights_pages,
    insights_entry_exit,
    insights_dimension,
]
