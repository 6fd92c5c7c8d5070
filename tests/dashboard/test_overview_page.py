"""The Overview over real HTTP on known visits (tests/dashboard/tracking.py): the metric cards
with sparklines, every widget tab's rows, search, "show more" paging, the filter a row adds,
empty states, and hostile input that never becomes a server error.

By hand, from `send_known_visits`: 3 visitors, 3 visits, 5 page views (1.67 per visit), 2 of
3 visits bounced (66.7%), visit durations 6 min and 2 min (C's 0 s is not averaged): 4m 00s.
Eleven `step-NN` events sent 20 minutes late belong to no visit: they only add event names."""

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
    card_values,
    known_site,
    table_rows,
    tracker,
    wait_for_events,
)

LATE_IP = "192.0.2.44"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Site]:
    with known_site(tmp_path_factory.mktemp("overview"), geoip_db) as found:
        sender = tracker(found)
        for i in range(1, 12):  # past events (> 15 min): stored without a visit
            sender.send(f"step-{i:02d}", LATE_IP, CHROME, "/wizard", minutes_ago=20)
        wait_for_events(found, 21)
        yield found


def widget(site: Site, **params: str) -> str:
    response = site.owner.get(site.page("overview/widget") + "?" + urlencode(params))
    assert response.status_code == 200, response.text[:400]
    assert "<html" not in response.text  # a fragment for htmx
    return response.text


def test_cards_show_the_known_numbers_with_sparklines(site: Site) -> None:
    page = site.owner.get(site.page("overview"))
    assert page.status_code == 200
    assert card_values(page.text) == {
        "unique_visitors": "3",
        "total_sessions": "3",
        "total_screen_views": "5",
        "views_per_session": "1.67",
        "bounce_rate": "66.7%",
        "avg_session_duration": "4m 00s",
        "total_revenue": "0.00",
    }
    assert page.text.count('class="sparkline"') == 7
    assert "No events yet" not in page.text
    for key in ("pages", "sources", "utm", "geo", "devices", "events"):
        assert f'id="widget-{key}"' in page.text and 'hx-trigger="load"' in page.text


def test_compare_shows_the_change_against_the_empty_previous_period(site: Site) -> None:
    page = site.owner.get(site.page("overview") + "?compare=1").text
    assert page.count('class="card-change') == 7


@pytest.mark.parametrize(
    ("params", "rows"),
    [
        ({"w": "pages"}, [["/", "2", "2"], ["/pricing", "2", "2"], ["/docs", "1", "1"]]),
        ({"w": "pages", "tab": "entry"}, [["/", "2", "4"], ["/pricing", "1", "1"]]),
        (
            {"w": "pages", "tab": "exit"},
            [["/", "1", "1"], ["/docs", "1", "3"], ["/pricing", "1", "1"]],
        ),
        (
            {"w": "sources"},
            [["Direct / none", "1", "1"], ["Hacker News", "1", "3"], ["newsletter", "1", "1"]],
        ),
        ({"w": "sources", "tab": "referrer_type"}, [["(not set)", "2", "2"], ["social", "1", "3"]]),
        ({"w": "utm"}, [["(not set)", "2", "4"], ["newsletter", "1", "1"]]),
        ({"w": "utm", "tab": "utm_medium"}, [["(not set)", "2", "4"], ["email", "1", "1"]]),
        (
            {"w": "geo"},
            [["France", "1", "1"], ["United Kingdom", "1", "3"], ["United States", "1", "1"]],
        ),
        (
            {"w": "geo", "tab": "city"},
            [
                ["London United Kingdom", "1", "3"],
                ["Mountain View United States", "1", "1"],
                ["Paris France", "1", "1"],
            ],
        ),
        ({"w": "devices"}, [["desktop", "2", "4"], ["mobile", "1", "1"]]),
        (
            {"w": "devices", "tab": "os_version"},
            [["10 Windows", "2", "4"], ["17.5 iOS", "1", "1"]],
        ),
        ({"w": "events", "tab": "links"}, [["https://github.com/x", "1", "1"]]),
    ],
    ids=lambda p: "-".join(p.values()) if isinstance(p, dict) else "",
)
def test_each_widget_tab_lists_the_known_rows(
    site: Site, params: dict[str, str], rows: list[list[str]]
) -> None:
    assert table_rows(widget(site, **params)) == rows


