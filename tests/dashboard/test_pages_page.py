"""The Pages section over real HTTP on known visits (tests/dashboard/tracking.py): views,
visits, visitors, bounce rate and time on page per page, sorting by every column, search,
paging, the htmx table fragment, the filter a click opens, and bad or hostile input.

By hand: / was viewed by A (then /pricing 2 min later) and C (a bounce): 2 views, 50%, 2m 00s;
/pricing by A (then /docs 3 min later) and B (a bounce): 2 views, 50%, 3m 00s; /docs by A, its
last page: 1 view, 0%, no time measured. In a second project, visitor D views /p01 … /p26."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from tests.dashboard.conftest import Site
from tests.dashboard.tracking import (
    CHROME,
    Tracker,
    browser_client_id,
    known_site,
    table_rows,
    wait_for_events,
)

D_IP = "192.0.2.80"
WIKI = "https://wiki.example.com"
KNOWN = [
    ["/ https://shop.example.com", "2", "2", "2", "50.0%", "2m 00s"],
    ["/pricing https://shop.example.com", "2", "2", "2", "50.0%", "3m 00s"],
    ["/docs https://shop.example.com", "1", "1", "1", "0.0%", "–"],
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Site]:
    with known_site(tmp_path_factory.mktemp("pages"), geoip_db) as found:
        yield found


def pages(site: Site, **params: str) -> list[list[str]]:
    response = site.owner.get(site.page("pages") + "?" + urlencode(params))
    assert response.status_code == 200, response.text[:400]
    return table_rows(response.text)


def paths(rows: list[list[str]]) -> list[str]:
    return [r[0].split(" ")[0] for r in rows]


def test_every_page_with_its_numbers(site: Site) -> None:
    assert pages(site) == KNOWN


@pytest.mark.parametrize(
    ("sort", "direction", "expected"),
    [
        ("views", "asc", ["/docs", "/", "/pricing"]),
        ("path", "asc", ["/", "/docs", "/pricing"]),
        ("path", "desc", ["/pricing", "/docs", "/"]),
        ("avg_time", "desc", ["/pricing", "/", "/docs"]),
        ("avg_time", "asc", ["/docs", "/", "/pricing"]),
        ("bounce_rate", "asc", ["/docs", "/", "/pricing"]),
        ("sessions", "desc", ["/", "/pricing", "/docs"]),
        ("visitors", "asc", ["/docs", "/", "/pricing"]),
    ],
)
def test_sorting_by_each_column(site: Site, sort: str, direction: str, expected: list[str]) -> None:
    assert paths(pages(site, sort=sort, dir=direction)) == expected


def test_headers_link_to_their_sort_and_turn_it_round(site: Site) -> None:
    page = site.owner.get(site.page("pages") + "?sort=avg_time&dir=desc").text
    assert 'aria-sort="descending"' in page
    link = re.search(
        r'<a href="([^"]+)" hx-get="[^"]+" hx-push-url="true" data-sort="avg_time"', page
    )
    assert link
    query = parse_qs(urlsplit(html.unescape(link.group(1))).query)
    assert (query["sort"], query["dir"]) == (["avg_time"], ["asc"])


def test_search_and_the_htmx_fragment(site: Site) -> None:
    assert paths(pages(site, search="PRIC")) == ["/pricing"]
    fragment = site.owner.get(
        site.page("pages") + "?search=doc",
        headers={"hx-request": "true", "hx-target": "pages-table"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<div id="pages-table"')
    assert table_rows(fragment.text) == [KNOWN[2]]
    none = site.owner.get(site.page("pages") + "?search=%25zz").text
    assert table_rows(none) == [] and "No page matches “%zz”." in none


def test_a_page_opens_the_overview_filtered_to_it(site: Site) -> None:
    page = site.owner.get(site.page("pages")).text
    link = re.search(r'<a href="([^"]+)" title="Open the overview for /pricing"', page)
    assert link
    url = html.unescape(link.group(1))
    assert urlsplit(url).path == site.page("overview")
    filters = json.loads(parse_qs(urlsplit(url).query)["filters"][0])
    assert filters == [{"name": "path", "operator": "is", "value": ["/pricing"]}]
    assert "path is /pricing" in site.owner.get(url).text


def test_view_filters_apply_to_the_table(site: Site) -> None:
    only_us = json.dumps([{"name": "country", "operator": "is", "value": ["US"]}])
    assert pages(site, filters=only_us) == [
        ["/pricing https://shop.example.com", "1", "1", "1", "100.0%", "–"]
    ]


def test_paging_through_many_pages(site: Site) -> None:
    made = site.owner.post(
        site.page("projects/new"),
        {"project": "Wiki", "domain": "wiki.example.com", "timezone": "UTC"},
    )
    wiki = Site(site.server, site.owner, made.headers["location"].split("/")[2])
    sender = Tracker(site.server.url, browser_client_id(site.owner, wiki.project_id), WIKI)
    for i in range(1, 27):
        sender.send("screen_view", D_IP, CHROME, f"/p{i:02d}")
    wait_for_events(wiki, 1 + 26)  # the visit's session_start and its views
    first = wiki.owner.get(wiki.page("pages") + "?sort=path&dir=desc").text
    assert len(table_rows(first)) == 25 and "26 pages · page 1 of 2" in first
    assert paths(table_rows(first))[:2] == ["/p26", "/p25"]
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = pages(wiki, sort="path", dir="desc", page="2")
    assert paths(second) == ["/p01"]


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "views; DROP TABLE events"},
        {"dir": "sideways"},
        {"page": "0"},
        {"page": "x"},
        {"filters": "[{]"},
    ],
)
def test_bad_table_parameters_are_a_400(site: Site, params: dict[str, str]) -> None:
    response = site.owner.get(site.page("pages") + "?" + urlencode(params))
    assert response.status_code == 400


def test_hostile_search_is_escaped_and_harmless(site: Site) -> None:
    hostile = "'\"\\{x:String}<script>alert(1)</script>_ü"
    response = site.owner.get(site.page("pages") + "?" + urlencode({"search": hostile}))
    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;" in response.text


def test_a_project_without_events_says_what_to_do(site: Site) -> None:
    made = site.owner.post(
        site.page("projects/new"),
        {"project": "Docs", "domain": "docs.example.com", "timezone": "UTC"},
    )
    docs = made.headers["location"].split("/")[2]
    assert "No events yet — install the snippet" in site.owner.get(f"/dashboard/{docs}/pages").text
