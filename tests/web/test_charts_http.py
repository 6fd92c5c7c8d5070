"""`/export/charts` and `/insights/{projectId}/chart` over real HTTP, against events sent through
`/track`: numbers, auth, and clear 400s (never a 5xx) for hostile input."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.sdk import api_get
from tests.support.server import LiveServer


def send(server: LiveServer, ip: str, name: str, **props: Any) -> None:
    server.visitors().track(name, ip, **props)


def get(
    server: LiveServer, path: str, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    return api_get(
        server.url + path, server.read.headers() if headers is None else headers, **params
    )


def test_charts_over_http(live_server: LiveServer) -> None:
    for seq, path in enumerate(("/", "/pricing", "/pricing")):  # seq: not a duplicate request
        send(
            live_server, "81.2.69.142", "screen_view", __path=f"https://example.com{path}", seq=seq
        )
    send(live_server, "8.8.8.8", "screen_view", __path="https://example.com/pricing")
    send(live_server, "8.8.8.8", "signup", plan="pro")
    live_server.wait_for(lambda ev: sum(e["name"] in ("screen_view", "signup") for e in ev) == 5)
    pid = live_server.project_id

    exported = get(
        live_server,
        "/export/charts",
        projectId=pid,
        range="7d",
        series=[{"name": "screen_view"}, {"name": "screen_view", "segment": "user"}],
        breakdowns=[{"name": "path"}],
    )
    assert exported.status_code == 200, exported.text
    body = exported.json()
    found = {tuple(s["names"]): s["metrics"]["sum"] for s in body["series"]}
    assert found == {
        ("(A) screen_view", "/pricing"): 3,
        ("(B) screen_view", "/pricing"): 2,
        ("(A) screen_view", "/"): 1,
        ("(B) screen_view", "/"): 1,
    }
    assert len(body["series"][0]["data"]) == 7 and body["metrics"]["sum"] == 7

    legacy = get(live_server, "/api/export/charts", events=[{"name": "signup"}], previous=True)
    [signup] = legacy.json()["series"]
    assert signup["metrics"]["sum"] == 1 and signup["metrics"]["previous"]["sum"]["value"] == 0

    insight = get(
        live_server,
        f"/insights/{pid}/chart",
        range="today",
        series=[
            {"name": "signup"},
            {"name": "screen_view"},
            {"type": "formula", "formula": "A/B*100", "hideSeries": ["A", "B"]},
        ],
        globalFilters=[{"name": "country", "operator": "is", "value": ["US"]}],
        chartType="metric",
    ).json()
    [rate] = insight["series"]
    assert rate["metrics"]["count"] == 100  # the US visitor: 1 signup / 1 view
    assert insight["range"]["interval"] == "hour" and insight["range"]["timezone"] == "UTC"


def test_charts_refuse_bad_input_with_400(live_server: LiveServer) -> None:
    pid = live_server.project_id
    chart = f"/insights/{pid}/chart"
    bad = [
        ({"series": "not json"}, "series"),
        (
            {"series": [{"name": "e"}, {"type": "formula", "formula": "__import__('os')"}]},
            "series.1.formula",
        ),  # fmt: skip
        (
            {"series": [{"name": "e"}, {"type": "formula", "formula": "A**9**9**9"}]},
            "series.1.formula",
        ),  # fmt: skip
        ({"series": [{"name": "e", "segment": "drop table"}]}, "series.0.segment"),
        (
            {"series": [{"name": "e"}], "breakdowns": [{"name": "1; DROP TABLE x"}]},
            "breakdowns.0.name",
        ),  # fmt: skip
        ({"series": [{"name": "e"}], "interval": "minute"}, "interval"),
        (
            {
                "series": [
                    {
                        "name": "e",
                        "filters": [{"name": "path", "operator": "regex", "value": ["(unclosed"]}],
                    }
                ]
            },
            "series.0.filters.value",
        ),  # fmt: skip
        ({"series": [{"name": "e"}], "limit": "ten"}, "limit"),
        (
            {
                "series": [{"name": "e"}],
                "globalFilters": [
                    {"name": "path", "operator": "regex", "value": ["(?=lookahead)"]}
                ],
            },
            "globalFilters.value",
        ),  # fmt: skip
    ]
    for params, field in bad:
        r = get(live_server, chart, **params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["field"] == field
    export = get(live_server, "/export/charts", series=[{"name": "e", "segment": "nope"}])
    assert export.status_code == 400 and export.json()["field"] == "series.0.segment"

    hostile = ["'", "\\", "{end:String}", "]); DROP", "ü😀\x00", "%_", "\n"]
    for operator in ("is", "isNot", "contains", "startsWith", "endsWith", "regex", "gt"):
        flt = [{"name": "properties.plan", "operator": operator, "value": hostile}]
        r = get(
            live_server,
            chart,
            series=[{"name": "signup", "filters": flt, "displayName": "'\\{x}"}],
            breakdowns=[{"name": "properties.it's"}],
        )
        assert r.status_code in (200, 400), (operator, r.text)


def test_charts_need_a_read_client(live_server: LiveServer) -> None:
    series = [{"name": "e"}]
    writer = get(live_server, "/export/charts", live_server.write.headers(), series=series)
    assert writer.status_code == 403
    anonymous = get(live_server, "/export/charts", {}, series=series)
    assert anonymous.status_code == 401
    other = get(live_server, "/insights/someone-else/chart", series=series)
    assert other.status_code in (403, 404)
