"""Known events for the report, dashboard and share tests, sent through the real `/track` of a
dashboard test site (the project's secret-less browser client, from the site's own origin).

The funnel fixture: three visitors (three browsers, so three devices and visits)
  V1: screen_view /        → signup_started → signup_done
  V2: screen_view /        → signup_started
  V3: screen_view /pricing
so screen_view counts 3 (2 on "/", 1 on "/pricing") and the funnel screen_view → signup_started
→ signup_done has 3, 2 and 1 visits (33.3 % convert)."""

from __future__ import annotations

import re
from typing import Any

import httpx

from embedded_db.meta import MetaStore
from tests.dashboard.browser_session import BrowserSession, poll
from tests.dashboard.conftest import Site

ORIGIN = "https://shop.example.com"
UAS = [
    f"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    f"Chrome/13{n}.0.0.0 Safari/537.36"
    for n in range(1, 10)
]
FUNNEL = "chart=funnel&s0.name=screen_view&s1.name=signup_started&s2.name=signup_done"
VISITS = [
    [("screen_view", "/"), ("signup_started", "/signup"), ("signup_done", "/welcome")],
    [("screen_view", "/"), ("signup_started", "/signup")],
    [("screen_view", "/pricing")],
]


def browser_client(site: Site) -> str:
    """The id of the project's secret-less write client (made by setup)."""
    meta = MetaStore(site.server.data_dir / "meta.db")
    try:
        clients = meta.list_clients(site.project_id)
    finally:
        meta.close()
    return next(c.id for c in clients if c.type == "write" and not c.secret_hash)


def track(
    site: Site, client: str, ua: str, name: str, path: str, properties: dict[str, Any] | None = None
) -> None:
    """One event as the site's browser sends it."""
    body = {
        "type": "track",
        "payload": {"name": name, "properties": {"__path": ORIGIN + path, **(properties or {})}},
    }
    headers = {"openpanel-client-id": client, "origin": ORIGIN, "user-agent": ua}
    sent = httpx.post(site.server.url + "/track", json=body, headers=headers, timeout=30)
    assert sent.status_code == 200, sent.text


def seed_funnel(site: Site) -> None:
    """Send the three visits and wait until the pipeline stored them."""
    client = browser_client(site)
    for ua, visit in zip(UAS, VISITS, strict=False):
        for name, path in visit:
            track(site, client, ua, name, path)
    url = "reports/new?chart=linear&s0.name=screen_view&s1.name=signup_started&s2.name=signup_done"
    wait_for_totals(site.owner, site.page(url), ["3", "2", "1"])


def totals(html: str) -> list[str]:
    """The Total column of a builder's series table, row by row."""
    table = html.split('class="table rb-series-table"', 1)[-1].split("</table>", 1)[0]
    return re.findall(r'<tr><td>[^<]*</td><td class="num">([^<]*)</td>', table)


def wait_for_totals(browser: BrowserSession, url: str, expected: list[str]) -> None:
    """Poll a line-chart builder URL until its series total `expected`."""
    page = poll(lambda: browser.get(url), lambda r: totals(r.text) == expected, 30)
    assert totals(page.text) == expected


def funnel_counts(html: str) -> list[str]:
    """The visit counts of a funnel table, step by step."""
    return re.findall(r'<td class="num step-count">([^<]*)</td>', html)
