"""The dashboard over real HTTP: login and logout, the login rate limit, CSRF, roles,
invitations, clients and settings."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from embedded_db.meta import MetaStore
from tests.dashboard.browser_session import (
    MEMBER_PASSWORD,
    OWNER_EMAIL,
    OWNER_PASSWORD,
    BrowserSession,
    poll,
)
from tests.dashboard.conftest import Site


def test_login_sets_a_session_cookie_and_logout_ends_it(site: Site) -> None:
    browser = site.browser()
    try:
        form = browser.get("/login?next=/dashboard/" + site.project_id + "/events")
        assert form.status_code == 200 and 'name="password"' in form.text  # local mode is off
        logged_in = browser.login(OWNER_EMAIL.upper(), OWNER_PASSWORD)
        assert logged_in.status_code == 303
        cookie = logged_in.headers["set-cookie"]
        assert cookie.startswith("op_session=") and "HttpOnly" in cookie
        assert "SameSite=lax" in cookie and "Max-Age=7776000" in cookie
        token = browser.http.cookies["op_session"]
        assert browser.get(site.page("overview")).status_code == 200
        out = browser.post("/logout")
        assert (out.status_code, out.headers["location"]) == (303, "/login")
        assert 'op_session=""' in out.headers["set-cookie"]
        stale = httpx.get(
            site.server.url + site.page("overview"), cookies={"op_session": token}, timeout=30
        )
        assert stale.status_code == 303 and stale.headers["location"].startswith("/login")
    finally:
        browser.close()


def test_a_wrong_password_shows_the_form_again(site: Site) -> None:
    browser = site.browser()
    try:
        refused = browser.login(OWNER_EMAIL, "not the password")
        assert refused.status_code == 401 and "Wrong email or password." in refused.text
        assert "op_session" not in browser.http.cookies
        assert browser.get(site.page("overview")).status_code == 303
    finally:
        browser.close()


def test_login_is_rate_limited_per_address_and_email(site: Site) -> None:
    site.join("viewer", "limited@example.com").close()
    browser = site.browser()
    try:
        for _ in range(5):
            assert browser.login("limited@example.com", "guess").status_code == 401
        blocked = browser.login("limited@example.com", MEMBER_PASSWORD)
        assert blocked.status_code == 429 and "Too many failed logins" in blocked.text
        assert browser.login("LIMITED@example.com", MEMBER_PASSWORD).status_code == 429
        other = site.browser()
        try:
            assert other.login(OWNER_EMAIL, OWNER_PASSWORD).status_code == 303
        finally:
            other.close()
    finally:
        browser.close()


def test_every_form_needs_the_csrf_token_of_its_session(site: Site) -> None:
    owner, settings = site.owner, site.page("settings")
    form = {"name": "Shop", "timezone": "Europe/Berlin", "cors": "https://shop.example.com"}
    assert owner.post(settings, form, csrf=False).status_code == 403
    assert owner.post(settings, {**form, "_csrf": "0" * 64}, csrf=False).status_code == 403
    anonymous = site.browser()
    try:
        anonymous.get("/login")
        foreign = anonymous.token  # a valid token, but of another (anonymous) browser
        assert owner.post(settings, {**form, "_csrf": foreign}, csrf=False).status_code == 403
        assert anonymous.post("/login", {"email": OWNER_EMAIL}, csrf=False).status_code == 403
        assert anonymous.http.post("/login", data={"_csrf": "forged"}).status_code == 403
    finally:
        anonymous.close()
    owner.get(settings)
    assert owner.post(settings, form).status_code == 303
    assert owner.token != owner.http.cookies["op_session"]  # the token is not the session id


def test_forms_from_another_site_are_refused(site: Site) -> None:
    owner = site.owner
    owner.get(site.page("settings/account"))
    evil = {"origin": "https://evil.example"}
    ended = owner.post(site.page("settings/account/sessions/end"), headers=evil)
    assert ended.status_code == 403 and "another site" in ended.text
    cross = {"sec-fetch-site": "cross-site"}
    assert owner.post(site.page("settings/account/sessions/end"), headers=cross).status_code == 403
    same = {"origin": site.server.url, "sec-fetch-site": "same-origin"}
    assert owner.post(site.page("settings/account/sessions/end"), headers=same).status_code == 200


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_viewers_and_members_see_reports_but_not_settings(site: Site, role: str) -> None:
    browser = site.join(role, f"{role}@example.com")
    try:
        home = browser.get("/dashboard")
        assert home.headers["location"] == site.page("overview")
        overview = browser.get(site.page("overview"))
        assert overview.status_code == 200 and f'<span class="badge">{role}</span>' in overview.text
        assert site.page("settings/account") in overview.text  # their Settings link
        for section in ("settings", "settings/clients", "settings/members", "projects/new"):
            denied = browser.get(site.page(section))
            assert denied.status_code == 403 and "needs the admin role" in denied.text, section
        changed = browser.post(site.page("settings"), {"name": "Hijacked"})
        assert changed.status_code == 403
        assert browser.get(site.page("settings/account")).status_code == 200
    finally:
        browser.close()


def test_admins_change_settings_but_cannot_make_owners(site: Site) -> None:
    browser = site.join("admin", "admin@example.com")
    try:
        assert browser.get(site.page("settings")).status_code == 200
        members = browser.get(site.page("settings/members"))
        assert members.status_code == 200 and '<option value="owner"' not in members.text
        invite = site.page("settings/members/invite")
        assert browser.post(invite, {"role": "owner"}).status_code == 403
        assert browser.post(invite, {"role": "admin"}).status_code == 200
    finally:
        browser.close()


def test_projects_of_other_organizations_do_not_exist_for_a_member(site: Site) -> None:
    meta = MetaStore(site.server.data_dir / "meta.db")
    try:
        with meta.transaction() as db:
            db.table("organizations").insert(
                {"id": "other-org", "name": "Other", "created_at": "2026-01-01"}, ignore=True
            )
        other = meta.create_project("Secret", organization_id="other-org")
    finally:
        meta.close()
    page = site.owner.get(f"/dashboard/{other.id}/overview")
    assert page.status_code == 404 and "Secret" not in page.text
    assert site.owner.get("/dashboard/no-such-project/overview").status_code == 404


def test_an_invitation_link_works_once(site: Site) -> None:
    path = site.invite("member", "Guest@Example.com")
    guest = site.browser()
    try:
        page = guest.get(path)
        assert page.status_code == 200 and "Join Acme" in page.text and "member" in page.text
        wrong = guest.post(path, {"email": "eve@example.com", "password": MEMBER_PASSWORD})
        assert wrong.status_code == 400 and "this invitation is for Guest@Example.com" in wrong.text
        joined = guest.post(path, {"email": "guest@example.com", "password": MEMBER_PASSWORD})
        assert joined.status_code == 303
        assert guest.get(site.page("overview")).status_code == 200
        assert site.browser().get(path).status_code == 404
    finally:
        guest.close()
    members = site.owner.get(site.page("settings/members")).text
    assert "guest@example.com" in members


def test_a_client_secret_is_shown_once_and_works_until_revoked(site: Site) -> None:
    clients = site.page("settings/clients")
    created = site.owner.post(clients, {"name": "Reporting", "type": "read"})
    assert created.status_code == 200
    client_id = re.search(r'<code id="new-client-id">([^<]+)</code>', created.text)
    secret = re.search(r'<code id="new-client-secret">([^<]+)</code>', created.text)
    assert client_id and secret and secret.group(1).startswith("sec_")
    assert secret.group(1) not in site.owner.get(clients).text
    headers = {
        "openpanel-client-id": client_id.group(1),
        "openpanel-client-secret": secret.group(1),
    }
    live = f"{site.server.url}/insights/{site.project_id}/live"
    assert httpx.get(live, headers=headers, timeout=30).status_code == 200
    revoked = site.owner.post(f"{clients}/{client_id.group(1)}/revoke")
    assert revoked.status_code == 303
    assert client_id.group(1) not in site.owner.get(clients).text
    gone = poll(
        lambda: httpx.get(live, headers=headers, timeout=30), lambda r: r.status_code != 200
    )
    assert gone.status_code == 401  # once the server's client cache (1 s in tests) expires
    assert site.owner.post(f"{clients}/{client_id.group(1)}/revoke").status_code == 404


def test_project_settings_are_validated_and_saved(site: Site) -> None:
    settings = site.page("settings")
    bad = site.owner.post(settings, {"name": "Shop", "timezone": "Mars/Base", "cors": ""})
    assert bad.status_code == 400 and "unknown timezone" in bad.text
    form = {
        "name": "Shop & Co <b>",
        "domain": "shop.example.com",
        "cors": "https://shop.example.com\nhttps://*.shop.example.com",
        "timezone": "America/New_York",
    }
    saved = site.owner.post(settings, form)
    assert saved.status_code == 303
    page = site.owner.follow(saved).text
    assert "Saved." in page and "Shop &amp; Co &lt;b&gt;" in page and "<b>" not in page
    meta = MetaStore(site.server.data_dir / "meta.db")
    try:
        project = meta.get_project(site.project_id)
        assert project.cors == ("https://shop.example.com", "https://*.shop.example.com")
        assert project.timezone == "America/New_York"
        meta.update_project(site.project_id, name="Shop", timezone="Europe/Berlin")
    finally:
        meta.close()


def test_changing_the_password_logs_out_other_sessions(site: Site) -> None:
    first = site.join("viewer", "rotating@example.com")
    second = site.browser()
    try:
        assert second.login("rotating@example.com", MEMBER_PASSWORD).status_code == 303
        account = site.page("settings/account")
        first.get(account)
        mismatch = {"current": MEMBER_PASSWORD, "new": "brand new pass", "confirm": "other"}
        assert first.post(account + "/password", mismatch).status_code == 400
        change = {"current": MEMBER_PASSWORD, "new": "brand new pass", "confirm": "brand new pass"}
        changed = first.post(account + "/password", change)
        assert changed.status_code == 200 and "Password changed" in changed.text
        assert first.get(site.page("overview")).status_code == 200
        assert second.get(site.page("overview")).status_code == 303
        assert second.login("rotating@example.com", "brand new pass").status_code == 303
    finally:
        first.close()
        second.close()


HOSTILE = [
    "range=custom&startDate=2026-13-45&endDate=x",
    "filters=" + json.dumps([{"name": "path", "operator": "is", "value": ["'\\\"}{<script>"]}]),
    "filters=" + json.dumps([{"name": "properties.a'b", "operator": "regex", "value": ["(a"]}]),
    "filters=[[[",
    "interval=fortnight&range=12m",
    "metric=%3Cscript%3E",
    "fname=%7B%7D&fop=is&fvalue=x",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_view_parameters_never_cause_a_server_error(site: Site, query: str) -> None:
    for section in ("overview", "events"):
        page = site.owner.get(site.page(section) + "?" + query)
        assert page.status_code < 500, (section, query, page.text[:300])
        assert "<script>" not in page.text.split("</head>", 1)[-1]


def test_the_view_lives_in_the_url(site: Site) -> None:
    filters = json.dumps([{"name": "path", "operator": "is", "value": ["/pricing"]}])
    page = site.owner.get(
        site.page("overview"), params={"range": "30d", "compare": "1", "filters": filters}
    )
    assert page.status_code == 200
    assert "Last 30 days" in page.text and "path is /pricing" in page.text
    assert 'role="switch" aria-checked="true"' in page.text
    added = site.owner.get(
        site.page("overview"),
        params={"range": "30d", "fname": "country", "fop": "is", "fvalue": "DE"},
    )
    assert added.status_code == 303 and "filters=" in added.headers["location"]
    assert "country is DE" in site.owner.follow(added).text


def test_pages_carry_a_strict_content_security_policy(site: Site) -> None:
    page = site.owner.get(site.page("overview"))
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["cache-control"] == "no-store"
    assert "<script>" not in page.text  # no inline scripts anywhere
    login = BrowserSession(site.server.url)
    try:
        assert "script-src 'self'" in login.get("/login").headers["content-security-policy"]
    finally:
        login.close()


def test_a_logged_in_member_accepts_an_invitation_with_one_click(site: Site) -> None:
    browser = site.join("viewer", "promoted@example.com")
    try:
        path = site.invite("admin")
        page = browser.get(path)
        assert "You are logged in as <strong>promoted@example.com</strong>" in page.text
        assert 'name="password"' not in page.text
        assert browser.post(path).status_code == 303
        assert browser.get(site.page("settings")).status_code == 200  # now an admin
    finally:
        browser.close()


def test_an_admin_adds_a_project_with_its_own_browser_client(site: Site) -> None:
    new = site.owner.post(
        site.page("projects/new"),
        {"project": "Blog", "domain": "blog.example.com", "timezone": "UTC"},
    )
    assert new.status_code == 303
    blog = new.headers["location"].split("/")[2]
    assert new.headers["location"] == f"/dashboard/{blog}/install"
    snippet = site.owner.follow(new).text
    assert "https://blog.example.com" in snippet and "clientId: '" in snippet
    overview = site.owner.get(site.page("overview")).text
    assert f'href="/dashboard/{blog}/overview"' in overview  # in the project switcher
    refused = site.owner.post(site.page("projects/new"), {"project": "", "domain": "x y"})
    assert refused.status_code == 400
