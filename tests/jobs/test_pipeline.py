"""The pipeline over a real chDB store: enrichment, visits, synthetic events, exactly once."""

from __future__ import annotations

import asyncio
from typing import Any

from jobs.pipeline import Pipeline
from jobs.records import Accepted, encode
from jobs.timefmt import now_ms
from tests.support.stores import TIMEOUT_MS, Harness


def track(
    h: Harness, name: str, props: dict[str, Any] | None = None, profile: str = "", **ctx: Any
) -> dict[str, str]:
    payload = {"name": name, "properties": dict(props or {})}
    ids = asyncio.run(h.acceptor.track(h.ctx(**ctx), payload, profile))
    return ids.as_json()


def other(h: Harness, kind: str, payload: dict[str, Any], **ctx: Any) -> None:
    asyncio.run(h.acceptor.other(kind, h.ctx(**ctx), payload))  # type: ignore[arg-type]


def view(h: Harness, url: str, profile: str = "", **extra: Any) -> dict[str, str]:
    return track(h, "screen_view", {"__path": url, **extra}, profile=profile)


def test_a_page_view_is_enriched_and_opens_a_visit(harness: Harness) -> None:
    ids = view(
        harness,
        "https://shop.example/pricing?utm_source=newsletter&plan=pro#faq",
        __referrer="https://www.google.com/search?q=x",
        __title="Pricing",
    )
    harness.flush()
    start, event = harness.events()
    assert (start["name"], event["name"]) == ("session_start", "screen_view")
    assert event["session_id"] == start["session_id"] == ids["sessionId"] != ""
    assert event["device_id"] == ids["deviceId"] and len(ids["deviceId"]) == 32
    assert (event["origin"], event["path"]) == ("https://shop.example", "/pricing")
    assert event["properties"] == {
        "__title": "Pricing",
        "__hash": "#faq",
        "__query.utm_source": "newsletter",
        "__query.plan": "pro",
    }
    assert (event["country"], event["city"], event["region"]) == ("GB", "London", "England")
    assert (event["browser"], event["os"], event["device"]) == ("Chrome", "Windows", "desktop")
    assert event["referrer"] == "https://www.google.com/search?q=x"
    assert event["referrer_name"] == "newsletter"  # utm_source overrides the name
    [visit] = harness.sessions()
    assert visit["entry_path"] == "/pricing" and visit["utm_source"] == "newsletter"
    assert visit["is_bounce"] is True and visit["screen_view_count"] == 1


def test_a_second_page_view_extends_the_visit_and_clears_bounce(harness: Harness) -> None:
    first = view(harness, "https://shop.example/")
    second = view(harness, "https://shop.example/docs", __referrer="https://shop.example/")
    track(harness, "signup_clicked", {"plan": {"name": "pro", "seats": 3}})
    harness.flush()
    assert first["sessionId"] == second["sessionId"]
    names = [e["name"] for e in harness.events()]
    assert names.count("session_start") == 1
    [visit] = harness.sessions()
    assert (visit["screen_view_count"], visit["event_count"]) == (2, 1)
    assert visit["is_bounce"] is False
    assert (visit["entry_path"], visit["exit_path"]) == ("/", "/docs")
    [click] = harness.events("signup_clicked")
    assert click["properties"] == {"plan.name": "pro", "plan.seats": "3"}
    [docs] = [e for e in harness.events("screen_view") if e["path"] == "/docs"]
    assert docs["referrer"] == ""  # same-host referrer dropped, visit's (none) inherited


def test_idle_visits_end_with_a_session_end_event(harness: Harness) -> None:
    view(harness, "https://shop.example/a")
    view(harness, "https://shop.example/b")
    harness.flush()
    harness.command("reap", now_ms() + TIMEOUT_MS - 60_000)  # not idle yet
    harness.flush()
    assert harness.events("session_end") == []
    harness.command("reap", now_ms() + TIMEOUT_MS + 60_000)
    harness.flush()
    [end] = harness.events("session_end")
    [visit] = harness.sessions()
    assert end["session_id"] == visit["id"]
    assert end["path"] == "/b" and end["properties"] == {"__bounce": "false"}
    assert end["duration"] == visit["duration"] >= 0
    assert harness.pipeline.visits.visits == {}
    profile = harness.profile(visit["profile_id"])
    assert profile is not None and profile["properties"]["country"] == "GB"


