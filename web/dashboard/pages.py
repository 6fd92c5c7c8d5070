"""The project pages: the dashboard home, the Overview (metric cards with sparklines and a Plotly
chart from `embedded_db.reports.overview`, then top-list widgets that htmx fills in from
`/overview/widget`). Thin: read the view from the URL, run the report on the reader pool, render."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.reports.events import has_events
from embedded_db.reports.overview import METRICS, OverviewQuery, overview
from embedded_db.store import EventStore
from web.dashboard.auth import access_of, viewer_of
from web.dashboard.charts import METRIC_LABELS, line_figure, metric_value, sparkline
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.state import dashboard
from web.dashboard.view import View, view_of
from web.dashboard.widgets import WIDGETS, load, widget_of


@dataclass(frozen=True, slots=True)
class Card:
    metric: str
    label: str
    value: float
    kind: str  # number, percent, duration, money, ratio
    change: dict[str, Any] | None
    url: str
    active: bool
    spark: str = ""  # SVG polyline points of the metric over the period


_KINDS = {
    "views_per_session": "ratio",
    "bounce_rate": "percent",
    "avg_session_duration": "duration",
    "total_revenue": "money",
}
# Metrics where a rise is bad news (the card colours the change the other way round).
INVERTED = frozenset({"bounce_rate"})


class HomeController(Controller):
    path = "/dashboard"

    @get("/", name="dashboard")
    async def home(self, request: Request[Any, Any, Any]) -> Response[Any]:
        viewer = viewer_of(request)
        assert viewer is not None  # the guard let a logged-in viewer through
        projects = dashboard(request.app).accounts.projects_for(viewer.user.id)
        if not projects:
            return render("no_projects.html", user=viewer.user)
        return Redirect(project_url(projects[0].id), status_code=303)


_PARTS = {"rows": "_toplist_rows.html", "table": "_toplist_table.html"}


def widget_urls(view: View, project_id: str) -> list[tuple[str, str, str]]:
    """(key, title, URL that loads it) of each overview widget, in page order."""
    endpoint = project_url(project_id, "overview/widget")
    return [(w.key, w.title, view.url(endpoint, w=w.key)) for w in WIDGETS.values()]


def _offset(value: Any) -> int:
    try:
        offset = int(str(value or 0))
    except ValueError:
        raise ValidationError("offset", "must be a whole number") from None
    if not 0 <= offset <= 100_000:
        raise ValidationError("offset", "must be between 0 and 100000")
    return offset


class OverviewController(Controller):
    path = "/dashboard/{project_id:str}"

    @get("/overview", name="overview")
    async def overview_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        view = view_of(request, access.project.timezone, METRICS)
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        store: EventStore = request.app.state.store
        query = OverviewQuery(
            project_id=access.project.id,
            window=view.window,
            interval=view.interval,
            filters=view.filters,
            previous=view.compare,
        )
        result = await store.run(overview, store, query)
        before = None
        if view.compare:
            earlier = OverviewQuery(
                project_id=query.project_id,
                window=view.window.previous(),
                interval=view.interval,
                filters=view.filters,
                previous=False,
            )
            before = (await store.run(overview, store, earlier))["series"]
        empty = not any(p["total_sessions"] for p in result["series"]) and not view.filters
        no_events = empty and not await store.run(has_events, store, access.project.id)
        cards = [
            Card(
                metric=m,
                label=METRIC_LABELS[m],
                value=result["metrics"][m]["value"],
                kind=_KINDS.get(m, "number"),
                change=result["metrics"][m].get("previous"),
                url=view.url(metric=m),
                active=m == view.metric,
                spark=sparkline([metric_value(p, m) for p in result["series"]]),
            )
            for m in METRICS
        ]
        figure = line_figure(result["series"], view.metric, view.interval, before)
        return project_page(
            request,
            access,
            "overview.html",
            "overview",
            view,
            cards=cards,
            inverted=INVERTED,
            figure=figure,
            metric_label=METRIC_LABELS[view.metric],
            no_events=no_events,
            widgets=widget_urls(view, access.project.id),
        )

    @get("/overview/widget", name="overview-widget")
    async def widget(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """One top-list widget (htmx): `w`, `tab`, `search`, `offset`, and `part` = rows (the
        next page's rows) or table (the list only, for the search box)."""
        access = access_of(request)
        view = view_of(request, access.project.timezone)
        query = request.query_params
        widget = widget_of(query.get("w"))
        tab = widget.tab(query.get("tab"))
        part = query.get("part")
        store: EventStore = request.app.state.store
        pid = access.project.id
        urls = (project_url(pid, "overview/widget"), project_url(pid, "overview"))
        search, offset = str(query.get("search") or ""), _offset(query.get("offset"))
        listing = await store.run(
            load, store, pid, view, widget, tab, search, offset, urls, part is None
        )
        return render(_PARTS.get(str(part), "_toplist.html"), listing=listing)
