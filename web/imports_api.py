"""Imports and data lifecycle over HTTP.

- `POST /import/events` (openpanel-compat.md §1.8): a JSON array of event rows, inserted
  directly (no visits, no profiles), read/root client + secret; answers `200 OK` (text).
- `POST /import/file?projectId=&format=&map=&origin=&logFormat=&dryRun=`: the raw bytes of an
  event file (any format `openpanel import` reads); queued as a job, `202 {importId, status}`.
- `GET /import/jobs/{importId}` and `GET /import/jobs?projectId=`: progress from the ledger.
- `DELETE /manage/profiles/{profileId}?projectId=`: erase one person (GDPR).
- `DELETE /manage/projects/{projectId}/data`: delete a project's events, visits and profiles.
- `PUT /manage/projects/{projectId}/retention` `{"days": n}` (0 = keep forever).

Writes need a root client with its secret, or the local-admin token (header
`openpanel-admin-token`) that `openpanel` on the same machine reads from the data directory.
"""

from __future__ import annotations

import hashlib
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import msgspec
from litestar import Request, Response, delete, get, post, put
from litestar.params import FromPath

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.imports import ledger
from embedded_db.imports.duck import ImportFileError
from embedded_db.imports.sniff import FORMATS
from embedded_db.lifecycle import delete_profile, delete_project_data, set_retention_days
from embedded_db.meta import Project
from jobs.import_tasks import FileJobs, options_of, token_matches
from jobs.raw_rows import insert_raw_rows, raw_event_rows
from web.auth import ForbiddenError
from web.query_params import coerce
from web.responses import json_response, text_response
from web.security import read_caller

ADMIN_HEADER = "openpanel-admin-token"
MAX_UPLOAD_BYTES = 8 * 1024**3  # an upload is streamed to disk; 8 GiB bounds a runaway client
_decoder = msgspec.json.Decoder()


async def admin_project(request: Request[Any, Any, Any], project_id: str | None) -> Project:
    """The project a data-changing request targets, for a root client or the local admin."""
    state = request.app.state
    if token_matches(Path(state.settings.data_dir), request.headers.get(ADMIN_HEADER, "")):
        if not project_id:
            raise ValidationError("projectId", "projectId is required")
        project = state.auth.project(project_id)
        if project is None:
            raise NotFoundError(f"project {project_id!r} not found")
        return project
    caller = await read_caller(request, project_id)
    if caller.client.type != "root":
        raise ForbiddenError(
            "this endpoint needs a root client (openpanel client create --type root) or the "
            "local-admin token"
        )
    return caller.project


def _jobs(request: Request[Any, Any, Any]) -> FileJobs:
    jobs = request.app.state.components.extras.get("files")
    if jobs is None:
        raise NotFoundError("imports are not enabled in this process")
    return jobs


@post("/import/events", summary="Insert raw event rows (no visit processing)")
async def import_events(request: Request[Any, Any, Any]) -> Response[bytes]:
    params = {k: coerce(v) for k, v in request.query_params.items()}
    project = params.get("projectId", params.get("project_id"))
    caller = await read_caller(request, None if project is None else str(project))
    try:
        body = _decoder.decode(await request.body())
    except msgspec.DecodeError as exc:
        raise ValidationError("body", f"invalid JSON: {exc}") from None
    rows = raw_event_rows(body, caller.project.id, datetime.now(UTC))
    store = request.app.state.store
    await store.run(insert_raw_rows, store, rows)
    return text_response("OK", 200)


@post(
    "/import/file",
    summary="Upload an event file to import (any format openpanel import reads)",
    request_max_body_size=MAX_UPLOAD_BYTES,
    status_code=202,
)
async def import_file(request: Request[Any, Any, Any]) -> Response[bytes]:
    params = {k: v for k, v in request.query_params.items()}
    project = await admin_project(request, params.get("projectId"))
    jobs = _jobs(request)
    path, digest = await _receive(request, jobs.uploads, params.get("name", "upload"))
    options = {
        "mapping": dict(
            pair.split("=", 1) for pair in params.get("map", "").split(",") if "=" in pair
        ),
        "origin": params.get("origin", ""),
        "log_format": params.get("logFormat", ""),
        "encoding": params.get("encoding", "utf-8"),
    }
    fmt = params.get("format", "auto")
    if fmt not in ("auto", *FORMATS):
        path.unlink(missing_ok=True)
        raise ValidationError("format", f"must be auto or one of {', '.join(FORMATS)}")
    if params.get("dryRun") in ("1", "true"):
        try:
            result = await anyio.to_thread.run_sync(
                lambda: jobs.importer.run(
                    path, project.id, options_of(options), fmt=fmt, dry_run=True
                )
            )
        except ImportFileError as exc:
            raise ValidationError("file", str(exc)) from None
        finally:
            path.unlink(missing_ok=True)
        return json_response(result.as_json(), 200)
    import_id = ledger.import_id(project.id, digest)
    jobs.submit(import_id, path, project.id, fmt, options)
    return json_response({"importId": import_id, "status": "queued"}, 202)


