"""Pure parts of the Events, Profiles and Sessions pages: the view that keeps a page's own keys,
pagers, sortable headers, filter links, time labels and the figures."""

from __future__ import annotations

import json
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar.testing import RequestFactory

from embedded_db.errors import ValidationError
from web.dashboard.explore import (
    PageView,
    clock,
    filter_url,
    number_of,
    offset_label,
    page_view_of,
    pager,
    seconds_between,
    sort_links,
    sort_of,
)
from web.dashboard.explore_charts import activity_figure, trend_figure
from web.dashboard.explore_people import display_name


def page_view(query: dict[str, str], *keys: str) -> PageView:
    request = RequestFactory().get("/dashboard/shop/events", query_params=query)
    return page_view_of(request, "Europe/Berlin", *keys)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_the_view_bar_keeps_the_page_own_keys() -> None:
    v = page_view({"event": "sign up/now?", "range": "30d", "page": "3", "junk": "x"}, "event")
    assert v.get("event") == "sign up/now?" and v.redirect is None
    ranged = query_of(v.url(range="7d"))
    assert ranged == {"event": ["sign up/now?"], "range": ["7d"]}  # no page, no junk
    assert ("event", "sign up/now?") in v.hidden()
    assert "event=" not in v.url("/dashboard/shop/profiles")  # another page: not kept
    chip_less = page_view({"event": "a", "filters": json.dumps([{"name": "path", "value": ["/"]}])})
    assert chip_less.chips()[0].remove_url == "/dashboard/shop/events"  # nothing kept


def test_an_added_filter_redirects_with_the_kept_keys() -> None:
    v = page_view({"event": "signup", "q": "x", "fname": "country", "fvalue": "GB"}, "event", "q")
    assert v.redirect is not None
    target = query_of(v.redirect)
    assert target["event"] == ["signup"] and target["q"] == ["x"] and "fname" not in target
    assert json.loads(target["filters"][0]) == [
        {"name": "country", "operator": "is", "value": ["GB"]}
    ]
    with pytest.raises(ValidationError):
        page_view({"q": "x" * 1001}, "q")


def test_pagers_know_their_rows_and_neighbours() -> None:
    v = page_view({"q": "a"}, "q")
    first = pager(v, 1, 120, 50)
    assert (first.first, first.last, first.pages, first.prev_url) == (1, 50, 3, None)
    assert first.next_url is not None and query_of(first.next_url)["page"] == ["2"]
    assert [n for n, _, chosen in first.sizes if chosen] == [50]
    last = pager(v, 3, 120, 50)
    assert (last.first, last.last, last.next_url) == (101, 120, None)
    assert last.prev_url is not None and query_of(last.prev_url)["page"] == ["2"]
    second = pager(v, 2, 120, 50)
    assert second.prev_url is not None and "page" not in query_of(second.prev_url)
    empty = pager(v, 1, 0, 50)
    assert (empty.first, empty.last, empty.pages, empty.sizes) == (0, 0, 1, ())
    assert pager(v, 1, 30, 20, "spage").sizes == ()  # a page's second list offers no sizes


def test_sort_headers_flip_the_active_column() -> None:
    v = page_view({}, "sort", "dir")
    request = RequestFactory().get("/x", query_params={"sort": "name", "dir": "asc"})
    assert sort_of(request, ("name", "count"), "count", True) == ("name", False)
    assert sort_of(RequestFactory().get("/x"), ("name", "count"), "count", True) == ("count", True)
    for bad in ({"sort": "evil"}, {"sort": "name", "dir": "up"}):
        with pytest.raises(ValidationError):
            sort_of(RequestFactory().get("/x", query_params=bad), ("name",), "name", True)
    links = sort_links(v, {"name": "Name", "count": "Count"}, "count", True, {"count"})
    assert links["count"].active and links["count"].descending
    assert query_of(links["count"].url)["dir"] == ["asc"]  # clicking flips it
    assert query_of(links["name"].url)["dir"] == ["asc"] and not links["name"].active


