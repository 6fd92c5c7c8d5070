"""Public share links over real HTTP: a dashboard or the overview opens without logging in,
read-only and limited to what was shared; a password (argon2id) guards a link behind a CSRF
protected, rate-limited form; revoking a link (or deleting its dashboard) closes it for good;
only admins and owners make or revoke links."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site
from tests.dashboard.report_data import FUNNEL, funnel_counts, seed_funnel


@pytest.fixture(scope="module")
def seeded(site: Site) -> Site:
    seed_funnel(site)
    return site


def shared_board(site: Site, name: str, password: str = "") -> tuple[str, str, str]:
    """A dashboard with the funnel on it and a public link; (board path, report id, link)."""
    owner = site.owner
    owner.get(site.page("reports/new"))
    saved = owner.post(site.page("reports"), {"name": f"{name} funnel", "state": FUNNEL})
    report = saved.headers["location"].rsplit("/", 1)[1]
    pinned = owner.post(site.page(f"reports/{report}/pin"), {"dashboard": "", "new_name": name})
    board = pinned.headers["location"]
    made = owner.post(board + "/share", {"password": password})
    assert made.status_code == 303
    share_id = made.headers["location"].split("?shared=", 1)[1]
    page = owner.get(made.headers["location"]).text
    assert f"{site.server.url}/share/{share_id}" in page
    return board, report, f"/share/{share_id}"


def test_a_shared_dashboard_opens_logged_out_and_shows_only_itself(seeded: Site) -> None:
    board, report, link = shared_board(seeded, "Public growth")
    visitor = seeded.browser()
    try:
        page = visitor.get(link)
        assert page.status_code == 200 and "Public growth" in page.text
        assert "read-only" in page.text and page.headers["x-robots-tag"] == "noindex, nofollow"
        assert "<form" not in page.text and "/dashboard/" not in page.text
        assert "Public growth funnel" in page.text and "Log out" not in page.text
        tile_url = f"{link}/tiles/{report}"
        assert f'hx-get="{tile_url}"' in page.text
        tile = visitor.get(tile_url)
        assert tile.status_code == 200 and funnel_counts(tile.text) == ["3", "2", "1"]
        assert "/dashboard/" not in tile.text
        _, other_report, _ = shared_board(seeded, "Second")
        assert visitor.get(f"{link}/tiles/{other_report}").status_code == 404
        assert visitor.get(f"{link}/tiles/../../dashboard").status_code in (404, 303)
        assert visitor.get(board).status_code == 303  # the dashboard itself needs a login
        week = visitor.get(link + "?range=7d").text
        assert f'hx-get="{tile_url}?range=7d"' in week
        assert visitor.post(link, {"password": "x"}).status_code == 303  # no password: open
    finally:
        visitor.close()


def test_a_password_guards_the_link(seeded: Site) -> None:
    _, report, link = shared_board(seeded, "Secret", password="open sesame")
    visitor = seeded.browser()
    try:
        gate = visitor.get(link)
        assert gate.status_code == 200 and "This link needs a password" in gate.text
        assert "Secret funnel" not in gate.text
        assert visitor.get(f"{link}/tiles/{report}").status_code == 403
        assert visitor.post(link, {"password": "open sesame"}, csrf=False).status_code == 403
        wrong = visitor.post(link, {"password": "guess"})
        assert wrong.status_code == 401 and "Wrong password." in wrong.text
        right = visitor.post(link, {"password": "open sesame"})
        assert (right.status_code, right.headers["location"]) == (303, link)
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and f"Path={link}" in cookie and "SameSite=lax" in cookie
        assert "Secret funnel" in visitor.get(link).text
        assert funnel_counts(visitor.get(f"{link}/tiles/{report}").text) == ["3", "2", "1"]
        stranger = httpx.get(seeded.server.url + link, cookies={"op_share_x": "y"}, timeout=30)
        assert "This link needs a password" in stranger.text
    finally:
        visitor.close()


def test_wrong_passwords_are_rate_limited(seeded: Site) -> None:
    _, _, link = shared_board(seeded, "Guarded", password="right password")
    visitor = seeded.browser()
    try:
        visitor.get(link)
        for _ in range(5):
            assert visitor.post(link, {"password": "wrong"}).status_code == 401
        blocked = visitor.post(link, {"password": "right password"})
        assert blocked.status_code == 429 and "Too many wrong passwords" in blocked.text
    finally:
        visitor.close()


def test_revoked_links_and_deleted_dashboards_are_gone(seeded: Site) -> None:
    board, report, link = shared_board(seeded, "Temporary")
    visitor = seeded.browser()
    try:
        assert visitor.get(link).status_code == 200
        share_id = link.rsplit("/", 1)[1]
        owner = seeded.owner
        revoked = owner.post(seeded.page(f"shares/{share_id}/revoke"), {"back": "board"})
        assert (revoked.status_code, revoked.headers["location"]) == (303, board)
        assert visitor.get(link).status_code == 404
        assert visitor.get(f"{link}/tiles/{report}").status_code == 404
        again = owner.post(board + "/share", {"password": ""})
        second = "/share/" + again.headers["location"].split("?shared=", 1)[1]
        assert visitor.get(second).status_code == 200
        assert owner.post(board + "/delete").status_code == 303
        assert visitor.get(second).status_code == 404
        assert "/share/" + share_id not in owner.get(seeded.page("shares")).text
    finally:
        visitor.close()


def test_the_overview_is_shared_with_its_numbers(seeded: Site) -> None:
    owner = seeded.owner
    owner.get(seeded.page("shares"))
    made = owner.post(seeded.page("shares"), {"password": ""})
    assert made.status_code == 303
    share_id = made.headers["location"].split("?created=", 1)[1]
    listing = owner.get(made.headers["location"]).text
    assert f"/share/{share_id}</code>" in listing and "Overview" in listing
    visitor = seeded.browser()
    try:
        page = visitor.get(f"/share/{share_id}?range=7d")
        assert page.status_code == 200
        cards = dict(
            re.findall(
                r'data-metric="(\w+)"[^>]*>\s*<span class="card-label">[^<]*</span>\s*'
                r'<span class="card-value">([^<]*)</span>',
                page.text,
            )
        )
        assert cards["unique_visitors"] == "3" and cards["total_sessions"] == "3"
        assert cards["total_screen_views"] == "3"
        assert '<td>/</td><td class="num">2</td>' in page.text  # top pages
        assert '<td>/pricing</td><td class="num">1</td>' in page.text
        assert "/dashboard/" not in page.text and 'method="post"' not in page.text
        assert f'href="/share/{share_id}?range=7d&amp;metric=total_sessions"' in page.text
        filtered = visitor.get(f"/share/{share_id}?range=7d&fname=path&fop=is&fvalue=/pricing")
        assert filtered.status_code == 303 and filtered.headers["location"].startswith(
            f"/share/{share_id}?"
        )
    finally:
        visitor.close()


@pytest.mark.parametrize("role", ["viewer", "member"])
def test_only_admins_and_owners_share(seeded: Site, role: str) -> None:
    browser: BrowserSession = seeded.join(role, f"share-{role}@example.com")
    try:
        assert browser.get(seeded.page("shares")).status_code == 403
        assert browser.post(seeded.page("shares"), {"password": ""}).status_code == 403
        board, _, link = shared_board(seeded, f"By owner for {role}")
        assert "Create a public link" not in browser.get(board).text
        assert browser.post(board + "/share", {}).status_code == 403
        share_id = link.rsplit("/", 1)[1]
        assert browser.post(seeded.page(f"shares/{share_id}/revoke")).status_code == 403
    finally:
        browser.close()
