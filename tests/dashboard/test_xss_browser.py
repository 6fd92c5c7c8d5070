"""Hostile data is rendered inert, checked in Debian's chromium with the pages' own CSP.

Events whose names, paths, referrers, titles and property values (and a profile's names) are
script payloads are tracked, and saved reports, a dashboard and share links are named with
them. Then every page that exists is opened: each section in the sidebar (whichever pages the
appliance has), the detail pages their lists link to, the report builder with every chart type,
saved reports, dashboards, the sharing page and the public share pages (logged out). On each:
no dialog opens, no injected element or inline script exists, no `javascript:` link, no
console error (a CSP refusal would be one), and `{{7*7}}` shows literally wherever it shows."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import quote, urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page

from embedded_db.meta import MetaStore
from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import start_server
from tests.dashboard.report_browser import VIEWPORT, Watcher, chrome_ua
from tests.support.server import LiveServer

pytestmark = pytest.mark.browser

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
PAYLOADS = [SCRIPT, IMG, JS_URL, TEMPLATE]
ORIGIN = "https://shop.example.com"
CHARTS = ("linear", "bar", "pie", "metric", "map", "funnel", "conversion", "retention", "sankey")
# Anything a payload could have planted: elements, handlers, inline scripts, script URLs.
INJECTED = (
    'img[src="x"], [onerror], [onload], [onclick], [onmouseover], iframe, object, embed, '
    "script:not([src^='/static/']), a[href^='javascript:' i], [src^='javascript:' i]"
)


def send(server: LiveServer, client: str, kind: str, payload: dict[str, object], n: int) -> None:
    headers = {
        "openpanel-client-id": client,
        "origin": ORIGIN,
        "user-agent": chrome_ua(120 + n),
        "x-forwarded-for": "81.2.69.142",
    }
    body = {"type": kind, "payload": payload}
    sent = httpx.post(server.url + "/track", json=body, headers=headers, timeout=30)
    assert sent.status_code == 200, (payload, sent.text)


def track_hostile_data(server: LiveServer, client: str) -> None:
    """Per payload a visitor views a page named after it, from a referrer made of it, then
    does an event named it with it in a property; one profile carries them in its names."""
    for n, payload in enumerate(PAYLOADS):
        props = {
            "__path": ORIGIN + "/" + quote(payload, safe=""),
            "__referrer": JS_URL if payload == JS_URL else f"https://ref.example/{payload}",
            "__title": payload,
            "plan": payload,
        }
        profile = {"profileId": f"xss-{n}"}
        send(server, client, "track", {"name": "screen_view", "properties": props, **profile}, n)
        send(
            server,
            client,
            "track",
            {"name": payload, "properties": {"note": payload}, **profile},
            n,
        )
        send(
            server,
            client,
            "identify",
            {
                "profileId": f"xss-{n}",
                "firstName": payload,
                "lastName": SCRIPT,
                "email": f"xss{n}@example.com",
                "properties": {"bio": payload},
            },
            n,
        )


def client_of(server: LiveServer, project_id: str) -> str:
    meta = MetaStore(server.data_dir / "meta.db")
    try:
        return next(c.id for c in meta.list_clients(project_id) if not c.secret_hash)
    finally:
        meta.close()


def hostile_reports(owner: BrowserSession, project_id: str) -> list[str]:
    """A saved funnel and a dashboard (with a public link) named with payloads, and an
    overview link; returns the share links."""
    base = f"/dashboard/{project_id}"
    owner.get(base + "/reports/new")
    state = urlencode({"chart": "funnel", "s0.name": "screen_view", "s1.name": TEMPLATE})
    saved = owner.post(base + "/reports", {"name": f"{TEMPLATE} {SCRIPT}", "state": state})
    report = saved.headers["location"].rsplit("/", 1)[1]
    pinned = owner.post(f"{base}/reports/{report}/pin", {"dashboard": "", "new_name": IMG})
    board = pinned.headers["location"]
    shared = owner.post(board + "/share", {"password": ""}).headers["location"]
    overview = owner.post(base + "/shares", {"password": ""}).headers["location"]
    return [
        "/share/" + shared.split("?shared=", 1)[1],
        "/share/" + overview.split("?created=", 1)[1] + "?range=7d",
    ]


def builder_urls(project_id: str) -> list[str]:
    """The builder with the payloads as event names, labels, filters and a breakdown."""
    urls = []
    for chart in CHARTS:
        query = {"chart": chart, "range": "7d", "s0.name": "screen_view", "s1.name": TEMPLATE}
        query |= {"s2.name": IMG, "s2.label": IMG, "s3.name": SCRIPT, "b0": "path"}
        query |= {"f0.name": "path"}
        query |= {"f0.op": "isNot", "f0.value": JS_URL}
        if chart in ("retention", "sankey"):
            query = {k: v for k, v in query.items() if not k.startswith("b0")}
        urls.append(f"/dashboard/{project_id}/reports/new?" + urlencode(query))
    return urls


def settle(page: Page) -> None:
    """Wait until the page's htmx fragments (tiles, widgets) have arrived."""
    for _ in range(50):
        if not page.locator(".tile-loading, .htmx-request").count():
            break
        page.wait_for_timeout(200)
    page.wait_for_timeout(700)


