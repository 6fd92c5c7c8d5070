"""End to end in Debian's chromium: sign-up (setup) → the project's snippet → three visitors on
a site on ANOTHER origin send events with the real web SDK (`/op1.js` served by the appliance,
custom events from `data-track` buttons) → they show in Realtime (live stream and visitor
count) and on the Overview (cards) → the owner builds a funnel in the report builder → saves
it onto a new dashboard → shares the dashboard → a logged-out browser opens the link and sees
the funnel's numbers. Any console error, failed request or error response fails the test."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_session import OWNER_EMAIL, OWNER_PASSWORD
from tests.dashboard.conftest import start_server
from tests.dashboard.report_browser import (
    SITE_PAGE,
    VIEWPORT,
    CustomerSite,
    Watcher,
    chrome_ua,
    shots,
)

pytestmark = pytest.mark.browser
__all__ = ["shots"]  # a fixture, used by name

# Visitor → (page, buttons clicked): the funnel screen_view → signup_started → signup_done
# then has 3, 2 and 1 visits.
VISITORS = [("/", ["#start", "#done"]), ("/", ["#start"]), ("/pricing", [])]
Shoot = Callable[[Page, str], None]


def sign_up(page: Page, server_url: str, site: CustomerSite) -> str:
    """The first visit: set up the owner and the project; returns the project's URL."""
    page.goto(server_url + "/dashboard")
    page.fill("input[name=email]", OWNER_EMAIL)
    page.fill("input[name=password]", OWNER_PASSWORD)
    page.fill("input[name=organization]", "Chai Ltd")
    page.fill("input[name=project]", "Chai shop")
    page.fill("input[name=domain]", site.origin)
    page.click("button[type=submit]")
    page.wait_for_url("**/install")
    site.snippet = page.text_content("#snippet-script") or ""
    assert f"apiUrl: '{server_url}'" in site.snippet
    return page.url.rsplit("/", 1)[0]


def visit(browser: Browser, watcher: Watcher, site: CustomerSite, n: int) -> None:
    """One visitor (its own browser and user agent) views a page and clicks buttons."""
    path, clicks = VISITORS[n]
    context = browser.new_context(user_agent=chrome_ua(131 + n))
    try:
        page = watcher.attach(context.new_page())
        with page.expect_response(lambda r: r.url.endswith("/track")) as viewed:
            page.goto(site.origin + path)
        assert viewed.value.status == 200, viewed.value.text()
        for selector in clicks:
            with page.expect_response(lambda r: r.url.endswith("/track")) as sent:
                page.click(selector)
            assert sent.value.status == 200
    finally:
        context.close()


def see_them_live(page: Page, project_url: str) -> None:
    """Realtime counts the visitors and streams their events (when the page has both)."""
    if page.locator("[data-stream-count=event]").count():
        wait_until(page, lambda: int(text_of(page, "[data-stream-count=event]") or 0) >= 6, 30)
        assert "signup_done" in text_of(page, "[data-stream-list]")
    if page.locator("[data-live-visitors]").count():
        wait_until(page, lambda: text_of(page, "[data-live-visitors]") == "3", 40)


def text_of(page: Page, selector: str) -> str:
    return (page.text_content(selector) or "").strip()


def wait_until(page: Page, done: Callable[[], bool], seconds: float) -> None:
    """Poll `done` (no script evaluation: the pages' CSP forbids eval)."""
    for _ in range(int(seconds * 5)):
        if done():
            return
        page.wait_for_timeout(200)
    assert done(), "timed out"


def build_funnel(page: Page, project_url: str) -> None:
    """The report builder: chart type Funnel, then the steps typed in; htmx redraws it."""
    page.goto(project_url + "/reports/new")
    page.wait_for_selector("#builder .rb-chart .main-svg")
    page.click("label:has(#rb-chart-funnel)")
    page.wait_for_selector("#rb-s1-name")
    page.fill("#rb-s1-name", "signup_started")
    page.press("#rb-s1-name", "Tab")
    page.wait_for_url("**s1.name=signup_started**")
    page.click("button:has-text('+ Step')")
    page.wait_for_selector("#rb-s2-name")
    page.fill("#rb-s2-name", "signup_done")
    page.press("#rb-s2-name", "Enter")
    page.wait_for_url("**s2.name=signup_done**")
    page.wait_for_selector(".rb-funnel .step-count")


