"""Public share links: the overview or one dashboard of a project, read-only, for anyone with
the link (`/share/{token}`), optionally behind a password; and the admins' page that lists,
creates and revokes them.

A shared page shows nothing else: no navigation, no other project, no forms but the password
form. The password is checked against its argon2id hash; a right one sets a cookie (HMAC of the
share and its hash, scoped to the share's path) so a new password or a revoked link locks
everyone out again. Wrong passwords are rate limited per (client address, link) and per address.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import anyio.to_thread
from litestar import Controller, Litestar, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect

from embedded_db.errors import NotFoundError
from embedded_db.meta import MetaStore, Project
from embedded_db.reports.overview import METRICS, OverviewQuery, overview
from embedded_db.reports.toplists import ListQuery, dimension_list, top_pages
from embedded_db.saved_reports import SavedReports, Share
from embedded_db.store import EventStore
from web.dashboard.auth import access_of, client_ip, is_https
from web.dashboard.boards import board_range, range_links, tile_body
from web.dashboard.charts import METRIC_LABELS, line_figure
from web.dashboard.errors import AccessDenied
from web.dashboard.forms import form_of
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.report_state import CHART_LABELS
from web.dashboard.state import FailureLimiter, dashboard
from web.dashboard.view import FILTER_FIELDS, OPERATOR_LABELS, View, view_of
from web.security import RateLimited

ADMIN = {"role": "admin"}
SHARE_FAILURES = 5  # wrong passwords per (client address, link) …
SHARE_IP_FAILURES = 30  # … and per client address over all links
FAILURE_WINDOW_SECONDS = 15 * 60
UNLOCK_MAX = timedelta(days=30)
HEADERS = {"x-robots-tag": "noindex, nofollow"}
_KINDS = {"bounce_rate": "percent", "avg_session_duration": "duration", "total_revenue": "money"}


@dataclass
class ShareGuard:
    """The process's password-failure limiters and the cookie signing key of share links."""

    per_link: FailureLimiter
    per_ip: FailureLimiter
    key: bytes


def guard(app: Litestar) -> ShareGuard:
    """Built on first use and kept as `app.state.share_guard`."""
    found: ShareGuard | None = getattr(app.state, "share_guard", None)
    if found is None:
        found = ShareGuard(
            FailureLimiter(SHARE_FAILURES, FAILURE_WINDOW_SECONDS),
            FailureLimiter(SHARE_IP_FAILURES, FAILURE_WINDOW_SECONDS),
            dashboard(app).logins.server_secret("share").encode(),
        )
        app.state.share_guard = found
    return found


def unlock_cookie(share: Share) -> str:
    return "op_share_" + hashlib.sha256(share.id.encode()).hexdigest()[:16]


def unlock_value(key: bytes, share: Share) -> str:
    """The cookie value that opens a protected share: bound to the link and its hash."""
    message = f"{share.id}:{share.password_hash}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def unlocked(request: Request[Any, Any, Any], share: Share) -> bool:
    """Whether this browser may see the share (no password, or it entered the right one)."""
    if not share.protected:
        return True
    sent = request.cookies.get(unlock_cookie(share), "")
    expected = unlock_value(guard(request.app).key, share)
    return hmac.compare_digest(sent.encode(), expected.encode())


def live_share(request: Request[Any, Any, Any], share_id: str) -> tuple[Share, Project]:
    """The share behind a token and its project; NotFoundError for an unknown or revoked one."""
    share = SavedReports(request.app.state.meta).share(share_id)
    if share is None:
        raise NotFoundError("this link was revoked or never existed")
    meta: MetaStore = request.app.state.meta
    return share, meta.get_project(share.project_id)


class ShareController(Controller):
    """The public side: no login, read-only."""

    path = "/share/{share_id:str}"

    @get("/", name="share")
    async def show(self, request: Request[Any, Any, Any], share_id: FromPath[str]) -> Response[Any]:
        share, project = live_share(request, share_id)
        if not unlocked(request, share):
            return render(
                "share_password.html", 200, HEADERS, project=project, share=share, error=""
            )
        if share.kind == "overview":
            return await shared_overview(request, share, project)
        store = SavedReports(request.app.state.meta)
        board = store.dashboard(project.id, str(share.dashboard_id))
        current = board_range(request)
        path = f"/share/{share.id}"
        return render(
            "share_board.html",
            200,
            HEADERS,
            project=project,
            share=share,
            board=board,
            tiles=store.tiles(project.id, board.id),
            range_links=range_links(path, current),
            tile_query="?range=" + current if current else "",
            path=path,
            charts=CHART_LABELS,
        )

    @post("/", status_code=303)
    async def unlock(
        self, request: Request[Any, Any, Any], share_id: FromPath[str]
    ) -> Response[Any]:
        """Check the password of a protected link (rate limited) and remember the answer."""
        share, project = live_share(request, share_id)
        limits, ip = guard(request.app), client_ip(request)
        key = f"{ip}|{share.id}"
        if limits.per_link.blocked(key) or limits.per_ip.blocked(ip):
            raise RateLimited("Too many wrong passwords. Wait 15 minutes and try again.")
        password = (await form_of(request)).get("password", "")
        if share.protected and not await anyio.to_thread.run_sync(
            SavedReports.password_ok, share, password
        ):
            limits.per_link.failed(key)
            limits.per_ip.failed(ip)
            context = {"project": project, "share": share, "error": "Wrong password."}
            return render("share_password.html", 401, HEADERS, **context)
        limits.per_link.clear(key)
        response: Response[Any] = Redirect(f"/share/{share.id}", status_code=303)
        response.set_cookie(
            unlock_cookie(share),
            unlock_value(limits.key, share),
            path=f"/share/{share.id}",
            max_age=int(UNLOCK_MAX.total_seconds()),
            httponly=True,
            samesite="lax",
            secure=is_https(request),
        )
        return response

    @get("/tiles/{report_id:str}", name="share-tile")
    async def tile(
        self, request: Request[Any, Any, Any], share_id: FromPath[str], report_id: FromPath[str]
    ) -> Response[Any]:
        """One tile of a shared dashboard (only reports on that dashboard)."""
        share, project = live_share(request, share_id)
        if not unlocked(request, share):
            raise AccessDenied("enter the link's password first")
        if share.kind != "dashboard":
            raise NotFoundError("this link shares no dashboard")
        store = SavedReports(request.app.state.meta)
        found = store.tile(project.id, str(share.dashboard_id), report_id)
        return await tile_body(request, project, found.report, board_range(request))


