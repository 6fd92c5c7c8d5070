"""`/insights/{projectId}/groups…` and `engagement` over real HTTP, against SDK calls sent
through `/track` as the SDKs send them:

  group      globex (company), then team-x (team), then acme (company, "Acme Inc"); once
             stored, acme again as "ACME Corporation" with plan enterprise (newest wins)
  identify   user-1 (Ada), user-2 (Grace)
  assign     user-1 → acme, globex; user-2 → acme; an anonymous visitor → acme
  track      user-1 screen_view /  (groups: acme); user-2 signup (groups: acme, globex)

so the list is acme, team-x, globex (newest first) with 3, 0 and 1 members (events' groups
do not make members); acme has two events
and globex one (the pipeline's session_start copies are not counted).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.support.sdk import CHROME, FIREFOX, SAFARI
from tests.support.server import LiveServer, make_server

ORIGIN = "https://example.com"
HOSTILE = "it's \\ {x:String} %_ \t\"); DROP TABLE events --"
ROUTES = ("engagement", "groups/types", "groups", "groups/acme")
ADA = ("81.2.69.142", CHROME)
GRACE = ("8.8.8.8", SAFARI)
ANON = ("1.1.1.1", FIREFOX)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[LiveServer]:
    srv = make_server(
        tmp_path_factory.mktemp("groups"),
        {"OPENPANEL_GEOIP_DB": str(geoip_db), "OPENPANEL_API_RATE_LIMIT": "100000"},
    )
    srv.create_project("Groups", cors=(ORIGIN,))
    srv.start()
    yield srv
    srv.stop()


def send(server: LiveServer, kind: str, payload: dict[str, Any], who: tuple[str, str]) -> None:
    server.visitors(ORIGIN).send(kind, payload, *who)


def get(server: LiveServer, path: str, **params: Any) -> httpx.Response:
    return server.insights(path, **params)


def ok(server: LiveServer, path: str, **params: Any) -> Any:
    r = get(server, path, **params)
    assert r.status_code == 200, r.text
    return r.json()


def poll(server: LiveServer, path: str, done: Callable[[Any], bool], **params: Any) -> Any:
    """The answer of `path` once `done(answer)` holds (the pipeline stores in batches)."""
    deadline = time.monotonic() + 30
    answer = ok(server, path, **params)
    while not done(answer):
        assert time.monotonic() < deadline, f"{path} never became ready: {answer}"
        time.sleep(0.2)
        answer = ok(server, path, **params)
    return answer


@pytest.fixture(scope="module")
def stored(server: LiveServer) -> list[dict[str, Any]]:
    """Send everything, wait until it is stored; the stored events."""
    group = {"type": "company", "properties": {"plan": "free", "seats": 5}}
    send(server, "group", {"id": "globex", "name": "Globex", **group}, ADA)
    send(server, "group", {"id": "team-x", "type": "team", "name": "Team X"}, ADA)
    send(server, "group", {"id": "acme", "name": "Acme Inc", **group}, ADA)
    send(server, "identify", {"profileId": "user-1", "firstName": "Ada"}, ADA)
    send(server, "identify", {"profileId": "user-2", "firstName": "Grace"}, GRACE)
    send(server, "assign_group", {"groupIds": ["acme", "globex"], "profileId": "user-1"}, ADA)
    send(server, "assign_group", {"groupIds": ["acme"], "profileId": "user-2"}, GRACE)
    send(server, "assign_group", {"groupIds": ["acme"]}, ANON)
    view = {"__path": ORIGIN + "/"}
    track = {"name": "screen_view", "profileId": "user-1", "groups": ["acme"], "properties": view}
    send(server, "track", track, ADA)
    signup = {"name": "signup", "profileId": "user-2", "groups": ["acme", "globex"]}
    send(server, "track", signup, GRACE)
    poll(server, "groups", lambda page: page["total"] == 3)
    renamed = {"plan": "enterprise", "seats": 50}
    send(server, "group", {"id": "acme", "type": "company", "name": "ACME Corporation",
                           "properties": renamed}, ADA)  # fmt: skip
    poll(server, "groups", lambda page: page["data"][0]["name"] == "ACME Corporation")
    poll(server, "engagement", lambda e: e["summary"]["total_identified_users"] == 2)
    return server.wait_for(lambda ev: len(ev) == 4)  # two events and their session_starts


def test_group_types_and_counts(server: LiveServer, stored: list[dict[str, Any]]) -> None:
    assert ok(server, "groups/types") == {
        "types": ["company", "team"],
        "counts": {"company": 2, "team": 1},
    }


def test_the_list_is_newest_first_with_member_counts(
    server: LiveServer, stored: list[dict[str, Any]]
) -> None:
    page = ok(server, "groups")
    assert [(g["id"], g["type"], g["memberCount"]) for g in page["data"]] == [
        ("acme", "company", 3),
        ("team-x", "team", 0),
        ("globex", "company", 1),
    ]
    assert (page["total"], page["limit"], page["offset"], page["next"]) == (3, 50, 0, None)
    acme = page["data"][0]
    assert (acme["name"], acme["properties"]) == (
        "ACME Corporation",
        {"plan": "enterprise", "seats": "50"},
    )
    assert acme["createdAt"].endswith("Z")


def test_type_search_and_paging(server: LiveServer, stored: list[dict[str, Any]]) -> None:
    def ids(**params: Any) -> list[str]:
        return [g["id"] for g in ok(server, "groups", **params)["data"]]

    assert ids(type="company") == ["acme", "globex"]
    assert ids(type="nope") == []
    assert ids(search="corp") == ["acme"]  # the current name, case-insensitive
    assert ids(search="Acme Inc") == []  # the replaced name is gone
    assert ids(search="GLOB") == ["globex"]  # the id
    assert ids(search="%") == [] and ids(search="_") == []  # literal, not wildcards
    assert ids(search=HOSTILE) == []
    first = ok(server, "groups", limit=2)
    assert ([g["id"] for g in first["data"]], first["total"], first["next"]) == (
        ["acme", "team-x"],
        3,
        2,
    )
    assert ids(limit=2, offset=2) == ["globex"]
    assert ids(limit=2, cursor=2) == ["globex"]
    for params, field in (({"limit": 0}, "limit"), ({"offset": -1}, "offset")):
        r = get(server, "groups", **params)
        assert r.status_code == 400 and r.json()["field"] == field


def test_a_group_with_members_and_events(server: LiveServer, stored: list[dict[str, Any]]) -> None:
    acme = ok(server, "groups/acme")
    assert acme["group"]["name"] == "ACME Corporation"
    assert acme["member_count"] == 3
    members = {m["id"]: m for m in acme["members"]}
    assert len(members) == 3 and {"user-1", "user-2"} < set(members)
    assert members["user-1"]["firstName"] == "Ada" and members["user-1"]["isExternal"] is True
    assert members["user-1"]["groups"] == ["acme", "globex"]
    assert members["user-1"]["projectId"] == server.project_id
    anonymous = [m for m in members.values() if not m["isExternal"]]
    assert len(anonymous) == 1 and anonymous[0]["groups"] == ["acme"]
    real = [e for e in stored if "acme" in e["groups"] and e["name"] != "session_start"]
    assert acme["events"] == 2 == len(real)
    assert acme["lastSeen"] == max(e["createdAt"] for e in real)

    limited = ok(server, "groups/acme", memberLimit=2)
    assert (limited["member_count"], len(limited["members"])) == (3, 2)
    globex = ok(server, "groups/globex")
    assert (globex["member_count"], globex["events"]) == (1, 1)
    assert [m["id"] for m in globex["members"]] == ["user-1"]
    team = ok(server, "groups/team-x")
    assert (team["member_count"], team["members"], team["events"], team["lastSeen"]) == (
        0,
        [],
        0,
        None,
    )
    assert ok(server, "groups/types")["types"]  # `types` is the route, not a group id


def test_unknown_groups_and_bad_member_limits(
    server: LiveServer, stored: list[dict[str, Any]]
) -> None:
    for group in ("nope", quote(HOSTILE, safe="")):
        r = get(server, f"groups/{group}")
        assert r.status_code == 404 and r.json()["status"] == 404, r.text
    for bad in (0, 51, "x"):
        r = get(server, "groups/acme", memberLimit=bad)
        assert r.status_code == 400 and r.json()["field"] == "memberLimit"


def test_engagement_counts_identified_users(
    server: LiveServer, stored: list[dict[str, Any]]
) -> None:
    assert ok(server, "engagement") == {
        "summary": {
            "total_identified_users": 2,
            "active_last_7_days": 2,
            "active_8_to_14_days": 0,
            "active_15_to_30_days": 0,
            "inactive_31_to_60_days": 0,
            "churned_60_plus_days": 0,
        },
        "distribution": [{"days": 0, "users": 2}],
    }


def test_every_route_needs_a_read_client_with_its_secret(
    server: LiveServer, stored: list[dict[str, Any]]
) -> None:
    base = f"{server.url}/insights/{server.project_id}/"
    for route in ROUTES:
        anonymous = httpx.get(base + route, timeout=30)
        assert anonymous.status_code == 401, route
        secretless = httpx.get(base + route, headers=server.read.headers(secret=False), timeout=30)
        assert secretless.status_code == 401, route
        assert server.insights(route, server.write).status_code == 403, route