def step_counts(page: Page, scope: str = "") -> list[str]:
    return [t.strip() for t in page.locator(f"{scope} .rb-funnel .step-count").all_text_contents()]


def shown_in_tile(page: Page) -> bool:
    """Whether the tile's last funnel number is on screen inside the tile (not scrolled away)."""
    cell = page.locator(".tile .rb-funnel .step-count").last.bounding_box()
    tile = page.locator(".tile").first.bounding_box()
    assert cell is not None and tile is not None
    return cell["y"] + cell["height"] <= tile["y"] + tile["height"]


def test_sign_up_track_build_a_funnel_share_it_and_open_it_logged_out(
    chromium: Browser, tmp_path: Path, shots: Shoot
) -> None:
    server = start_server(tmp_path)
    site = CustomerSite(SITE_PAGE)
    watcher = Watcher()
    context = chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
    try:
        page = watcher.attach(context.new_page())
        project_url = sign_up(page, server.url, site)
        page.goto(project_url + "/realtime")
        for n in range(len(VISITORS)):
            visit(chromium, watcher, site, n)
        see_them_live(page, project_url)
        shots(page, "realtime")

        page.goto(project_url + "/overview")
        cards = {
            metric: (page.text_content(f".card[data-metric={metric}] .card-value") or "").strip()
            for metric in ("unique_visitors", "total_sessions", "total_screen_views")
        }
        assert cards == {"unique_visitors": "3", "total_sessions": "3", "total_screen_views": "3"}
        page.wait_for_selector("#overview-chart .main-svg")
        shots(page, "overview")

        build_funnel(page, project_url)
        assert step_counts(page) == ["3", "2", "1"]
        assert (page.text_content(".conversion-rate") or "").strip() == "33.3%"
        page.wait_for_selector("#builder .rb-chart .main-svg .funnellayer .trace")
        shots(page, "report-builder")
        page.fill("#rb-save-name", "Signup funnel")
        page.click("button:has-text('Save report')")
        page.wait_for_url("**/reports/*")
        assert (page.text_content(".page-title") or "").strip() == "Signup funnel"

        page.select_option("#rb-pin-board", "")
        page.fill("#rb-pin-name", "Growth")
        page.click("button:has-text('Add to dashboard')")
        page.wait_for_url("**/dashboards/*")
        page.wait_for_selector(".tile .rb-funnel .step-count")
        assert step_counts(page, ".tile") == ["3", "2", "1"]
        page.wait_for_selector(".tile .main-svg .funnellayer .trace")
        shots(page, "dashboard")

        page.click("button:has-text('Create a public link')")
        page.wait_for_selector(".board-share code")
        link = (page.text_content(".board-share code") or "").strip()
        assert link.startswith(server.url + "/share/")
        page.goto(project_url + "/reports")
        shots(page, "reports")

        stranger = chromium.new_context(viewport=VIEWPORT, reduced_motion="reduce")
        try:
            shared = watcher.attach(stranger.new_page())
            shared.goto(link)
            shared.wait_for_selector(".tile .rb-funnel .step-count")
            assert step_counts(shared, ".tile") == ["3", "2", "1"] and shown_in_tile(shared)
            assert shared.locator("form").count() == 0
            assert "Growth" in (shared.text_content("h1") or "")
            shared.wait_for_selector(".tile .main-svg .funnellayer .trace")
            shots(shared, "share")
            assert shared.context.cookies() == [] or all(
                c["name"] != "op_session" for c in shared.context.cookies()
            )
        finally:
            stranger.close()
        assert watcher.problems == [] and watcher.dialogs == []
    finally:
        context.close()
        site.close()
        server.stop()
