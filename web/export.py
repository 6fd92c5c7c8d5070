"""`GET /export/events` for read/root clients (openpanel-compat.md §1.8): JSON pages as upstream,
and with `format=csv|ndjson|parquet` the whole matching range as a streamed file."""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from litestar import Request, Response, get
from litestar.response import Stream

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.export_files import FORMATS, MEDIA_TYPES, export_to_file
from embedded_db.exports import EventQuery, export_events, parse_date
from embedded_db.filters import parse_filters
from jobs.import_tasks import token_matches
from web.query_params import coerce, int_param, list_param
from web.responses import json_response
from web.security import read_caller

STREAM_BLOCK = 256 * 1024
ADMIN_HEADER = "openpanel-admin-token"


@get(
    "/export/events", summary="Raw events: a JSON page (newest first) or a CSV/NDJSON/Parquet file"
)
async def export_events_handler(request: Request[Any, Any, Any]) -> Response[Any]:
    params = {k: coerce(v) for k, v in request.query_params.items()}
    project = params.get("projectId", params.get("project_id"))
    project_id = await _project(request, None if project is None else str(project))
    includes = {str(i) for i in list_param(params.get("includes"))}
    fmt = str(params.get("format") or "json").lower()
    if fmt != "json" and fmt not in FORMATS:
        raise ValidationError("format", f"must be one of json, {', '.join(FORMATS)}")
    query = EventQuery(
        project_id=project_id,
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
    if fmt != "json":
        return await _file_response(request, query, fmt)
    page = await store.run(export_events, store, query)
    return json_response(page.as_json())


async def _file_response(request: Request[Any, Any, Any], query: EventQuery, fmt: str) -> Stream:
    """chDB writes the file into the data dir; it is streamed in blocks and then removed."""
    store = request.app.state.store
    folder = Path(request.app.state.settings.data_dir) / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="events-", suffix="." + fmt, dir=folder)
    os.close(handle)
    path = Path(name)
    try:
        await store.run(export_to_file, store, query, fmt, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    filename = f"{query.project_id}-events.{fmt}"
    return Stream(
        _blocks(path),
        media_type=MEDIA_TYPES[fmt],
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def _blocks(path: Path) -> AsyncIterator[bytes]:
    try:
        async with await anyio.open_file(path, "rb") as handle:
            while block := await handle.read(STREAM_BLOCK):
                yield block
    finally:
        path.unlink(missing_ok=True)


async def _project(request: Request[Any, Any, Any], project_id: str | None) -> str:
    """The project to export: a read/root client's, or any one for the local-admin token."""
    state = request.app.state
    token = request.headers.get(ADMIN_HEADER, "")
    if token and project_id and token_matches(Path(state.settings.data_dir), token):
        project = state.auth.project(project_id)
        if project is None:
            raise NotFoundError(f"project {project_id!r} not found")
        return str(project.id)
    return (await read_caller(request, project_id)).project.id


def _events(request: Request[Any, Any, Any]) -> list[Any]:
    values: list[Any] = []
    for raw in request.query_params.getall("event", []):
        value = coerce(raw)
        values.extend(value if isinstance(value, list) else [value])
    if any(not isinstance(v, str | int) for v in values):
        raise ValidationError("event", "must be event names")
    return values
