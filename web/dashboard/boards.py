"""Dashboards: saved reports on a 12-column grid. Each tile loads its figure with htmx (so the
page shows at once and tiles fill in), in the report's own range or one range the viewer picks
for the whole board (`?range=`). Members and above create, rename and delete dashboards and
add, remove, move and resize tiles; admins and owners also share a dashboard by public link.

`tile_body` renders one tile's figure; the public share pages use it too."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from embedded_db.errors import ValidationError
from embedded_db.meta import Project
from embedded_db.saved_reports import WIDTHS, SavedReport
from embedded_db.store import EventStore
from embedded_db.timeframe import RANGES
from web.dashboard.auth import access_of
from web.dashboard.forms import form_of, text
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.report_run import run
from web.dashboard.report_state import CHART_LABELS
from web.dashboard.reports import saved_reports
from web.dashboard.view import RANGE_LABELS

MEMBER = {"role": "member"}
ADMIN = {"role": "admin"}
BOARD_RANGES = {r: RANGE_LABELS[r] for r in RANGES if r not in ("custom", "30min", "lastHour")}


def board_range(request: Request[Any, Any, Any]) -> str:
    """The range that overrides every tile's own (`?range=`), or '' for their own."""
    chosen = request.query_params.get("range", "")
    return chosen if chosen in BOARD_RANGES else ""


def range_links(path: str, current: str) -> list[tuple[str, str, bool]]:
    """(label, url, active) of the board's range picker: each report's own range, or one."""
    links = [("Each report's range", path, not current)]
    for value, label in BOARD_RANGES.items():
        links.append((label, path + "?" + urlencode({"range": value}), value == current))
    return links


async def tile_body(
    request: Request[Any, Any, Any], project: Project, report: SavedReport, range_: str
) -> Template:
    """One tile's figure (and funnel numbers), in the report's range or `range_`."""
    spec = report.spec
    if range_:
        spec = dataclasses.replace(spec, range=range_, start_date=None, end_date=None)
        spec.interval = None
    store: EventStore = request.app.state.store
    outcome = await run(store, project, spec, datetime.now(UTC))
    return render(
        "_rb_tile_body.html",
        outcome=outcome,
        spec=spec,
        charts=CHART_LABELS,
        ranges=RANGE_LABELS,
        compact=True,
    )