def test_server_side_events_have_no_visit_unless_their_profile_is_browsing(
    harness: Harness,
) -> None:
    ids = track(harness, "invoice_paid", {"amount": 5}, ua="node", ip="8.8.8.8")
    assert ids["sessionId"] == ""
    view(harness, "https://shop.example/", profile="user-1")
    attached = track(harness, "plan_upgraded", profile="user-1", ua="python-requests/2.32")
    harness.flush()
    [paid] = harness.events("invoice_paid")
    assert (paid["device_id"], paid["session_id"], paid["device"]) == ("", "", "server")
    [upgraded] = harness.events("plan_upgraded")
    [visit] = harness.sessions()
    assert upgraded["session_id"] == attached["sessionId"] == visit["id"]
    assert upgraded["city"] == "London" and upgraded["path"] == "/"
    assert visit["event_count"] == 0  # attached, not counted


def test_timestamps_in_the_past_get_no_visit_and_future_ones_are_clamped(harness: Harness) -> None:
    past = track(harness, "backfill", {"__timestamp": "2020-01-01T10:00:00Z"})
    track(harness, "future", {"__timestamp": "2999-01-01T00:00:00Z"})
    harness.flush()
    assert past["sessionId"] == ""
    [old] = harness.events("backfill")
    assert old["created_at"].startswith("2020-01-01 10:00:00") and old["session_id"] == ""
    [future] = harness.events("future")
    assert future["created_at"][:4] != "2999" and future["session_id"] != ""
    assert "__timestamp" not in future["properties"]


def test_identify_increment_and_groups_build_the_profile(harness: Harness) -> None:
    other(
        harness,
        "identify",
        {
            "profileId": "u-7",
            "firstName": "Ada",
            "email": "ada@x.io",
            "properties": {"plan": "pro", "address": {"city": "Oslo"}},
        },
    )
    other(harness, "increment", {"profileId": "u-7", "property": "logins", "value": 5})
    other(harness, "decrement", {"profileId": "u-7", "property": "logins", "value": None})
    other(harness, "assign_group", {"groupIds": ["acme"], "profileId": "u-7"})
    other(harness, "group", {"id": "acme", "type": "company", "name": "Acme"})
    other(harness, "alias", {"profileId": "u-7", "alias": "ada@old"})
    harness.flush()
    profile = harness.profile("u-7")
    assert profile is not None
    assert (profile["first_name"], profile["email"], profile["is_external"]) == (
        "Ada",
        "ada@x.io",
        True,
    )
    assert profile["properties"]["logins"] == "4"
    assert profile["properties"]["address.city"] == "Oslo"
    assert profile["properties"]["country"] == "GB"
    assert profile["groups"] == ["acme"]
    groups = harness.store.query(
        "SELECT name FROM openpanel.groups WHERE project_id = {p:String}", {"p": harness.project_id}
    )
    assert groups == [{"name": "Acme"}]


def test_identify_inside_a_track_sets_the_event_profile(harness: Harness) -> None:
    track(
        harness,
        "screen_view",
        {"__path": "/home", "__identify": {"profileId": "u-9", "firstName": "Grace"}},
    )
    harness.flush()
    [event] = harness.events("screen_view")
    assert event["profile_id"] == "u-9" and event["path"] == "/home"
    assert harness.profile("u-9")["first_name"] == "Grace"  # type: ignore[index]


def test_a_batch_replayed_after_a_crash_is_stored_once(harness: Harness) -> None:
    for i in range(20):
        view(harness, f"https://shop.example/{i}", seq=i)
    spool, store = harness.spool, harness.store
    batch = spool.next_batch(1000)
    assert batch is not None
    rows = harness.pipeline.build(batch)
    token = batch.token(spool.epoch)
    store.insert("events", rows.events, token)  # then the process "dies" before completing
    restarted = Pipeline(
        store, spool, harness.pipeline.enricher, harness.pipeline.hub, timeout_ms=TIMEOUT_MS
    )
    assert restarted.run_once() == 20
    assert spool.backlog() == 0
    events = harness.events("screen_view")
    assert sorted(int(e["properties"]["seq"]) for e in events) == list(range(20))
    assert len(harness.events("session_start")) == 1
    assert len(harness.sessions()) == 1


def test_a_record_that_cannot_be_processed_is_set_aside(harness: Harness) -> None:
    view(harness, "https://shop.example/ok")
    broken = Accepted(
        kind="increment",
        project_id=harness.project_id,
        received_ms=now_ms(),
        payload={"profileId": "x"},
    )  # no property: processing fails
    harness.spool.append_sync(encode(broken))
    view(harness, "https://shop.example/after")
    harness.flush()
    assert {e["path"] for e in harness.events("screen_view")} == {"/ok", "/after"}
    assert harness.spool.dead_letters() == 1
