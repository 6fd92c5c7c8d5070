"""ASGI fast path for `POST /track` (and `/api/track`): the hot ingest route served without
Litestar's routing and middleware stack, calling the same `Ingest.track` as the Litestar route.

Why: the framework's per-request work (routing, middleware, request and response objects) cost
more than the whole ingest core (docs/benchmarks.md). Everything else, including the CORS
preflight for /track, goes through Litestar unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from embedded_db.errors import AppError
from web.responses import Reply

log = logging.getLogger(__name__)

TRACK_PATHS = frozenset({"/track", "/api/track"})
Scope = dict[str, Any]


class IngestFastPath:
    """Wraps the Litestar app; handles POST /track itself once the app has started."""

    def __init__(self, app: Any, max_body_bytes: int) -> None:
        self.app = app
        self.max_body = max_body_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in TRACK_PATHS:
            ingest = getattr(self.app.state, "ingest", None)
            if ingest is not None:
                await self._track(ingest, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _track(self, ingest: Any, scope: Scope, receive: Any, send: Any) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        body = await self._body(headers, receive)
        if body is None:
            reply = Reply.error(413, "Request Entity Too Large")
        else:
            try:
                reply = await ingest.track(headers, body)
            except AppError as exc:  # the spool could not persist: tell the SDK to retry
                log.error("ingest failed: %s", exc)
                reply = Reply.error(503, f"The event could not be stored: {exc}")
            except Exception:
                log.exception("unexpected error in POST %s", scope["path"])
                reply = Reply.text("Internal server error", 500)
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [
                    (b"content-type", reply.media_type.encode()),
                    (b"content-length", str(len(reply.body)).encode()),
                    (b"access-control-allow-origin", b"*"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    async def _body(self, headers: dict[str, str], receive: Any) -> bytes | None:
        """The request body, or None when it exceeds the limit (checked while reading)."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return b""
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
