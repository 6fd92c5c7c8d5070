"""The overview's top-list widgets: pages, sources, UTM, geography, devices and events, each with
tabs, a search box and "show more" paging, filled in by htmx after the page has rendered.

A widget runs one report of `embedded_db.reports.toplists` on the reader pool and turns its rows
into `Row`s: a label, a muted detail (origin, parent), two numbers and the URL of the page with
that row added as a filter (clicking a row filters the whole view).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from embedded_db.errors import ValidationError
from embedded_db.reports.toplists import (
    ListQuery,
    dimension_list,
    entry_exit_pages,
    map_points,
    outbound_links,
    top_events,
    top_pages,
)
from embedded_db.store import EventStore
from web.dashboard.charts import country_name, world_map_figure
from web.dashboard.view import View

PAGE_SIZE = 10
MAP_COUNTRIES = 250
VISITS = ("Sessions", "Pageviews")


@dataclass(frozen=True, slots=True)
class Tab:
    key: str
    label: str
    heading: str  # the name column's heading
    field: str  # the filter a click on a row adds
    numbers: tuple[str, str] = VISITS


@dataclass(frozen=True, slots=True)
class Widget:
    key: str
    title: str
    tabs: tuple[Tab, ...]

    def tab(self, key: str | None) -> Tab:
        return next((t for t in self.tabs if t.key == key), self.tabs[0])


def _dims(*items: tuple[str, str, str]) -> tuple[Tab, ...]:
    return tuple(Tab(key, label, heading, key) for key, label, heading in items)


WIDGETS = {
    "pages": Widget(
        "pages",
        "Pages",
        (
            Tab("top", "Top pages", "Page", "path"),
            Tab("entry", "Entry pages", "Entry page", "path"),
            Tab("exit", "Exit pages", "Exit page", "path"),
        ),
    ),
    "sources": Widget(
        "sources",
        "Sources",
        _dims(
            ("referrer_name", "Referrers", "Referrer"),
            ("referrer", "URLs", "Referrer URL"),
            ("referrer_type", "Types", "Type"),
        ),
    ),
    "utm": Widget(
        "utm",
        "Campaigns",
        _dims(
            ("utm_source", "Source", "UTM source"),
            ("utm_medium", "Medium", "UTM medium"),
            ("utm_campaign", "Campaign", "UTM campaign"),
            ("utm_term", "Term", "UTM term"),
            ("utm_content", "Content", "UTM content"),
        ),
    ),
    "geo": Widget(
        "geo",
        "Locations",
        _dims(
            ("country", "Countries", "Country"),
            ("region", "Regions", "Region"),
            ("city", "Cities", "City"),
        ),
    ),
    "devices": Widget(
        "devices",
        "Devices",
        _dims(
            ("device", "Devices", "Device"),
            ("browser", "Browsers", "Browser"),
            ("browser_version", "Browser versions", "Version"),
            ("os", "OS", "Operating system"),
            ("os_version", "OS versions", "Version"),
        ),
    ),
    "events": Widget(
        "events",
        "Events",
        (
            Tab("events", "Top events", "Event", "name", ("Events", "Visitors")),
            Tab("links", "Outbound links", "Link", "properties.href", ("Clicks", "Sessions")),
        ),
    ),
}
_EMPTY_LABELS = {"referrer_name": "Direct / none", "referrer": "Direct / none"}


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    detail: str
    first: float
    second: float
    share: float  # the first number in percent of the page's largest, for the bar
    url: str


@dataclass
class Listing:
    """One page of a widget's tab, with the URLs its controls load."""

    widget: Widget
    tab: Tab
    rows: list[Row]
    search: str
    offset: int
    next_offset: int | None
    base_url: str  # the widget endpoint with the view, widget and tab (no search/offset)
    figure: str | None = None
    tab_urls: dict[str, str] = field(default_factory=dict)

    def url(self, **changes: Any) -> str:
        """The widget endpoint with more query keys (None drops one)."""
        extra = urlencode({k: str(v) for k, v in changes.items() if v not in (None, "")})
        if not extra:
            return self.base_url
        return self.base_url + ("&" if "?" in self.base_url else "?") + extra


