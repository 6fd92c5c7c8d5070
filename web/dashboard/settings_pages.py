"""Project settings (name, domain, CORS origins, timezone) and API clients (create read, write or
root clients, the secret shown once; revoke). Owners and admins only."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from embedded_db.errors import NotFoundError, ValidationError
from embedded_db.meta import CLIENT_TYPES, MetaStore, NewClient
from web.dashboard.auth import access_of
from web.dashboard.forms import FormState, form_of, origin_of, origins_of, text, timezone_of
from web.dashboard.forms import timezones as all_timezones
from web.dashboard.layout import project_page, project_url

ADMIN = {"role": "admin"}


def _project_form(request: Request[Any, Any, Any]) -> FormState:
    project = access_of(request).project
    return FormState(
        {
            "name": project.name,
            "domain": project.domain,
            "cors": "\n".join(project.cors),
            "timezone": project.timezone,
        }
    )


class ProjectSettingsController(Controller):
    path = "/dashboard/{project_id:str}/settings"
    opt = ADMIN

    @get("/", name="settings-project")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._page(request, _project_form(request))

    @post("/", status_code=200)
    async def save(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        form = FormState(await form_of(request))
        meta: MetaStore = request.app.state.meta
        try:
            domain = form.values.get("domain", "").strip()
            meta.update_project(
                access.project.id,
                name=text(form.values, "name", 100),
                domain=origin_of(domain) if domain else "",
                cors=origins_of(form.values.get("cors", "")),
                timezone=timezone_of(form.values.get("timezone", "")),
            )
        except ValidationError as exc:
            return self._page(request, form.fail(exc), 400)
        return Redirect(project_url(access.project.id, "settings?saved=1"), status_code=303)

    def _page(
        self, request: Request[Any, Any, Any], form: FormState, status: int = 200
    ) -> Response[Any]:
        return project_page(
            request,
            access_of(request),
            "settings_project.html",
            "settings",
            status=status,
            tab="project",
            form=form,
            timezones=all_timezones(),
            saved=request.query_params.get("saved") == "1",
        )


class ClientsController(Controller):
    path = "/dashboard/{project_id:str}/settings/clients"
    opt = ADMIN

    @get("/", name="settings-clients")
    async def show(self, request: Request[Any, Any, Any]) -> Response[Any]:
        return self._page(request, FormState())

    @post("/", status_code=200)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        form = FormState(await form_of(request))
        meta: MetaStore = request.app.state.meta
        kind = form.values.get("type", "write")
        try:
            if kind not in CLIENT_TYPES:
                raise ValidationError("type", f"must be one of {', '.join(CLIENT_TYPES)}")
            created = meta.create_client(
                project_id=access.project.id,
                type=kind,
                name=text(form.values, "name", 100, required=False),
                with_secret=kind != "write" or form.values.get("secret") == "on",
            )
        except ValidationError as exc:
            return self._page(request, form.fail(exc), 400)
        return self._page(request, FormState(), created=created)

    @post("/{client_id:str}/revoke", status_code=303)
    async def revoke(
        self, request: Request[Any, Any, Any], client_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        meta: MetaStore = request.app.state.meta
        if client_id not in {c.id for c in meta.list_clients(access.project.id)}:
            raise NotFoundError(f"client {client_id!r} not found")
        meta.revoke_client(client_id)
        return Redirect(project_url(access.project.id, "settings/clients"), status_code=303)

    def _page(
        self,
        request: Request[Any, Any, Any],
        form: FormState,
        status: int = 200,
        created: NewClient | None = None,
    ) -> Response[Any]:
        access = access_of(request)
        meta: MetaStore = request.app.state.meta
        return project_page(
            request,
            access,
            "settings_clients.html",
            "settings",
            status=status,
            tab="clients",
            form=form,
            clients=meta.list_clients(access.project.id),
            created=created,
            client_types=CLIENT_TYPES,
        )