async def shared_overview(
    request: Request[Any, Any, Any], share: Share, project: Project
) -> Response[Any]:
    """The overview of a shared project: metric cards, the chart and the top lists."""
    view = view_of(request, project.timezone, METRICS)
    if view.redirect:
        return Redirect(view.redirect, status_code=303)
    store: EventStore = request.app.state.store
    query = OverviewQuery(project.id, view.window, view.interval, view.filters, view.compare)
    result = await store.run(overview, store, query)
    before = None
    if view.compare:
        earlier = OverviewQuery(
            project.id, view.window.previous(), view.interval, view.filters, False
        )
        before = (await store.run(overview, store, earlier))["series"]
    lists = await top_lists(store, project, view)
    cards = [
        {
            "metric": m,
            "label": METRIC_LABELS[m],
            "value": result["metrics"][m]["value"],
            "kind": _KINDS.get(m, "ratio" if m == "views_per_session" else "number"),
            "change": result["metrics"][m].get("previous"),
            "url": view.url(metric=m),
            "active": m == view.metric,
        }
        for m in METRICS
    ]
    return render(
        "share_overview.html",
        200,
        HEADERS,
        project=project,
        share=share,
        view=view,
        cards=cards,
        figure=line_figure(result["series"], view.metric, view.interval, before),
        metric_label=METRIC_LABELS[view.metric],
        lists=lists,
        filter_fields=FILTER_FIELDS,
        operators=OPERATOR_LABELS,
    )


async def top_lists(
    store: EventStore, project: Project, view: View
) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(title, column label, rows with name and sessions) of the shared overview's lists."""
    q = ListQuery(project_id=project.id, window=view.window, filters=view.filters, limit=8)
    pages = (await store.run(top_pages, store, q))["data"]
    referrers = (await store.run(dimension_list, store, q, "referrer_name"))["data"]
    countries = (await store.run(dimension_list, store, q, "country"))["data"]
    return [
        ("Top pages", "Page", [{"name": r["path"], "sessions": r["sessions"]} for r in pages]),
        (
            "Referrers",
            "Source",
            [{"name": r["name"] or "Direct", "sessions": r["sessions"]} for r in referrers],
        ),
        (
            "Countries",
            "Country",
            [{"name": r["name"], "sessions": r["sessions"]} for r in countries],
        ),
    ]


class SharesController(Controller):
    """The admins' list of a project's share links: create an overview link, revoke any."""

    path = "/dashboard/{project_id:str}/shares"
    opt = ADMIN

    @get("/", name="shares")
    async def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        store = SavedReports(request.app.state.meta)
        boards = {b.id: b.name for b in store.dashboards(access.project.id)}
        return project_page(
            request,
            access,
            "share_links.html",
            "dashboards",
            shares=store.shares(access.project.id),
            boards=boards,
            share_base=str(request.base_url).rstrip("/") + "/share/",
            created=request.query_params.get("created", ""),
        )

    @post("/", status_code=303)
    async def create(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """A public link to the project's overview (optionally with a password)."""
        access = access_of(request)
        password = (await form_of(request)).get("password", "")
        share = SavedReports(request.app.state.meta).create_share(
            access.project.id, "overview", access.viewer.user.id, password=password
        )
        target = project_url(access.project.id, "shares") + "?created=" + share.id
        return Redirect(target, status_code=303)

    @post("/{share_id:str}/revoke", status_code=303)
    async def revoke(
        self, request: Request[Any, Any, Any], share_id: FromPath[str]
    ) -> Response[Any]:
        access = access_of(request)
        revoked = SavedReports(request.app.state.meta).revoke_share(access.project.id, share_id)
        back = (await form_of(request)).get("back", "")
        if back == "board" and revoked.dashboard_id:
            return Redirect(
                project_url(access.project.id, f"dashboards/{revoked.dashboard_id}"),
                status_code=303,
            )
        return Redirect(project_url(access.project.id, "shares"), status_code=303)