def test_page_numbers_are_bounded_whole_numbers() -> None:
    assert number_of(RequestFactory().get("/x")) == 1
    assert number_of(RequestFactory().get("/x", query_params={"page": "7"})) == 7
    for bad in ("0", "-1", "1.5", "x", "100001"):
        with pytest.raises(ValidationError):
            number_of(RequestFactory().get("/x", query_params={"page": bad}))


def test_filter_links_add_a_valid_filter_once() -> None:
    v = page_view({"filters": json.dumps([{"name": "country", "value": ["GB"]}])})
    url = filter_url(v, "properties.plan", "<pro>")
    assert url is not None
    assert json.loads(query_of(url)["filters"][0]) == [
        {"name": "country", "operator": "is", "value": ["GB"]},
        {"name": "properties.plan", "operator": "is", "value": ["<pro>"]},
    ]
    assert filter_url(v, "properties.<script>", "x") is None  # a key filters cannot name
    assert filter_url(v, "country", "") is None
    again = filter_url(v, "country", "GB")
    assert again is not None and len(json.loads(query_of(again)["filters"][0])) == 1


def test_times_are_shown_in_the_project_timezone() -> None:
    at = clock("Europe/Berlin")
    assert at("2026-05-01T10:00:00.000Z") == "2026-05-01 12:00:00"
    assert at("2026-05-01T10:00:00.000Z", short=True) == "May 01 12:00"
    assert at(None) == "" and at("not a time") == ""
    assert seconds_between("2026-05-01T10:00:00.000Z", "2026-05-01T10:01:05.500Z") == 65.5
    assert [offset_label(s) for s in (0, 0.44, 12.4, 65.5, 3725)] == [
        "+0.0s",
        "+0.4s",
        "+12s",
        "+1m 06s",
        "+1h 02m",
    ]


def test_a_profile_is_named_by_name_then_email_then_id() -> None:
    assert display_name({"id": "u1", "firstName": "Ada", "lastName": "", "email": "a@x.io"}) == (
        "Ada"
    )
    assert display_name({"id": "u1", "firstName": "", "lastName": None, "email": "a@x.io"}) == (
        "a@x.io"
    )
    assert display_name({"id": "u1", "eventCount": 3}) == "u1"


def test_activity_is_bars_for_short_ranges_and_a_heatmap_for_long_ones() -> None:
    week = [{"date": f"2026-05-{d:02d}", "count": d} for d in range(1, 8)]
    bars = json.loads(activity_figure(week))
    assert bars["data"][0]["type"] == "bar" and sum(bars["data"][0]["y"]) == 28
    start = date(2026, 1, 1)  # a Thursday
    days = [{"date": (start + timedelta(days=i)).isoformat(), "count": i % 5} for i in range(90)]
    heat = json.loads(activity_figure(days))["data"][0]
    assert heat["type"] == "heatmap" and heat["y"][0] == "Mon"
    assert heat["x"][0] == "2025-12-29"  # the Monday of the first week
    assert heat["z"][0][0] is None and heat["z"][3][0] == 0  # Thursday Jan 1 holds count 0
    assert sum(v for row in heat["z"] for v in row if v) == sum(i % 5 for i in range(90))


def test_the_trend_draws_the_previous_period_when_points_carry_it() -> None:
    result = {
        "series": [
            {
                "data": [
                    {"date": "2026-05-01T00:00:00+02:00", "count": 3, "previous": {"value": 1}},
                    {"date": "2026-05-02T00:00:00+02:00", "count": 5, "previous": {"value": 2}},
                ]
            }
        ]
    }
    previous = ["2026-04-29T00:00:00+02:00", "2026-04-30T00:00:00+02:00"]
    figure = json.loads(trend_figure(result, "Events", "day", previous))
    assert [t["y"] for t in figure["data"]] == [[1, 2], [3, 5]]
    alone = json.loads(trend_figure(result, "Events", "day"))
    assert [t["y"] for t in alone["data"]] == [[3, 5]]
    assert json.loads(trend_figure({"series": []}, "Events", "day"))["data"][0]["y"] == []
