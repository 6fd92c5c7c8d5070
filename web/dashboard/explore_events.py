"""The Events pages: every event name of the range with its count (search, sort, a Conversions
tab), one event's page (trend from the chart engine, property keys, a breakdown by one property
whose values filter the view, its latest occurrences, the conversion toggle) and the stream of
all events (free-text search plus the view's filters).

Thin: the numbers come from `embedded_db.reports.events` and `charts`; conversions live in the
MetaStore (`embedded_db.event_meta`). Members and above may mark conversions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.event_meta import check_name, conversions, event_meta, set_conversion
from embedded_db.filters import column_for
from embedded_db.meta import MetaStore
from embedded_db.reports.chart_query import parse_chart
from embedded_db.reports.charts import chart
from embedded_db.reports.events import (
    EventListQuery,
    event_names,
    event_properties,
    has_events,
    list_events,
    property_values,
)
from embedded_db.store import EventStore
from embedded_db.timeframe import bucket_starts
from web.dashboard.auth import Access, access_of
from web.dashboard.errors import is_htmx
from web.dashboard.explore import (
    Links,
    PageView,
    clock,
    filter_url,
    number_of,
    page_view_of,
    pager,
    size_of,
    sort_links,
    sort_of,
)
from web.dashboard.explore_charts import trend_figure
from web.dashboard.forms import form_of
from web.dashboard.layout import project_page, project_url, render

AnyRequest = Request[Any, Any, Any]
SEGMENTS = {"event": "Events", "user": "Unique users"}
SINGULAR = {"event": "Event", "user": "Unique user"}
NAME_COLUMNS = {"name": "Event", "count": "Count"}
# Event columns an event can be broken down by, besides its properties.
COLUMNS = ("path", "origin", "referrer_name", "country", "city", "browser", "os", "device")
BREAKDOWN_ROWS = 20


@dataclass(frozen=True, slots=True)
class NameRow:
    name: str
    count: int
    share: float  # percent of the most frequent name's count, for the bar
    conversion: bool
    url: str


@dataclass(frozen=True, slots=True)
class Breakdown:
    value: str
    count: int
    share: float
    url: str | None  # adds `property is value` to the view; None when not filterable


@dataclass(frozen=True, slots=True)
class KeyRow:
    key: str  # the breakdown name: `path` or `properties.<key>`
    label: str
    count: int | None
    url: str | None
    active: bool


def event_url(project_id: str, name: str) -> str:
    """The event page of `name` (the name travels in the query string: any text is fine)."""
    return project_url(project_id, "events") + "?" + urlencode({"event": name})


class EventsController(Controller):
    path = "/dashboard/{project_id:str}/events"

    @get("/", name="events")
    async def events_page(self, request: AnyRequest) -> Response[Any]:
        access = access_of(request)
        keys = ("event", "q", "sort", "dir", "tab", "prop", "segment", "size")
        view = page_view_of(request, access.project.timezone, *keys)
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        if view.get("event"):
            return await _event_page(request, access, view)
        return await _names_page(request, access, view)

    @get("/stream", name="events-stream")
    async def stream_page(self, request: AnyRequest) -> Response[Any]:
        access = access_of(request)
        view = page_view_of(request, access.project.timezone, "q", "size")
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        store: EventStore = request.app.state.store
        page, size = number_of(request), size_of(request)
        query = EventListQuery(
            project_id=access.project.id,
            window=view.window,
            filters=view.filters,
            search=view.get("q").strip(),
            limit=size,
            offset=(page - 1) * size,
        )
        result = await store.run(list_events, store, query)
        keys = await store.run(event_properties, store, access.project.id, view.window)
        empty = result["total"] == 0 and not view.filters and not query.search
        return project_page(
            request,
            access,
            "events.html",
            "events",
            view,
            tab="stream",
            events=result["data"],
            pager=pager(view, page, result["total"], size),
            property_keys=[r["key"] for r in keys["data"]],
            links=Links(access.project.id, view),
            at=clock(access.project.timezone),
            no_events=empty and not await store.run(has_events, store, access.project.id),
        )

    @post("/conversion", name="events-conversion", opt={"role": "member"}, status_code=200)
    async def mark_conversion(self, request: AnyRequest) -> Response[Any]:
        access = access_of(request)
        form = await form_of(request)
        name = check_name(form.get("event", ""))
        meta: MetaStore = request.app.state.meta
        saved = set_conversion(
            meta, access.project.id, name, form.get("conversion") == "1", access.viewer.user.id
        )
        if is_htmx(request):
            return render("_ev_conversion.html", project=access.project, meta=saved, can_edit=True)
        return Redirect(event_url(access.project.id, name), status_code=303)


async def _names_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    store: EventStore = request.app.state.store
    meta: MetaStore = request.app.state.meta
    found = await store.run(event_names, store, access.project.id, view.window)
    counts = {str(r["name"]): int(r["count"]) for r in found["data"]}
    marked = set(conversions(meta, access.project.id))
    tab = view.get("tab") or "all"
    if tab not in ("all", "conversions"):
        raise ValidationError("tab", "must be all or conversions")
    if tab == "conversions":
        counts = {name: counts.get(name, 0) for name in marked}
    search = view.get("q").strip().casefold()
    names = [n for n in counts if search in n.casefold()]
    sort, descending = sort_of(request, tuple(NAME_COLUMNS), "count", True)
    names.sort(key=lambda n: (counts[n], n) if sort == "count" else (n.casefold(), n))
    if descending:
        names.reverse()
    page, size = number_of(request), size_of(request)
    paging = pager(view, page, len(names), size)
    top = max(counts.values(), default=0) or 1
    rows = [
        NameRow(
            n,
            counts[n],
            counts[n] * 100 / top,
            n in marked,
            view.url(event=n, q=None, tab=None, sort=None, dir=None),
        )
        for n in names[paging.offset : paging.offset + paging.size]
    ]
    empty = not found["data"] and not await store.run(has_events, store, access.project.id)
    return project_page(
        request,
        access,
        "events.html",
        "events",
        view,
        tab=tab,
        names=rows,
        total=sum(counts[n] for n in names),
        pager=paging,
        sorts=sort_links(view, NAME_COLUMNS, sort, descending, {"count"}),
        conversion_count=len(marked),
        no_events=empty,
    )


async def _event_page(request: AnyRequest, access: Access, view: PageView) -> Response[Any]:
    name = check_name(view.get("event"))
    segment = view.get("segment") or "event"
    if segment not in SEGMENTS:
        raise ValidationError("segment", "must be event or user")
    store: EventStore = request.app.state.store
    meta: MetaStore = request.app.state.meta
    query = parse_chart(
        {
            "range": view.range,
            "startDate": view.start_date,
            "endDate": view.end_date,
            "interval": view.interval,
            "series": [{"name": name, "segment": segment}],
            "globalFilters": json.loads(view.params.get("filters") or "[]"),
            "previous": view.compare,
        },
        access.project.id,
        access.project.timezone,
        datetime.now(UTC),
        "7d",
    )
    result = await store.run(chart, store, query)
    before = None
    if view.compare:
        before = [b.isoformat() for b in bucket_starts(query.window.previous(), query.interval)]
    keys = await _keys(store, access, view, name)
    active = next((k for k in keys if k.active), None)
    page, size = number_of(request), size_of(request)
    occurrences = EventListQuery(
        project_id=access.project.id,
        window=view.window,
        filters=view.filters,
        names=[name],
        limit=size,
        offset=(page - 1) * size,
    )
    listed = await store.run(list_events, store, occurrences)
    series = result["series"][0] if result["series"] else None
    return project_page(
        request,
        access,
        "event.html",
        "events",
        view,
        name=name,
        meta=event_meta(meta, access.project.id, name),
        can_edit=access.can("member"),
        segment=segment,
        segments=SEGMENTS,
        singular=SINGULAR,
        figure=trend_figure(result, SEGMENTS[segment], query.interval, before),
        total=series["metrics"]["count"] if series else 0,
        change=(series["metrics"].get("previous") or {}).get("count") if series else None,
        keys=keys,
        breakdown=await _breakdown(store, access, view, name, active),
        active_key=active,
        events=listed["data"],
        pager=pager(view, page, listed["total"], size),
        links=Links(access.project.id, view),
        at=clock(access.project.timezone),
        back_url=view.url(event=None, prop=None, segment=None),
    )


async def _keys(store: EventStore, access: Access, view: PageView, name: str) -> list[KeyRow]:
    """The event's columns and property keys, each a link that breaks the event down by it."""
    found = await store.run(event_properties, store, access.project.id, view.window, name)
    chosen = view.get("prop") or (
        "properties." + found["data"][0]["key"]
        if found["data"] and name != "screen_view"
        else "path"
    )
    rows = []
    for key, label, count in [
        *(("properties." + str(r["key"]), str(r["key"]), int(r["count"])) for r in found["data"]),
        *((c, c, None) for c in COLUMNS),
    ]:
        usable = _breakable(key)
        url = view.url(prop=key, page=None) if usable else None
        rows.append(KeyRow(key, label, count, url, usable and key == chosen))
    return rows


def _breakable(key: str) -> bool:
    try:
        scope, _, _ = column_for(key, "property")
    except ValidationError:
        return False
    return scope == "event"


async def _breakdown(
    store: EventStore, access: Access, view: PageView, name: str, key: KeyRow | None
) -> list[Breakdown]:
    if key is None:
        return []
    found = await store.run(
        property_values,
        store,
        access.project.id,
        view.window,
        key.key,
        name,
        BREAKDOWN_ROWS,
    )
    top = max((int(r["count"]) for r in found["data"]), default=0) or 1
    return [
        Breakdown(
            str(r["value"]),
            int(r["count"]),
            int(r["count"]) * 100 / top,
            filter_url(view, key.key, r["value"]),
        )
        for r in found["data"]
    ]
