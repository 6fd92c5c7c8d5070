"""`GET /export/events` for read/root clients (openpanel-compat.md §1.8)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get

from embedded_db.errors import ValidationError
from embedded_db.exports import EventQuery, export_events, parse_date
from embedded_db.filters import parse_filters
from web.query_params import coerce, int_param, list_param
from web.responses import json_response
from web.security import read_caller


@get("/export/events", summary="A page of raw events, newest first")
async def export_events_handler(request: Request[Any, Any, Any]) -> Response[Any]:
    params = {k: coerce(v) for k, v in request.query_params.items()}
    project = params.get("projectId", params.get("project_id"))
    caller = await read_caller(request, None if project is None else str(project))
    includes = {str(i) for i in list_param(params.get("includes"))}
    query = EventQuery(
        project_id=caller.project.id,
        profile_id=None if params.get("profileId") in (None, "") else str(params["profileId"]),
        events=[str(e) for e in _events(request)],
        start=parse_date(params.get("start"), "start"),
        end=parse_date(params.get("end"), "end", end_of_day=True),
        page=int_param(params.get("page"), "page", default=1, low=1, high=1_000_000),
        limit=max(
            1,
            min(
                1000, int_param(params.get("limit"), "limit", default=50, low=-(10**9), high=10**9)
            ),
        ),
        filters=parse_filters(params.get("filters")),
        include_profile="profile" in includes,
    )
    store = request.app.state.store
    page = await store.run(export_events, store, query)
    return json_response(page.as_json())


def _events(request: Request[Any, Any, Any]) -> list[Any]:
    values: list[Any] = []
    for raw in request.query_params.getall("event", []):
        value = coerce(raw)
        values.extend(value if isinstance(value, list) else [value])
    if any(not isinstance(v, str | int) for v in values):
        raise ValidationError("event", "must be event names")
    return values
