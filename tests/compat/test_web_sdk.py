"""The published `@openpanel/web` 1.4.1 script tag (op1.js) in Debian's chromium.

A test page on another origin (http://127.0.0.1:<port>, allowed by the project's
`http://127.0.0.1:*` entry) defines the SDK's own init snippet, calls
`window.op('init', {...})` and loads the package's IIFE build as /op1.js, exactly as a site
would. The browser uses a desktop Chrome user agent (HeadlessChrome is a bot) and sends
`x-forwarded-for: 81.2.69.142`, which the test GeoIP database places in London.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response

from tests.compat.helpers import DESKTOP_CHROME_UA, flush, names, only, run_node, running_server
from tests.support.browser import LocalSite
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

HEADLESS_CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/156.0.0.0 Safari/537.36"
)
LONDON_IP = "81.2.69.142"
PARTNER_URL = "https://example.org/partner?ref=compat"
VISIT_EVENTS = ("screen_view", "link_out", "signup_clicked", "plan_selected", "after_revenue")

PAGE = """<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>Compat shop</title>
  <link rel="icon" href="data:,">
  <script>
    {snippet}
    window.op('init', {options});
  </script>
  <script src="/op1.js" async></script>
</head>
<body>
  <a id="partner" href="{partner}" onclick="event.preventDefault()">Visit our partner</a>
  <button id="signup" data-track="signup_clicked" data-plan-name="pro">Sign up</button>
</body>
</html>
"""


# -- the site under test ---------------------------------------------------------------------
@dataclass(frozen=True)
class WebSdk:
    snippet: str  # getInitSnippet() from @openpanel/web
    tracker: bytes  # dist/src/tracker.global.js, served as /op1.js


@pytest.fixture(scope="module")
def web_sdk(node_dir: Path) -> WebSdk:
    tracker = node_dir / "node_modules" / "@openpanel" / "web" / "dist" / "src"
    return WebSdk(
        snippet=run_node(node_dir, "init-snippet.mjs"),
        tracker=(tracker / "tracker.global.js").read_bytes(),
    )


class Site(LocalSite):
    """A page origin distinct from the API: serves the test page for any path, and /op1.js."""

    def __init__(self, sdk: WebSdk, server: LiveServer) -> None:
        options = {
            "clientId": server.write.id,
            "apiUrl": server.url,
            "trackScreenViews": True,
            "trackOutgoingLinks": True,
            "trackAttributes": True,
        }
        html = PAGE.format(snippet=sdk.snippet, options=json.dumps(options), partner=PARTNER_URL)
        self.files = {"/op1.js": ("text/javascript", sdk.tracker)}
        self.page = ("text/html; charset=utf-8", html.encode())
        super().__init__()

    def respond(self, path: str) -> tuple[str, bytes]:
        return self.files.get(path, self.page)


# -- watching what the SDK does --------------------------------------------------------------
@dataclass
class Watcher:
    """SDK requests, console errors, page errors, failed and refused requests of one page."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    console_errors: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    refused: list[tuple[int, dict[str, Any]]] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        page.on("console", lambda m: self.console_errors.append(m) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.method} {r.url}: {r.failure}"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _request(self, request: Request) -> None:
        body = sdk_body(request)
        if body is not None:
            self.sent.append(body)

    def sent_named(self, name: str) -> list[dict[str, Any]]:
        return [b for b in self.sent if b["type"] == "track" and b["payload"]["name"] == name]

    def assert_clean(self) -> None:
        """No script errors, failed requests or refusals (a refusal leaves a console error)."""
        assert self.page_errors == []
        assert self.failed == []
        assert self.refused == []
        assert [m.text for m in self.console_errors] == []

    def _response(self, response: Response) -> None:
        if response.status >= 400:
            self.refused.append((response.status, sdk_body(response.request) or {}))


def sdk_body(request: Request) -> dict[str, Any] | None:
    if request.method != "POST" or not request.url.split("?")[0].endswith("/track"):
        return None
    body: dict[str, Any] = request.post_data_json
    return body


@dataclass(frozen=True)
class Answer:
    """The API's response to one SDK request, read while the page is open."""

    status: int
    text: str

    def json(self) -> Any:
        return json.loads(self.text)


def sdk_call(
    page: Page, action: Callable[[], object], kind: str, name: str | None = None
) -> Answer:
    """Do `action` and return the API's answer to the SDK request it causes."""

    def caused(response: Response) -> bool:
        body = sdk_body(response.request)
        return (
            body is not None
            and body["type"] == kind
            and (name is None or body["payload"].get("name") == name)
        )

    with page.expect_response(caused, timeout=15_000) as info:
        action()
    return Answer(info.value.status, info.value.text())


def sdk_js(page: Page, script: str, kind: str, name: str | None = None) -> Answer:
    return sdk_call(page, lambda: page.evaluate(script), kind, name)


def sdk_ids(page: Page) -> dict[str, str]:
    ids: dict[str, str] = page.evaluate(
        "({deviceId: window.openpanel.getDeviceId(), sessionId: window.openpanel.getSessionId()})"
    )
    return ids


