"""`/insights/{projectId}/…` over real HTTP against events sent through `/track`."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sdk import CHROME, SAFARI
from tests.support.server import LiveServer


def send_views(server: LiveServer, ip: str, ua: str, *paths: str) -> None:
    referrer = "https://news.ycombinator.com/"
    for path in paths:
        server.visitors().track(
            "screen_view", ip, ua, __path=f"https://example.com{path}", __referrer=referrer
        )


def insights(server: LiveServer, path: str, **params: Any) -> httpx.Response:
    return server.insights(path, **params)


def test_insights_report_what_was_tracked(live_server: LiveServer) -> None:
    send_views(live_server, "81.2.69.142", CHROME, "/", "/pricing", "/signup")
    send_views(live_server, "8.8.8.8", SAFARI, "/pricing")
    live_server.wait_for(lambda ev: sum(e["name"] == "screen_view" for e in ev) == 4)

    overview = insights(live_server, "overview", range="today").json()
    metrics = {k: v["value"] for k, v in overview["metrics"].items()}
    assert (
        metrics["unique_visitors"],
        metrics["total_sessions"],
        metrics["total_screen_views"],
        metrics["bounce_rate"],
    ) == (2, 2, 4, 50.0)
    assert overview["range"]["interval"] == "hour" and len(overview["series"]) == 24
    assert (
        insights(live_server, "metrics", range="7d").json()["metrics"]["total_sessions"]["value"]
        == 2
    )
    assert insights(live_server, "live").json() == {"visitors": 2}

    pages = insights(live_server, "pages").json()["data"]
    assert pages[0] == {
        "origin": "https://example.com",
        "path": "/pricing",
        "sessions": 2,
        "pageviews": 2,
    }
    performance = insights(live_server, "pages/performance", sort="path", direction="asc").json()
    assert [(p["path"], p["views"], p["sessions"]) for p in performance["data"]] == [
        ("/", 1, 1),
        ("/pricing", 2, 2),
        ("/signup", 1, 1),
    ]
    assert insights(live_server, "pages/performance", sort="nope").json()["field"] == "sort"
    entries = insights(live_server, "pages/entry_exit", mode="entry").json()["data"]
    assert {(p["path"], p["sessions"]) for p in entries} == {("/", 1), ("/pricing", 1)}
    countries = insights(live_server, "country").json()["data"]
    assert {(c["name"], c["sessions"]) for c in countries} == {("GB", 1), ("US", 1)}
    cities = insights(live_server, "city", search="lon").json()["data"]
    assert [(c["name"], c["prefix"]) for c in cities] == [("London", "GB")]
    referrers = insights(live_server, "referrer_name").json()["data"]
    assert referrers[0]["name"] == "Hacker News" and referrers[0]["sessions"] == 2
    filtered = insights(
        live_server, "browser", filters=[{"name": "path", "operator": "is", "value": ["/signup"]}]
    ).json()["data"]
    assert [b["name"] for b in filtered] == ["Chrome"]
    paged = insights(live_server, "country", limit=1).json()
    assert len(paged["data"]) == 1 and paged["next"] == 1
    active = insights(live_server, "active_users", range="today", days=7).json()
    assert active["days"] == 7 and [p["users"] for p in active["data"]] == [2]
    assert insights(live_server, "active_users", days=91).json()["field"] == "days"
    geo = insights(live_server, "traffic/geo").json()
    assert {(c["country"], c["sessions"]) for c in geo["countries"]} == {("GB", 1), ("US", 1)}
    london = [c for c in geo["cities"] if c["city"] == "London"]
    assert london and london[0]["latitude"] == 51.5142 and london[0]["longitude"] == -0.0931


def test_outbound_links_count_link_out_clicks(live_server: LiveServer) -> None:
    links = ("https://github.com/x", "https://github.com/x", "https://docs.example/y")
    for i, href in enumerate(links):  # distinct texts: identical bodies would be duplicates
        live_server.visitors().track("link_out", "81.2.69.142", href=href, text=f"link {i}")
    live_server.wait_for(lambda ev: sum(e["name"] == "link_out" for e in ev) == 3)
    links = insights(live_server, "outbound_links").json()["data"]
    assert links == [
        {"href": "https://github.com/x", "clicks": 2, "sessions": 1},
        {"href": "https://docs.example/y", "clicks": 1, "sessions": 1},
    ]
    assert insights(live_server, "outbound_links", search="docs").json()["data"][0]["clicks"] == 1


def test_insights_refuse_bad_queries_clearly(live_server: LiveServer) -> None:
    assert insights(live_server, "nope").status_code == 400
    bad_range = insights(live_server, "overview", range="5y")
    assert bad_range.status_code == 400 and bad_range.json()["field"] == "range"
    bad_interval = insights(live_server, "overview", range="30d", interval="minute")
    assert bad_interval.status_code == 400 and bad_interval.json()["field"] == "interval"
    custom = insights(
        live_server, "overview", range="custom", startDate="2026-02-01", endDate="2026-01-01"
    )
    assert custom.status_code == 400 and custom.json()["field"] == "endDate"
    writer = httpx.get(
        f"{live_server.url}/insights/{live_server.project_id}/overview",
        headers=live_server.write.headers(),
        timeout=30,
    )
    assert writer.status_code == 403


REFERRER_BREAKDOWNS = (
    "referrer_name",
    "referrer_type",
    "referrer",
    "utm_source",
    "utm_medium",
    "utm_campaign",
)


def test_traffic_lists_break_visits_down_by_a_dimension(live_server: LiveServer) -> None:
    send_views(live_server, "81.2.69.142", CHROME, "/")  # London, from Hacker News
    campaign = "/?utm_source=newsletter&utm_medium=email&utm_campaign=spring"
    live_server.visitors().track(
        "screen_view", "8.8.8.8", SAFARI, __path=f"https://example.com{campaign}"
    )
    live_server.wait_for(lambda ev: sum(e["name"] == "screen_view" for e in ev) == 2)

    def rows(path: str, **params: Any) -> list[tuple[str, str, int]]:
        answer = insights(live_server, path, **params)
        assert answer.status_code == 200, answer.text
        return [(r["name"], r["prefix"], r["sessions"]) for r in answer.json()["data"]]

    default = insights(live_server, "traffic/referrers").json()
    assert default["breakdown"] == "referrer_name"
    assert ("Hacker News", "", 1) in rows("traffic/referrers")
    for breakdown in REFERRER_BREAKDOWNS:  # the same lists as the per-dimension routes
        assert rows("traffic/referrers", breakdown=breakdown) == rows(breakdown), breakdown
    assert ("newsletter", "", 1) in rows("traffic/referrers", breakdown="utm_source")
    assert rows("traffic/referrers", breakdown="utm_campaign", search="spr") == [("spring", "", 1)]

    assert insights(live_server, "traffic/devices").json()["breakdown"] == "device"
    assert rows("traffic/devices") == rows("device")
    browsers = rows("traffic/devices", breakdown="browser")
    assert sorted(browsers) == [("Chrome", "", 1), ("Mobile Safari", "", 1)]
    assert rows("traffic/devices", breakdown="os") == rows("os")
    paged = insights(live_server, "traffic/devices", breakdown="browser", limit=1).json()
    assert (len(paged["data"]), paged["next"]) == (1, 1)
    only_chrome = [{"name": "browser", "operator": "is", "value": ["Chrome"]}]
    assert rows("traffic/devices", breakdown="os", filters=only_chrome) == [("Windows", "", 1)]

    assert rows("traffic/geo", breakdown="city") == rows("city")
    assert ("London", "GB", 1) in rows("traffic/geo", breakdown="city")
    assert sorted(rows("traffic/geo", breakdown="country")) == [("GB", "", 1), ("US", "", 1)]
    assert rows("traffic/geo", breakdown="region") == rows("region")
    geo_map = insights(live_server, "traffic/geo").json()  # without a breakdown: the map
    assert {c["country"] for c in geo_map["countries"]} == {"GB", "US"}
    assert set(insights(live_server, "map", breakdown="city").json()) == {"countries", "cities"}

    for path, bad in (
        ("traffic/referrers", "nope"),
        ("traffic/referrers", "country"),
        ("traffic/devices", "utm_source"),
        ("traffic/geo", "browser"),
    ):
        refused = insights(live_server, path, breakdown=bad)
        assert refused.status_code == 400 and refused.json()["field"] == "breakdown", path
    assert insights(live_server, "traffic/nope").status_code == 404
    for path in ("traffic/referrers", "traffic/devices", "traffic/geo"):
        url = f"{live_server.url}/insights/{live_server.project_id}/{path}"
        secretless = httpx.get(url, headers=live_server.read.headers(secret=False), timeout=30)
        assert secretless.status_code == 401, path
