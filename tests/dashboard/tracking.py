"""Known traffic for the dashboard page tests: events sent through the real `/track` endpoint
of a live appliance with the project's browser client (as the site's pages would), with
timestamps a few minutes in the past so visits have known durations and time on page."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.dashboard.browser_session import BrowserSession, poll
from tests.dashboard.conftest import Site, start_server
from tests.support.sdk import CHROME, SAFARI, Visitors

SITE = "https://shop.example.com"  # the origin the setup form's domain allows
LONDON, US, PARIS = "81.2.69.142", "8.8.8.8", "203.0.113.7"  # test GeoIP: London, US, Paris


def browser_client_id(owner: BrowserSession, project_id: str) -> str:
    """The client id the snippet page shows (the project's secret-less write client)."""
    page = owner.get(f"/dashboard/{project_id}/install").text
    found = re.search(r"clientId: '([0-9a-f-]{36})'", page)
    assert found, page[:500]
    return found.group(1)


@dataclass
class Tracker:
    """Sends SDK calls to one appliance as the site's visitors' browsers do."""

    url: str
    client_id: str
    origin: str = SITE  # one the project's CORS setting allows

    def body(
        self,
        name: str,
        path: str | None,
        minutes_ago: float,
        props: dict[str, Any],
        base: datetime | None = None,
    ) -> dict[str, Any]:
        """An SDK track call, timed `minutes_ago` before `base` (default: now)."""
        properties = dict(props)
        if path is not None:
            properties["__path"] = self.origin + path
        moment = (base or datetime.now(UTC)) - timedelta(minutes=minutes_ago)
        properties["__timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return {"type": "track", "payload": {"name": name, "properties": properties}}

    def post(self, body: dict[str, Any], ip: str, ua: str) -> httpx.Response:
        return Visitors(self.url, self.client_id, self.origin).post(body, ip, ua)

    def send(
        self,
        name: str,
        ip: str,
        ua: str = CHROME,
        path: str | None = None,
        minutes_ago: float = 0,
        base: datetime | None = None,
        **props: Any,
    ) -> httpx.Response:
        response = self.post(self.body(name, path, minutes_ago, props, base), ip, ua)
        assert response.status_code == 200, response.text
        return response


def tracker(site: Site) -> Tracker:
    return Tracker(site.server.url, browser_client_id(site.owner, site.project_id))


def send_known_visits(t: Tracker) -> None:
    """Three visits (see each test module for the numbers they make):
    A (London, Chrome): / (from Hacker News) → /pricing 2 min later → /docs 3 min later, then an
      outbound link click a minute after that: 6 minutes, not a bounce;
    B (US, Safari on an iPhone): /pricing, then a signup event 2 minutes later: a bounce (one
      page) of 2 minutes;
    C (Paris, Chrome): / from a newsletter campaign, nothing else: a bounce of 0 s."""
    now = datetime.now(UTC)  # one clock for all, so durations are exact
    t.send("screen_view", LONDON, CHROME, "/", 10, now, __referrer="https://news.ycombinator.com/")
    t.send("screen_view", US, SAFARI, "/pricing", 9, now)
    t.send("screen_view", LONDON, CHROME, "/pricing", 8, now)
    t.send("signup", US, SAFARI, "/pricing", 7, now, plan="pro")
    t.send("screen_view", PARIS, CHROME, "/?utm_source=newsletter&utm_medium=email", 6, now)
    t.send("screen_view", LONDON, CHROME, "/docs", 5, now)
    t.send("link_out", LONDON, CHROME, "/docs", 4, now, href="https://github.com/x", text="GitHub")


def wait_for_events(site: Site, count: int, timeout: float = 20) -> None:
    """Wait until the project has stored `count` events (the snippet page's live status)."""
    status = site.page("install/status")
    expected = f"{count} events so far"
    response = poll(lambda: site.owner.get(status), lambda r: expected in r.text, timeout)
    assert expected in response.text, response.text[-400:]


@contextmanager
def known_site(folder: Path, geoip_db: Path) -> Iterator[Site]:
    """An appliance (with the test GeoIP database) set up by its owner, holding the visits of
    `send_known_visits`: 7 sent events and a session_start per visit."""
    folder.mkdir(parents=True, exist_ok=True)
    server = start_server(folder, {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    owner = BrowserSession(server.url)
    try:
        created = owner.setup()
        assert created.status_code == 303, created.text[:500]
        site = Site(server, owner, created.headers["location"].split("/")[2])
        send_known_visits(tracker(site))
        wait_for_events(site, 10)
        yield site
    finally:
        owner.close()
        server.stop()


_ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
_CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
_TAG = re.compile(r"<[^>]+>")


def cell_text(cell_html: str) -> str:
    """The visible text of a cell (tags dropped, entities decoded, whitespace folded)."""
    return " ".join(html.unescape(_TAG.sub(" ", cell_html)).split())


def table_rows(page: str) -> list[list[str]]:
    """The text of each body row's cells, in order (header rows have no <td>)."""
    rows = []
    for row in _ROW.findall(page):
        cells = [cell_text(c) for c in _CELL.findall(row)]
        if cells and "Show more" not in row:
            rows.append(cells)
    return rows


def card_values(page: str) -> dict[str, str]:
    """The overview's metric cards: metric → the value shown."""
    found = re.findall(
        r'data-metric="(\w+)".*?<span class="card-value">\s*(.*?)\s*</span>', page, re.S
    )
    return {metric: html.unescape(value) for metric, value in found}
