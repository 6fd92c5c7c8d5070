"""The Realtime page: visitors of the last 5 minutes, recent activity and a map of the last 30
minutes (htmx partials that refresh on a timer and whenever the stream brings an event), and
the live event stream / SDK debugger: every request for the project as it arrives, stored or
refused with the reason and the raw payload, as Server-Sent Events from the realtime hub
(jobs/hub.py) on a dashboard-session-authenticated endpoint.

A client that does not ask for `text/event-stream` gets the stream's opening message only (a
probe, e.g. a link checker), so no GET of this router stays open unless a browser's
EventSource wants it to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.response import ServerSentEvent

from embedded_db.exports import camel_event
from embedded_db.reports.events import EventListQuery, list_events
from embedded_db.reports.overview import live_visitors
from embedded_db.reports.toplists import ListQuery, map_points
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, zone
from jobs.hub import Hub
from web.dashboard.auth import access_of
from web.dashboard.charts import country_name, live_map_figure
from web.dashboard.layout import project_page, project_url, render
from web.dashboard.templates import SECURITY_HEADERS

HEARTBEAT_SECONDS = 15
ACTIVITY_MINUTES = 30
ACTIVITY_ROWS = 15
LIVE_MINUTES = 5
RAW_LIMIT = 65536  # characters of a refused request's body shown


def recent_window(tz: str, now: datetime | None = None) -> Window:
    """The last ACTIVITY_MINUTES up to now (UTC instants, the project's timezone)."""
    end = now or datetime.now(UTC)
    return Window(end - timedelta(minutes=ACTIVITY_MINUTES), end + timedelta(seconds=1), tz)


def urls(project_id: str) -> dict[str, str]:
    """The page's partials and its stream."""
    base = project_url(project_id, "realtime")
    return {name: f"{base}/{name}" for name in ("live", "activity", "map", "stream")}


def place(event: dict[str, Any]) -> str:
    """'London, United Kingdom' from a camelCase event (empty when unknown)."""
    country = str(event.get("country") or "")
    parts = [str(event.get("city") or ""), country_name(country) if country else ""]
    return ", ".join(p for p in parts if p)


def client_of(event: dict[str, Any]) -> str:
    """'Chrome · Windows · desktop' from a camelCase event."""
    parts = (event.get("browser"), event.get("os"), event.get("device"))
    return " · ".join(str(p) for p in parts if p)


def stream_message(
    message: dict[str, Any], tz: str = "UTC", now: datetime | None = None
) -> dict[str, Any]:
    """A hub message as the debugger shows it: stored events with their time (ISO UTC, and
    `clock` in the project's timezone `tz`), place and client and the whole row as `raw`;
    refused requests with status, reason, the event name when the body names one, and the body
    text as `raw`."""
    if message.get("type") == "event":
        event = camel_event(message["event"])
        return {
            "type": "event",
            "name": event["name"],
            "time": event["createdAt"],
            "clock": local_clock(event["createdAt"], tz),
            "path": event.get("path") or "",
            "place": place(event),
            "client": client_of(event),
            "profileId": event.get("profileId") or "",
            "raw": event,
        }
    if message.get("type") == "rejected":
        body = str(message.get("body", ""))[:RAW_LIMIT]
        moment = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        return {
            "type": "rejected",
            "name": _body_name(body),
            "time": moment,
            "clock": local_clock(moment, tz),
            "status": message.get("status"),
            "reason": str(message.get("reason", "")),
            "raw": body,
        }
    return message


def _body_name(body: str) -> str:
    try:
        decoded = json.loads(body)
    except ValueError:
        return ""
    payload = decoded.get("payload") if isinstance(decoded, dict) else None
    name = payload.get("name") if isinstance(payload, dict) else None
    return name if isinstance(name, str) else ""


def _encode(message: dict[str, Any]) -> str:
    return msgspec.json.encode(message).decode()


def local_clock(iso_time: str, tz: str) -> str:
    """'2026-05-01T10:00:05.000Z' → '12:00:05' in the project's timezone."""
    moment = datetime.fromisoformat(iso_time.replace("Z", "+00:00"))
    return moment.astimezone(zone(tz)).strftime("%H:%M:%S")


def _activity(store: EventStore, project_id: str, window: Window) -> list[dict[str, Any]]:
    q = EventListQuery(project_id=project_id, window=window, limit=ACTIVITY_ROWS)
    events = list_events(store, q)["data"]
    return [
        {
            **e,
            "place": place(e),
            "client": client_of(e),
            "clock": local_clock(e["createdAt"], window.tz),
        }
        for e in events
        if e["name"] not in ("session_start", "session_end")
    ]


class RealtimeController(Controller):
    path = "/dashboard/{project_id:str}/realtime"

    @get("/", name="realtime")
    async def page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        access = access_of(request)
        return project_page(
            request, access, "realtime.html", "realtime", urls=urls(access.project.id)
        )

    @get("/live", name="realtime-live")
    async def live(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Visitors with an event in the last 5 minutes."""
        access = access_of(request)
        store: EventStore = request.app.state.store
        count = await store.run(live_visitors, store, access.project.id, datetime.now(UTC))
        return render("_live_count.html", visitors=count, minutes=LIVE_MINUTES)

    @get("/activity", name="realtime-activity")
    async def activity(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The latest events of the last 30 minutes, newest first."""
        access = access_of(request)
        store: EventStore = request.app.state.store
        window = recent_window(access.project.timezone)
        events = await store.run(_activity, store, access.project.id, window)
        return render("_live_activity.html", events=events, minutes=ACTIVITY_MINUTES)

    @get("/map", name="realtime-map")
    async def visitor_map(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Visitors of the last 30 minutes by country and city, on a world map."""
        access = access_of(request)
        store: EventStore = request.app.state.store
        q = ListQuery(
            project_id=access.project.id,
            window=recent_window(access.project.timezone),
            limit=250,
        )
        points = await store.run(map_points, store, q)
        figure = live_map_figure(points) if points["countries"] else None
        countries = [(country_name(c["country"]), c["visitors"]) for c in points["countries"]]
        return render("_live_map.html", figure=figure, minutes=ACTIVITY_MINUTES, top=countries[:5])

    @get("/stream", name="realtime-stream")
    async def stream(self, request: Request[Any, Any, Any]) -> ServerSentEvent:
        """Server-Sent Events: `hello`, then `event` and `rejected` messages, `ping` every 15 s."""
        access = access_of(request)
        project_id = access.project.id
        headers = {k: v for k, v in SECURITY_HEADERS.items() if k != "cache-control"}
        hello = _encode({"type": "hello", "projectId": project_id})
        if "text/event-stream" not in request.headers.get("accept", ""):
            return ServerSentEvent(_once(hello), headers=headers)
        hub: Hub = request.app.state.hub
        tz = access.project.timezone
        return ServerSentEvent(_follow(hub, project_id, tz, hello), headers=headers)


def _once(message: str) -> Iterator[str]:
    yield message


async def _follow(hub: Hub, project_id: str, tz: str, hello: str) -> AsyncIterator[str]:
    """The hub's messages for one project until the browser goes away."""
    sub = hub.subscribe(project_id)
    try:
        yield hello
        while True:
            try:
                message = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield _encode({"type": "ping"})
                continue
            yield _encode(stream_message(message, tz))
    finally:
        hub.unsubscribe(sub)
