"""The Events pages over real HTTP against the known traffic of explore_data: the names of the
range with their counts (search, sort, pages, the Conversions tab), an event's page (trend,
total, property keys, breakdown whose values filter the view, occurrences), marking a conversion
by role, the stream of all events (search, property filter, pages) and hostile text rendered
inert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.explore_data import (
    XSS_NAME,
    XSS_PATH,
    XSS_QUOTES,
    XSS_TEMPLATE,
    XSS_VALUE,
    Traffic,
    escaped,
    figure,
    inert,
    link,
    table,
    traffic_site,
)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Traffic]:
    with traffic_site(tmp_path_factory.mktemp("events"), geoip_db) as site:
        yield site


def names(page: str) -> list[tuple[str, str]]:
    return [(row.cells[0], row.cells[1]) for row in table(page, "names")]


def test_the_names_of_the_range_with_their_counts(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("events"))
    assert page.status_code == 200, page.text[:500]
    assert names(page.text) == [
        ("screen_view", "4"),
        ("session_start", "3"),
        ("signup", "2"),
        ("purchase", "1"),
        (XSS_NAME, "1"),
    ]
    assert "11 events" in page.text
    inert(page.text)
    assert escaped(XSS_NAME) in page.text


def test_names_are_searched_sorted_and_paged(traffic: Traffic) -> None:
    found = traffic.owner.get(traffic.page("events", q="SIGN"))
    assert names(found.text) == [("signup", "2")]
    none = traffic.owner.get(traffic.page("events", q="nothing-like-this"))
    assert "No event name contains “nothing-like-this”." in none.text
    by_name = traffic.owner.get(traffic.page("events", sort="name", dir="asc"))
    assert [n for n, _ in names(by_name.text)] == [
        XSS_NAME,
        "purchase",
        "screen_view",
        "session_start",
        "signup",
    ]
    first = traffic.owner.get(traffic.page("events", sort="count", dir="asc", size="2"))
    assert names(first.text) == [(XSS_NAME, "1"), ("purchase", "1")]
    assert "1–2 of 5" in first.text and "Page 1 of 3" in first.text
    second = traffic.owner.get(link(first.text, "Next →"))
    assert names(second.text) == [("signup", "2"), ("session_start", "3")]
    assert "3–4 of 5" in second.text
    query = parse_qs(urlsplit(link(second.text, "Next →")).query)
    assert query["page"] == ["3"] and query["sort"] == ["count"] and query["size"] == ["2"]


def test_bad_list_parameters_are_400_not_500(traffic: Traffic) -> None:
    for query in (
        {"page": "abc"},
        {"page": "0"},
        {"size": "5000"},
        {"sort": "bogus"},
        {"dir": "sideways"},
        {"tab": "nope"},
        {"filters": "not json"},
        {"filters": json.dumps([{"name": "path", "operator": "evil", "value": ["x"]}])},
        {"event": "x" * 300},
        {"event": "signup", "segment": "<script>"},
    ):
        answer = traffic.owner.get(traffic.page("events", **query))
        assert answer.status_code == 400, (query, answer.status_code)
        inert(answer.text)
    hostile = json.dumps([{"name": "path", "operator": "is", "value": ["'\\\"{}{{ x }}ü"]}])
    assert traffic.owner.get(traffic.page("events/stream", filters=hostile)).status_code == 200


def test_an_event_page_shows_its_trend_keys_breakdown_and_occurrences(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("events", event="signup"))
    assert page.status_code == 200, page.text[:500]
    assert "<strong data-total>2</strong> events" in page.text
    trend = figure(page.text, "event-chart")
    assert sum(trend["data"][-1]["y"]) == 2
    assert [r.cells for r in table(page.text, "keys")] == [["plan", "2"]]
    breakdown = table(page.text, "breakdown")
    assert sorted(r.cells for r in breakdown) == [["free", "1"], ["pro", "1"]]
    occurrences = table(page.text, "events")
    assert [r.cells[1] for r in occurrences] == ["signup", "signup"]
    users = traffic.owner.get(traffic.page("events", event="signup", segment="user"))
    assert "<strong data-total>2</strong> unique users" in users.text

    pro = next(r for r in breakdown if r.cells[0] == "pro").links["pro"]
    filtered = traffic.owner.get(pro)
    assert filtered.status_code == 200
    query = parse_qs(urlsplit(pro).query)
    assert query["event"] == ["signup"]
    assert json.loads(query["filters"][0]) == [
        {"name": "properties.plan", "operator": "is", "value": ["pro"]}
    ]
    assert "<strong data-total>1</strong> event in" in filtered.text
    assert len(table(filtered.text, "events")) == 1
    assert "properties.plan is pro" in filtered.text  # the view bar's chip


def test_an_event_can_be_broken_down_by_a_column(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("events", event="screen_view", prop="path"))
    rows = sorted(r.cells for r in table(page.text, "breakdown"))
    assert rows == sorted([["/", "2"], ["/pricing", "1"], [_stored(XSS_PATH), "1"]])
    page = traffic.owner.get(traffic.page("events", event="screen_view", prop="country"))
    assert sorted(r.cells for r in table(page.text, "breakdown")) == [["GB", "2"], ["US", "1"]]


def _stored(path: str) -> str:
    """A path as the pipeline stores it (percent-encoded like a browser's URL)."""
    return path.replace("<", "%3C").replace(">", "%3E").replace(" ", "%20").replace('"', "%22")


def test_an_unknown_event_has_an_empty_page(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("events", event="never-sent"))
    assert page.status_code == 200
    assert "<strong data-total>0</strong> events" in page.text
    assert "No occurrences in this range." in page.text


def test_members_mark_conversions_and_viewers_cannot(traffic: Traffic) -> None:
    site, url = traffic.site, traffic.page("events/conversion")
    viewer = site.join("viewer", "viewer@example.com")
    member = site.join("member", "member@example.com")
    try:
        looked = viewer.get(traffic.page("events", event="purchase"))
        assert "Mark as conversion" not in looked.text and "Not a conversion" in looked.text
        assert viewer.post(url, {"event": "purchase", "conversion": "1"}).status_code == 403

        page = member.get(traffic.page("events", event="purchase"))
        assert "Mark as conversion" in page.text
        marked = member.post(url, {"event": "purchase", "conversion": "1"})
        assert marked.status_code == 303
        assert marked.headers["location"] == traffic.page("events", event="purchase")
        shown = member.follow(marked)
        assert 'data-conversion="on"' in shown.text and "Unmark conversion" in shown.text
        tab = viewer.get(traffic.page("events", tab="conversions"))
        assert names(tab.text) == [("purchase Conversion", "1")]
        assert 'data-conversion="on"' in viewer.get(traffic.page("events", event="purchase")).text

        swapped = member.post(
            url, {"event": "purchase", "conversion": "0"}, headers={"hx-request": "true"}
        )
        assert swapped.status_code == 200
        assert 'id="ev-conversion"' in swapped.text and "Mark as conversion" in swapped.text
        assert "<html" not in swapped.text
        empty = viewer.get(traffic.page("events", tab="conversions"))
        assert "No conversions yet." in empty.text
        assert member.post(url, {"event": "", "conversion": "1"}).status_code == 400
    finally:
        viewer.close()
        member.close()


def test_the_stream_lists_every_event_with_search_filters_and_pages(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("events/stream"))
    assert page.status_code == 200
    rows = table(page.text, "events")
    assert len(rows) == 11 and "1–11 of 11" in page.text
    assert sorted(r.cells[1] for r in rows).count("session_start") == 3

    searched = traffic.owner.get(traffic.page("events/stream", q="pricing"))
    assert [(r.cells[1], r.cells[2]) for r in table(searched.text, "events")] == [
        ("screen_view", "/pricing")
    ]
    added = traffic.owner.get(
        traffic.page("events/stream", q="sign", fname="properties.plan", fop="is", fvalue="free")
    )
    assert added.status_code == 303
    target = parse_qs(urlsplit(added.headers["location"]).query)
    assert target["q"] == ["sign"] and "fname" not in target
    narrowed = traffic.owner.follow(added)
    assert [r.cells[1] for r in table(narrowed.text, "events")] == ["signup"]

    first = traffic.owner.get(traffic.page("events/stream", size="4"))
    assert len(table(first.text, "events")) == 4 and "1–4 of 11" in first.text
    last = traffic.owner.get(traffic.page("events/stream", size="4", page="3"))
    assert len(table(last.text, "events")) == 3 and "9–11 of 11" in last.text


def test_hostile_names_paths_and_properties_render_as_text(traffic: Traffic) -> None:
    stream = traffic.owner.get(traffic.page("events/stream"))
    event = traffic.owner.get(traffic.page("events", event=XSS_NAME))
    breakdown = traffic.owner.get(traffic.page("events", event=XSS_NAME, prop="properties.tpl"))
    for page in (stream, event, breakdown):
        assert page.status_code == 200
        inert(page.text)
    for text in (XSS_NAME, XSS_VALUE, XSS_TEMPLATE, XSS_QUOTES):
        assert escaped(text) in stream.text, text
    assert "<strong data-total>1</strong> event in" in event.text
    assert escaped(XSS_TEMPLATE) in breakdown.text