def widget_of(key: str | None) -> Widget:
    """The widget named `key`; ValidationError for an unknown one (default: pages)."""
    if not key:
        return WIDGETS["pages"]
    if key not in WIDGETS:
        raise ValidationError("w", f"must be one of {', '.join(WIDGETS)}")
    return WIDGETS[key]


def filter_url(view: View, page_path: str, name: str, value: str) -> str:
    """`page_path` with the view's filters plus `name is value` (not added twice)."""
    current = json.loads(view.params.get("filters") or "[]")
    added = {"name": name, "operator": "is", "value": [value]}
    if added not in current:
        current.append(added)
    return view.url(page_path, filters=json.dumps(current))


def _fetch(store: EventStore, tab: Tab, q: ListQuery) -> list[dict[str, Any]]:
    """(label value, detail, first, second) rows of a tab, from the same reports the API uses."""
    if tab.key == "top":
        data = top_pages(store, q)["data"]
        return [_r(r["path"], "", r["sessions"], r["pageviews"]) for r in data]
    if tab.key in ("entry", "exit"):
        data = entry_exit_pages(store, q, tab.key)["data"]
        return [_r(r["path"], "", r["sessions"], r["pageviews"]) for r in data]
    if tab.key == "events":
        data = top_events(store, q)["data"]
        return [_r(r["name"], "", r["count"], r["visitors"]) for r in data]
    if tab.key == "links":
        data = outbound_links(store, q)["data"]
        return [_r(r["href"], "", r["clicks"], r["sessions"]) for r in data]
    data = dimension_list(store, q, tab.key)["data"]
    return [_r(r["name"], r["prefix"], r["sessions"], r["pageviews"]) for r in data]


def _r(value: Any, detail: Any, first: Any, second: Any) -> dict[str, Any]:
    return {"value": str(value), "detail": str(detail), "first": first, "second": second}


def load(
    store: EventStore,
    project_id: str,
    view: View,
    widget: Widget,
    tab: Tab,
    search: str,
    offset: int,
    urls: tuple[str, str],
    with_map: bool,
) -> Listing:
    """One page of a widget tab (runs on the reader pool); `urls` = (the widget endpoint, the
    page a clicked row filters). ValidationError for a bad offset or search."""
    endpoint, page_path = urls
    q = ListQuery(
        project_id=project_id,
        window=view.window,
        filters=view.filters,
        search=search,
        limit=PAGE_SIZE,
        offset=offset,
    )
    raw = _fetch(store, tab, q)
    most = max((float(r["first"]) for r in raw), default=0.0) or 1.0
    rows = [
        Row(
            label=_label(tab, r["value"]),
            detail=_detail(tab, r["detail"]),
            first=float(r["first"]),
            second=float(r["second"]),
            share=round(100 * float(r["first"]) / most, 1),
            url=filter_url(view, page_path, tab.field, r["value"]),
        )
        for r in raw
    ]
    figure = None
    if with_map and tab.key == "country" and offset == 0 and not search:
        q.limit, q.search = MAP_COUNTRIES, ""
        countries = map_points(store, q)["countries"]
        figure = world_map_figure(countries) if countries else None
    base = view.url(endpoint, w=widget.key, tab=tab.key)
    return Listing(
        widget=widget,
        tab=tab,
        rows=rows,
        search=search,
        offset=offset,
        next_offset=offset + PAGE_SIZE if len(raw) == PAGE_SIZE else None,
        base_url=base,
        figure=figure,
        tab_urls={t.key: view.url(endpoint, w=widget.key, tab=t.key) for t in widget.tabs},
    )


def _label(tab: Tab, value: str) -> str:
    if tab.key == "country":
        return country_name(value) if value else "Unknown"
    if not value:
        return _EMPTY_LABELS.get(tab.key, "(not set)")
    return value


def _detail(tab: Tab, detail: str) -> str:
    if tab.key in ("region", "city") and detail:
        return country_name(detail)
    return detail
