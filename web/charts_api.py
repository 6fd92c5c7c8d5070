"""GET /export/charts and /insights/{projectId}/chart: the chart engine over HTTP for read/root
clients (openpanel-compat.md §1.8, §4.3). Thin: coerce the query string, let
`embedded_db.reports.chart_query` validate it, run `charts.chart` on the reader pool."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.reports.chart_query import ChartQuery, parse_chart
from embedded_db.reports.charts import chart
from web.report_params import params_of
from web.responses import json_response
from web.security import read_caller

DEFAULT_RANGE = "30d"


async def _run(request: Request[Any, Any, Any], query: ChartQuery) -> dict[str, Any]:
    store = request.app.state.store
    result: dict[str, Any] = await store.run(chart, store, query)
    return result


@get("/export/charts", summary="Chart engine output (linear chart, sum metric)")
async def export_charts(request: Request[Any, Any, Any]) -> Response[Any]:
    params = params_of(request)
    project = params.get("projectId", params.get("project_id"))
    caller = await read_caller(request, None if project is None else str(project))
    raw = {**params, "chartType": "linear", "metric": "sum"}
    query = parse_chart(
        raw, caller.project.id, caller.project.timezone, datetime.now(UTC), DEFAULT_RANGE
    )
    return json_response(await _run(request, query))


@get("/insights/{project_id:str}/chart", summary="A chart: series, breakdowns, formulas")
async def insights_chart(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    caller = await read_caller(request, project_id)
    query = parse_chart(
        params_of(request),
        caller.project.id,
        caller.project.timezone,
        datetime.now(UTC),
        DEFAULT_RANGE,
    )
    result = await _run(request, query)
    result["range"] = {
        "range": query.range,
        "interval": query.interval,
        "startDate": query.window.start.isoformat(),
        "endDate": query.window.end.isoformat(),
        "timezone": query.window.tz,
    }
    return json_response(result)


CHART_HANDLERS = [export_charts, insights_chart]