def check_inert(page: Page, watcher: Watcher, url: str) -> str:
    """Open `url` and assert nothing from the data runs; returns the page's text."""
    response = page.goto(url)
    assert response is not None and response.status == 200, (url, response and response.status)
    settle(page)
    found = page.locator(INJECTED).count()
    assert found == 0, (url, page.locator(INJECTED).first.evaluate("e => e.outerHTML"))
    text = page.inner_text("body")
    if "7*7" in text:
        assert TEMPLATE in text, url
    assert watcher.dialogs == [], (url, watcher.dialogs)
    return text


def section_links(page: Page, project_id: str) -> list[str]:
    """The sidebar's sections: whatever pages the appliance has."""
    page.goto(f"/dashboard/{project_id}/overview")
    sections = page.eval_on_selector_all(
        ".sidebar .nav a", "els => els.map(e => e.getAttribute('href'))"
    )
    return [s.split("?", 1)[0] for s in sections]


def detail_links(page: Page, section: str) -> list[str]:
    """Links of a list page to its items: a sub-path, or the page with an `id`/`event`."""
    links = page.eval_on_selector_all(
        f"main a[href^='{section}']", "els => els.map(e => e.getAttribute('href'))"
    )
    return [
        link
        for link in dict.fromkeys(links)
        if link.split("?", 1)[0] != section or re.search(r"[?&](id|event)=", link)
    ]


def test_script_payloads_in_the_data_stay_text_on_every_page(
    chromium: Browser, tmp_path: Path, geoip_db: Path
) -> None:
    server = start_server(tmp_path, {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    owner = BrowserSession(server.url)
    watcher = Watcher()
    try:
        project_id = owner.setup().headers["location"].split("/")[2]
        track_hostile_data(server, client_of(server, project_id))
        owner.get(f"/dashboard/{project_id}/overview")
        shares = hostile_reports(owner, project_id)
        context = chromium.new_context(viewport=VIEWPORT, base_url=server.url)
        cookie = owner.http.cookies["op_session"]
        context.add_cookies([{"name": "op_session", "value": cookie, "url": server.url}])
        page = watcher.attach(context.new_page())
        _wait_for_events(page, project_id)
        visited = set()
        for section in section_links(page, project_id):
            if section in visited:
                continue
            visited.add(section)
            check_inert(page, watcher, section + "?range=7d")
            for link in detail_links(page, section)[:4]:
                check_inert(page, watcher, link)
        for chart, url in zip(CHARTS, builder_urls(project_id), strict=True):
            text = check_inert(page, watcher, url)
            assert 'value="&lt;script&gt;alert(1)&lt;/script&gt;"' in page.content(), url
            if chart in ("linear", "bar", "pie", "funnel"):
                assert TEMPLATE in text and (SCRIPT in text or chart == "funnel"), url
        report_links = page.eval_on_selector_all(
            "a[href*='/reports/']", "els => els.map(e => e.getAttribute('href'))"
        )
        check_inert(page, watcher, f"/dashboard/{project_id}/reports")
        saved = [u for u in report_links if re.search(r"/reports/[0-9a-f]{32}$", u)]
        for url in [*saved, f"/dashboard/{project_id}/shares"]:
            check_inert(page, watcher, url)
        board_text = check_inert(page, watcher, f"/dashboard/{project_id}/dashboards")
        assert IMG in board_text
        boards = page.eval_on_selector_all(
            "table.boards a", "els => els.map(e => e.getAttribute('href'))"
        )
        for url in boards:
            assert TEMPLATE in check_inert(page, watcher, url)
        context.clear_cookies()
        for url in shares:
            check_inert(page, watcher, url)
        context.close()
        assert watcher.problems == [], json.dumps(watcher.problems, indent=1)
    finally:
        owner.close()
        server.stop()


def _wait_for_events(page: Page, project_id: str) -> None:
    """Until the pipeline stored the tracked events (the builder counts them)."""
    url = f"/dashboard/{project_id}/reports/csv?chart=linear&range=7d&s0.name=screen_view"
    for _ in range(100):
        rows = page.request.get(url).text().strip().splitlines()
        if sum(int(r.rsplit(",", 1)[1]) for r in rows[1:]) == len(PAYLOADS):
            return
        page.wait_for_timeout(200)
    raise AssertionError("the tracked events did not arrive")
