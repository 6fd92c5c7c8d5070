"""`/insights/{projectId}/user_flow`, profiles, sessions and events over real HTTP, against
two visits sent through `/track`:

  visitor 1 (Chrome, London), identified as user-1 (Ada Lovelace): /  /pricing  signup{plan: pro}
  visitor 2 (Safari, anonymous): /  /docs
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.sdk import CHROME, SAFARI
from tests.support.server import ApiClient, LiveServer, make_server

ORIGIN = "https://example.com"
HOSTILE = "it's \\ {x:String} %_ \t\"); DROP TABLE events --"
ROUTES = (
    "user_flow?event=screen_view",
    "profiles",
    "power_users",
    "profiles/user-1",
    "profiles/user-1/metrics",
    "profiles/user-1/sessions",
    "profiles/user-1/events",
    "sessions",
    "sessions/x",
    "events",
    "events/names",
    "events/properties",
    "events/property_values?property=path",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[LiveServer]:
    srv = make_server(tmp_path_factory.mktemp("people"), {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    srv.create_project("People", cors=(ORIGIN,))
    srv.start()
    yield srv
    srv.stop()


def send(server: LiveServer, body: dict[str, Any], ip: str, ua: str) -> dict[str, str]:
    return dict(server.visitors(ORIGIN).send(body["type"], body["payload"], ip, ua))


def event(name: str, path: str = "", profile: str | None = None, **props: Any) -> dict[str, Any]:
    properties = {"__path": ORIGIN + path, **props} if path else props
    payload: dict[str, Any] = {"name": name, "properties": properties}
    if profile:
        payload["profileId"] = profile
    return {"type": "track", "payload": payload}


@pytest.fixture(scope="module")
def visits(server: LiveServer) -> dict[str, dict[str, str]]:
    """The ids /track answered for each visitor, once everything is stored."""
    one = ("81.2.69.142", CHROME)
    two = ("8.8.8.8", SAFARI)
    identify = {
        "profileId": "user-1",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "email": "ada@example.com",
    }
    send(server, {"type": "identify", "payload": identify}, *one)
    first = send(server, event("screen_view", "/", "user-1"), *one)
    send(server, event("screen_view", "/pricing", "user-1"), *one)
    send(server, event("signup", profile="user-1", plan="pro"), *one)
    second = send(server, event("screen_view", "/"), *two)
    send(server, event("screen_view", "/docs"), *two)
    server.wait_for(lambda ev: len(ev) == 7)  # five events and two session_starts
    return {"one": first, "two": second}


def get(
    server: LiveServer, path: str, client: ApiClient | None = None, **params: Any
) -> httpx.Response:
    return server.insights(path, client, **params)


def ok(server: LiveServer, path: str, **params: Any) -> Any:
    r = get(server, path, **params)
    assert r.status_code == 200, r.text
    return r.json()


def node_values(flow: dict[str, Any]) -> list[tuple[str, int, int]]:
    return [(n["id"], n["value"], n["dropoff"]) for n in flow["nodes"]]


def test_user_flow_after_between_and_options(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    after = ok(server, "user_flow", event="screen_view", steps=3)
    assert node_values(after) == [
        ("1:screen_view:/", 2, 0),
        ("2:screen_view:/docs", 1, 1),
        ("2:screen_view:/pricing", 1, 0),
        ("3:signup", 1, 1),
    ]
    assert after["totals"]["sessions"] == 2
    assert [s["text"] for s in after["suggestions"]] == [
        "100% of sessions that reached /docs ended there",
        "100% of sessions that reached signup ended there",
    ]
    pricing = {
        "name": "screen_view",
        "filters": [{"name": "path", "operator": "is", "value": ["/pricing"]}],
    }
    assert node_values(ok(server, "user_flow", startEvent=pricing)) == [
        ("1:screen_view:/pricing", 1, 0),
        ("2:signup", 1, 1),
    ]
    between = ok(server, "user_flow", mode="between", startEvent="screen_view", endEvent="signup")
    assert between["totals"] == {
        "sessions": 1,
        "matched": 2,
        "not_reached": 1,
        "longer_than_steps": 0,
    }
    excluded = ok(server, "user_flow", event="screen_view", exclude=["signup"])
    assert [n["id"] for n in excluded["nodes"]] == [
        "1:screen_view:/",
        "2:screen_view:/docs",
        "2:screen_view:/pricing",
    ]
    included = ok(server, "user_flow", mode="before", event="signup", include=["signup"])
    assert node_values(included) == [("5:signup", 1, 1)]  # right-aligned on step 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"event": "screen_view", "steps": 11}, "steps"),
        ({"event": "screen_view", "mode": "sideways"}, "mode"),
        ({}, "event"),
        ({"event": "screen_view", "mode": "between"}, "endEvent"),
        ({"event": "screen_view", "include": {"a": 1}}, "include"),
        ({"startEvent": {"filters": []}}, "event"),
        ({"event": "x", "range": "5y"}, "range"),
    ],
)
def test_user_flow_refuses_bad_parameters(
    server: LiveServer, params: dict[str, Any], field: str
) -> None:
    r = get(server, "user_flow", **params)
    assert r.status_code == 400 and r.json()["field"] == field


def test_profiles_list_search_and_identified(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    everyone = ok(server, "profiles")
    assert {p["id"] for p in everyone["data"]} == {"user-1", visits["two"]["deviceId"]}
    assert everyone["total"] == 2
    identified = ok(server, "profiles", identified=True)
    [ada] = identified["data"]
    assert (ada["id"], ada["firstName"], ada["lastName"], ada["email"], ada["isExternal"]) == (
        "user-1",
        "Ada",
        "Lovelace",
        "ada@example.com",
        True,
    )
    assert [p["id"] for p in ok(server, "profiles", search="lovelace")["data"]] == ["user-1"]
    assert ok(server, "profiles", search=HOSTILE)["data"] == []
    paged = ok(server, "profiles", limit=1)
    assert (len(paged["data"]), paged["next"]) == (1, 1)
    power = ok(server, "power_users")["data"]
    assert [(p["id"], p["eventCount"]) for p in power] == [
        ("user-1", 3),
        (visits["two"]["deviceId"], 2),
    ]


def test_a_profile_its_metrics_sessions_and_events(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    page = ok(server, "profiles/user-1")
    assert page["profile"]["firstName"] == "Ada"
    assert [e["name"] for e in page["recentEvents"]] == [
        "signup",
        "screen_view",
        "screen_view",
        "session_start",
    ]
    assert page["topEvents"] == [
        {"name": "screen_view", "count": 2},
        {"name": "signup", "count": 1},
    ]
    assert page["topPages"] == [
        {"origin": ORIGIN, "path": "/", "count": 1},
        {"origin": ORIGIN, "path": "/pricing", "count": 1},
    ]
    assert sum(day["count"] for day in page["activity"]) == 3
    metrics = ok(server, "profiles/user-1/metrics")
    assert {k: metrics[k] for k in ("sessions", "screen_views", "events", "revenue")} == {
        "sessions": 1,
        "screen_views": 2,
        "events": 3,
        "revenue": 0,
    }
    assert metrics["bounce_rate"] == 0.0 and metrics["first_seen"] <= metrics["last_seen"]
    [visit] = ok(server, "profiles/user-1/sessions")["data"]
    assert visit["id"] == visits["one"]["sessionId"]
    assert (visit["entryPath"], visit["exitPath"], visit["screenViewCount"]) == (
        "/",
        "/pricing",
        2,
    )
    events = ok(server, "profiles/user-1/events", limit=2)
    assert [e["name"] for e in events["data"]] == ["signup", "screen_view"]
    assert (events["total"], events["next"]) == (4, 2)


def test_unknown_profiles_and_visits_are_404(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    for path in (
        "profiles/nobody",
        "profiles/nobody/metrics",
        "profiles/nobody/sessions",
        "profiles/nobody/events",
        "sessions/nope",
    ):
        r = get(server, path)
        assert r.status_code == 404 and r.json()["status"] == 404, path


def test_sessions_list_and_detail(server: LiveServer, visits: dict[str, dict[str, str]]) -> None:
    listed = ok(server, "sessions")
    assert [s["id"] for s in listed["data"]] == [
        visits["two"]["sessionId"],
        visits["one"]["sessionId"],
    ]
    first = listed["data"][1]
    assert (first["profileId"], first["country"], first["browser"], first["isBounce"]) == (
        "user-1",
        "GB",
        "Chrome",
        False,
    )
    docs = [{"name": "path", "operator": "is", "value": ["/docs"]}]
    assert [s["id"] for s in ok(server, "sessions", filters=docs)["data"]] == [
        visits["two"]["sessionId"]
    ]
    detail = ok(server, f"sessions/{visits['one']['sessionId']}")
    assert detail["session"]["exitPath"] == "/pricing"
    assert [(e["name"], e["path"]) for e in detail["events"]] == [
        ("session_start", "/"),
        ("screen_view", "/"),
        ("screen_view", "/pricing"),
        ("signup", ""),
    ]


def test_events_list_names_properties_and_values(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    listed = ok(server, "events", limit=2)
    assert [(e["name"], e["path"]) for e in listed["data"]] == [
        ("screen_view", "/docs"),
        ("screen_view", "/"),
    ]
    assert (listed["total"], listed["next"]) == (7, 2)
    assert [e["name"] for e in ok(server, "events", event="signup")["data"]] == ["signup"]
    assert [e["path"] for e in ok(server, "events", search="/doc")["data"]] == ["/docs"]
    pro = [{"name": "properties.plan", "operator": "is", "value": ["pro"]}]
    assert [e["name"] for e in ok(server, "events", filters=pro)["data"]] == ["signup"]
    assert ok(server, "events/names")["data"] == [
        {"name": "screen_view", "count": 4},
        {"name": "session_start", "count": 2},
        {"name": "signup", "count": 1},
    ]
    assert ok(server, "events/properties", event="signup")["data"] == [{"key": "plan", "count": 1}]
    assert ok(server, "events/property_values", event="signup", property="plan")["data"] == [
        {"value": "pro", "count": 1}
    ]
    assert ok(server, "events/property_values", event="screen_view", property="path")["data"] == [
        {"value": "/", "count": 2},
        {"value": "/docs", "count": 1},
        {"value": "/pricing", "count": 1},
    ]
    bad = get(server, "events/property_values", property="a;b")
    assert bad.status_code == 400 and bad.json()["field"] == "property"


def test_routes_are_ours_and_also_under_api(
    server: LiveServer, visits: dict[str, dict[str, str]]
) -> None:
    r = httpx.get(
        f"{server.url}/api/insights/{server.project_id}/profiles",
        headers=server.read.headers(),
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["total"] == 2
    assert get(server, "events/names").json()["data"][0]["name"] == "screen_view"


def test_write_clients_are_refused(server: LiveServer) -> None:
    for route in ROUTES:
        path, _, query = route.partition("?")
        r = get(server, path, client=server.write, **dict([query.split("=")] if query else []))
        assert r.status_code == 403, route


def test_hostile_values_never_fail(server: LiveServer, visits: dict[str, dict[str, str]]) -> None:
    hostile_filter = [{"name": "properties.plan", "operator": "contains", "value": [HOSTILE]}]
    for path, params in (
        ("user_flow", {"event": HOSTILE, "include": [HOSTILE], "filters": hostile_filter}),
        ("profiles", {"search": HOSTILE}),
        ("sessions", {"filters": hostile_filter}),
        ("events", {"search": HOSTILE, "event": HOSTILE}),
        ("events/properties", {"event": HOSTILE}),
        ("events/property_values", {"property": "plan", "event": HOSTILE}),
    ):
        r = get(server, path, **params)
        assert r.status_code == 200, (path, r.text)
    r = httpx.get(
        f"{server.url}/insights/{server.project_id}/profiles/it's%20%7Bx%7D%5C",
        headers=server.read.headers(),
        timeout=30,
    )
    assert r.status_code == 404
