"""The published `@openpanel/sdk` 1.3.1 in Node, with a client secret, against a live server.

node/sdk-scenario.mjs calls every public method once (awaiting each); one run per apiUrl form
(the server root, and the self-hosting `/api` prefix) feeds all the tests below. Node's fetch
sends the user agent `node`, so these are server-side events: no visit, device "server".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.compat.helpers import (
    DESKTOP_CHROME_UA,
    FLATTENED_SAMPLE,
    flush,
    names,
    only,
    post_track,
    run_node,
    running_server,
)
from tests.support.server import LiveServer

pytestmark = pytest.mark.node

PROFILE = "node-user-1"
TRACKED = {
    "node_track",
    "node_globals",
    "node_after_identify",
    "node_explicit_profile",
    "node_grouped",
    "revenue",
    "node_after_clear",
}
GLOBALS = {"app_version": "1.2.3", "env": "compat"}
DEVICE_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class NodeRun:
    server: LiveServer
    responses: dict[str, Any]
    ids: dict[str, dict[str, str]]
    events: list[dict[str, Any]]  # the export (with profiles) once everything is stored

    def event(self, name: str) -> dict[str, Any]:
        return only(self.events, name)


@pytest.fixture(
    scope="module", params=["", "/api"], ids=["apiUrl-server-root", "apiUrl-with-api-prefix"]
)
def node_run(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    geoip_db: Path,
    node_dir: Path,
) -> Iterator[NodeRun]:
    with running_server(tmp_path_factory.mktemp("node-sdk"), geoip_db) as server:
        out = run_node(
            node_dir,
            "sdk-scenario.mjs",
            env={
                "OP_API_URL": server.url + request.param,
                "OP_CLIENT_ID": server.write.id,
                "OP_CLIENT_SECRET": server.write.secret,
            },
        )
        events = flush(server, "compat_flush", includes="profile")
        yield NodeRun(server, out["responses"], out["ids"], events)


def test_every_sdk_call_gets_device_and_session_ids_back(node_run: NodeRun) -> None:
    for step, response in node_run.responses.items():
        if step == "alias":
            continue
        assert isinstance(response, dict), f"{step}: the SDK resolved with {response!r}"
        assert DEVICE_ID.match(response["deviceId"]), (step, response)
        # Server-side events never open a visit, so there is no session to report.
        assert response["sessionId"] == "", (step, response)


def test_alias_is_a_no_op_in_the_sdk(node_run: NodeRun) -> None:
    assert node_run.responses["alias"] is None
    assert "alias" not in names(node_run.events)


def test_sdk_ids_come_from_the_last_response_and_clear_resets_them(node_run: NodeRun) -> None:
    ids = node_run.ids
    device = node_run.responses["track"]["deviceId"]
    assert ids["before_any_call"] == {"deviceId": "", "sessionId": ""}
    assert ids["after_track"] == {"deviceId": device, "sessionId": ""}
    assert ids["before_clear"] == {"deviceId": device, "sessionId": ""}
    assert ids["after_clear"] == {"deviceId": "", "sessionId": ""}
    # The same process (UA and IP) is the same device again after clear().
    assert ids["after_clear_track"] == {"deviceId": device, "sessionId": ""}


def test_all_sdk_events_are_exported_as_node_server_events(node_run: NodeRun) -> None:
    exported = [e for e in node_run.events if e["name"] in TRACKED]
    assert sorted(names(exported)) == sorted(TRACKED)
    for event in exported:
        assert (event["sdkName"], event["sdkVersion"]) == ("node", "1.3.1"), event["name"]
        assert event["device"] == "server", event["name"]
        # No browser visit: upstream stores server events without device or session ids,
        # which matches the empty sessionId the SDK reports.
        assert (event["deviceId"], event["sessionId"]) == ("", ""), event["name"]
        assert event["projectId"] == node_run.server.project_id
    assert "session_start" not in names(node_run.events)


def test_nested_properties_are_flattened_and_nulls_dropped(node_run: NodeRun) -> None:
    assert node_run.event("node_track")["properties"] == {**FLATTENED_SAMPLE, "nested.deep.x": "2"}


def test_global_properties_reach_later_events_and_survive_clear(node_run: NodeRun) -> None:
    assert node_run.event("node_globals")["properties"] == {**GLOBALS, "local": "1"}
    assert node_run.event("node_after_identify")["properties"] == {**GLOBALS, "step": "1"}
    assert node_run.event("node_after_clear")["properties"] == {**GLOBALS, "step": "2"}


def test_identify_sets_the_profile_of_later_events_until_clear(node_run: NodeRun) -> None:
    assert node_run.event("node_track")["profileId"] == ""
    assert node_run.event("node_after_identify")["profileId"] == PROFILE
    explicit = node_run.event("node_explicit_profile")
    assert explicit["profileId"] == "node-user-explicit"
    assert "profileId" not in explicit["properties"]
    assert node_run.event("node_after_clear")["profileId"] == ""


def test_identified_profile_has_names_properties_and_counters(node_run: NodeRun) -> None:
    profile = node_run.event("node_after_identify")["profile"]
    assert profile is not None, "includes=profile returned no profile for an identified user"
    assert profile["id"] == PROFILE
    assert profile["isExternal"] is True
    assert (profile["firstName"], profile["lastName"]) == ("Ada", "Lovelace")
    assert profile["email"] == "ada@example.com"
    assert profile["avatar"] == "https://example.com/ada.png"
    props = profile["properties"]
    assert {k: props.get(k) for k in ("plan", "seats", *GLOBALS)} == {
        "plan": "pro",
        "seats": "3",
        **GLOBALS,
    }
    # increment 5, increment (no value: 1), decrement 2; decrement of a new property: -1.
    assert props.get("visits") == "4"
    assert props.get("credits") == "-1"


def test_set_groups_adds_groups_to_the_profile_and_later_events(node_run: NodeRun) -> None:
    grouped = node_run.event("node_grouped")
    assert grouped["groups"] == ["org_1", "team_2", "extra_grp"]
    assert "groups" not in grouped["properties"]
    assert node_run.event("node_after_identify")["groups"] == []
    profile = grouped["profile"]
    assert profile is not None
    assert sorted(profile["groups"]) == ["org_1", "team_2"]
    # clear() forgets the groups too.
    assert node_run.event("node_after_clear")["groups"] == []


def test_revenue_with_a_secret_is_stored_in_the_revenue_column(node_run: NodeRun) -> None:
    revenue = node_run.event("revenue")
    assert revenue["revenue"] == 1999
    assert revenue["profileId"] == PROFILE
    assert revenue["properties"] == {**GLOBALS, "currency": "USD"}


def test_backend_event_of_a_visitor_in_a_live_visit_joins_that_visit(
    live_server: LiveServer, node_dir: Path
) -> None:
    """A browser visit by user-42 is live when the backend tracks an order for user-42."""
    browser = post_track(
        live_server,
        {
            "type": "track",
            "payload": {
                "name": "screen_view",
                "profileId": "user-42",
                "properties": {"__path": "https://example.com/cart", "__referrer": ""},
            },
        },
        {
            "openpanel-client-id": live_server.write.id,
            "origin": "https://example.com",
            "user-agent": DESKTOP_CHROME_UA,
            "x-forwarded-for": "81.2.69.142",
        },
    )
    assert browser.status_code == 200, browser.text
    visit = browser.json()
    assert visit["sessionId"]

    out = run_node(
        node_dir,
        "sdk-calls.mjs",
        stdin={
            "options": {
                "apiUrl": live_server.url,
                "clientId": live_server.write.id,
                "clientSecret": live_server.write.secret,
            },
            "calls": [["track", "order_completed", {"profileId": "user-42", "total": 42}]],
        },
    )
    order = only(flush(live_server, "compat_flush"), "order_completed")
    assert (order["sessionId"], order["deviceId"]) == (visit["sessionId"], visit["deviceId"])
    assert order["sessionId"] == out["sessionId"]
    assert (order["profileId"], order["properties"]) == ("user-42", {"total": "42"})
    # The visit's context, not the server's: geo and device of the browser.
    assert (order["country"], order["city"], order["browser"]) == ("GB", "London", "Chrome")
    assert (order["path"], order["origin"]) == ("/cart", "https://example.com")
    assert (order["sdkName"], order["sdkVersion"]) == ("node", "1.3.1")
