"""Members and invitations of the project's organization (owners and admins; only an owner
grants or changes the owner role), and the viewer's own account (password, other sessions)."""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from embedded_db.accounts import ROLES, NewInvitation, has_role
from embedded_db.errors import ValidationError
from web.dashboard.auth import Access, access_of
from web.dashboard.errors import AccessDenied
from web.dashboard.forms import FormState, form_of
from web.dashboard.layout import project_page, project_url
from web.dashboard.state import dashboard


def check_grant(access: Access, current: str | None, new: str | None) -> None:
    """Admins manage admins, members and viewers; owners also owners. AccessDenied otherwise."""
    if access.can("owner"):
        return
    if "owner" in (current, new):
        raise AccessDenied("only an owner can grant, change or remove the owner role")


class MembersController(Controller):
    path = "/dashboard/{project_id:str}/settings/members"
    opt = {"role": "admin"}

    @get("/", name="settings-members")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._page(request, FormState({"role": "member"}))

    @post("/invite", status_code=200)
    async def invite(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        form = FormState(await form_of(request))
        role = form.values.get("role", "member")
        try:
            check_grant(access, None, role)
            issued = dashboard(request.app).accounts.invite(
                access.project.organization_id,
                role,
                access.viewer.user.id,
                form.values.get("email", ""),
            )
        except ValidationError as exc:
            return self._page(request, form.fail(exc), 400)
        return self._page(request, FormState({"role": "member"}), issued=issued)

    @post("/{user_id:str}/role", status_code=303)
    async def change_role(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        role = (await form_of(request)).get("role", "")
        accounts = dashboard(request.app).accounts
        org = access.project.organization_id
        check_grant(access, self._role(request, user_id), role)
        try:
            accounts.set_role(org, user_id, role)
        except ValidationError as exc:
            return self._page(request, FormState().fail(exc), 400)
        return Redirect(project_url(access.project.id, "settings/members"), status_code=303)

    @post("/{user_id:str}/remove", status_code=303)
    async def remove(
        self, request: Request[Any, Any, Any], user_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        check_grant(access, self._role(request, user_id), None)
        try:
            dashboard(request.app).accounts.remove_member(access.project.organization_id, user_id)
        except ValidationError as exc:
            return self._page(request, FormState().fail(exc), 400)
        return Redirect(project_url(access.project.id, "settings/members"), status_code=303)

    @post("/invitations/{invitation_id:str}/revoke", status_code=303)
    async def revoke_invitation(
        self, request: Request[Any, Any, Any], invitation_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        accounts = dashboard(request.app).accounts
        accounts.revoke_invitation(access.project.organization_id, invitation_id)
        return Redirect(project_url(access.project.id, "settings/members"), status_code=303)

    def _role(self, request: Request[Any, Any, Any], user_id: str) -> str:
        access = access_of(request)
        role = dashboard(request.app).accounts.role_of(user_id, access.project.organization_id)
        if role is None:
            raise ValidationError("member", "not a member of this organization")
        return role

    def _page(
        self,
        request: Request[Any, Any, Any],
        form: FormState,
        status: int = 200,
        issued: NewInvitation | None = None,
    ) -> Response[Any]:
        access = access_of(request)
        accounts = dashboard(request.app).accounts
        org = access.project.organization_id
        grantable = [r for r in ROLES if access.can("owner") or r != "owner"]
        return project_page(
            request,
            access,
            "settings_members.html",
            "settings",
            status=status,
            tab="members",
            form=form,
            members=accounts.members(org),
            invitations=accounts.pending_invitations(org),
            issued=issued,
            invite_url=str(request.base_url).rstrip("/") + "/invite/",
            roles=grantable,
            organization=accounts.organization_name(org),
        )


class AccountController(Controller):
    path = "/dashboard/{project_id:str}/settings/account"

    @get("/", name="settings-account")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._page(request, FormState())

    @post("/password", status_code=200)
    async def change_password(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        form = FormState(await form_of(request))
        values = form.values
        board = dashboard(request.app)
        try:
            if values.get("new", "") != values.get("confirm", ""):
                raise ValidationError("confirm", "the new passwords do not match")
            await anyio.to_thread.run_sync(
                board.accounts.change_password,
                access.viewer.user.id,
                values.get("current", ""),
                values.get("new", ""),
            )
        except ValidationError as exc:
            return self._page(request, form.fail(exc), 400)
        ended = board.logins.end_sessions(access.viewer.user.id, keep=access.viewer.session_id)
        return self._page(request, FormState(), changed=True, ended=ended)

    @post("/sessions/end", status_code=200)
    async def end_other_sessions(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        logins = dashboard(request.app).logins
        ended = logins.end_sessions(access.viewer.user.id, keep=access.viewer.session_id)
        return self._page(request, FormState(), ended=ended)

    def _page(
        self,
        request: Request[Any, Any, Any],
        form: FormState,
        status: int = 200,
        changed: bool = False,
        ended: int | None = None,
    ) -> Response[Any]:
        access = access_of(request)
        return project_page(
            request,
            access,
            "settings_account.html",
            "settings",
            status=status,
            tab="account",
            form=form,
            changed=changed,
            ended=ended,
            is_admin=has_role(access.role, "admin"),
        )
