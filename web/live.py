"""Realtime: `GET /live/events/{projectId}` streams stored events (and refused requests, for the
SDK debugger) as Server-Sent Events to a read client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import msgspec
from litestar import Request, get
from litestar.params import FromPath
from litestar.response import ServerSentEvent

from embedded_db.exports import camel_event
from jobs.hub import Hub
from web.security import read_caller

HEARTBEAT_SECONDS = 15


@get("/live/events/{project_id:str}", summary="Server-Sent Events of a project's live events")
async def live_events(
    request: Request[Any, Any, Any], project_id: FromPath[str]
) -> ServerSentEvent:
    caller = await read_caller(request, project_id)
    hub: Hub = request.app.state.hub
    sub = hub.subscribe(caller.project.id)

    async def stream() -> AsyncIterator[str]:
        try:
            yield msgspec.json.encode({"type": "hello", "projectId": caller.project.id}).decode()
            while True:
                try:
                    message = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield msgspec.json.encode({"type": "ping"}).decode()
                    continue
                if message["type"] == "event":
                    message = {"type": "event", "event": camel_event(message["event"])}
                yield msgspec.json.encode(message).decode()
        finally:
            hub.unsubscribe(sub)

    return ServerSentEvent(stream())
