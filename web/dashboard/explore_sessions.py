"""The Sessions pages: the visits of the range (newest first, narrowed by the view's filters,
paged), each with its duration, pages, events, entry → exit, referrer, place, device and bounce;
and one visit's page — the visit and its events in time order, each with its offset from the
visit's start. A visit is addressed as `/sessions?id=…`; an unknown id is 404.

Thin: the rows come from `embedded_db.reports.sessions`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Redirect

from embedded_db.reports.events import has_events
from embedded_db.reports.sessions import SessionQuery, list_sessions, session_detail
from embedded_db.store import EventStore
from web.dashboard.auth import Access, access_of
from web.dashboard.explore import (
    Links,
    PageView,
    clock,
    filter_url,
    number_of,
    offset_label,
    page_view_of,
    pager,
    seconds_between,
    size_of,
)
from web.dashboard.layout import project_page

AnyRequest = Request[Any, Any, Any]
# Columns of a visit a click turns into a filter: (filter name, camelCase field).
FILTERABLE = (
    ("referrer_name", "referrerName"),
    ("country", "country"),
    ("city", "city"),
    ("device", "device"),
    ("browser", "browser"),
    ("os", "os"),
    ("path", "entryPath"),
)


class SessionsController(Controller):
    path = "/dashboard/{project_id:str}/sessions"

    @get("/", name="sessions")
    async def sessions_page(self, request: AnyRequest) -> Response[Any]:
        access = access_of(request)
        view = page_view_of(request, access.project.timezone, "id", "size")
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        if view.get("id"):
            return await _session_page(request, access, view)
        return await _list_page(request, access, view)


def row_filters(view: PageView, row: dict[str, Any]) -> dict[str, str | None]:
    """For each filterable field of a visit, the URL adding `field is value` to the view."""
    return {field: filter_url(view, name, row.get(field)) for name, field in FILTERABLE}


async def _list_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    store: EventStore = request.app.state.store
    page, size = number_of(request), size_of(request)
    query = SessionQuery(
        project_id=access.project.id,
        window=view.window,
        filters=view.filters,
        limit=size,
        offset=(page - 1) * size,
    )
    result = await store.run(list_sessions, store, query)
    empty = result["total"] == 0 and not view.filters
    return project_page(
        request,
        access,
        "sessions.html",
        "sessions",
        view,
        sessions=result["data"],
        filters_of={row["id"]: row_filters(view, row) for row in result["data"]},
        pager=pager(view, page, result["total"], size),
        links=Links(access.project.id, view),
        at=clock(access.project.timezone),
        no_events=empty and not await store.run(has_events, store, access.project.id),
    )


async def _session_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    store: EventStore = request.app.state.store
    detail = await store.run(session_detail, store, access.project.id, view.get("id"))
    visit = detail["session"]
    timeline = [
        (offset_label(seconds_between(visit["createdAt"], event["createdAt"])), event)
        for event in detail["events"]
    ]
    return project_page(
        request,
        access,
        "session.html",
        "sessions",
        view,
        visit=visit,
        timeline=timeline,
        links=Links(access.project.id, view),
        at=clock(access.project.timezone),
        back_url=view.url(id=None),
    )