class BoardsController(Controller):
    path = "/dashboard/{project_id:str}/dashboards"

    @get("/", name="dashboards")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        boards = saved_reports(request).dashboards(access.project.id)
        return project_page(request, access, "dashboards.html", "dashboards", boards=boards)

    @post("/", status_code=303, opt=MEMBER)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        name = text(await form_of(request), "name", 100, required=False) or "My dashboard"
        board = saved_reports(request).create_dashboard(
            access.project.id, name, access.viewer.user.id
        )
        return Redirect(_board_url(access.project.id, board.id), status_code=303)

    @get("/{board_id:str}", name="board")
    async def show(self, request: Request[Any, Any, Any], board_id: FromPath[str]) -> Response[Any]:
        access = access_of(request)
        store = saved_reports(request)
        board = store.dashboard(access.project.id, board_id)
        tiles = store.tiles(access.project.id, board_id)
        on_board = {t.report.id for t in tiles}
        available, _ = store.reports(access.project.id, limit=500)
        current = board_range(request)
        path = _board_url(access.project.id, board.id)
        shares = [s for s in store.shares(access.project.id) if s.dashboard_id == board.id]
        return project_page(
            request,
            access,
            "board.html",
            "dashboards",
            board=board,
            tiles=tiles,
            addable=[r for r in available if r.id not in on_board],
            range_links=range_links(path, current),
            board_range=current,
            tile_query="?" + urlencode({"range": current}) if current else "",
            path=path,
            wider=dict(zip(WIDTHS, [*WIDTHS[1:], WIDTHS[-1]], strict=True)),
            narrower=dict(zip(WIDTHS, [WIDTHS[0], *WIDTHS[:-1]], strict=True)),
            shares=shares,
            share_base=str(request.base_url).rstrip("/") + "/share/",
            charts=CHART_LABELS,
            can_edit=access.can("member"),
            can_share=access.can("admin"),
            shared=request.query_params.get("shared", ""),
        )

    @get("/{board_id:str}/tiles/{report_id:str}", name="board-tile")
    async def tile(
        self, request: Request[Any, Any, Any], board_id: FromPath[str], report_id: FromPath[str]
    ) -> Response[Any]:
        """The figure of one tile (htmx loads it into the grid)."""
        access = access_of(request)
        tile = saved_reports(request).tile(access.project.id, board_id, report_id)
        return await tile_body(request, access.project, tile.report, board_range(request))

    @post("/{board_id:str}/rename", status_code=303, opt=MEMBER)
    async def rename(
        self, request: Request[Any, Any, Any], board_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        name = (await form_of(request)).get("name", "")
        saved_reports(request).rename_dashboard(access.project.id, board_id, name)
        return Redirect(_board_url(access.project.id, board_id), status_code=303)

    @post("/{board_id:str}/delete", status_code=303, opt=MEMBER)
    async def delete(
        self, request: Request[Any, Any, Any], board_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        saved_reports(request).delete_dashboard(access.project.id, board_id)
        return Redirect(project_url(access.project.id, "dashboards"), status_code=303)

    @post("/{board_id:str}/tiles", status_code=303, opt=MEMBER)
    async def add(self, request: Request[Any, Any, Any], board_id: FromPath[str]) -> Response[Any]:
        access = access_of(request)
        report_id = (await form_of(request)).get("report_id", "")
        if not report_id:
            raise ValidationError("report_id", "pick a saved report")
        saved_reports(request).add_tile(access.project.id, board_id, report_id)
        return Redirect(_board_url(access.project.id, board_id), status_code=303)

    @post("/{board_id:str}/tiles/{report_id:str}/remove", status_code=303, opt=MEMBER)
    async def remove(
        self, request: Request[Any, Any, Any], board_id: FromPath[str], report_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        saved_reports(request).remove_tile(access.project.id, board_id, report_id)
        return Redirect(_board_url(access.project.id, board_id), status_code=303)

    @post("/{board_id:str}/tiles/{report_id:str}/move", status_code=303, opt=MEMBER)
    async def move(
        self, request: Request[Any, Any, Any], board_id: FromPath[str], report_id: FromPath[str]
    ) -> Response[Any]:
        """Move a tile one place earlier (`steps=-1`) or later (`steps=1`)."""
        access = access_of(request)
        steps = -1 if (await form_of(request)).get("steps") == "-1" else 1
        saved_reports(request).move_tile(access.project.id, board_id, report_id, steps)
        return Redirect(_board_url(access.project.id, board_id), status_code=303)

    @post("/{board_id:str}/tiles/{report_id:str}/resize", status_code=303, opt=MEMBER)
    async def resize(
        self, request: Request[Any, Any, Any], board_id: FromPath[str], report_id: FromPath[str]
    ) -> Response[Any]:
        """Set a tile's width (`w`, twelfths) and height (`h`, rows)."""
        access = access_of(request)
        form = await form_of(request)
        w, h = _int(form.get("w"), "w"), _int(form.get("h"), "h")
        saved_reports(request).resize_tile(access.project.id, board_id, report_id, w, h)
        return Redirect(_board_url(access.project.id, board_id), status_code=303)

    @post("/{board_id:str}/share", status_code=303, opt=ADMIN)
    async def share(
        self, request: Request[Any, Any, Any], board_id: FromPath[str]
    ) -> Response[Any]:
        """A public link to this dashboard (optionally with a password)."""
        access = access_of(request)
        password = (await form_of(request)).get("password", "")
        created = saved_reports(request).create_share(
            access.project.id, "dashboard", access.viewer.user.id, board_id, password
        )
        target = _board_url(access.project.id, board_id) + "?shared=" + created.id
        return Redirect(target, status_code=303)


def _board_url(project_id: str, board_id: str) -> str:
    return project_url(project_id, f"dashboards/{board_id}")


def _int(raw: str | None, name: str) -> int:
    if not raw or not raw.isdigit():
        raise ValidationError(name, "must be a whole number")
    return int(raw)
