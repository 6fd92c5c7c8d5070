"""`/insights/{projectId}/funnel`, `conversion`, `retention` over real HTTP, with events sent
through `/track` (explicit `__timestamp`s a few minutes apart, so the order is certain)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.support.sdk import CHROME, SAFARI
from tests.support.server import LiveServer
from tests.web.test_insights_http import insights

PRICING = {
    "name": "screen_view",
    "filters": [{"name": "path", "operator": "is", "value": ["/pricing"]}],
}


def send(server: LiveServer, ip: str, ua: str, name: str, when: datetime, path: str = "") -> None:
    props: dict[str, Any] = {"__timestamp": when.isoformat().replace("+00:00", "Z")}
    if path:
        props["__path"] = f"https://example.com{path}"
    server.visitors().track(name, ip, ua, **props)


def track_shop(server: LiveServer) -> None:
    """Chrome visitor: /pricing then signup 2 minutes later; Safari visitor: /pricing only."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    send(server, "81.2.69.142", CHROME, "screen_view", start, "/pricing")
    send(server, "81.2.69.142", CHROME, "signup", start + timedelta(minutes=2))
    send(server, "8.8.8.8", SAFARI, "screen_view", start + timedelta(minutes=1), "/pricing")
    server.wait_for(lambda ev: sum(e["name"] in ("screen_view", "signup") for e in ev) == 3)


def test_funnel_conversion_and_retention_over_http(live_server: LiveServer) -> None:
    track_shop(live_server)
    result = insights(live_server, "funnel", range="7d", steps=[PRICING, "signup"])
    assert result.status_code == 200, result.text
    body = result.json()
    assert [s["count"] for s in body["steps"]] == [2, 1]
    assert body["totals"]["conversion"] == 50.0
    assert body["totals"]["timeToConvert"]["medianSeconds"] == 120.0
    assert body["suggestions"][0]["kind"] == "biggest_dropoff"
    assert body["suggestions"][0]["text"].startswith("50% of visits that reached /pricing")
    assert body["range"]["range"] == "7d"

    by_browser = insights(
        live_server,
        "funnel",
        series=[PRICING, {"name": "signup"}],
        windowHours=1,
        groupBy="profile_id",
        breakdowns=[{"name": "browser"}],
    ).json()
    assert [(s["value"], s["totals"]["converted"]) for s in by_browser["breakdown"]["series"]] == [
        ("Chrome", 1),
        ("Mobile Safari", 0),
    ]

    for steps in (["screen_view", "signup"], "screen_view,signup"):
        plain = httpx.get(
            f"{live_server.url}/insights/{live_server.project_id}/funnel",
            params={"steps": steps},  # repeated parameters, or a comma list
            headers=live_server.read.headers(),
            timeout=30,
        ).json()
        assert [s["count"] for s in plain["steps"]] == [2, 1]

    conv = insights(live_server, "conversion", range="7d", steps=[PRICING, "signup"]).json()
    assert conv["range"]["interval"] == "day" and len(conv["series"][0]["data"]) == 7
    assert conv["totals"] == {"total": 2, "conversions": 1, "rate": 50.0}

    lookahead = [{"name": "path", "operator": "regex", "value": ["(?=/pricing)"]}]
    for path in ("funnel", "conversion", "retention"):
        bad = insights(live_server, path, steps=[PRICING, "signup"], filters=lookahead)
        assert bad.status_code == 400 and bad.json()["field"] == "filters.value", bad.text

    for path in ("retention", "retention/cohort"):
        ret = insights(live_server, path, range="7d", event="screen_view", criteria="on").json()
        assert (ret["interval"], ret["periods"], ret["overall"]["size"]) == ("day", 7, 2)
        assert ret["overall"]["values"][0] == {"period": 0, "count": 2, "size": 2, "percent": 100.0}


def test_bad_analysis_queries_are_400_naming_the_field(live_server: LiveServer) -> None:
    steps = json.dumps(["a", "b"])
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("funnel", {}, "steps"),
        ("funnel", {"steps": ["only"]}, "steps"),
        ("funnel", {"steps": [f"s{i}" for i in range(11)]}, "steps"),
        ("funnel", {"steps": ["a", {"name": 5}]}, "steps.1.name"),
        ("funnel", {"steps": "[{"}, "steps"),
        ("funnel", {"steps": steps, "window": "soon"}, "window"),
        ("funnel", {"steps": steps, "window": 0}, "window"),
        ("funnel", {"steps": steps, "group": "device_id"}, "group"),
        ("funnel", {"steps": steps, "breakdown": "nope"}, "breakdown"),
        ("funnel", {"steps": steps, "breakdown": "properties.a'b"}, "breakdown"),
        ("funnel", {"steps": steps, "breakdown": ["os", "browser"]}, "breakdown"),
        ("funnel", {"steps": steps, "filters": "[{"}, "filters"),
        ("funnel", {"steps": steps, "range": "5y"}, "range"),
        (
            "funnel",
            {"steps": ["a", {"name": "b", "filters": [{"name": "path", "operator": "drop"}]}]},
            "steps.1.filters.0.operator",
        ),
        (
            "funnel",
            {
                "steps": [
                    {"name": "a", "filters": [{"name": "path", "operator": "gt", "value": ["x"]}]},
                    "b",
                ]
            },
            "steps.0.filters.value",
        ),
        ("conversion", {"steps": steps, "range": "30d", "interval": "minute"}, "interval"),
        ("retention", {"interval": "hour"}, "interval"),
        ("retention", {"criteria": "sometimes"}, "criteria"),
        ("retention", {"startEvent": [f"e{i}" for i in range(21)]}, "startEvent"),
        ("retention", {"returnEvent": [""]}, "returnEvent"),
        ("retention/cohort", {"range": "12m", "interval": "day"}, "interval"),
    ]
    for path, params, field in cases:
        r = insights(live_server, path, **params)
        assert r.status_code == 400, (path, params, r.status_code, r.text)
        assert r.json()["field"] == field, (path, params, r.json())


def test_hostile_values_never_break_the_reports(live_server: LiveServer) -> None:
    hostile = ["x' OR 1=1 --", "\\", "\\'", "{project:String}", "}{", "ünï😀", "%_", "\x00"]
    for value in hostile:
        flt = [{"name": "properties.plan", "operator": "is", "value": [value]}]
        contains = [{"name": "path", "operator": "contains", "value": [value]}]
        for path, params in (
            ("funnel", {"steps": [value, "signup"], "filters": flt}),
            ("funnel", {"steps": [{"name": "a", "filters": contains}, value], "breakdown": "os"}),
            ("conversion", {"steps": ["a", value], "filters": contains}),
            ("retention", {"event": value, "returnEvent": value, "filters": flt}),
        ):
            r = insights(live_server, path, **params)
            assert r.status_code == 200, (path, value, r.status_code, r.text)
    writer = httpx.get(
        f"{live_server.url}/insights/{live_server.project_id}/funnel",
        params={"steps": '["a","b"]'},
        headers=live_server.write.headers(),
        timeout=30,
    )
    assert writer.status_code == 403
