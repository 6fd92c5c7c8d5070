"""The Events, Profiles and Sessions pages in Debian's chromium, against the known traffic of
explore_data (hostile names, paths, referrers, titles, profile ids and property values
included): the owner logs in, walks the lists and detail pages, draws their charts, pages and
sorts with htmx, opens folded properties, marks a conversion, and uses the pages on a phone.
No dialog may fire, no injected element may exist, and any console error, failed request or
error response fails the test. Screenshots go to $OPENPANEL_TEST_ARTIFACTS (default: a pytest
temp dir)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.dashboard.browser_session import OWNER_EMAIL, OWNER_PASSWORD
from tests.dashboard.explore_data import XSS_NAME, XSS_VALUE, Traffic, traffic_site
from tests.support.browser import Watcher, shoot

pytestmark = pytest.mark.browser


@pytest.fixture
def traffic(tmp_path: Path, geoip_db: Path) -> Iterator[Traffic]:
    with traffic_site(tmp_path, geoip_db) as site:
        yield site


def untouched(page: Page, dialogs: list[str]) -> None:
    """Nothing a hostile string carried ran or was added to the page."""
    assert dialogs == []
    assert page.locator("#injected").count() == 0
    assert page.locator("main img, main svg[onload], main script").count() == 0
    assert page.evaluate("document.body.dataset.pwned") is None


def log_in(page: Page, url: str, then: str) -> None:
    page.goto(f"{url}/login?next={then}")
    page.fill("input[name=email]", OWNER_EMAIL)
    page.fill("input[name=password]", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**" + then)


def test_events_profiles_and_sessions_in_a_real_browser(
    chromium: Browser, traffic: Traffic, artifacts: Path
) -> None:
    base = traffic.server.url + f"/dashboard/{traffic.site.project_id}"
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, reduced_motion="reduce")
    watcher = Watcher()
    dialogs = watcher.dialogs  # the watcher dismisses and records every dialog
    try:
        page = watcher.attach(context.new_page())
        log_in(page, traffic.server.url, f"/dashboard/{traffic.site.project_id}/events")
        rows = page.locator("[data-table=names] tbody tr")
        assert rows.count() == 5
        assert page.text_content("[data-table=names] tbody tr:first-child") is not None
        assert page.locator("[data-table=names] a.ex-name", has_text=XSS_NAME).count() == 1
        untouched(page, dialogs)
        shoot(page, artifacts, "events")

        page.click("[data-table=names] th a:has-text('Event')")  # htmx swaps the page's main
        page.wait_for_url("**sort=name**")
        first = page.locator("[data-table=names] tbody tr:first-child .ex-name")
        assert first.text_content() == XSS_NAME

        page.click("[data-table=names] a.ex-name:text-is('signup')")
        page.wait_for_url("**event=signup**")
        page.wait_for_selector("#event-chart .main-svg .scatterlayer .trace")
        assert page.text_content("[data-total]") == "2"
        page.click("#ev-conversion button")  # htmx posts and swaps the toggle
        page.wait_for_selector("#ev-conversion [data-conversion=on]")
        page.click("[data-table=breakdown] a:text-is('pro')")
        page.wait_for_url("**filters=**")
        page.wait_for_selector("#event-chart .main-svg .scatterlayer .trace")
        assert page.text_content("[data-total]") == "1"
        shoot(page, artifacts, "event")

        page.goto(base + "/events?tab=conversions")
        assert page.locator("[data-table=names] tbody tr").count() == 1

        page.goto(base + "/events/stream")
        hostile = page.locator("[data-table=events] tr:not([data-detail])", has_text=XSS_NAME)
        button = hostile.locator("button[data-expand]")
        detail = page.locator("#" + (button.get_attribute("aria-controls") or ""))
        assert detail.is_hidden()
        button.click()
        assert detail.is_visible() and button.get_attribute("aria-expanded") == "true"
        assert XSS_VALUE in (detail.text_content() or "")
        page.locator("[data-table=events] button[data-expand]").nth(1).click()
        untouched(page, dialogs)
        shoot(page, artifacts, "events-stream")
        page.fill(".ex-search input[name=q]", "pricing")
        page.press(".ex-search input[name=q]", "Enter")
        page.wait_for_url("**q=pricing**")
        assert page.locator("[data-table=events] tbody tr:not([data-detail])").count() == 1

        page.goto(base + "/profiles")
        assert page.locator("[data-table=profiles] tbody tr").count() == 3
        untouched(page, dialogs)
        shoot(page, artifacts, "profiles")
        page.click("[data-table=profiles] a.ex-name:text-is('Ada Lovelace')")
        page.wait_for_url("**id=ada-1**")
        page.wait_for_selector("#profile-activity .main-svg .barlayer .trace")
        assert page.text_content("[data-metric=events] .card-value") == "4"
        shoot(page, artifacts, "profile")

        page.goto(base + "/profiles?tab=power")
        page.locator("[data-table=profiles] tbody tr").nth(1).locator("a.ex-name").click()
        page.wait_for_url("**id=**")
        untouched(page, dialogs)
        shoot(page, artifacts, "profile-hostile")

        page.goto(base + "/sessions")
        assert page.locator("[data-table=sessions] tbody tr").count() == 3
        untouched(page, dialogs)
        shoot(page, artifacts, "sessions")
        page.click("[data-table=sessions] a:text-is('GB')")
        page.wait_for_url("**filters=**")
        assert page.locator("[data-table=sessions] tbody tr").count() == 1
        page.click("[data-table=sessions] tbody tr td:first-child a")
        page.wait_for_url("**id=**")
        assert page.locator("[data-table=timeline] > li").count() == 5
        page.locator("[data-table=timeline] details summary").last.click()
        assert page.locator("[data-table=timeline] details[open] dl").count() == 1
        shoot(page, artifacts, "session")

        page.set_viewport_size({"width": 390, "height": 844})
        for section in ("events", "profiles", "sessions"):
            page.goto(f"{base}/{section}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (section, width)
            shoot(page, artifacts, f"{section}-phone")
        untouched(page, dialogs)
        assert watcher.problems == []
    finally:
        context.close()
