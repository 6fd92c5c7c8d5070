"""Errors of the dashboard pages and their responses: HTML pages for browsers, a redirect to the
login page for anonymous visitors (401 with `HX-Redirect` for htmx, 401 JSON for API-style
callers), and never a traceback."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from embedded_db.errors import AppError, NotFoundError, ValidationError
from web.dashboard.templates import SECURITY_HEADERS
from web.responses import error_response
from web.security import RateLimited

log = logging.getLogger(__name__)


class LoginRequired(AppError):
    """The page needs a logged-in user."""


class AccessDenied(AppError):
    """403: logged in, but the role does not allow this."""


class CsrfRejected(AccessDenied):
    """403: an unsafe request without a valid CSRF token, or from another site."""


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def wants_json(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def login_url(next_path: str) -> str:
    """`/login?next=…` for a local path (anything else is dropped: no open redirects)."""
    return "/login?next=" + quote(next_path, safe="/") if safe_next(next_path) else "/login"


def safe_next(target: str) -> bool:
    """Whether `target` is a path on this server (not `//host`, not a scheme, no backslash)."""
    parts = urlsplit(target)
    return (
        target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not parts.scheme
        and not parts.netloc
    )


def page(request: Request[Any, Any, Any], status: int, title: str, message: str) -> Response[Any]:
    """A stand-alone error page (no sidebar: the viewer may not be known)."""
    if wants_json(request):
        return error_response(status, message)
    context = {"status": status, "title": title, "message": message}
    return Template(
        template_name="error.html", context=context, status_code=status, headers=SECURITY_HEADERS
    )


def handle_dashboard_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The one exception handler of the dashboard routers."""
    if isinstance(exc, LoginRequired):
        return _login_required(request)
    if isinstance(exc, CsrfRejected):
        message = "The form expired or came from another site. Reload the page and try again."
        return page(request, 403, "Request refused", message)
    if isinstance(exc, AccessDenied):
        return page(request, 403, "Not allowed", str(exc) or "Your role does not allow this.")
    if isinstance(exc, NotFoundError):
        return page(request, 404, "Not found", str(exc))
    if isinstance(exc, ValidationError):
        return page(request, 400, "Bad request", str(exc))
    if isinstance(exc, RateLimited):
        return page(request, 429, "Too many attempts", str(exc))
    if isinstance(exc, HTTPException):
        return page(request, exc.status_code, "Request failed", str(exc.detail))
    log.exception("dashboard page %s %s failed", request.method, request.url.path)
    return page(request, 500, "Something went wrong", "The page could not be shown.")


def _login_required(request: Request[Any, Any, Any]) -> Response[Any]:
    if is_htmx(request):
        current = urlsplit(request.headers.get("hx-current-url", "/dashboard"))
        target = login_url(current.path + (f"?{current.query}" if current.query else ""))
        return Response(b"", status_code=401, headers={"HX-Redirect": target})
    if wants_json(request):
        return error_response(401, "log in to the dashboard first")
    if request.method not in ("GET", "HEAD"):
        return Redirect("/login", status_code=303)  # a form posted after the session ended
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(login_url(path), status_code=303)
