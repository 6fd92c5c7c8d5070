"""The Pages section: every page of the period with its views, visits, visitors, bounce rate
and time on page (`embedded_db.reports.page_performance`), sortable by any column, searchable
and paged. Sort, search and page live in the URL beside the view; htmx swaps only the table
(and pushes the URL) when a header, a page link or the search box asks for it. Clicking a page
opens the Overview filtered to it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.response import Redirect

from embedded_db.errors import ValidationError
from embedded_db.reports.events import has_events
from embedded_db.reports.page_performance import SORTS, PageQuery, page_performance
from embedded_db.store import EventStore
from web.dashboard.auth import access_of
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.view import View, view_of
from web.dashboard.widgets import filter_url

PAGE_SIZE = 25
MAX_PAGE = 4000
COLUMNS = (
    ("path", "Page"),
    ("views", "Views"),
    ("sessions", "Sessions"),
    ("visitors", "Visitors"),
    ("bounce_rate", "Bounce rate"),
    ("avg_time", "Time on page"),
)
TABLE_ID = "pages-table"


@dataclass(frozen=True)
class Table:
    """The table's state in the URL: sort column and direction, search text, page number."""

    view: View
    sort: str = "views"
    direction: str = "desc"
    search: str = ""
    page: int = 1

    def url(
        self,
        sort: str | None = None,
        dir: str | None = None,
        search: str | None = None,
        page: int | None = None,
    ) -> str:
        """This table's URL with some keys changed (defaults are left out of the URL)."""
        column = self.sort if sort is None else sort
        direction = self.direction if dir is None else dir
        text = self.search if search is None else search
        number = self.page if page is None else page
        return self.view.url(
            sort=column if column != "views" else None,
            dir=direction if (column, direction) != ("views", "desc") else None,
            search=text or None,
            page=str(number) if number > 1 else None,
        )

    def sort_url(self, column: str) -> str:
        """Sort by `column` (a second click turns the direction round); back to page 1."""
        if column == self.sort:
            direction = "asc" if self.direction == "desc" else "desc"
        else:
            direction = "asc" if column == "path" else "desc"
        return self.url(sort=column, dir=direction, page=1)

    def aria_sort(self, column: str) -> str:
        if column != self.sort:
            return "none"
        return "ascending" if self.direction == "asc" else "descending"

    def hidden(self) -> list[tuple[str, str]]:
        """Hidden inputs of the search form: the view and the sort."""
        pairs = self.view.hidden()
        if self.sort != "views" or self.direction != "desc":
            pairs += [("sort", self.sort), ("dir", self.direction)]
        return pairs


def table_of(request: Request[Any, Any, Any], view: View) -> Table:
    """The table state of a request; ValidationError for a bad sort, direction or page."""
    query = request.query_params
    sort = str(query.get("sort") or "views")
    direction = str(query.get("dir") or ("asc" if sort == "path" else "desc"))
    if sort not in SORTS:
        raise ValidationError("sort", f"must be one of {', '.join(SORTS)}")
    if direction not in ("asc", "desc"):
        raise ValidationError("dir", "must be asc or desc")
    try:
        page = int(str(query.get("page") or 1))
    except ValueError:
        raise ValidationError("page", "must be a whole number") from None
    if not 1 <= page <= MAX_PAGE:
        raise ValidationError("page", f"must be between 1 and {MAX_PAGE}")
    search = str(query.get("search") or "").strip()
    return Table(view, sort, direction, search, page)


class PagesController(Controller):
    path = "/dashboard/{project_id:str}"

    @get("/pages", name="pages")
    async def pages(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        view = view_of(request, access.project.timezone)
        if view.redirect:
            return Redirect(view.redirect, status_code=303)
        table = table_of(request, view)
        store: EventStore = request.app.state.store
        q = PageQuery(
            project_id=access.project.id,
            window=view.window,
            filters=view.filters,
            search=table.search,
            sort=table.sort,
            direction=table.direction,
            limit=PAGE_SIZE,
            offset=(table.page - 1) * PAGE_SIZE,
        )
        result = await store.run(page_performance, store, q)
        no_events = False
        if not result["total"] and not view.filters and not table.search:
            no_events = not await store.run(has_events, store, access.project.id)
        overview = project_url(access.project.id, "overview")
        context = {
            "table": table,
            "result": result,
            "rows": [
                {**r, "url": filter_url(view, overview, "path", r["path"])} for r in result["data"]
            ],
            "columns": COLUMNS,
            "pages": max(1, -(-int(result["total"]) // PAGE_SIZE)),
            "table_id": TABLE_ID,
            "no_events": no_events,
        }
        if request.headers.get("hx-target") == TABLE_ID:
            return render("_pages_table.html", view=view, project=access.project, **context)
        return project_page(request, access, "pages.html", "pages", view, **context)
