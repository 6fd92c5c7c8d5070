"""/insights/{projectId}/reports/{reportId}/data (openpanel-compat.md §4.8) for read/root
clients: run a saved report (a dashboard report) as it is saved and answer its data. The spec
goes through the dashboard's `report_run.prepare`, so the API and the report builder compute
the same numbers. A report that is unknown or belongs to another project is 404."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, Response, get
from litestar.params import FromPath

from embedded_db.saved_reports import SavedReports
from web.dashboard.report_run import prepare
from web.report_params import report_call
from web.responses import json_response


@get(
    "/insights/{project_id:str}/reports/{report_id:str}/data",
    summary="Run a saved report and return its data",
)
async def insights_report_data(
    request: Request[Any, Any, Any], project_id: FromPath[str], report_id: FromPath[str]
) -> Response[Any]:
    call = await report_call(request, project_id)
    report = SavedReports(request.app.state.meta).report(call.project_id, report_id)
    prepared = prepare(report.spec, call.project, datetime.now(UTC))
    data = await call.run(prepared.fn, prepared.query)
    about = {
        "id": report.id,
        "name": report.name,
        "chartType": report.spec.chart_type,
        "range": prepared.range,
        "interval": prepared.interval,
    }
    return json_response({"report": about, "data": data})


SAVED_REPORT_HANDLERS: list[Any] = [insights_report_data]
