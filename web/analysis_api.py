"""/insights/{projectId}/funnel, conversion, retention and retention/cohort (openpanel-compat.md
§4.8) for read/root clients. Thin: read the query string (OpenPanel's names and ours), build a
report query, run it on the reader pool, return its data with the resolved range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.reports.conversion import ConversionQuery, conversion
from embedded_db.reports.funnels import FunnelQuery, funnel, parse_steps
from embedded_db.reports.retention import RetentionQuery, retention
from embedded_db.timeframe import Window
from web.query_params import list_param
from web.report_params import (
    Params,
    event_names_of,
    first_of,
    interval_of,
    range_info,
    report_call,
    window_of,
)
from web.responses import json_response


def steps_of(request: Request[Any, Any, Any], params: Params) -> Any:
    """`series`/`steps`/`events`: a JSON array, repeated parameters or a comma list of names."""
    for name in ("series", "steps", "events"):
        repeated = request.query_params.getall(name, [])
        if len(repeated) > 1:
            return repeated
        if params.get(name) not in (None, ""):
            value = params[name]
            return list_param(value) if isinstance(value, str) else value
    raise ValidationError("steps", "a funnel needs steps (a JSON array of event names or series)")


def hours_of(value: Any) -> float:
    """The funnel window in hours (default 24)."""
    if value is None:
        return 24
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError("window", "must be a number of hours")
    return float(value)


def breakdown_of(value: Any) -> str | None:
    """One breakdown: a name, `[name]` or OpenPanel's `[{name}]`."""
    items = list_param(value)
    if not items:
        return None
    if len(items) > 1:
        raise ValidationError("breakdown", "at most one breakdown")
    item = items[0]
    name = item.get("name") if isinstance(item, dict) else item
    if not isinstance(name, str) or not name:
        raise ValidationError("breakdown", "must be an event column or properties.<key>")
    return name


def funnel_query(
    request: Request[Any, Any, Any], project_id: str, timezone: str, params: Params
) -> tuple[str, FunnelQuery]:
    range_, window = window_of(params, timezone, "30d")
    query = FunnelQuery(
        project_id=project_id,
        window=window,
        steps=parse_steps(steps_of(request, params)),
        window_hours=hours_of(first_of(params, "window", "windowHours", "funnelWindow")),
        group=str(first_of(params, "group", "groupBy", "funnelGroup") or "session_id"),
        filters=parse_filters(params.get("filters")),
        breakdown=breakdown_of(first_of(params, "breakdown", "breakdowns")),
        previous=params.get("previous") is True,
    )
    query.check()
    return range_, query


@get("/insights/{project_id:str}/funnel", summary="Funnel: steps, drop-offs, time to convert")
async def insights_funnel(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    range_, query = funnel_query(request, call.project_id, call.project.timezone, call.params)
    result: dict[str, Any] = await call.run(funnel, query)
    result["range"] = range_info(range_, query.window)
    return json_response(result)


@get("/insights/{project_id:str}/conversion", summary="Funnel conversion rate over time")
async def insights_conversion(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    range_, query = funnel_query(request, call.project_id, call.project.timezone, call.params)
    interval = interval_of(call.params, range_, query.window)
    result: dict[str, Any] = await call.run(conversion, ConversionQuery(query, interval))
    result["range"] = range_info(range_, query.window, interval)
    return json_response(result)


def retention_interval(params: Params, window: Window) -> str:
    """`interval`, or day up to a month, week up to half a year, month beyond."""
    if params.get("interval"):
        return str(params["interval"])
    if window.length <= timedelta(days=31):
        return "day"
    return "week" if window.length <= timedelta(days=186) else "month"


@get(
    ["/insights/{project_id:str}/retention", "/insights/{project_id:str}/retention/cohort"],
    summary="Retention cohorts (day, week or month)",
)
async def insights_retention(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    params = call.params
    range_, window = call.window("30d")
    start = event_names_of(first_of(params, "event", "startEvent", "firstEvent"), "startEvent")
    query = RetentionQuery(
        project_id=call.project_id,
        window=window,
        interval=retention_interval(params, window),
        criteria=str(params.get("criteria") or "on_or_after"),
        start_events=start or [],
        return_events=event_names_of(first_of(params, "returnEvent", "secondEvent"), "returnEvent"),
        filters=parse_filters(params.get("filters")),
        now=datetime.now(UTC),
    )
    query.check()
    result: dict[str, Any] = await call.run(retention, query)
    result["range"] = range_info(range_, window, query.interval)
    return json_response(result)


ANALYSIS_HANDLERS = [insights_funnel, insights_conversion, insights_retention]
