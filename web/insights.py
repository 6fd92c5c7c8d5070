"""`/insights/{projectId}/…` (openpanel-compat.md §4.8) for read/root clients: overview, metrics,
live visitors, pages, entry/exit pages, one list per visit dimension and the `traffic/…` lists
(referrers, devices, geo) broken down by a chosen dimension. Thin: parse the query
string (OpenPanel's conventions), call a report in `embedded_db.reports`, return its data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.errors import NotFoundError, ValidationError
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
from web.report_params import ReportCall, interval_of, range_info, report_call
from web.responses import json_response


async def _overview(request: Request[Any, Any, Any], project_id: str) -> dict[str, Any]:
    call = await report_call(request, project_id)
    range_, window = call.window("30d")
    query = OverviewQuery(
        project_id=call.project_id,
        window=window,
        interval=interval_of(call.params, range_, window),
        filters=parse_filters(call.params.get("filters")),
        previous=call.params.get("previous", True) is not False,
    )
    result: dict[str, Any] = await call.run(overview, query)
    result["range"] = range_info(range_, window, query.interval)
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
    call = await report_call(request, project_id)
    visitors = await call.run(live_visitors, call.project_id, datetime.now(UTC))
    return json_response({"visitors": visitors})


@get(
    ["/insights/{project_id:str}/pages", "/insights/{project_id:str}/pages/top"],
    summary="Top pages",
)
async def insights_pages(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    return await call.answer(top_pages, call.list_query())


@get("/insights/{project_id:str}/pages/performance", summary="Pages with bounce and time on page")
async def insights_page_performance(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    listed = call.list_query()
    query = PageQuery(
        project_id=listed.project_id,
        window=listed.window,
        filters=listed.filters,
        search=listed.search,
        sort=str(call.params.get("sort") or "views"),
        direction=str(call.params.get("direction") or "desc"),
        limit=listed.limit,
        offset=listed.offset,
    )
    return await call.answer(page_performance, query)


@get("/insights/{project_id:str}/pages/entry_exit", summary="Entry or exit pages")
async def insights_entry_exit(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    mode = str(call.params.get("mode") or "entry")
    return await call.answer(entry_exit_pages, call.list_query(), mode)


@get("/insights/{project_id:str}/map", summary="Visits by country and city, with coordinates")
async def insights_map(request: Request[Any, Any, Any], project_id: FromPath[str]) -> Response[Any]:
    call = await report_call(request, project_id)
    return await call.answer(map_points, call.list_query())


# The dimensions each `traffic/…` route can break visits down by; the first is the default.
TRAFFIC_BREAKDOWNS = {
    "referrers": (
        "referrer_name",
        "referrer_type",
        "referrer",
        "utm_source",
        "utm_medium",
        "utm_campaign",
    ),
    "devices": ("device", "browser", "os"),
    "geo": ("country", "region", "city"),
}


def breakdown_of(call: ReportCall, traffic: str) -> str:
    """The `breakdown` of a `traffic/…` request (its default when absent); 400 if not allowed."""
    allowed = TRAFFIC_BREAKDOWNS[traffic]
    chosen = call.params.get("breakdown")
    if chosen in (None, ""):
        return allowed[0]
    if chosen not in allowed:
        raise ValidationError("breakdown", f"must be one of {', '.join(allowed)}")
    return str(chosen)


@get(
    "/insights/{project_id:str}/traffic/{kind:str}",
    summary="Visits by referrer|devices|geo `breakdown` (geo without one: the map)",
)
async def insights_traffic(
    request: Request[Any, Any, Any], project_id: FromPath[str], kind: FromPath[str]
) -> Response[Any]:
    if kind not in TRAFFIC_BREAKDOWNS:
        raise NotFoundError(f"no traffic report {kind!r}; use {', '.join(TRAFFIC_BREAKDOWNS)}")
    call = await report_call(request, project_id)
    if kind == "geo" and call.params.get("breakdown") in (None, ""):
        return await call.answer(map_points, call.list_query())  # countries and cities
    breakdown = breakdown_of(call, kind)
    result = await call.run(dimension_list, call.list_query(), breakdown)
    return json_response({**result, "breakdown": breakdown})


@get("/insights/{project_id:str}/active_users", summary="Rolling active users per day")
async def insights_active_users(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    _, window = call.window("30d")
    days = int_param(call.params.get("days"), "days", default=1, low=1, high=90)
    return await call.answer(active_users, ActiveUsersQuery(call.project_id, window, days))


@get("/insights/{project_id:str}/outbound_links", summary="Outbound link clicks")
async def insights_outbound_links(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    return await call.answer(outbound_links, call.list_query())


@get("/insights/{project_id:str}/{dimension:str}", summary="Visits by one dimension")
async def insights_dimension(
    request: Request[Any, Any, Any], project_id: FromPath[str], dimension: FromPath[str]
) -> Response[Any]:
    if dimension not in DIMENSIONS:
        raise ValidationError("dimension", f"unknown insight {dimension!r}")
    call = await report_call(request, project_id)
    return await call.answer(dimension_list, call.list_query(), dimension)


INSIGHTS_HANDLERS = [
    insights_overview,
    insights_metrics,
    insights_live,
    insights_pages,
    insights_entry_exit,
    insights_page_performance,
    insights_map,
    insights_traffic,
    insights_active_users,
    insights_outbound_links,
    insights_dimension,
]
