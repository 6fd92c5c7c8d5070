"""Known traffic for the Events, Profiles and Sessions page tests, sent through `/track` of a real
appliance set up through its dashboard, including hostile names, paths, referrers, titles and
property values that every page must render as inert text.

The traffic (all sent "now", so the default range of 7 days holds it), by hand:
- Ada (Chrome on Windows, London GB), identified as `ada-1` (Ada Lovelace, ada@example.com,
  plan=pro): screen_view `/`, screen_view `/pricing`, `signup` {plan: pro},
  `purchase` {plan: pro} — one visit, 2 pages, not a bounce.
- Bob (Safari on iOS, Mountain View US), anonymous: screen_view `/`, `signup` {plan: free}
  — one visit, 1 page, a bounce.
- Eve (Firefox on Linux, no location), identified with a hostile id and name: screen_view of a
  hostile path with a hostile referrer and title, and one event with a hostile name and
  properties — one visit, 1 page, a bounce.
So: screen_view 4, signup 2, purchase 1, the hostile event 1 (plus a session_start per visit);
three visits, three profiles (two identified).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from markupsafe import escape

from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site, start_server
from tests.support.sdk import CHROME, FIREFOX, SAFARI, Visitors
from tests.support.server import ApiClient, LiveServer

ORIGIN = "https://shop.example.com"
ADA_IP, BOB_IP, EVE_IP = "81.2.69.142", "8.8.8.8", "9.9.9.9"

# Script payloads: each would show a dialog or add an element if a page rendered it as HTML.
XSS_NAME = '<script>alert("event")</script>'
XSS_PATH = '/<img src=x onerror=alert("path")>'
XSS_REFERRER = 'https://evil.example/"><script>alert("ref")</script>'
XSS_TITLE = "</title><script>alert('title')</script>"
XSS_VALUE = '<svg onload=alert("value")>'
XSS_TEMPLATE = "{{ 7*7 }}{% if 1 %}x{% endif %}"
XSS_QUOTES = "\"quoted' `value` \\ back"
XSS_PROFILE = '"><img src=x id=injected onerror=alert("profile")>'
XSS_FIRST = "<script>document.body.dataset.pwned='1'</script>"
HOSTILE = (XSS_NAME, XSS_PATH, XSS_REFERRER, XSS_VALUE, XSS_PROFILE, XSS_FIRST)


@dataclass
class Traffic:
    """A set-up appliance with the known traffic in it, and the owner's browser."""

    site: Site
    client_id: str
    ids: dict[str, dict[str, str]] = field(default_factory=dict)  # visitor → /track answer

    @property
    def server(self) -> LiveServer:
        return self.site.server

    @property
    def owner(self) -> BrowserSession:
        return self.site.owner

    def page(self, section: str, **query: str) -> str:
        path = self.site.page(section)
        return path + ("?" + httpx.QueryParams(query).__str__() if query else "")

    def send(self, kind: str, payload: dict[str, Any], ip: str, ua: str) -> dict[str, Any]:
        """One SDK request, as the web SDK sends it from the project's site."""
        return dict(Visitors(self.server.url, self.client_id, ORIGIN).send(kind, payload, ip, ua))

    def track(
        self, name: str, ip: str, ua: str, profile: str | None = None, **props: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {"name": name, "properties": props}
        if profile is not None:
            payload["profileId"] = profile
        return self.send("track", payload, ip, ua)

    def view(self, path: str, ip: str, ua: str, profile: str | None = None, **props: Any) -> None:
        self.track("screen_view", ip, ua, profile, __path=ORIGIN + path, **props)


def client_id_of(site: Site) -> str:
    """The browser (write) client setup made, read from the snippet page."""
    page = site.owner.get(site.page("install"))
    found = re.search(r"clientId: '([^']+)'", page.text)
    assert found, page.text[:500]
    return found.group(1)


def send_known_traffic(traffic: Traffic) -> None:
    """Send the traffic of the module docstring and wait until the pipeline stored it."""
    t = traffic
    t.send(
        "identify",
        {
            "profileId": "ada-1",
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "properties": {"plan": "pro"},
        },
        ADA_IP,
        CHROME,
    )
    t.view("/", ADA_IP, CHROME, "ada-1", __referrer="https://news.ycombinator.com/")
    t.view("/pricing", ADA_IP, CHROME, "ada-1")
    t.track("signup", ADA_IP, CHROME, "ada-1", plan="pro")
    t.track("purchase", ADA_IP, CHROME, "ada-1", plan="pro")
    t.view("/", BOB_IP, SAFARI, __referrer="https://www.google.com/")
    t.track("signup", BOB_IP, SAFARI, plan="free")
    t.send(
        "identify",
        {"profileId": XSS_PROFILE, "firstName": XSS_FIRST, "properties": {"note": XSS_VALUE}},
        EVE_IP,
        FIREFOX,
    )
    t.view(XSS_PATH, EVE_IP, FIREFOX, XSS_PROFILE, __referrer=XSS_REFERRER, __title=XSS_TITLE)
    t.track(
        XSS_NAME,
        EVE_IP,
        FIREFOX,
        XSS_PROFILE,
        note=XSS_VALUE,
        tpl=XSS_TEMPLATE,
        quotes=XSS_QUOTES,
    )
    t.server.wait_for(lambda events: sum(e["name"] != "session_start" for e in events) == 8)


def read_client_of(site: Site) -> ApiClient:
    """A read client the owner creates on the clients page (the export polls with it)."""
    page = site.owner.post(site.page("settings/clients"), {"type": "read", "name": "tests"})
    client = re.search(r'id="new-client-id">([^<]+)<', page.text)
    secret = re.search(r'id="new-client-secret">([^<]+)<', page.text)
    assert client and secret, page.text[:500]
    return ApiClient(client.group(1), secret.group(1))


@contextmanager
def traffic_site(folder: Path, geoip_db: Path, send: bool = True) -> Iterator[Traffic]:
    """A fresh appliance (with the test GeoIP database) set up by its owner, with the known
    traffic in it unless `send` is False; stopped on exit."""
    server = start_server(folder, {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    owner = BrowserSession(server.url)
    try:
        created = owner.setup()
        assert created.status_code == 303, created.text[:500]
        site = Site(server, owner, created.headers["location"].split("/")[2])
        server.project_id = site.project_id
        server.read = read_client_of(site)
        traffic = Traffic(site, client_id_of(site))
        if send:
            send_known_traffic(traffic)
        yield traffic
    finally:
        owner.close()
        server.stop()


@dataclass
class Row:
    """One body row of a rendered table: its cells' text and its links (text → href)."""

    cells: list[str]
    links: dict[str, str] = field(default_factory=dict)
    attrs: dict[str, str] = field(default_factory=dict)


class _TableReader(HTMLParser):
    def __init__(self, name: str) -> None:
        super().__init__(convert_charrefs=True)
        self.name, self.depth, self.rows = name, 0, []  # depth: nested tables inside ours
        self.row: Row | None = None
        self.cell: list[str] | None = None
        self.link: tuple[str, list[str]] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "table" and (self.depth or values.get("data-table") == self.name):
            self.depth += 1
        elif self.depth and tag == "tbody":
            self.in_body = True
        elif self.depth and self.in_body and tag == "tr" and "data-detail" not in values:
            self.row = Row([], attrs=values)
        elif self.row is not None and tag == "td":
            self.cell = []
        elif self.cell is not None and tag == "a":
            self.link = (values.get("href", ""), [])

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.link is not None and self.row is not None:
            href, text = self.link
            self.row.links[" ".join("".join(text).split())] = href
            self.link = None
        elif tag == "td" and self.cell is not None and self.row is not None:
            self.row.cells.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table" and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)
        if self.link is not None:
            self.link[1].append(data)


def table(page: str, name: str) -> list[Row]:
    """The body rows of the table marked `data-table="name"` (empty-state rows included; the
    folded detail rows under event rows left out)."""
    reader = _TableReader(name)
    reader.feed(page)
    return reader.rows


def figure(page: str, element_id: str) -> dict[str, Any]:
    """The Plotly figure a page hands its chart element `element_id`."""
    found = re.search(r'id="' + re.escape(element_id) + r'" data-figure="([^"]*)"', page)
    assert found, f"no figure {element_id}"
    return dict(json.loads(html.unescape(found.group(1))))


def link(page: str, text: str) -> str:
    """The href of the first link whose text is `text`."""
    for href, inner in re.findall(r'<a [^>]*href="([^"]*)"[^>]*>(.*?)</a>', page, re.S):
        if " ".join(re.sub(r"<[^>]+>", "", inner).split()) == text:
            return html.unescape(href)
    raise AssertionError(f"no link {text!r}")


def inert(page: str) -> None:
    """No hostile string of the traffic appears as markup in the page (escaped text is fine)."""
    for hostile in HOSTILE:
        assert hostile not in page, hostile
    for tag in ("<img src=x", "<svg onload", "<script>alert", "<script>document"):
        assert tag not in page, tag


def escaped(text: str) -> str:
    """`text` as the autoescaping templates write it."""
    return str(escape(text))
