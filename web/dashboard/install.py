"""The tracking snippet page of a project (script tag, npm and Python usage with this server's
URL and the project's client id) with a "waiting for the first event" state that htmx polls
until an event arrives; and creating another project."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.exports import EventQuery, export_events
from embedded_db.meta import Client, MetaStore
from embedded_db.store import EventStore
from web.dashboard.auth import access_of
from web.dashboard.forms import FormState, form_of, origin_of, text, timezone_of, timezones
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.signin import BROWSER_CLIENT
from web.dashboard.state import dashboard

POLL_SECONDS = 2


def api_url(request: Request[Any, Any, Any]) -> str:
    """The URL SDKs reach this server at: `public_url` if set, else what the browser used."""
    configured = dashboard(request.app).public_url
    return (configured or str(request.base_url)).rstrip("/")


def browser_client(clients: list[Client]) -> Client | None:
    """The client for the snippet: a secret-less write client, else any write client."""
    writers = [c for c in clients if c.type == "write"]
    keyless = [c for c in writers if not c.secret_hash]
    found = keyless or writers
    return found[0] if found else None


def latest_event(store: EventStore, project_id: str) -> tuple[int, dict[str, Any] | None]:
    """(events stored for the project, the newest one) — the install page's live check."""
    page = export_events(store, EventQuery(project_id=project_id, limit=1))
    return page.total, (page.data[0] if page.data else None)


class InstallController(Controller):
    path = "/dashboard/{project_id:str}"

    @get("/install", name="install")
    async def install(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        meta: MetaStore = request.app.state.meta
        client = browser_client(meta.list_clients(access.project.id))
        store: EventStore = request.app.state.store
        total, latest = await store.run(latest_event, store, access.project.id)
        return project_page(
            request,
            access,
            "install.html",
            "install",
            api_url=api_url(request),
            client=client,
            total=total,
            latest=latest,
            poll_seconds=POLL_SECONDS,
        )

    @get("/install/status", name="install-status")
    async def status(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        store: EventStore = request.app.state.store
        total, latest = await store.run(latest_event, store, access.project.id)
        return render(
            "_install_status.html",
            project=access.project,
            total=total,
            latest=latest,
            poll_seconds=POLL_SECONDS,
        )

    @get("/projects/new", name="new-project", opt={"role": "admin"})
    async def new_project_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        return project_page(
            request, access, "new_project.html", "settings", form=FormState(), timezones=timezones()
        )

    @post("/projects/new", opt={"role": "admin"}, status_code=200)
    async def create_project(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        form = FormState(await form_of(request))
        meta: MetaStore = request.app.state.meta
        try:
            name = text(form.values, "project", 100)
            origin = origin_of(form.values.get("domain", ""))
            project = meta.create_project(
                name,
                cors=[origin],
                domain=origin,
                timezone=timezone_of(form.values.get("timezone", "")),
                organization_id=access.project.organization_id,
            )
        except ValidationError as exc:
            return project_page(
                request,
                access,
                "new_project.html",
                "settings",
                status=400,
                form=form.fail(exc),
                timezones=timezones(),
            )
        meta.create_client(
            project_id=project.id, type="write", name=BROWSER_CLIENT, with_secret=False
        )
        return Redirect(project_url(project.id, "install"), status_code=303)
