"""The Overview, Pages and Realtime pages in Debian's chromium, on known traffic sent through
`/track` (tests/dashboard/tracking.py): visible numbers, widgets that fill in, tabs, search,
"show more", a click that becomes a filter, the world map drawn from local shapes, sortable
pages, and the realtime stream showing an event sent after the page loaded and a refused
request with its reason. Any console error, failed request or error response fails a test.
Screenshots go to $OPENPANEL_TEST_ARTIFACTS (default: a pytest temp dir)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site, start_server
from tests.dashboard.tracking import CHROME, LONDON, SAFARI, US, known_site, tracker
from tests.support.browser import Watcher, shoot

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Site]:
    with known_site(tmp_path_factory.mktemp("overview-browser"), geoip_db) as found:
        yield found


def logged_in(chromium: Browser, site: Site) -> BrowserContext:
    """A browser context carrying the owner's session cookie."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, reduced_motion="reduce")
    token = site.owner.http.cookies["op_session"]
    context.add_cookies([{"name": "op_session", "value": token, "url": site.server.url}])
    return context


def open_page(context: BrowserContext, watcher: Watcher, url: str) -> Page:
    page = watcher.attach(context.new_page())
    page.goto(url)
    return page


def card(page: Page, metric: str) -> str:
    return (page.text_content(f".card[data-metric={metric}] .card-value") or "").strip()


def widgets_loaded(page: Page) -> None:
    """Wait until every widget has filled in (leaving earlier would abort their requests)."""
    for key in ("pages", "sources", "utm", "geo", "devices", "events"):
        page.wait_for_selector(f"#widget-{key} .toplist")


def widget_rows(page: Page, widget: str) -> list[list[str]]:
    cells = page.locator(f"#widget-{widget} .toplist-row")
    return [
        [c.strip() for c in cells.nth(i).locator("td").all_inner_texts()]
        for i in range(cells.count())
    ]


def test_overview_cards_widgets_map_and_click_to_filter(
    chromium: Browser, site: Site, artifacts: Path
) -> None:
    context = logged_in(chromium, site)
    watcher = Watcher()
    try:
        page = open_page(context, watcher, site.server.url + site.page("overview"))
        assert [card(page, m) for m in ("unique_visitors", "total_sessions")] == ["3", "3"]
        assert card(page, "total_screen_views") == "5" and card(page, "bounce_rate") == "66.7%"
        assert card(page, "avg_session_duration") == "4m 00s"
        assert page.locator(".card .sparkline polyline").count() == 7
        widgets_loaded(page)
        page.wait_for_selector("#widget-geo .map-chart .main-svg .choroplethlayer path")
        page.wait_for_selector("#overview-chart .main-svg .scatterlayer .trace")
        assert widget_rows(page, "pages") == [
            ["/", "2", "2"],
            ["/pricing", "2", "2"],
            ["/docs", "1", "1"],
        ]
        assert widget_rows(page, "geo")[1] == ["United Kingdom", "1", "3"]
        assert widget_rows(page, "events") == [
            ["screen_view", "5", "3"],
            ["link_out", "1", "1"],
            ["signup", "1", "1"],
        ]
        shoot(page, artifacts, "overview-widgets")

        page.click("#widget-pages .widget-tab[data-tab=entry]")
        page.wait_for_selector("#widget-pages .toplist[data-tab=entry]")
        assert widget_rows(page, "pages") == [["/", "2", "4"], ["/pricing", "1", "1"]]
        page.click("#widget-devices .widget-tab[data-tab=browser_version]")
        page.wait_for_selector("#widget-devices .toplist[data-tab=browser_version]")
        assert widget_rows(page, "devices")[0] == ["131.0.0.0 Chrome", "2", "4"]
        page.fill("#widget-sources .widget-search", "hack")
        expect(page.locator("#widget-sources .toplist-row")).to_have_count(1)
        assert widget_rows(page, "sources") == [["Hacker News", "1", "3"]]

        page.click("#widget-geo .toplist-row a:has-text('United Kingdom')")
        page.wait_for_url("**/overview?**")
        filters = json.loads(parse_qs(urlsplit(page.url).query)["filters"][0])
        assert filters == [{"name": "country", "operator": "is", "value": ["GB"]}]
        assert "country is GB" in (page.text_content(".chips .chip") or "")
        assert card(page, "unique_visitors") == "1" and card(page, "total_screen_views") == "3"
        widgets_loaded(page)
        assert [r[0] for r in widget_rows(page, "pages")] == ["/", "/docs", "/pricing"]
        shoot(page, artifacts, "overview-filtered")
        assert watcher.problems == []
    finally:
        context.close()


