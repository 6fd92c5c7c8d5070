"""The published PyPI `openpanel` 0.0.1 SDK, with a client secret, against a live server.

The SDK posts from a background thread, one request at a time, and ignores the responses
(it only prints a status other than 200/202). To see what the server answered, the fixture
records each `requests.post` result on its way back to the SDK; nothing is faked. It sends
`profileId: null` on anonymous tracks and `value: null` on counters without a value, which the
server must accept (compat Part B §4).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from openpanel import OpenPanel

from tests.compat.helpers import FLATTENED_SAMPLE, names, only, running_server
from tests.support.server import LiveServer

GLOBALS = {"app_version": "1.2.3", "env": "compat"}
# The request types use_every_method() sends, in order.
SENT_TYPES = [
    "track", "track", "identify", "track", "increment", "increment", "decrement", "decrement",
    "alias", "identify", "track", "track", "track",
]  # fmt: skip


@dataclass
class Sent:
    body: dict[str, Any]
    status: int
    text: str


@dataclass
class PythonRun:
    server: LiveServer
    sent: list[Sent]
    printed: str
    events: list[dict[str, Any]]

    def event(self, name: str) -> dict[str, Any]:
        return only(self.events, name)

    def profile(self, profile_id: str) -> dict[str, Any]:
        for event in self.events:
            if event["profileId"] == profile_id and event.get("profile"):
                return dict(event["profile"])
        raise AssertionError(f"no exported event carries the profile {profile_id!r}")


def use_every_method(op: OpenPanel) -> None:
    op.track(
        "py_track",
        {"str": "a", "num": 1.5, "bool": True, "nil": None, "arr": [1, "b"], "nested": {"k": "v"}},
    )
    op.set_global_properties(GLOBALS)
    op.track("py_globals", {"local": 1})
    op.identify(
        "py-user-1",
        {
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "ada@example.com",
            "avatar": "https://example.com/ada.png",
            "properties": {"plan": "pro"},
        },
    )
    op.track("py_after_identify")
    op.increment("py-user-1", "visits", 5)
    op.increment("py-user-1", "visits")  # sends "value": null
    op.decrement("py-user-1", "visits", 2)
    op.decrement("py-user-1", "credits")
    op.alias("py-user-1", "ada-alias")
    op.identify("py-user-2")  # no traits: still sent by the Python SDK
    op.track("py_second_user", {"n": 2})
    op.clear()  # forgets the profile and the global properties
    op.track("py_after_clear")
    op.track("py_last")


@pytest.fixture(scope="module")
def python_run(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[PythonRun]:
    sent: list[Sent] = []
    real_post = requests.post

    def recording_post(url: str, **kwargs: Any) -> requests.Response:
        response = real_post(url, timeout=30, **kwargs)
        sent.append(Sent(kwargs["json"], response.status_code, response.text))
        return response

    printed = io.StringIO()
    with (
        running_server(tmp_path_factory.mktemp("python-sdk"), geoip_db) as server,
        pytest.MonkeyPatch.context() as mp,
    ):
        mp.setattr(requests, "post", recording_post)
        with (
            redirect_stdout(printed),
            OpenPanel(server.write.id, server.write.secret, api_url=server.url) as op,
        ):
            use_every_method(op)
            # The SDK sends one request at a time, in call order.
            events = server.wait_for(
                lambda events: "py_last" in names(events) and len(sent) == len(SENT_TYPES),
                timeout=30,
                includes="profile",
            )
        yield PythonRun(server, sent, printed.getvalue(), events)


def test_every_sdk_request_is_answered_200_with_ids(python_run: PythonRun) -> None:
    assert [s.body["type"] for s in python_run.sent] == SENT_TYPES
    for sent in python_run.sent:
        assert sent.status == 200, (sent.body, sent.status, sent.text)
        assert json.loads(sent.text).keys() == {"deviceId", "sessionId"}
    assert "Error sending payload" not in python_run.printed


def test_alias_is_accepted(python_run: PythonRun) -> None:
    (alias,) = [s for s in python_run.sent if s.body["type"] == "alias"]
    assert alias.body["payload"] == {"profileId": "py-user-1", "alias": "ada-alias"}
    assert alias.status == 200, alias.text


def test_events_are_exported_as_python_server_events(python_run: PythonRun) -> None:
    tracked = {"py_track", "py_globals", "py_after_identify", "py_second_user", "py_after_clear"}
    for name in tracked:
        event = python_run.event(name)
        assert (event["sdkName"], event["sdkVersion"]) == ("python", "0.0.1"), name
        assert event["device"] == "server", name
        assert (event["deviceId"], event["sessionId"]) == ("", ""), name
    assert "session_start" not in names(python_run.events)


def test_anonymous_track_with_null_profile_id_is_stored_flattened(python_run: PythonRun) -> None:
    event = python_run.event("py_track")
    assert event["profileId"] == ""
    assert event["properties"] == FLATTENED_SAMPLE


def test_global_properties_and_identify_apply_until_clear(python_run: PythonRun) -> None:
    assert python_run.event("py_globals")["properties"] == {**GLOBALS, "local": "1"}
    after = python_run.event("py_after_identify")
    assert (after["profileId"], after["properties"]) == ("py-user-1", GLOBALS)
    second = python_run.event("py_second_user")
    assert (second["profileId"], second["properties"]) == ("py-user-2", {**GLOBALS, "n": "2"})
    cleared = python_run.event("py_after_clear")
    assert (cleared["profileId"], cleared["properties"]) == ("", {})


def test_identified_profile_has_traits_and_counters(python_run: PythonRun) -> None:
    profile = python_run.profile("py-user-1")
    assert profile["isExternal"] is True
    assert (profile["firstName"], profile["lastName"]) == ("Ada", "Lovelace")
    assert (profile["email"], profile["avatar"]) == (
        "ada@example.com",
        "https://example.com/ada.png",
    )
    props = profile["properties"]
    assert {k: props.get(k) for k in ("plan", *GLOBALS)} == {"plan": "pro", **GLOBALS}
    # increment 5, increment (value null: 1), decrement 2; decrement (null) of a new one: -1.
    assert (props.get("visits"), props.get("credits")) == ("4", "-1")


def test_identify_without_traits_still_creates_the_profile(python_run: PythonRun) -> None:
    profile = python_run.profile("py-user-2")
    assert profile["isExternal"] is True
    assert profile["properties"].get("app_version") == "1.2.3"
