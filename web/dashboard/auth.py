"""Who is looking at a dashboard page, and may they: the session cookie, the guards that every
dashboard route runs, and logging in and out.

`require_access` is the one guard of the private router. It needs a live login session (else
LoginRequired: a redirect to /login) and, on routes under a project, membership of the project's
organization (else 404, so ids do not leak) with at least the role the route declares in its
`opt={"role": …}` (default viewer; else AccessDenied, 403).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from embedded_db.accounts import ROLES, User, has_role
from embedded_db.errors import NotFoundError
from embedded_db.logins import SESSION_MAX
from embedded_db.meta import MetaStore, Project
from web.dashboard.csrf import SESSION_COOKIE
from web.dashboard.errors import AccessDenied, LoginRequired
from web.dashboard.state import dashboard

Connection = ASGIConnection[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Viewer:
    """The logged-in user of a request and their role in each organization."""

    user: User
    session_id: str
    memberships: dict[str, str]


@dataclass(frozen=True, slots=True)
class Access:
    """A viewer on one project: the role they have there and the projects they may switch to."""

    viewer: Viewer
    project: Project
    role: str
    projects: list[Project]

    def can(self, role: str) -> bool:
        return has_role(self.role, role)


def viewer_of(connection: Connection) -> Viewer | None:
    """The request's logged-in user, looked up once per request."""
    if "viewer" in connection.state:
        found: Viewer | None = connection.state.viewer
        return found
    board = dashboard(connection.app)
    token = connection.cookies.get(SESSION_COOKIE, "")
    live = board.logins.session_user(token) if token else None
    viewer = None
    if live is not None:
        session, user = live
        viewer = Viewer(user, session.id, board.accounts.memberships(user.id))
    connection.state.viewer = viewer
    return viewer


def require_access(connection: Connection, handler: BaseRouteHandler) -> None:
    """Guard of every private dashboard route (see the module docstring)."""
    viewer = viewer_of(connection)
    if viewer is None:
        raise LoginRequired("log in first")
    needed = str(handler.opt.get("role", "viewer"))
    if needed not in ROLES:
        raise ValueError(f"route {handler} declares unknown role {needed!r}")
    project_id = connection.path_params.get("project_id")
    if project_id is None:
        return
    meta: MetaStore = connection.app.state.meta
    project = meta.get_project(str(project_id))
    role = viewer.memberships.get(project.organization_id)
    if role is None:
        raise NotFoundError(f"project {project_id!r} not found")
    if not has_role(role, needed):
        raise AccessDenied(f"this needs the {needed} role; you are {role}")
    projects = dashboard(connection.app).accounts.projects_for(viewer.user.id)
    connection.state.access = Access(viewer, project, role, projects)


def access_of(request: Request[Any, Any, Any]) -> Access:
    """The Access `require_access` put on a project route's request."""
    found: Access = request.state.access
    return found


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def is_loopback(ip: str) -> bool:
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return False


def local_login_allowed(request: Request[Any, Any, Any]) -> bool:
    """Local mode (desktop app) logs in a browser on this machine without a password."""
    return dashboard(request.app).local_mode and is_loopback(client_ip(request))


def start_session(request: Request[Any, Any, Any], user: User) -> str:
    """A new login session for `user`; returns the cookie value."""
    user_agent = request.headers.get("user-agent", "")
    new = dashboard(request.app).logins.start_session(user.id, user_agent, client_ip(request))
    return new.token


def is_https(request: Request[Any, Any, Any]) -> bool:
    """Whether the browser talks https to us (directly, or via a proxy at an https public_url)."""
    public_url = dashboard(request.app).public_url
    return request.url.scheme == "https" or public_url.startswith("https://")


def set_session_cookie(
    request: Request[Any, Any, Any], response: Response[Any], token: str
) -> Response[Any]:
    """The session cookie: HttpOnly, SameSite=Lax, Secure on https."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        path="/",
        max_age=int(SESSION_MAX.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=is_https(request),
    )
    return response


def clear_session_cookie(response: Response[Any]) -> Response[Any]:
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
