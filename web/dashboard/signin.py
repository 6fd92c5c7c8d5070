"""Public dashboard pages: first-run setup, login (rate limited), logout and invitation links.

Setup creates the owner, names the organization, creates the first project with a secret-less
browser client (CORS: the site's origin) and opens the tracking snippet page for it.
"""

from __future__ import annotations

import secrets
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from embedded_db.accounts import User
from embedded_db.errors import ValidationError
from embedded_db.meta import MetaStore
from web.dashboard.auth import (
    clear_session_cookie,
    client_ip,
    local_login_allowed,
    set_session_cookie,
    start_session,
    viewer_of,
)
from web.dashboard.csrf import SESSION_COOKIE
from web.dashboard.errors import safe_next
from web.dashboard.forms import FormState, form_of, origin_of, text, timezone_of, timezones
from web.dashboard.layout import project_url, render
from web.dashboard.state import dashboard
from web.security import RateLimited

BROWSER_CLIENT = "Website (browser, no secret)"
LOCAL_OWNER = "owner@localhost.localdomain"


def _logged_in(request: Request[Any, Any, Any], user: User, target: str) -> Response[Any]:
    """Start a session for `user` and go to `target` (a local path)."""
    token = start_session(request, user)
    response = Redirect(target if safe_next(target) else "/dashboard", status_code=303)
    return set_session_cookie(request, response, token)


class SetupController(Controller):
    path = "/setup"

    @get("/", name="setup")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        if dashboard(request.app).accounts.user_count():
            return Redirect("/login", status_code=303)
        local = local_login_allowed(request)
        return render("setup.html", form=FormState(), timezones=timezones(), local=local)

    @post("/", status_code=200)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        board = dashboard(request.app)
        if board.accounts.user_count():
            return Redirect("/login", status_code=303)
        form = FormState(await form_of(request))
        local = local_login_allowed(request)
        try:
            values = form.values
            if local and not values.get("email", "").strip() and not values.get("password"):
                # the desktop app: this computer logs in without a password; one can be set
                # later (account settings) to log in from elsewhere
                values["email"], values["password"] = LOCAL_OWNER, secrets.token_urlsafe(24)
            email, password = text(values, "email"), values.get("password", "")
            organization = text(values, "organization", 100)
            name = text(values, "project", 100)
            origin = origin_of(values.get("domain", ""))
            tz = timezone_of(values.get("timezone", ""))
            user, org_id = await anyio.to_thread.run_sync(
                board.accounts.create_owner, email, password, organization
            )
        except ValidationError as exc:
            form = form.fail(exc)
            return render("setup.html", 400, form=form, timezones=timezones(), local=local)
        meta: MetaStore = request.app.state.meta
        project = meta.create_project(
            name, cors=[origin], domain=origin, timezone=tz, organization_id=org_id
        )
        meta.create_client(
            project_id=project.id, type="write", name=BROWSER_CLIENT, with_secret=False
        )
        return _logged_in(request, user, project_url(project.id, "install"))


class LoginController(Controller):
    path = "/"

    @get("/login", name="login")
    async def show(
        self, request: Request[Any, Any, Any], next: FromQuery[str] = "/dashboard"
    ) -> Response[Any]:
        board = dashboard(request.app)
        if not board.accounts.user_count():
            return Redirect("/setup", status_code=303)
        if viewer_of(request) is not None:
            return Redirect(next if safe_next(next) else "/dashboard", status_code=303)
        owner = board.accounts.local_owner() if local_login_allowed(request) else None
        if owner is not None:
            return _logged_in(request, owner, next)
        return render("login.html", form=FormState({"next": next}))

    @post("/login", status_code=200)
    async def log_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        board = dashboard(request.app)
        form = FormState(await form_of(request))
        email = form.values.get("email", "").strip()
        ip = client_ip(request)
        login_key = f"{ip}|{email.casefold()}"
        if board.per_login.blocked(login_key) or board.per_ip.blocked(ip):
            raise RateLimited("Too many failed logins. Wait 15 minutes and try again.")
        user = await anyio.to_thread.run_sync(
            board.accounts.authenticate, email, form.values.get("password", "")
        )
        if user is None:
            board.per_login.failed(login_key)
            board.per_ip.failed(ip)
            form.errors["form"] = "Wrong email or password."
            return render("login.html", 401, form=form)
        board.per_login.clear(login_key)
        return _logged_in(request, user, form.values.get("next", "/dashboard"))

    @post("/logout", status_code=303)
    async def log_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        token = request.cookies.get(SESSION_COOKIE, "")
        if token:
            dashboard(request.app).logins.end_session(token)
        return clear_session_cookie(Redirect("/login", status_code=303))


class InviteController(Controller):
    path = "/invite/{token:str}"

    @get("/", name="invite")
    async def show(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
        return self._page(request, token, FormState())

    @post("/", status_code=200)
    async def accept(self, request: Request[Any, Any, Any], token: FromPath[str]) -> Response[Any]:
        board = dashboard(request.app)
        invitation = board.accounts.invitation(token)
        if invitation is None:
            return self._page(request, token, FormState())
        viewer = viewer_of(request)
        if viewer is not None:
            board.accounts.accept_invitation(token, viewer.user)
            return Redirect("/dashboard", status_code=303)
        form = FormState(await form_of(request))
        email = form.values.get("email", "").strip()
        try:
            if invitation.email and invitation.email.casefold() != email.casefold():
                raise ValidationError("email", f"this invitation is for {invitation.email}")
            user = await anyio.to_thread.run_sync(
                board.accounts.create_user, email, form.values.get("password", "")
            )
        except ValidationError as exc:
            return self._page(request, token, form.fail(exc), 400)
        board.accounts.accept_invitation(token, user)
        return _logged_in(request, user, "/dashboard")

    def _page(
        self, request: Request[Any, Any, Any], token: str, form: FormState, status: int = 200
    ) -> Response[Any]:
        accounts = dashboard(request.app).accounts
        invitation = accounts.invitation(token)
        if invitation is None:
            return render("invite.html", 404, invitation=None, form=form, token=token)
        form.values.setdefault("email", invitation.email)
        return render(
            "invite.html",
            status,
            invitation=invitation,
            organization=accounts.organization_name(invitation.organization_id),
            viewer=viewer_of(request),
            form=form,
            token=token,
        )


PUBLIC_CONTROLLERS = [SetupController, LoginController, InviteController]
