"""The dashboard in Debian's chromium, end to end: first visit → setup → the snippet page waits
→ a page on another origin embeds the snippet exactly as the dashboard shows it (the real
@openpanel/web tracker served by the appliance as /op1.js) → the waiting state turns live →
the overview shows one visitor in its cards and a drawn Plotly chart. Any console error, failed
request or error response fails the test. Screenshots of the pages go to
$OPENPANEL_TEST_ARTIFACTS (default: a pytest temp dir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.dashboard.browser_session import OWNER_EMAIL, OWNER_PASSWORD
from tests.dashboard.conftest import start_server
from tests.support.browser import CustomerSite, Watcher, shoot

pytestmark = pytest.mark.browser

DESKTOP_CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)
TIMEZONE = "Europe/Madrid"  # the browser's; setup must preselect it
SITE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Chai shop</title><link rel="icon" href="data:,">
{snippet}
</head><body><h1>Chai shop</h1></body></html>
"""


def test_setup_snippet_first_event_and_overview_in_a_real_browser(
    chromium: Browser, tmp_path: Path, artifacts: Path
) -> None:
    server = start_server(tmp_path)
    site = CustomerSite(SITE_PAGE)
    context = chromium.new_context(
        timezone_id=TIMEZONE, viewport={"width": 1280, "height": 860}, reduced_motion="reduce"
    )
    watcher = Watcher()
    try:
        page = watcher.attach(context.new_page())
        page.goto(server.url + "/dashboard")
        assert page.url == server.url + "/setup"
        assert page.input_value("select[name=timezone]") == TIMEZONE
        shoot(page, artifacts, "setup")
        page.fill("input[name=email]", OWNER_EMAIL)
        page.fill("input[name=password]", OWNER_PASSWORD)
        page.fill("input[name=organization]", "Chai Ltd")
        page.fill("input[name=project]", "Chai shop")
        page.fill("input[name=domain]", site.origin)
        page.click("button[type=submit]")
        page.wait_for_url("**/install")
        project_url = page.url.rsplit("/", 1)[0]
        assert page.is_visible("[data-state=waiting]")
        shoot(page, artifacts, "install-waiting")

        site.snippet = page.text_content("#snippet-script") or ""
        assert f"apiUrl: '{server.url}'" in site.snippet
        visitor = chromium.new_context(user_agent=DESKTOP_CHROME_UA)
        try:
            visit = watcher.attach(visitor.new_page())
            with visit.expect_response(lambda r: r.url.endswith("/track")) as sent:
                visit.goto(site.origin + "/")
            assert sent.value.status == 200, sent.value.text()
        finally:
            visitor.close()

        page.wait_for_selector("[data-state=live]", timeout=20_000)
        assert "screen_view" in (page.text_content("[data-state=live]") or "")
        shoot(page, artifacts, "install-live")

        page.click("text=Open the overview")
        page.wait_for_url("**/overview")
        cards = {
            metric: page.text_content(f".card[data-metric={metric}] .card-value")
            for metric in ("unique_visitors", "total_sessions", "total_screen_views")
        }
        assert cards == {"unique_visitors": "1", "total_sessions": "1", "total_screen_views": "1"}
        page.wait_for_selector("#overview-chart .main-svg .scatterlayer .trace")
        assert page.locator("#overview-chart .main-svg").count() >= 1
        assert not page.is_visible("text=No events yet")
        shoot(page, artifacts, "overview")

        for section in ("realtime", "settings", "settings/clients", "settings/members"):
            page.goto(f"{project_url}/{section}")
            shoot(page, artifacts, section.replace("/", "-"))
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{project_url}/overview?range=today&compare=1")
        page.wait_for_selector("#overview-chart .main-svg")
        box = page.locator(".sidebar").bounding_box()
        assert box is not None and box["x"] + box["width"] <= 1  # folded away on a phone
        shoot(page, artifacts, "overview-phone")
        page.click("label.menu-button")
        page.click(".sidebar .nav-realtime")  # waits until the drawer has slid in
        page.wait_for_url("**/realtime?range=today&compare=1")
        page.click("label.menu-button")
        shoot(page, artifacts, "menu-phone")
        page.click("button:has-text('Log out')")
        page.wait_for_url("**/login")
        assert watcher.problems == []
    finally:
        context.close()
        site.close()
        server.stop()
