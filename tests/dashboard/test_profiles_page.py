"""The Profiles pages over real HTTP against the known traffic of explore_data: the list (search by
name, email or id; identified only; sorting; pages), power users, a profile's page (metrics,
first and last seen, activity, top events and pages, properties, visits, events), 404 for an
unknown profile and hostile text rendered inert."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dashboard.explore_data import (
    XSS_FIRST,
    XSS_PROFILE,
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
    with traffic_site(tmp_path_factory.mktemp("profiles"), geoip_db) as site:
        yield site


def people(page: str) -> list[str]:
    """The first cell of each profile row: name (or id), then email or id, then the badge."""
    return [row.cells[0] for row in table(page, "profiles")]


ADA = "A Ada Lovelace ada@example.com identified"
EVE = f"< {XSS_FIRST} {XSS_PROFILE} identified"


def bob_of(traffic: Traffic) -> str:
    """Bob's anonymous profile id (his device id)."""
    return next(
        str(e["profileId"]) for e in traffic.server.events() if e["city"] == "Mountain View"
    )


def test_the_list_shows_everyone_most_recently_seen_first(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("profiles"))
    assert page.status_code == 200, page.text[:500]
    rows = table(page.text, "profiles")
    assert len(rows) == 3 and "1–3 of 3" in page.text
    bob = bob_of(traffic)
    assert {r.cells[0] for r in rows} == {ADA, EVE, f"{bob[0].upper()} {bob} anonymous"}
    ada = next(r for r in rows if r.cells[0] == ADA)
    assert ada.cells[1] == "ada@example.com" and ada.cells[4] == "London, GB"
    inert(page.text)
    assert escaped(XSS_FIRST) in page.text and escaped(XSS_PROFILE) in page.text


def test_search_identified_sort_and_pages(traffic: Traffic) -> None:
    get = traffic.owner.get
    # search looks at ids too, and Bob's is random hex, which can hold "ada" (it did once)
    bob = bob_of(traffic)
    with_ada = [ADA] + ([f"{bob[0].upper()} {bob} anonymous"] if "ada" in bob else [])
    assert sorted(people(get(traffic.page("profiles", q="ada")).text)) == sorted(with_ada)
    assert people(get(traffic.page("profiles", q="LOVELACE")).text) == [ADA]
    assert people(get(traffic.page("profiles", q="example.com")).text) == [ADA]
    assert people(get(traffic.page("profiles", q="id=injected")).text) == [EVE]
    assert people(get(traffic.page("profiles", q="%")).text) == [
        "No profile matches “%”. Search looks at names, emails and ids."
    ]
    assert sorted(people(get(traffic.page("profiles", identified="1")).text)) == sorted([ADA, EVE])

    # names sort as "first last" in lower case: Bob has none (" "), Eve's starts with "<"
    by_name = people(get(traffic.page("profiles", sort="name", dir="asc")).text)
    assert by_name[1:] == [EVE, ADA] and by_name[0].endswith("anonymous")
    by_email = people(get(traffic.page("profiles", sort="email", dir="desc")).text)
    assert by_email[0] == ADA

    first = get(traffic.page("profiles", sort="name", dir="asc", size="2"))
    assert people(first.text)[1:] == [EVE] and "1–2 of 3" in first.text
    second = get(link(first.text, "Next →"))
    assert people(second.text) == [ADA] and "3–3 of 3" in second.text
    assert link(second.text, "← Previous").endswith("size=2")


def test_power_users_rank_by_events_of_the_range(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("profiles", tab="power"))
    rows = table(page.text, "profiles")
    # session_start is not counted: Ada 2 views + signup + purchase, Eve and Bob 2 each
    assert [(r.cells[0], r.cells[2]) for r in rows] == [
        (ADA, "4"),
        (EVE, "2"),
        (rows[2].cells[0], "2"),
    ]
    identified = traffic.owner.get(traffic.page("profiles", tab="power", identified="1"))
    assert [r.cells[2] for r in table(identified.text, "profiles")] == ["4", "2"]


def test_a_profile_page_shows_its_numbers_and_history(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("profiles", id="ada-1"))
    assert page.status_code == 200, page.text[:500]
    text = page.text
    cards = dict(
        re.findall(
            r'data-metric="(\w+)"><span class="card-label">[^<]+</span>'
            r'<span class="card-value">([^<]+)</span>',
            text,
        )
    )
    assert cards == {
        "sessions": "1",
        "screen_views": "2",
        "events": "4",
        "avg_session_duration": "0s",
        "bounce_rate": "0.0%",
        "revenue": "0.00",
    }
    assert sorted(r.cells for r in table(text, "top-events")) == [
        ["purchase", "1"],
        ["screen_view", "2"],
        ["signup", "1"],
    ]
    assert sorted(r.cells for r in table(text, "top-pages")) == [["/", "1"], ["/pricing", "1"]]
    assert "<dt>plan</dt><dd>pro</dd>" in text and "<dt>Email</dt><dd>ada@example.com</dd>" in text
    activity = figure(text, "profile-activity")
    assert sum(activity["data"][0]["y"]) == 4 and "1 active day in" in text
    [visit] = table(text, "sessions")
    assert visit.cells[2] == "2" and "/ → /pricing" in visit.cells[4]
    assert "ex-bounce" not in visit.cells[-1]
    session_link = next(href for label, href in visit.links.items() if ":" in label)
    assert "id=" in session_link and traffic.owner.get(session_link).status_code == 200
    events = table(text, "events")
    assert sorted(r.cells[1] for r in events) == [
        "purchase",
        "screen_view",
        "screen_view",
        "session_start",
        "signup",
    ]
    seen = re.search(r"data-first-seen>([^<]+)<", text)
    assert seen and seen.group(1).startswith("20")


def test_unknown_profiles_are_404(traffic: Traffic) -> None:
    for unknown in ("nobody", "<script>alert(1)</script>", "a/b?c#d"):
        answer = traffic.owner.get(traffic.page("profiles", id=unknown))
        assert answer.status_code == 404, unknown
        inert(answer.text)
        assert "<script>alert(1)" not in answer.text


def test_a_hostile_profile_renders_as_text(traffic: Traffic) -> None:
    page = traffic.owner.get(traffic.page("profiles", id=XSS_PROFILE))
    assert page.status_code == 200
    inert(page.text)
    assert f'<h2 class="ex-name" id="pr-title">{escaped(XSS_FIRST)}</h2>' in page.text
    assert f"<dt>note</dt><dd>{escaped(XSS_VALUE)}</dd>" in page.text