def test_the_countries_tab_draws_a_world_map_of_iso3_codes(site: Site) -> None:
    page = widget(site, w="geo")
    found = re.search(r'data-figure="([^"]+)"', page)
    assert found
    figure = json.loads(html.unescape(found.group(1)))
    [shape] = figure["data"]
    assert (shape["type"], shape["locationmode"]) == ("choropleth", "ISO-3")
    assert sorted(zip(shape["locations"], shape["z"], strict=True)) == [
        ("FRA", 1),
        ("GBR", 1),
        ("USA", 1),
    ]
    assert "data-figure" not in widget(site, w="geo", tab="region")


def test_show_more_pages_through_a_long_list(site: Site) -> None:
    first = widget(site, w="events")
    names = [r[0] for r in table_rows(first)]
    assert names == ["screen_view", "link_out", "signup", *(f"step-{i:02d}" for i in range(1, 8))]
    assert table_rows(first)[0] == ["screen_view", "5", "3"]
    more = re.search(r'hx-get="([^"]+)"[^>]*>Show more', first)
    assert more
    rest = site.owner.get(html.unescape(more.group(1)))
    assert "<table" not in rest.text and "Show more" not in rest.text
    assert [r[0] for r in table_rows(rest.text)] == [f"step-{i:02d}" for i in range(8, 12)]


def test_search_narrows_a_list_literally(site: Site) -> None:
    assert table_rows(widget(site, w="sources", search="HACK", part="table")) == [
        ["Hacker News", "1", "3"]
    ]
    assert table_rows(widget(site, w="events", search="step-1")) == [
        ["step-10", "1", "1"],
        ["step-11", "1", "1"],
    ]
    nothing = widget(site, w="pages", search="%", part="table")
    assert table_rows(nothing) == [] and "Nothing matches “%”." in nothing


def test_clicking_a_row_adds_it_as_a_filter(site: Site) -> None:
    page = widget(site, w="geo")
    link = re.search(r'<a href="([^"]+)" title="Filter by country: United Kingdom"', page)
    assert link
    url = html.unescape(link.group(1))
    assert url.startswith(site.page("overview") + "?")
    filtered = site.owner.get(url).text
    assert "country is GB" in filtered
    cards = card_values(filtered)
    assert (cards["unique_visitors"], cards["total_screen_views"]) == ("1", "3")
    filters = json.loads(parse_qs(urlsplit(url).query)["filters"][0])
    assert filters == [{"name": "country", "operator": "is", "value": ["GB"]}]
    pages = widget(site, w="pages", filters=json.dumps(filters))
    assert table_rows(pages) == [["/", "1", "1"], ["/docs", "1", "1"], ["/pricing", "1", "1"]]
    again = re.search(r'<a href="([^"]+)" title="Filter by page: /docs"', pages)
    assert again
    both = json.loads(parse_qs(urlsplit(html.unescape(again.group(1))).query)["filters"][0])
    assert both == [*filters, {"name": "path", "operator": "is", "value": ["/docs"]}]


def test_hostile_input_is_rejected_or_escaped_never_a_server_error(site: Site) -> None:
    hostile = "'\"\\{x:String}<script>alert(1)</script>%_ü"
    for params in (
        {"w": "pages", "search": hostile},
        {"w": "events", "search": hostile, "part": "rows", "offset": "10"},
        {"w": "geo", "filters": json.dumps([{"name": "city", "value": [hostile]}])},
    ):
        response = site.owner.get(site.page("overview/widget") + "?" + urlencode(params))
        assert response.status_code == 200, params
        assert "<script>alert(1)" not in response.text
    for params in (
        {"w": "nope"},
        {"w": "pages", "offset": "-1"},
        {"w": "pages", "offset": "x"},
        {"w": "pages", "filters": "{not json"},
        {"w": "pages", "filters": json.dumps([{"name": "nope()", "value": ["x"]}])},
    ):
        response = site.owner.get(site.page("overview/widget") + "?" + urlencode(params))
        assert response.status_code == 400, params


def test_a_project_without_events_says_what_to_do(site: Site) -> None:
    made = site.owner.post(
        site.page("projects/new"),
        {"project": "Blog", "domain": "blog.example.com", "timezone": "UTC"},
    )
    assert made.status_code == 303
    blog = made.headers["location"].split("/")[2]
    page = site.owner.get(f"/dashboard/{blog}/overview").text
    assert "No events yet — install the snippet" in page
    empty = site.owner.get(f"/dashboard/{blog}/overview/widget?w=geo").text
    assert "Nothing here for this period" in empty and "data-figure" not in empty