@dataclass
class Tab:
    page: Page
    landing: Answer  # the answer to the first screen_view
    watcher: Watcher


@contextmanager
def open_site(browser: Browser, site: Site, user_agent: str) -> Iterator[Tab]:
    """A fresh browser context (no cache, no preflight cache) on the site's landing page."""
    context = browser.new_context(
        user_agent=user_agent, extra_http_headers={"x-forwarded-for": LONDON_IP}
    )
    try:
        page = context.new_page()
        watcher = Watcher()
        watcher.attach(page)
        landing = sdk_call(page, lambda: page.goto(site.origin + "/"), "track", "screen_view")
        yield Tab(page, landing, watcher)
    finally:
        context.close()


# -- one real visit feeds the tests below ----------------------------------------------------
@dataclass
class Visit:
    site_origin: str
    ids: dict[str, str]  # what the SDK exposed before the refused revenue call
    answers: dict[str, Answer]
    watcher: Watcher
    events: list[dict[str, Any]]

    def visit_events(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e["name"] in (*VISIT_EVENTS, "session_start")]

    def screen_view(self, path: str) -> dict[str, Any]:
        (found,) = [e for e in self.events if e["name"] == "screen_view" and e["path"] == path]
        return found


def browse(tab: Tab) -> tuple[dict[str, str], dict[str, Answer]]:
    """The visit after landing: SPA navigation, outgoing link, data-track button, identify, a
    custom event, then a revenue call the server must refuse (no secret), then one more event."""
    page = tab.page
    answers = {
        "landing": tab.landing,
        "pricing": sdk_js(
            page,
            "history.pushState({}, '', '/pricing?utm_source=newsletter')",
            "track",
            "screen_view",
        ),
        "link_out": sdk_call(page, lambda: page.click("#partner"), "track", "link_out"),
        "signup": sdk_call(page, lambda: page.click("#signup"), "track", "signup_clicked"),
        "identify": sdk_js(
            page,
            "window.op('identify', "
            "{profileId: 'user-42', firstName: 'Ada', email: 'ada@example.com'})",
            "identify",
        ),
        "plan_selected": sdk_js(
            page, "window.op('track', 'plan_selected', {plan: 'pro'})", "track", "plan_selected"
        ),
    }
    # Read now: a refused call makes the SDK forget its ids (it copies every response's ids).
    ids = sdk_ids(page)
    answers["revenue"] = sdk_js(page, "window.op('revenue', 1999)", "track", "revenue")
    answers["after_revenue"] = sdk_js(
        page, "window.op('track', 'after_revenue')", "track", "after_revenue"
    )
    return ids, answers


@pytest.fixture(scope="module")
def visit(
    chromium: Browser, web_sdk: WebSdk, tmp_path_factory: pytest.TempPathFactory, geoip_db: Path
) -> Iterator[Visit]:
    with (
        running_server(tmp_path_factory.mktemp("web-sdk"), geoip_db) as server,
        Site(web_sdk, server) as site,
    ):
        with open_site(chromium, site, DESKTOP_CHROME_UA) as tab:
            ids, answers = browse(tab)
            events = flush(server, "compat_flush", includes="profile")
        yield Visit(site.origin, ids, answers, tab.watcher, events)


def test_visit_runs_without_browser_errors_besides_the_refused_revenue(visit: Visit) -> None:
    watcher = visit.watcher
    assert watcher.page_errors == []
    assert watcher.failed == []
    assert [(status, body.get("payload", {}).get("name")) for status, body in watcher.refused] == [
        (401, "revenue")
    ]
    unexpected = [m.text for m in watcher.console_errors if "status of 401" not in m.text]
    assert unexpected == []
    assert len(watcher.console_errors) <= 1


def test_every_sdk_call_is_answered_with_the_visit_ids(visit: Visit) -> None:
    assert visit.ids["deviceId"] and visit.ids["sessionId"]
    for step, response in visit.answers.items():
        if step == "revenue":
            continue
        assert response.status == 200, (step, response.status, response.text)
        assert response.json() == visit.ids, step


def test_screen_views_record_origin_path_title_and_utm_query(visit: Visit) -> None:
    landing = visit.screen_view("/")
    pricing = visit.screen_view("/pricing")
    for view in (landing, pricing):
        assert view["origin"] == visit.site_origin
        assert view["properties"]["__title"] == "Compat shop"
        assert (view["sdkName"], view["sdkVersion"]) == ("web", "1.4.1")
    assert "__query.utm_source" not in landing["properties"]
    assert pricing["properties"]["__query.utm_source"] == "newsletter"


def test_outgoing_link_click_is_tracked_as_link_out(visit: Visit) -> None:
    link = only(visit.events, "link_out")
    assert link["properties"]["href"] == PARTNER_URL
    assert link["properties"]["text"] == "Visit our partner"


def test_data_track_button_click_is_tracked_with_camel_cased_data(visit: Visit) -> None:
    click = only(visit.events, "signup_clicked")
    assert click["properties"]["planName"] == "pro"
    assert "track" not in click["properties"]