def test_pages_sort_search_and_open_a_page(chromium: Browser, site: Site, artifacts: Path) -> None:
    context = logged_in(chromium, site)
    watcher = Watcher()
    try:
        page = open_page(context, watcher, site.server.url + site.page("pages"))
        rows = page.locator("#pages-table tbody tr")
        texts = [
            [rows.nth(i).get_attribute("data-path")]
            + [c.strip() for c in rows.nth(i).locator("td.num").all_inner_texts()]
            for i in range(3)
        ]
        assert texts == [
            ["/", "2", "2", "2", "50.0%", "2m 00s"],
            ["/pricing", "2", "2", "2", "50.0%", "3m 00s"],
            ["/docs", "1", "1", "1", "0.0%", "–"],
        ]
        shoot(page, artifacts, "pages")
        page.click("th a[data-sort=avg_time]")
        page.wait_for_url("**sort=avg_time**")
        page.wait_for_selector("th[aria-sort=descending] a[data-sort=avg_time]")
        assert rows.first.get_attribute("data-path") == "/pricing"
        page.fill("input[name=search]", "doc")
        page.wait_for_url("**search=doc**")
        expect(rows).to_have_count(1)
        assert rows.first.get_attribute("data-path") == "/docs"
        page.click("#pages-table tbody tr a:has-text('/docs')")
        page.wait_for_url("**/overview?**")
        assert "path is /docs" in (page.text_content(".chips .chip") or "")
        assert card(page, "unique_visitors") == "1"  # the visit that viewed /docs
        widgets_loaded(page)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(site.server.url + site.page("pages"))
        shoot(page, artifacts, "pages-phone")
        assert watcher.problems == []
    finally:
        context.close()


@pytest.fixture
def empty_site(tmp_path: Path, geoip_db: Path) -> Iterator[Site]:
    """A fresh appliance without events, for counts that start at zero."""
    server = start_server(tmp_path, {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    owner = BrowserSession(server.url)
    try:
        created = owner.setup()
        yield Site(server, owner, created.headers["location"].split("/")[2])
    finally:
        owner.close()
        server.stop()


def test_realtime_shows_new_events_and_refusals_without_reload(
    chromium: Browser, empty_site: Site, artifacts: Path
) -> None:
    site = empty_site
    context = logged_in(chromium, site)
    watcher = Watcher()
    sender = tracker(site)
    try:
        page = open_page(context, watcher, site.server.url + site.page("realtime"))
        page.wait_for_selector("[data-stream-status][data-state=live]")
        page.wait_for_selector("[data-live-visitors]")
        assert page.text_content("[data-live-visitors]") == "0"
        assert page.is_visible("text=No events in the last 30 minutes")

        sender.send("screen_view", LONDON, CHROME, "/checkout")
        item = page.wait_for_selector(".stream-item.accepted[data-name=screen_view]")
        assert "screen_view" in (item.text_content() or "")
        assert "/checkout" in (item.text_content() or "")
        expect(page.locator("[data-live-visitors]")).to_have_text("1")
        page.wait_for_selector("#live-activity .activity-item:has-text('/checkout')")
        page.wait_for_selector("#live-map-chart .main-svg .scattergeo", timeout=20_000)

        hostile = "<img src=x onerror=alert(1)>${jndi:x}"
        refused = sender.post(sender.body(hostile, "/x", 0, {}), US, SAFARI)
        assert refused.status_code == 400
        bad = page.wait_for_selector(".stream-item.rejected")
        text = bad.text_content() or ""
        assert "refused 400" in text and "blocked sequence" in text and hostile in text
        bad.click()  # opens the raw payload
        raw = page.text_content(".stream-item.rejected .stream-raw") or ""
        assert json.loads(raw)["payload"]["name"] == hostile
        assert page.locator(".stream-item img").count() == 0  # rendered as text
        shoot(page, artifacts, "realtime")

        page.fill("[data-stream-filter]", "screen")
        assert page.locator(".stream-item:visible").count() == 1
        page.fill("[data-stream-filter]", "")
        shown = page.locator(".stream-item").count()  # session_start, screen_view, the refusal
        assert shown == 3
        page.click("[data-stream-pause]")
        sender.send("signup", LONDON, CHROME, "/checkout")
        page.wait_for_selector("[data-stream-held]:not([hidden])")
        assert page.locator(".stream-item").count() == shown
        page.click("[data-stream-pause]")
        expect(page.locator(".stream-item[data-name=signup]")).to_have_count(1)
        page.click("[data-stream-clear]")
        assert page.locator(".stream-item").count() == 0
        page.goto(site.server.url + site.page("overview"))  # leaving closes the stream cleanly
        assert watcher.problems == []
    finally:
        context.close()
