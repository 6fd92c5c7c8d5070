"""First run over real HTTP: the empty appliance sends a visitor to /setup, which creates the
owner, the organization, the first project and its browser client, then shows the snippet
page whose waiting state turns live with the first event. The server runs in local mode, so a
second browser on this machine is logged in as the owner without a password."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from embedded_db.accounts import Accounts
from embedded_db.meta import MetaStore
from tests.dashboard.browser_session import OWNER_EMAIL, OWNER_PASSWORD, BrowserSession, poll
from tests.dashboard.conftest import start_server
from tests.support.server import LiveServer

SITE_ORIGIN = "https://shop.example.com"


@dataclass
class FirstRun:
    server: LiveServer
    steps: dict[str, httpx.Response] = field(default_factory=dict)
    project_id: str = ""


def code_block(page: str, element_id: str) -> str:
    """The text a person copies from one of the snippet page's code blocks."""
    found = re.search(rf'<code id="{element_id}">(.*?)</code>', page, re.S)
    assert found, element_id
    return html.unescape(found.group(1))


def track_from_site(server: LiveServer, client_id: str) -> httpx.Response:
    """A pageview as the site's browser sends it: secret-less, with the site's Origin."""
    body = {
        "type": "track",
        "payload": {"name": "screen_view", "properties": {"__path": SITE_ORIGIN + "/"}},
    }
    headers = {
        "openpanel-client-id": client_id,
        "origin": SITE_ORIGIN,
        "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36",
    }
    return httpx.post(server.url + "/track", json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    server = start_server(
        tmp_path_factory.mktemp("first-run"), {"OPENPANEL_DASHBOARD_LOCAL_MODE": "true"}
    )
    run = FirstRun(server)
    browser = BrowserSession(server.url)
    try:
        steps = run.steps
        steps["dashboard"] = browser.get("/dashboard")
        steps["login"] = browser.get("/login")
        steps["form"] = browser.get("/setup")
        steps["bad"] = browser.post("/setup", {"email": OWNER_EMAIL, "password": "x"})
        steps["created"] = browser.setup(domain="shop.example.com/landing")
        run.project_id = steps["created"].headers["location"].split("/")[2]
        steps["install"] = browser.follow(steps["created"])
        steps["again"] = BrowserSession(server.url).get("/setup")
        yield run
    finally:
        browser.close()
        server.stop()


def test_an_empty_appliance_sends_the_first_visitor_to_setup(first_run: FirstRun) -> None:
    steps = first_run.steps
    assert steps["dashboard"].status_code == 303
    assert steps["dashboard"].headers["location"] == "/login?next=/dashboard"
    assert (steps["login"].status_code, steps["login"].headers["location"]) == (303, "/setup")
    form = steps["form"].text
    assert steps["form"].status_code == 200
    for name in ("email", "password", "organization", "project", "domain", "timezone"):
        assert f'name="{name}"' in form, name
    assert "data-browser-timezone" in form and '<option value="Europe/Berlin"' in form


def test_setup_shows_what_is_wrong_without_creating_anything(first_run: FirstRun) -> None:
    bad = first_run.steps["bad"]
    assert bad.status_code == 400
    assert "this field is required" in bad.text or "at least 8 characters" in bad.text
    assert OWNER_EMAIL in bad.text
    assert 'type="password" name="password" value' not in bad.text  # never echoed back


def test_setup_creates_owner_organization_project_and_browser_client(first_run: FirstRun) -> None:
    created = first_run.steps["created"]
    assert created.status_code == 303
    assert created.headers["location"] == f"/dashboard/{first_run.project_id}/install"
    cookie = created.headers["set-cookie"]
    assert cookie.startswith("op_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; https requests get Secure
    meta = MetaStore(first_run.server.data_dir / "meta.db")
    try:
        project = meta.get_project(first_run.project_id)
        assert (project.name, project.domain, project.cors, project.timezone) == (
            "Shop",
            SITE_ORIGIN,
            (SITE_ORIGIN,),
            "Europe/Berlin",
        )
        (client,) = meta.list_clients(project.id)
        assert (client.type, client.secret_hash) == ("write", None)
        accounts = Accounts(meta)
        owner = accounts.find_user(OWNER_EMAIL)
        assert owner is not None
        assert accounts.memberships(owner.id) == {project.organization_id: "owner"}
        assert accounts.organization_name(project.organization_id) == "Acme"
    finally:
        meta.close()


def test_the_snippet_page_has_this_servers_url_and_the_client_id(first_run: FirstRun) -> None:
    page = first_run.steps["install"].text
    meta = MetaStore(first_run.server.data_dir / "meta.db")
    try:
        (client,) = meta.list_clients(first_run.project_id)
    finally:
        meta.close()
    url = first_run.server.url
    script = code_block(page, "snippet-script")
    assert f"apiUrl: '{url}'" in script and f"clientId: '{client.id}'" in script
    assert script.endswith(f'<script src="{url}/op1.js" defer async></script>')
    npm = code_block(page, "snippet-npm")
    assert "npm install @openpanel/web" in npm and f"clientId: '{client.id}'" in npm
    assert f'api_url="{url}"' in code_block(page, "snippet-python")
    assert 'data-state="waiting"' in page and 'hx-trigger="every 2s"' in page
    tracker = httpx.get(url + "/op1.js", timeout=30)
    assert tracker.status_code == 200 and "window" in tracker.text


def test_the_waiting_state_turns_live_with_the_first_event(first_run: FirstRun) -> None:
    server, project_id = first_run.server, first_run.project_id
    browser = BrowserSession(server.url)
    try:
        status_url = f"/dashboard/{project_id}/install/status"
        assert browser.get(f"/login?next={status_url}").status_code == 303  # local mode
        assert 'data-state="waiting"' in browser.get(status_url).text
        meta = MetaStore(server.data_dir / "meta.db")
        try:
            (client,) = meta.list_clients(project_id)
        finally:
            meta.close()
        refused = httpx.post(
            server.url + "/track",
            json={"type": "track", "payload": {"name": "x"}},
            headers={"openpanel-client-id": client.id, "origin": "https://evil.example"},
            timeout=30,
        )
        assert refused.status_code == 401  # CORS is the site's origin only
        assert track_from_site(server, client.id).status_code == 200
        live = poll(lambda: browser.get(status_url), lambda r: 'data-state="live"' in r.text)
        assert 'data-state="live"' in live.text and "hx-trigger" not in live.text
        assert "<code>screen_view</code>" in live.text
    finally:
        browser.close()


def test_setup_happens_once(first_run: FirstRun) -> None:
    again = first_run.steps["again"]
    assert (again.status_code, again.headers["location"]) == (303, "/login")
    intruder = BrowserSession(first_run.server.url)
    try:
        assert intruder.get("/invite/no-such-link").status_code == 404  # a page with a token
        late = intruder.setup(email="late@example.com")
        assert (late.status_code, late.headers["location"]) == (303, "/login")
    finally:
        intruder.close()
    meta = MetaStore(first_run.server.data_dir / "meta.db")
    try:
        assert Accounts(meta).user_count() == 1
    finally:
        meta.close()


def test_local_mode_logs_a_browser_on_this_machine_in_as_the_owner(first_run: FirstRun) -> None:
    browser = BrowserSession(first_run.server.url)
    try:
        target = f"/dashboard/{first_run.project_id}/overview"
        sent = browser.get(target)
        assert sent.headers["location"] == f"/login?next={target}"
        logged_in = browser.get(sent.headers["location"])
        assert (logged_in.status_code, logged_in.headers["location"]) == (303, target)
        page = browser.get(target)
        assert page.status_code == 200 and OWNER_EMAIL in page.text
    finally:
        browser.close()


def test_the_tracker_and_vendored_libraries_are_served_locally(first_run: FirstRun) -> None:
    url = first_run.server.url
    for name, marker in (("plotly.min.js", "plotly"), ("htmx.min.js", "htmx")):
        response = httpx.get(f"{url}/static/{name}", timeout=30)
        assert response.status_code == 200 and marker in response.text[:2000].lower(), name
        assert response.headers["content-type"].startswith("text/javascript")
    assert httpx.get(url + "/static/../meta.db", timeout=30).status_code == 404
    assert httpx.get(url + "/static/nope.js", timeout=30).status_code == 404


def test_no_secrets_leak_into_the_data_dir_listing(first_run: FirstRun) -> None:
    meta_db = Path(first_run.server.data_dir / "meta.db").read_bytes()
    assert OWNER_PASSWORD.encode() not in meta_db


def test_local_mode_setup_needs_no_account_on_this_computer(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_server(
        tmp_path_factory.mktemp("local-setup"), {"OPENPANEL_DASHBOARD_LOCAL_MODE": "true"}
    )
    browser = BrowserSession(server.url)
    try:
        form = browser.get("/setup")
        assert "optional on this computer" in form.text
        created = browser.post(
            "/setup",
            {
                "organization": "Me",
                "project": "My app",
                "domain": "localhost:5173",
                "timezone": "UTC",
            },
        )
        assert created.status_code == 303 and created.headers["location"].endswith("/install")
        assert browser.get(created.headers["location"]).status_code == 200
        meta = MetaStore(server.data_dir / "meta.db")
        try:
            owner = Accounts(meta).local_owner()
            assert owner is not None and owner.email == "owner@localhost.localdomain"
        finally:
            meta.close()
    finally:
        browser.close()
        server.stop()