def test_visit_events_share_one_session_starting_with_session_start(visit: Visit) -> None:
    events = visit.visit_events()
    assert sorted(names(events)) == sorted(
        ["session_start", "screen_view", "screen_view", *VISIT_EVENTS[1:]]
    )
    for event in events:
        assert event["sessionId"] == visit.ids["sessionId"], event["name"]
        assert event["deviceId"] == visit.ids["deviceId"], event["name"]
    start = only(events, "session_start")
    assert start["createdAt"] < visit.screen_view("/")["createdAt"]


def test_visitor_geo_and_browser_come_from_forwarded_ip_and_user_agent(visit: Visit) -> None:
    for event in visit.visit_events():
        geo = (event["country"], event["region"], event["city"])
        device = (event["browser"], event["os"], event["device"])
        assert (geo, device) == (("GB", "England", "London"), ("Chrome", "Linux", "desktop")), (
            event["name"]
        )


def test_identified_visitor_is_on_later_events_and_has_a_profile(visit: Visit) -> None:
    for name in ("plan_selected", "after_revenue"):
        assert only(visit.events, name)["profileId"] == "user-42", name
    assert visit.screen_view("/")["profileId"] != "user-42"
    profile = only(visit.events, "plan_selected")["profile"]
    assert profile is not None
    assert (profile["id"], profile["firstName"], profile["email"]) == (
        "user-42",
        "Ada",
        "ada@example.com",
    )
    assert profile["isExternal"] is True
    assert profile["properties"].get("country") == "GB"


def test_revenue_without_a_client_secret_is_refused_and_not_stored(visit: Visit) -> None:
    answer = visit.answers["revenue"]
    assert answer.status == 401
    assert "Revenue tracking is not allowed without a client secret" in answer.text
    assert "revenue" not in names(visit.events)
    assert all(e["revenue"] == 0 for e in visit.events)


# -- bots, duplicates and the end of a visit ------------------------------------------------
def test_headless_chrome_is_answered_as_a_bot_and_not_stored(
    chromium: Browser, web_sdk: WebSdk, live_server: LiveServer
) -> None:
    with Site(web_sdk, live_server) as site, open_site(chromium, site, HEADLESS_CHROME_UA) as tab:
        bot = tab.landing.json()["bot"]
        # The SDK could read the 202 (CORS headers present), so it did not retry.
        tab.watcher.assert_clean()
        assert len(tab.watcher.sent_named("screen_view")) == 1
    assert tab.landing.status == 202
    assert bot["name"] and isinstance(bot["type"], str)
    assert names(flush(live_server, "compat_flush")) == ["compat_flush"]


def test_double_sent_event_is_stored_once_and_the_sdk_does_not_retry(
    chromium: Browser, web_sdk: WebSdk, tmp_path: Path, geoip_db: Path
) -> None:
    """Two identical calls at once (a double click): both get ids, one event is stored. The
    window is widened so that a slow machine cannot turn the pair into two distinct calls."""
    with (
        running_server(tmp_path, geoip_db, {"OPENPANEL_DEDUP_WINDOW_MS": "5000"}) as server,
        Site(web_sdk, server) as site,
        open_site(chromium, site, DESKTOP_CHROME_UA) as tab,
    ):
        answers = tab.page.evaluate(
            "Promise.all([1, 2].map(() => window.openpanel.track('double_click', {a: 1})))"
        )
        tab.watcher.assert_clean()
        assert len(tab.watcher.sent_named("double_click")) == 2  # no retry of either
        ids = tab.landing.json()
        events = flush(server, "compat_flush")
    for answer in answers:
        assert answer is not None, "the SDK could not parse the answer to a duplicate"
        assert (answer["deviceId"], answer["sessionId"]) == (ids["deviceId"], ids["sessionId"])
    assert names(events).count("double_click") == 1


@pytest.mark.slow
def test_idle_visit_ends_with_session_end(
    chromium: Browser, web_sdk: WebSdk, tmp_path: Path, geoip_db: Path
) -> None:
    """With a 1-minute visit timeout the reaper (every minute) closes the visit in 1-2 min."""
    with (
        running_server(tmp_path, geoip_db, {"OPENPANEL_SESSION_TIMEOUT_MINUTES": "1"}) as server,
        Site(web_sdk, server) as site,
    ):
        with open_site(chromium, site, DESKTOP_CHROME_UA) as tab:
            sdk_js(tab.page, "history.pushState({}, '', '/pricing')", "track", "screen_view")
            tab.watcher.assert_clean()
        session = tab.landing.json()["sessionId"]
        events = server.wait_for(lambda events: "session_end" in names(events), timeout=150)
    end = only(events, "session_end")
    assert end["sessionId"] == session
    assert (end["origin"], end["path"]) == (site.origin, "/pricing")
    assert end["properties"]["__bounce"] == "false"
    views = [e for e in events if e["name"] == "screen_view"]
    assert len(views) == 2
    assert end["duration"] > 0
    assert end["createdAt"] > max(v["createdAt"] for v in views)
