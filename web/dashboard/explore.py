"""What the Events, Profiles and Sessions pages share: a view that keeps the page's own query keys
(the event, profile or visit shown, the search, the sort) in every link the view bar makes,
pagers, sortable column headers, links that add a filter, and times in the project's timezone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import msgspec
from litestar import Request

from embedded_db.errors import ValidationError
from embedded_db.filters import compile_filters, parse_filters
from web.dashboard.layout import project_url
from web.dashboard.view import View, view_of

PAGE_SIZE = 50
MAX_SIZE = 200
PAGE_SIZES = (10, 25, 50, 100)
MAX_PAGE = 100_000
MAX_KEY_TEXT = 1000


@dataclass(frozen=True)
class PageView(View):
    """A view whose own links (range, interval, filters, chips) keep the page's `keep` keys."""

    keep: tuple[tuple[str, str], ...] = ()

    def url(self, path: str | None = None, **changes: str | None) -> str:
        """As View.url; on the current page the kept keys come along unless changed."""
        if path is None:
            changes = {**dict(self.keep), **changes}
        return super().url(path, **changes)

    def hidden(self, *dropped: str) -> list[tuple[str, str]]:
        kept = [(k, v) for k, v in self.keep if k not in dropped]
        return [*super().hidden(*dropped), *kept]

    def get(self, key: str, default: str = "") -> str:
        """A kept key's value."""
        return dict(self.keep).get(key, default)


def page_view_of(request: Request[Any, Any, Any], timezone: str, *keys: str) -> PageView:
    """The page's view keeping `keys` from the query string; a redirect (to the canonical URL
    with an added filter) keeps them too. ValidationError for a bad view or an overlong key."""
    view = view_of(request, timezone)
    keep = []
    for key in keys:
        value = request.query_params.get(key)
        if value in (None, ""):
            continue
        text = str(value)
        if len(text) > MAX_KEY_TEXT:
            raise ValidationError(key, f"at most {MAX_KEY_TEXT} characters")
        keep.append((key, text))
    page = PageView(**{f.name: getattr(view, f.name) for f in fields(View)}, keep=tuple(keep))
    return replace(page, redirect=page.url()) if view.redirect else page


def number_of(
    request: Request[Any, Any, Any], key: str = "page", default: int = 1, high: int = MAX_PAGE
) -> int:
    """A whole number from 1 to `high` (a page number by default) from the query string;
    ValidationError(key) when it is not one."""
    raw = request.query_params.get(key)
    if raw in (None, ""):
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise ValidationError(key, "must be a whole number") from None
    if not 1 <= value <= high:
        raise ValidationError(key, f"must be between 1 and {high}")
    return value


def size_of(request: Request[Any, Any, Any]) -> int:
    """Rows per page from `size` (1 to MAX_SIZE, default PAGE_SIZE)."""
    return number_of(request, "size", PAGE_SIZE, MAX_SIZE)


