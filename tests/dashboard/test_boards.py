"""Dashboards over real HTTP: a saved funnel pinned to a new dashboard shows its numbers in its
tile; tiles are added, moved, resized and removed by members; viewers only look; a range for
the whole board overrides each report's own; nothing crosses projects."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site
from tests.dashboard.report_data import FUNNEL, funnel_counts, seed_funnel
from tests.dashboard.test_reports_page import figure_of


@pytest.fixture(scope="module")
def seeded(site: Site) -> Site:
    seed_funnel(site)
    return site


@pytest.fixture(scope="module")
def member(seeded: Site) -> Iterator[BrowserSession]:
    browser = seeded.join("member", "board-member@example.com")
    yield browser
    browser.close()


def save(site: Site, browser: BrowserSession, name: str, state: str) -> str:
    """Save a report; returns its id."""
    browser.get(site.page("reports/new"))
    saved = browser.post(site.page("reports"), {"name": name, "state": state})
    assert saved.status_code == 303, saved.text[:500]
    return str(saved.headers["location"].rsplit("/", 1)[1])


def tile_order(page: str) -> list[str]:
    return re.findall(r'<article class="tile [^"]*" id="tile-([0-9a-f]+)"', page)


def test_a_report_pinned_to_a_new_dashboard_shows_its_numbers(
    seeded: Site, member: BrowserSession
) -> None:
    funnel = save(seeded, member, "Signup funnel", FUNNEL)
    pinned = member.post(
        seeded.page(f"reports/{funnel}/pin"), {"dashboard": "", "new_name": "Growth"}
    )
    assert pinned.status_code == 303
    board_path = pinned.headers["location"]
    board = member.get(board_path)
    assert board.status_code == 200 and '<h1 class="page-title">Growth</h1>' in board.text
    assert tile_order(board.text) == [funnel]
    tile_url = f"{board_path}/tiles/{funnel}"
    assert f'hx-get="{tile_url}" hx-trigger="load"' in board.text
    tile = member.get(tile_url, headers={"hx-request": "true"})
    assert tile.status_code == 200 and funnel_counts(tile.text) == ["3", "2", "1"]
    assert "<html" not in tile.text and "data-figure=" in tile.text
    listed = member.get(seeded.page("dashboards")).text
    assert re.search(r">Growth</a></td>\s*<td class=\"num\">1</td>", listed)


def test_tiles_are_added_moved_resized_and_removed(seeded: Site, member: BrowserSession) -> None:
    member.get(seeded.page("dashboards"))
    made = member.post(seeded.page("dashboards"), {"name": "Layout"})
    board = made.headers["location"]
    first = save(seeded, member, "Views", "chart=linear&s0.name=screen_view")
    second = save(seeded, member, "Paths", "chart=pie&s0.name=screen_view&b0=path")
    empty = member.get(board).text
    assert "This dashboard is empty" in empty and "Add report" in empty
    for report in (first, second):
        assert member.post(board + "/tiles", {"report_id": report}).status_code == 303
    assert member.post(board + "/tiles", {"report_id": first}).status_code == 303  # no twice
    assert tile_order(member.get(board).text) == [first, second]
    assert member.post(f"{board}/tiles/{second}/move", {"steps": "-1"}).status_code == 303
    assert tile_order(member.get(board).text) == [second, first]
    resized = member.post(f"{board}/tiles/{first}/resize", {"w": "12", "h": "2"})
    assert resized.status_code == 303
    assert f'class="tile w-12 h-2" id="tile-{first}"' in member.get(board).text
    assert member.post(f"{board}/tiles/{first}/resize", {"w": "5", "h": "1"}).status_code == 400
    assert member.post(f"{board}/tiles/{first}/resize", {"w": "x", "h": "1"}).status_code == 400
    assert member.post(f"{board}/tiles/{second}/remove").status_code == 303
    assert tile_order(member.get(board).text) == [first]
    views = member.get(f"{board}/tiles/{first}?range=7d").text
    assert "data-figure=" in views and "rb-series-table" not in views  # a tile is compact
    assert member.get(f"{board}/tiles/{second}").status_code == 404  # not on the board
    assert member.post(f"{board}/rename", {"name": "Layout 2"}).status_code == 303
    assert '<h1 class="page-title">Layout 2</h1>' in member.get(board).text
    assert member.post(f"{board}/delete").status_code == 303
    assert member.get(board).status_code == 404
    assert member.get(seeded.page(f"reports/{first}")).status_code == 200  # reports stay


def test_a_range_for_the_whole_board_overrides_each_reports_own(
    seeded: Site, member: BrowserSession
) -> None:
    member.get(seeded.page("dashboards"))
    board = member.post(seeded.page("dashboards"), {"name": "Ranges"}).headers["location"]
    report = save(
        seeded, member, "Yesterday's views", "chart=linear&range=yesterday&s0.name=screen_view"
    )
    member.post(board + "/tiles", {"report_id": report})
    own = figure_of(member.get(f"{board}/tiles/{report}").text)["data"][0]
    assert (len(own["y"]), sum(own["y"])) == (24, 0)  # yesterday by hour: the events are today
    page = member.get(board + "?range=today").text
    assert f'hx-get="{board}/tiles/{report}?range=today"' in page
    today = figure_of(member.get(f"{board}/tiles/{report}?range=today").text)["data"][0]
    assert (len(today["y"]), sum(today["y"])) == (24, 3)
    assert member.get(f"{board}/tiles/{report}?range=%3Cscript%3E").status_code == 200


def test_viewers_look_but_do_not_touch(seeded: Site, member: BrowserSession) -> None:
    member.get(seeded.page("dashboards"))
    board = member.post(seeded.page("dashboards"), {"name": "Read only"}).headers["location"]
    report = save(seeded, member, "Funnel for viewers", FUNNEL)
    member.post(board + "/tiles", {"report_id": report})
    viewer = seeded.join("viewer", "board-viewer@example.com")
    try:
        page = viewer.get(board)
        assert page.status_code == 200 and tile_order(page.text) == [report]
        assert "/resize" not in page.text and "Add report" not in page.text
        assert "Create a public link" not in page.text
        tile = viewer.get(f"{board}/tiles/{report}")
        assert funnel_counts(tile.text) == ["3", "2", "1"]
        for action, form in (
            ("/tiles", {"report_id": report}),
            (f"/tiles/{report}/remove", {}),
            (f"/tiles/{report}/resize", {"w": "12", "h": "1"}),
            ("/rename", {"name": "x"}),
            ("/delete", {}),
        ):
            assert viewer.post(board + action, form).status_code == 403, action
        assert viewer.post(seeded.page("dashboards"), {"name": "Mine"}).status_code == 403
    finally:
        viewer.close()


def test_other_projects_ids_lead_nowhere(seeded: Site, member: BrowserSession) -> None:
    owner = seeded.owner
    owner.get(seeded.page("projects/new"))
    created = owner.post(
        seeded.page("projects/new"),
        {"project": "Other", "domain": "other.example.com", "timezone": "UTC"},
    )
    assert created.status_code == 303, created.text[:500]
    other = created.headers["location"].split("/")[2]
    report = save(seeded, owner, "Shop only", FUNNEL)
    owner.get(f"/dashboard/{other}/dashboards")
    board = owner.post(f"/dashboard/{other}/dashboards", {"name": "Other board"})
    other_board = board.headers["location"]
    assert owner.post(other_board + "/tiles", {"report_id": report}).status_code == 404
    assert owner.get(f"/dashboard/{other}/reports/{report}").status_code == 404
    shop_board = other_board.replace(f"/dashboard/{other}/", f"/dashboard/{seeded.project_id}/")
    assert owner.get(shop_board).status_code == 404
