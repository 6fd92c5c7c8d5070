"""GET /export/charts and /insights/{projectId}/chart: the chart engine over HTTP for read/root
clients (openpanel-compat.md §1.8, §4.3). Thin: coerce the query string, let
`embedded_db.reports.chart_query` validate it, run `charts.chart` on the reader pool."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.reports.chart_query import parse_chart
from embedded_db.reports.charts import chart
from web.report_params import range_info, report_call
from web.responses import json_response

DEFAULT_RANGE = "30d"


@get("/export/charts", summary="Chart engine output (linear chart, sum metric)")
async def export_charts(request: Request[Any, Any, Any]) -> Response[Any]:
    query_string = request.query_params
    call = await report_call(request, query_string.get("projectId", query_string.get("project_id")))
    raw = {**call.params, "chartType": "linear", "metric": "sum"}
    query = parse_chart(
        raw, call.project_id, call.project.timezone, datetime.now(UTC), DEFAULT_RANGE
    )
    return await call.answer(chart, query)


@get("/insights/{project_id:str}/chart", summary="A chart: series, breakdowns, formulas")
async def insights_chart(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    query = parse_chart(
        call.params, call.project_id, call.project.timezone, datetime.now(UTC), DEFAULT_RANGE
    )
    result: dict[str, Any] = await call.run(chart, query)
    result["range"] = range_info(query.range, query.window, query.interval)
    return json_response(result)


CHART_HANDLERS = [export_charts, insights_chart]
