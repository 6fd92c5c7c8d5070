"""The server-rendered dashboard: public pages (setup, login, invitations), the project pages
behind `require_access`, and the browser files they load. `dashboard_handlers()` is what the
application registers; every dashboard route is marked `opt["dashboard"]` (public or private)
so the route audit test can find them all."""

from __future__ import annotations

from typing import Any

from litestar import Router

from web.dashboard.assets import ASSET_HANDLERS
from web.dashboard.auth import require_access
from web.dashboard.boards import BoardsController
from web.dashboard.csrf import CSRFMiddleware
from web.dashboard.errors import handle_dashboard_error
from web.dashboard.explore_events import EventsController
from web.dashboard.explore_people import ProfilesController
from web.dashboard.explore_sessions import SessionsController
from web.dashboard.install import InstallController
from web.dashboard.pages import HomeController, OverviewController
from web.dashboard.pages_report import PagesController
from web.dashboard.people import AccountController, MembersController
from web.dashboard.realtime import RealtimeController
from web.dashboard.reports import ReportsController
from web.dashboard.settings_pages import ClientsController, ProjectSettingsController
from web.dashboard.share import ShareController, SharesController
from web.dashboard.signin import PUBLIC_CONTROLLERS
from web.dashboard.templates import template_config

PRIVATE_CONTROLLERS = [
    HomeController,
    OverviewController,
    RealtimeController,
    PagesController,
    EventsController,
    ProfilesController,
    SessionsController,
    InstallController,
    ProjectSettingsController,
    ClientsController,
    MembersController,
    AccountController,
    ReportsController,
    BoardsController,
    SharesController,
]
PUBLIC_SHARE_CONTROLLERS = [ShareController]


def dashboard_handlers() -> list[Any]:
    """The dashboard's routers and asset routes, for `Litestar(route_handlers=…)`."""
    common: dict[str, Any] = {
        "middleware": [CSRFMiddleware],
        "exception_handlers": {Exception: handle_dashboard_error},
    }
    public = Router(
        path="/",
        route_handlers=[*PUBLIC_CONTROLLERS, *PUBLIC_SHARE_CONTROLLERS],
        opt={"dashboard": "public"},
        **common,
    )
    private = Router(
        path="/",
        route_handlers=PRIVATE_CONTROLLERS,
        guards=[require_access],
        opt={"dashboard": "private"},
        **common,
    )
    return [public, private, *ASSET_HANDLERS]


__all__ = ["dashboard_handlers", "template_config"]
