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
from embedded_db.reports.active_users import ActiveUsersQuery, active_users
from embedded_db.reports.overview import OverviewQuery, live_visitors, overview
from embedded_db.reports.page_performance import PageQuery, page_performance
from embedded_db.reports.toplists import (
    DIMENSIONS,
    dimension_list,
    entry_exit_pages,
    map_points,
    outbound_links,
    top_pages,
)
from web.query_params import int_param
from web.report_params import interval_of, list_query, params_of, window_of
from web.responses import json_response
from web.security import read_caller


async def _overview(request: Request[Any, Any, Any], project_id: str) -> dict[str, Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    range_, window = window_of(params, caller.project.timezone, "30d")
    query = OverviewQuery(
        project_id=caller.project.id,
        window=window,
        interval=interval_of(params, range_, window),
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
    query = list_query(caller.project.id, caller.project.timezone, params_of(request))
    store = request.app.state.store
    return json_response(await store.run(top_pages, store, query))


@get("/insights/{project_id:str}/pages/performance", summary="Pages with bounce and time on page")
async def insights_page_performance(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    listed = list_query(caller.project.id, caller.project.timezone, params)
    query = PageQuery(
        project_id=listed.project_id,
        window=listed.window,
        filters=listed.filters,
        search=listed.search,
        sort=str(params.get("sort") or "views"),
        direction=str(params.get("direction") or "desc"),
        limit=listed.limit,
        offset=listed.offset,
    )
    store = request.app.state.store
    return json_response(await store.run(page_performance, store, query))


@get("/insights/{project_id:str}/pages/entry_exit", summary="Entry or exit pages")
async def insights_entry_exit(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    query = list_query(caller.project.id, caller.project.timezone, params)
    store = request.app.state.store
    mode = str(params.get("mode") or "entry")
    return json_response(await store.run(entry_exit_pages, store, query, mode))


@get(
    ["/insights/{project_id:str}/traffic/geo", "/insights/{project_id:str}/map"],
    summary="Visits by country and city, with coordinates",
)
async def insights_map(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    caller = await read_caller(request, project_id)
    query = list_query(caller.project.id, caller.project.timezone, params_of(request))
    store = request.app.state.store
    return json_response(await store.run(map_points, store, query))


@get("/insights/{project_id:str}/active_users", summary="Rolling active users per day")
async def insights_active_users(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    params = params_of(request)
    _, window = window_of(params, caller.project.timezone, "30d")
    days = int_param(params.get("days"), "days", default=1, low=1, high=90)
    store = request.app.state.store
    query = ActiveUsersQuery(caller.project.id, window, days)
    return json_response(await store.run(active_users, store, query))


@get("/insights/{project_id:str}/outbound_links", summary="Outbound link clicks")
async def insights_outbound_links(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    query = list_query(caller.project.id, caller.project.timezone, params_of(request))
    store = request.app.state.store
    return json_response(await store.run(outbound_links, store, query))


@get("/insights/{project_id:str}/{dimension:str}", summary="Visits by one dimension")
async def insights_dimension(
    request: Request[Any, Any, Any], project_id: FromPath[str], dimension: FromPath[str]
) -> Response[Any]:
    if dimension not in DIMENSIONS:
        raise ValidationError("dimension", f"unknown insight {dimension!r}")
    caller = await read_caller(request, project_id)
    query = list_query(caller.project.id, caller.project.timezone, params_of(request))
    store = request.app.state.store
    return json_response(await store.run(dimension_list, store, query, dimension))


INSIGHTS_HANDLERS = [
    insights_overview,
    insights_metrics,
    insights_live,
    insights_pages,
    insights_entry_exit,
    insights_page_performance,
    insights_map,
    insights_active_users,
    insights_outbound_links,
    insights_dimension,
]
