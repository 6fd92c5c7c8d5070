"""The Profiles pages: the list of people (search by name, email or id; identified only; sorted by
any column; paged), the power users of the range, and one profile's page — properties, first and
last seen, all-time metrics, activity per day, most frequent events and pages in the range, its
visits (each a link to the visit's timeline) and its events, newest first.

A profile is addressed as `/profiles?id=…` so any id (external ids may hold slashes) works;
an unknown id is 404. Thin: every number comes from `embedded_db.reports.profiles`."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.reports.events import EventListQuery, has_events, list_events
from embedded_db.reports.profiles import (
    PowerUsersQuery,
    ProfileListQuery,
    get_profile,
    list_profiles,
    power_users,
    profile_detail,
    profile_metrics,
)
from embedded_db.reports.sessions import SessionQuery, list_sessions
from embedded_db.store import EventStore
from web.dashboard.auth import Access, access_of
from web.dashboard.explore import (
    PAGE_SIZE,
    Links,
    PageView,
    clock,
    number_of,
    page_view_of,
    pager,
    size_of,
    sort_links,
    sort_of,
)
from web.dashboard.explore_charts import activity_figure
from web.dashboard.layout import project_page

AnyRequest = Request[Any, Any, Any]
COLUMNS = {"name": "Name", "email": "Email", "firstSeen": "First seen", "lastSeen": "Last seen"}
TABS = ("all", "power")
VISITS_PER_PAGE = 20


def display_name(profile: dict[str, Any]) -> str:
    """'First Last', else the email, else the id."""
    full = f"{profile.get('firstName') or ''} {profile.get('lastName') or ''}".strip()
    return full or str(profile.get("email") or "") or str(profile.get("id") or "")


class ProfilesController(Controller):
    path = "/dashboard/{project_id:str}/profiles"

    @get("/", name="profiles")
    async def profiles_page(self, request: AnyRequest) -> Response[Any]:
        access = access_of(request)
        keys = ("id", "q", "tab", "identified", "sort", "dir", "size")
        view = page_view_of(request, access.project.timezone, *keys)
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        if view.get("id"):
            return await _profile_page(request, access, view)
        return await _list_page(request, access, view)


async def _list_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    store: EventStore = request.app.state.store
    tab = view.get("tab") or "all"
    if tab not in TABS:
        raise ValidationError("tab", "must be all or power")
    identified = view.get("identified") == "1"
    sort, descending = sort_of(request, tuple(COLUMNS), "lastSeen", True)
    page, size = number_of(request), size_of(request)
    offset = (page - 1) * size
    if tab == "power":
        power = PowerUsersQuery(
            project_id=access.project.id,
            window=view.window,
            identified=identified,
            limit=size,
            offset=offset,
        )
        result = await store.run(power_users, store, power)
    else:
        query = ProfileListQuery(
            project_id=access.project.id,
            search=view.get("q").strip(),
            identified=identified,
            limit=size,
            offset=offset,
            sort=sort,
            descending=descending,
        )
        result = await store.run(list_profiles, store, query)
    empty = result["total"] == 0 and not view.get("q") and not identified
    return project_page(
        request,
        access,
        "profiles.html",
        "profiles",
        view,
        tab=tab,
        identified=identified,
        profiles=result["data"],
        pager=pager(view, page, result["total"], size),
        sorts=sort_links(view, COLUMNS, sort, descending, {"firstSeen", "lastSeen"}),
        name_of=display_name,
        links=Links(access.project.id, view),
        at=clock(access.project.timezone),
        no_events=empty and not await store.run(has_events, store, access.project.id),
    )


async def _profile_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    store: EventStore = request.app.state.store
    project_id, profile_id = access.project.id, view.get("id")
    await store.run(get_profile, store, project_id, profile_id)  # NotFoundError → 404
    metrics = await store.run(profile_metrics, store, project_id, profile_id)
    detail = await store.run(profile_detail, store, project_id, profile_id, view.window, 1)
    visits_page, events_page = number_of(request, "spage"), number_of(request, "epage")
    visits = SessionQuery(
        project_id=project_id,
        profile_id=profile_id,
        limit=VISITS_PER_PAGE,
        offset=(visits_page - 1) * VISITS_PER_PAGE,
    )
    events = EventListQuery(
        project_id=project_id,
        profile_id=profile_id,
        limit=PAGE_SIZE,
        offset=(events_page - 1) * PAGE_SIZE,
    )
    visit_rows = await store.run(list_sessions, store, visits)
    event_rows = await store.run(list_events, store, events)
    profile = detail["profile"]
    return project_page(
        request,
        access,
        "profile.html",
        "profiles",
        view,
        profile=profile,
        name=display_name(profile),
        metrics=metrics,
        top_events=detail["topEvents"],
        top_pages=detail["topPages"],
        figure=activity_figure(detail["activity"]),
        active_days=sum(1 for d in detail["activity"] if d["count"]),
        sessions=visit_rows["data"],
        sessions_pager=pager(view, visits_page, visit_rows["total"], VISITS_PER_PAGE, "spage"),
        events=event_rows["data"],
        events_pager=pager(view, events_page, event_rows["total"], PAGE_SIZE, "epage"),
        links=Links(project_id, view),
        at=clock(access.project.timezone),
        back_url=view.url(id=None),
    )
