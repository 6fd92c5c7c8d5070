"""The Litestar application: routes (served at `/` and again under `/api`), CORS, body limits,
OpenAPI and the one exception handler (JSON for APIs; plain text for ingest auth failures)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar, Request, Response, Router
from litestar.config.cors import CORSConfig
from litestar.exceptions import HTTPException
from litestar.openapi import OpenAPIConfig

from embedded_db.errors import AppError, NotFoundError, ValidationError
from web.analysis_api import ANALYSIS_HANDLERS
from web.auth import AuthError, ForbiddenError
from web.charts_api import CHART_HANDLERS
from web.dashboard import dashboard_handlers, template_config
from web.export import export_events_handler
from web.groups_api import GROUPS_HANDLERS
from web.imports_api import IMPORT_HANDLERS
from web.ingest import INGEST_HANDLERS
from web.insights import INSIGHTS_HANDLERS
from web.internal import INTERNAL_HANDLERS
from web.live import live_events
from web.people_api import PEOPLE_HANDLERS
from web.responses import bad_request, error_response, text_response
from web.saved_reports_api import SAVED_REPORT_HANDLERS
from web.security import RateLimited

log = logging.getLogger(__name__)

API_HANDLERS = [
    *INGEST_HANDLERS,
    export_events_handler,
    live_events,
    *CHART_HANDLERS,
    *ANALYSIS_HANDLERS,
    *PEOPLE_HANDLERS,
    *GROUPS_HANDLERS,
    *SAVED_REPORT_HANDLERS,
    *INSIGHTS_HANDLERS,
    *IMPORT_HANDLERS,
]
WEEK_SECONDS = 7 * 24 * 3600


def handle_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """Map every error to a clear response; only unexpected ones are logged with a traceback."""
    if isinstance(exc, ValidationError):
        return bad_request(exc)
    if isinstance(exc, AuthError):
        return text_response(str(exc), 401)
    if isinstance(exc, ForbiddenError):
        return error_response(403, str(exc))
    if isinstance(exc, NotFoundError):
        return error_response(404, str(exc))
    if isinstance(exc, RateLimited):
        return error_response(429, str(exc))
    if isinstance(exc, HTTPException):
        return error_response(exc.status_code, str(exc.detail))
    if isinstance(exc, AppError):
        log.error("request failed: %s", exc)
        return error_response(503, f"The appliance could not complete the request: {exc}")
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return text_response("Internal server error", 500)


def build_app(
    lifespan: Callable[[Litestar], AbstractAsyncContextManager[None]],
    *,
    max_body_bytes: int,
    debug: bool = False,
) -> Litestar:
    """The HTTP application; `lifespan` builds the stores and workers onto `app.state`."""
    return Litestar(
        route_handlers=[
            *INTERNAL_HANDLERS,
            *API_HANDLERS,
            Router(path="/api", route_handlers=API_HANDLERS),
            *dashboard_handlers(),
        ],
        template_config=template_config(),
        lifespan=[lifespan],
        cors_config=CORSConfig(
            allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], max_age=WEEK_SECONDS
        ),
        exception_handlers={Exception: handle_error},
        request_max_body_size=max_body_bytes,
        openapi_config=OpenAPIConfig(
            title="OpenPanel Appliance", version="1", path="/documentation"
        ),
        debug=debug,
        logging_config=None,
    )