async def _receive(request: Request[Any, Any, Any], folder: Path, name: str) -> tuple[Path, str]:
    """Stream the request body into a new file under `folder` (never all in memory); returns
    the file and its SHA-256."""
    suffix = "".join(Path(Path(name).name).suffixes)[-20:]
    handle, tmp = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=folder)
    path = Path(tmp)
    digest = hashlib.sha256()
    try:
        async with await anyio.open_file(handle, "wb", closefd=True) as out:
            async for block in request.stream():
                digest.update(block)
                await out.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise ValidationError("body", "the upload is empty")
    return path, digest.hexdigest()


@get("/import/jobs/{import_id:str}", summary="Progress of one import")
async def import_status(
    request: Request[Any, Any, Any], import_id: FromPath[str]
) -> Response[bytes]:
    jobs = _jobs(request)
    try:
        record = ledger.get(request.app.state.meta, import_id)
    except NotFoundError:
        return await _unstarted(request, jobs, import_id)
    await admin_project(request, record.project_id)
    if record.status != "failed" and import_id in jobs.refused:  # an earlier upload's refusal
        jobs.refused.pop(import_id, None)
    data = record.as_json()
    data["error"] = record.error
    return json_response(data)


async def _unstarted(
    request: Request[Any, Any, Any], jobs: FileJobs, import_id: str
) -> Response[bytes]:
    """An import the importer has not recorded yet: queued, or refused before it started."""
    if import_id in jobs.queued:
        await admin_project(request, jobs.queued[import_id])
        return json_response({"id": import_id, "status": "queued", "progress": 0.0})
    if import_id in jobs.refused:
        project_id, error = jobs.refused[import_id]
        await admin_project(request, project_id)
        return json_response({"id": import_id, "status": "failed", "error": error})
    raise NotFoundError(f"import {import_id!r} not found")


@get("/import/jobs", summary="A project's imports, newest first")
async def import_list(request: Request[Any, Any, Any]) -> Response[bytes]:
    project = await admin_project(request, request.query_params.get("projectId"))
    records = ledger.recent(request.app.state.meta, project.id)
    return json_response({"data": [r.as_json() for r in records]})


@delete("/manage/profiles/{profile_id:str}", summary="Erase one person's data", status_code=200)
async def erase_profile(
    request: Request[Any, Any, Any], profile_id: FromPath[str]
) -> Response[bytes]:
    project = await admin_project(request, request.query_params.get("projectId"))
    store = request.app.state.store
    erased = await store.run(delete_profile, store, project.id, profile_id)
    return json_response(
        {
            "profileId": profile_id,
            "events": erased.events,
            "sessions": erased.sessions,
            "profiles": erased.profiles,
        }
    )


@delete(
    "/manage/projects/{project_id:str}/data", summary="Delete a project's data", status_code=200
)
async def erase_project(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    project = await admin_project(request, project_id)
    store = request.app.state.store
    await store.run(delete_project_data, store, project.id)
    return json_response({"projectId": project.id, "deleted": True})


@put("/manage/projects/{project_id:str}/retention", summary="Set a project's data retention")
async def set_retention(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> Response[bytes]:
    project = await admin_project(request, project_id)
    try:
        body = _decoder.decode(await request.body())
    except msgspec.DecodeError as exc:
        raise ValidationError("body", f"invalid JSON: {exc}") from None
    days = body.get("days") if isinstance(body, dict) else None
    if isinstance(days, bool) or not isinstance(days, int):
        raise ValidationError("days", "must be a whole number of days (0 = keep forever)")
    set_retention_days(request.app.state.meta, project.id, days)
    return json_response({"projectId": project.id, "retentionDays": days or None})


IMPORT_HANDLERS = [
    import_events,
    import_file,
    import_status,
    import_list,
    erase_profile,
    erase_project,
    set_retention,
]
