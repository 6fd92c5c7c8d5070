"""The Sessions pages over real HTTP against the known traffic of explore_data: the visits of the
range (columns, bounce, filters by click, pages), one visit's timeline with offsets, 404 for an
unknown visit and hostile text rendered inert."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.dashboard.explore_data import (
    XSS_NAME,
    XSS_REFERRER,
    XSS_TITLE,
    XSS_VALUE,
    Row,
    Traffic,
    escaped,
    inert,
    link,
    table,
    traffic_site,
)


@pytest.fixture(scope="module")
def traffic(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[Traffic]:
    with traffic_site(tmp_path_factory.mktemp("sessions"), geoip_db) as site:
        yield site


def visits(traffic: Traffic, **query: str) -> list[Row]:
    page = traffic.owner.get(traffic.page("sessions", **query))
    assert page.status_code == 200, page.text[:500]
    return table(page.text, "sessions")


def by_place(rows: list[Row]) -> dict[str, Row]:
    return {row.cells[6]: row for row in rows}


def test_the_visits_of_the_range_with_their_columns(traffic: Traffic) -> None:
    rows = by_place(visits(traffic))
    assert set(rows) == {"London, GB", "Mountain View, US", "–"}
    ada, bob, eve = rows["London, GB"], rows["Mountain View, US"], rows["–"]
    # started, duration, pages, events, entry → exit, referrer, place, device, bounce
    assert ada.cells[1:] == [
        "0s",
        "2",
        ada.cells[3],
        "/ → /pricing",
        "Hacker News",
        "London, GB",
        "Chrome · Windows desktop",
        "",
    ]
    assert bob.cells[2] == "1" and bob.cells[4] == "/ → /" and bob.cells[5] == "Google"
    assert bob.cells[7] == "Mobile Safari · iOS mobile" and bob.cells[8] == "bounce"
    assert eve.cells[8] == "bounce" and eve.cells[7] == "Firefox · Linux desktop"


def test_clicking_a_value_filters_the_visits(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("sessions"))
    ada = by_place(table(page.text, "sessions"))["London, GB"]
    gb = ada.links["GB"]
    assert json.loads(parse_qs(urlsplit(gb).query)["filters"][0]) == [
        {"name": "country", "operator": "is", "value": ["GB"]}
    ]
    filtered = traffic.owner.get(gb)
    assert [r.cells[6] for r in table(filtered.text, "sessions")] == ["London, GB"]
    assert "country is GB" in filtered.text
    chrome = table(filtered.text, "sessions")[0].links["Chrome"]
    assert len(table(traffic.owner.get(chrome).text, "sessions")) == 1
    firefox = visits(
        traffic,
        filters=json.dumps([{"name": "browser", "operator": "is", "value": ["Firefox"]}]),
    )
    assert [r.cells[8] for r in firefox] == ["bounce"]
    nothing = visits(
        traffic, filters=json.dumps([{"name": "country", "operator": "is", "value": ["FR"]}])
    )
    assert [r.cells for r in nothing] == [
        ["No visits in this range. Widen the range or remove a filter."]
    ]


def test_visits_are_paged(traffic: Traffic) -> None:
    first = traffic.owner.get(traffic.page("sessions", size="2"))
    assert len(table(first.text, "sessions")) == 2 and "1–2 of 3" in first.text
    second = traffic.owner.get(link(first.text, "Next →"))
    assert len(table(second.text, "sessions")) == 1 and "3–3 of 3" in second.text
    ids = {r.attrs["data-session"] for r in table(first.text, "sessions")}
    assert table(second.text, "sessions")[0].attrs["data-session"] not in ids


def test_a_visit_page_shows_its_timeline(traffic: Traffic) -> None:
    ada = by_place(visits(traffic))["London, GB"]
    page = traffic.owner.get(ada.links[ada.cells[0]])
    assert page.status_code == 200, page.text[:500]
    timeline = re.findall(
        r'<li data-event="([^"]+)">\s*<span class="offset"[^>]*>([^<]+)<', page.text
    )
    assert sorted(name for name, _ in timeline) == [
        "purchase",
        "screen_view",
        "screen_view",
        "session_start",
        "signup",
    ]
    assert all(offset.startswith("+") for _, offset in timeline)
    assert "5 events" in page.text and "Hacker News" in page.text
    assert "<dt>Profile</dt><dd><a href=" in page.text and ">ada-1</a>" in page.text
    assert "London, England, GB" in page.text


def test_unknown_visits_are_404(traffic: Traffic) -> None:
    for unknown in ("00000000-0000-0000-0000-000000000000", "<script>alert(1)</script>"):
        answer = traffic.owner.get(traffic.page("sessions", id=unknown))
        assert answer.status_code == 404
        inert(answer.text)


def test_hostile_paths_referrers_and_titles_render_as_text(traffic: Traffic) -> None:
    listed = traffic.owner.get(traffic.page("sessions"))
    inert(listed.text)
    assert escaped(XSS_REFERRER) in listed.text
    eve = by_place(table(listed.text, "sessions"))["–"]
    page = traffic.owner.get(eve.links[eve.cells[0]])
    assert page.status_code == 200
    inert(page.text)
    for text in (XSS_NAME, XSS_REFERRER, XSS_TITLE, XSS_VALUE):
        assert escaped(text) in page.text, text


def test_a_project_without_events_points_to_the_snippet(tmp_path: Path, geoip_db: Path) -> None:
    with traffic_site(tmp_path, geoip_db, send=False) as empty:
        for section, query in (
            ("events", {}),
            ("events", {"tab": "conversions"}),
            ("events/stream", {}),
            ("profiles", {}),
            ("profiles", {"tab": "power"}),
            ("sessions", {}),
        ):
            page = empty.owner.get(empty.page(section, **query))
            assert page.status_code == 200, (section, page.status_code)
            assert "No events yet — install the snippet" in page.text, section
        unknown = empty.owner.get(empty.page("events", event="signup"))
        assert unknown.status_code == 200 and "No occurrences in this range." in unknown.text