@dataclass(frozen=True, slots=True)
class Pager:
    """Where a page of rows sits in the whole list, with links to its neighbours."""

    page: int
    size: int
    total: int
    prev_url: str | None
    next_url: str | None
    sizes: tuple[tuple[int, str, bool], ...] = ()  # (rows per page, its URL, chosen)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def first(self) -> int:
        return min(self.offset + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.offset + self.size, self.total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def pager(view: View, page: int, total: int, size: int = PAGE_SIZE, key: str = "page") -> Pager:
    """The pager of page `page` (1-based) of `total` rows; its links change only `key`. The
    main pager of a page (`key` "page") also offers the PAGE_SIZES."""
    prev_url = view.url(**{key: str(page - 1) if page > 2 else None}) if page > 1 else None
    next_url = view.url(**{key: str(page + 1)}) if page * size < total else None
    sizes: tuple[tuple[int, str, bool], ...] = ()
    if key == "page" and total > PAGE_SIZES[0]:
        sizes = tuple(
            (n, view.url(size=None if n == PAGE_SIZE else str(n), page=None), n == size)
            for n in PAGE_SIZES
        )
    return Pager(page, size, total, prev_url, next_url, sizes)


@dataclass(frozen=True, slots=True)
class SortLink:
    """A sortable column header: its link sorts by the column (flipping when already sorted)."""

    label: str
    url: str
    active: bool
    descending: bool


def sort_of(
    request: Request[Any, Any, Any], allowed: tuple[str, ...], default: str, descending: bool
) -> tuple[str, bool]:
    """(column, descending) from `sort` and `dir`; ValidationError for an unknown column."""
    key = str(request.query_params.get("sort") or default)
    if key not in allowed:
        raise ValidationError("sort", f"must be one of {', '.join(allowed)}")
    way = request.query_params.get("dir")
    if way in (None, ""):
        return key, descending if key == default else False
    if way not in ("asc", "desc"):
        raise ValidationError("dir", "must be asc or desc")
    return key, way == "desc"


def sort_links(
    view: View, columns: dict[str, str], current: str, descending: bool, first_desc: set[str]
) -> dict[str, SortLink]:
    """A header link per column; a column not sorted yet starts descending if in `first_desc`."""
    links = {}
    for key, label in columns.items():
        active = key == current
        flip = not descending if active else key in first_desc
        url = view.url(sort=key, dir="desc" if flip else "asc", page=None)
        links[key] = SortLink(label, url, active, descending if active else False)
    return links


def filter_url(view: View, name: str, value: Any, path: str | None = None) -> str | None:
    """The view's URL with the filter `name is value` added (None when that is not a valid
    filter, e.g. a property key filters cannot name)."""
    if value in (None, ""):
        return None
    added = {"name": name, "operator": "is", "value": [str(value)]}
    try:
        compile_filters(parse_filters([added]))
    except ValidationError:
        return None
    raw = [
        {"name": f.name, "operator": f.operator, "value": msgspec.to_builtins(f.value)}
        for f in view.filters
    ]
    if added not in raw:
        raw.append(added)
    return view.url(path, filters=json.dumps(raw), page=None)


def clock(timezone: str) -> Callable[..., str]:
    """A formatter of ISO UTC times in `timezone`: 'YYYY-MM-DD HH:MM:SS', or with `short`
    'Mon DD HH:MM' for narrow columns ('' for no time)."""
    zone = ZoneInfo(timezone)

    def at(value: Any, short: bool = False) -> str:
        moment = parse_time(value)
        if moment is None:
            return ""
        return moment.astimezone(zone).strftime("%b %d %H:%M" if short else "%Y-%m-%d %H:%M:%S")

    return at


def parse_time(value: Any) -> datetime | None:
    """An ISO time as the reports give it ('2026-05-01T10:00:00.000Z'), or None."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def offset_label(seconds: float) -> str:
    """A time offset as '+0.4s', '+12s', '+3m 05s' or '+1h 02m'."""
    if seconds < 10:
        return f"+{max(seconds, 0):.1f}s"
    total = int(round(seconds))
    if total < 60:
        return f"+{total}s"
    if total < 3600:
        return f"+{total // 60}m {total % 60:02d}s"
    return f"+{total // 3600}h {total % 3600 // 60:02d}m"


def seconds_between(start: Any, end: Any) -> float:
    """Seconds from one ISO time to another (0 when either is missing)."""
    first, second = parse_time(start), parse_time(end)
    return (second - first).total_seconds() if first and second else 0.0


@dataclass(frozen=True, slots=True)
class Links:
    """Links from a row to the event, profile or visit it names (ids travel in the query
    string, so any text is safe); they keep the view's range, and an event link its filters."""

    project_id: str
    view: View | None = None

    def event(self, name: str) -> str:
        return self._to("events", event=name)

    def profile(self, profile_id: str) -> str:
        return self._to("profiles", filters=None, id=profile_id)

    def session(self, session_id: str) -> str:
        return self._to("sessions", filters=None, id=session_id)

    def _to(self, section: str, **keys: str | None) -> str:
        path = project_url(self.project_id, section)
        if self.view is not None:
            return self.view.url(path, **keys)
        return path + "?" + urlencode({k: v for k, v in keys.items() if v})
