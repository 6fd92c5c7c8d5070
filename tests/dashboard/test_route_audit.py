"""Route audit: every dashboard route the application registers is found by enumerating the app,
then checked over real HTTP: anonymous visitors are sent to /login (401 for htmx and JSON
callers), every POST without a valid CSRF token is refused with 403, and routes that declare a
role refuse everyone below it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar

from embedded_db.accounts import ROLES, has_role
from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site
from web.app import build_app
from web.dashboard.auth import require_access

PUBLIC_PREFIXES = ("/setup", "/login", "/logout", "/invite/", "/share/")
_PARAM = re.compile(r"\{(\w+):\w+\}")


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # with {name:type} parameters
    kind: str  # public or private
    role: str

    def url(self, **values: str) -> str:
        return _PARAM.sub(lambda m: values.get(m.group(1), "x"), self.path)


@asynccontextmanager
async def _no_lifespan(app: Litestar) -> AsyncIterator[None]:
    yield


def app_routes() -> list[tuple[str, str, dict[str, Any], Any]]:
    """(method, path, opt, handler) of every route of the real application."""
    app = build_app(_no_lifespan, max_body_bytes=1024)
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                found.append((method, route.path, dict(handler.opt), handler))
    return found


def dashboard_routes() -> list[Route]:
    return [
        Route(method, path, opt["dashboard"], opt.get("role", "viewer"))
        for method, path, opt, _ in app_routes()
        if "dashboard" in opt
    ]


ROUTES = dashboard_routes()
PRIVATE_GETS = [r for r in ROUTES if r.kind == "private" and r.method == "GET"]
POSTS = [r for r in ROUTES if r.method == "POST"]
RESTRICTED = [r for r in ROUTES if r.kind == "private" and r.role != "viewer"]


@pytest.fixture(scope="module")
def people(site: Site) -> Iterator[dict[str, BrowserSession]]:
    """A logged-in browser per role (the owner's is the site's)."""
    browsers = {role: site.join(role, f"audit-{role}@example.com") for role in ROLES[:-1]}
    browsers["owner"] = site.owner
    yield browsers
    for role, browser in browsers.items():
        if role != "owner":
            browser.close()


def opens(route: Route) -> int:
    """What a member who may open a GET route gets: 200, or 404 where the path names a thing
    (a report, a dashboard…) that the placeholder id `x` is not."""
    return 404 if set(_PARAM.findall(route.path)) - {"project_id"} else 200


def values(site: Site) -> dict[str, str]:
    return {"project_id": site.project_id, "token": "not-a-token"}


def test_the_audit_sees_every_dashboard_route() -> None:
    for method, path, opt, handler in app_routes():
        if path.startswith("/dashboard") or path.startswith(PUBLIC_PREFIXES):
            assert "dashboard" in opt, (method, path)
        if opt.get("dashboard") == "private":
            guards = [getattr(g, "func", g) for g in handler.resolve_guards()]
            assert require_access in guards, (method, path)
        assert opt.get("role", "viewer") in ROLES, (method, path)
    assert len(PRIVATE_GETS) >= 16 and len(POSTS) >= 14
    sections = {r.path.rsplit("/", 1)[-1] for r in PRIVATE_GETS}
    nav = {"overview", "realtime", "pages", "events", "profiles", "sessions", "reports"}
    assert nav | {"dashboards", "settings", "install"} <= sections


@pytest.mark.parametrize("route", PRIVATE_GETS, ids=lambda r: r.path)
def test_anonymous_visitors_are_sent_to_login(site: Site, route: Route) -> None:
    browser = site.browser()
    try:
        url = route.url(**values(site))
        page = browser.get(url)
        assert page.status_code == 303, page.text[:300]
        assert page.headers["location"] == "/login?next=" + url
        htmx = browser.get(url, headers={"hx-request": "true", "hx-current-url": site.server.url})
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"].startswith("/login")
        api = browser.get(url, headers={"accept": "application/json"})
        assert api.status_code == 401 and api.json()["status"] == 401
    finally:
        browser.close()


@pytest.mark.parametrize("route", POSTS, ids=lambda r: r.path)
def test_every_form_rejects_a_missing_or_wrong_csrf_token(
    site: Site, people: dict[str, BrowserSession], route: Route
) -> None:
    url = route.url(**values(site))
    anonymous = site.browser()
    try:
        assert anonymous.post(url, {"name": "x"}, csrf=False).status_code == 403
        anonymous.get("/login")
        assert anonymous.post(url, {"_csrf": "0" * 43}, csrf=False).status_code == 403
    finally:
        anonymous.close()
    owner = people["owner"]
    assert owner.post(url, {"name": "x", "role": "viewer"}, csrf=False).status_code == 403
    viewer_token = people["viewer"].token
    assert owner.post(url, {"_csrf": viewer_token}, csrf=False).status_code == 403


@pytest.mark.parametrize("route", RESTRICTED, ids=lambda r: f"{r.method} {r.path}")
def test_roles_below_the_routes_role_are_refused(
    site: Site, people: dict[str, BrowserSession], route: Route
) -> None:
    url = route.url(**values(site))
    for role, browser in people.items():
        if has_role(role, route.role):
            continue
        if route.method == "GET":
            answer = browser.get(url)
        else:
            answer = browser.post(url, {"name": "Hijacked", "role": "owner"})
        assert answer.status_code == 403, (role, route.method, url, answer.status_code)
    if route.method == "GET":
        assert people["admin"].get(url).status_code == opens(route)


def test_members_of_the_organization_open_every_page(
    site: Site, people: dict[str, BrowserSession]
) -> None:
    for route in PRIVATE_GETS:
        url = route.url(**values(site))
        expected = 303 if url == "/dashboard" else opens(route)
        for role, browser in people.items():
            status = browser.get(url).status_code
            assert status == (expected if has_role(role, route.role) else 403), (role, url)
