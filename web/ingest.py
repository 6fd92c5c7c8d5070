"""The ingest API: `POST /track` and the legacy `/event`, `/profile*`, `GET /track/device-id`.

Thin on purpose: decode and bound the body, authenticate, screen bots and duplicates, then hand
the request to `jobs.accept`. Replies follow the SDK contract (openpanel-compat.md §1, Part B):
200 JSON `{deviceId, sessionId}`, 401 plain text, 400 JSON naming the field, 202 for bots.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, get, post

from embedded_db.errors import ValidationError
from jobs.accept import Acceptor, Context, Ids
from jobs.enrich.bots import BotDetector
from jobs.enrich.ip import DEFAULT_IP_HEADERS, resolve_client_ip
from jobs.enrich.names import RESERVED_EVENT_NAMES, blocked_event_name_reason
from jobs.hub import Hub
from jobs.timefmt import now_ms, parse_iso_ms
from web import ingest_schema as schema
from web.auth import Authenticator, AuthError, Caller
from web.dedup import DuplicateWindow
from web.responses import Reply, bad_request, json_response, text_response

_SERVER_KEYS = frozenset({"__bot", "__bot_reasons"})  # server-controlled; client values dropped


@dataclass
class Ingest:
    """Everything the ingest handlers need; built once by the app factory."""

    auth: Authenticator
    acceptor: Acceptor
    bots: BotDetector
    hub: Hub
    dedup: DuplicateWindow
    ip_headers: tuple[str, ...] = DEFAULT_IP_HEADERS

    def client_ip(self, headers: Mapping[str, str]) -> str:
        return resolve_client_ip(headers, self.ip_headers)

    def context(self, caller: Caller, headers: Mapping[str, str], ip: str) -> Context:
        return Context(
            project_id=caller.project.id,
            ip=ip,
            ua=headers.get("user-agent", "")[:1024],
            sdk_name=headers.get("openpanel-sdk-name", "")[:64],
            sdk_version=headers.get("openpanel-sdk-version", "")[:64],
        )

    def reject(self, project_id: str, status: int, reason: str, body: bytes) -> None:
        """Tell the SDK debugger (realtime hub) about a refused request."""
        if project_id and self.hub.subscribers(project_id):
            self.hub.publish(
                project_id,
                {
                    "type": "rejected",
                    "status": status,
                    "reason": reason,
                    "body": body[:65536].decode("utf-8", "replace"),
                },
            )

    async def authenticate(
        self,
        headers: Mapping[str, str],
        body_client_id: str | None,
        body_secret: str | None,
        ip: str,
        profile_id: str,
        has_revenue: bool,
    ) -> Caller:
        return await self.auth.ingest(
            client_id=_first(headers, "openpanel-client-id", "mixan-client-id")
            or (body_client_id or ""),
            secret=_first(headers, "openpanel-client-secret", "mixan-client-secret")
            or (body_secret or ""),
            origin=headers.get("origin", ""),
            ip=ip,
            profile_id=profile_id,
            has_revenue=has_revenue,
        )

    async def track(self, headers: Mapping[str, str], body: bytes) -> Reply:
        """Handle one `POST /track` body; framework-free so the ASGI fast path can call it."""
        client_hint = _first(headers, "openpanel-client-id", "mixan-client-id")
        try:
            kind, envelope = schema.decode_envelope(body)
            payload = envelope.payload
            _validate(kind, payload)
        except ValidationError as exc:
            self.reject(self._project_hint(client_hint), 400, str(exc), body)
            return Reply.bad_request(exc)
        props = getattr(payload, "properties", None) or {}
        ip = self.client_ip(headers)
        profile_id = _profile_id(getattr(payload, "profileId", None))
        try:
            caller = await self.authenticate(
                headers,
                envelope.clientId,
                envelope.clientSecret,
                ip,
                profile_id,
                has_revenue="__revenue" in props,
            )
        except AuthError as exc:
            self.reject(self._project_hint(client_hint or envelope.clientId), 401, str(exc), body)
            return Reply.text(str(exc), 401)
        ctx = self.context(caller, headers, ip)
        if not caller.secret_auth:
            hit = self.bots.match(ctx.ua)
            if hit is not None:
                path = props.get("__path") or props.get("path") if kind == "track" else ""
                await self.acceptor.bot(
                    ctx, hit.name, hit.type, path if isinstance(path, str) else ""
                )
                self.reject(ctx.project_id, 202, f"bot user agent ({hit.name})", body)
                return Reply.json({"bot": {"name": hit.name, "type": hit.type}}, 202)
        origin = headers.get("origin", "")
        key = None
        if ip and origin and client_hint and kind != "replay":
            key = self.dedup.fingerprint(body, ip, origin, client_hint)
            first = self.dedup.claim(key)
            if first is not None:
                ids = await first
                return Reply.json({**ids.as_json(), "duplicate": True})
        try:
            ids = await self.accept(kind, ctx, payload, profile_id)
        except BaseException as exc:
            if key is not None:
                self.dedup.forget(key, exc)
            raise
        if key is not None:
            self.dedup.settle(key, ids)
        return Reply.json(ids.as_json())

    async def accept(self, kind: str, ctx: Context, payload: Any, profile_id: str) -> Ids:
        """Hand a validated, authenticated payload to the acceptor; the ids to answer with."""
        if kind == "track":
            props = payload.properties or {}
            data: dict[str, Any] = {
                "name": payload.name,
                "properties": {k: v for k, v in props.items() if k not in _SERVER_KEYS},
            }
            if payload.groups:
                data["groups"] = payload.groups
            return await self.acceptor.track(ctx, data, profile_id)
        data = msgspec.to_builtins(payload)
        if kind == "replay":
            data["started_ms"] = _iso_ms(payload.started_at, "payload.started_at")
            data["ended_ms"] = _iso_ms(payload.ended_at, "payload.ended_at")
        if (
            kind in ("identify", "increment", "decrement", "alias")
            or data.get("profileId") is not None
        ):
            data["profileId"] = profile_id
        return await self.acceptor.other(kind, ctx, data)  # type: ignore[arg-type]

    def _project_hint(self, client_id: str | None) -> str:
        client = self.auth.client(client_id) if client_id and len(client_id) == 36 else None
        return (client.project_id or "") if client else ""


def _first(headers: Mapping[str, str], *names: str) -> str:
    for name in names:
        value = headers.get(name)
        if value:
            return value[:256]
    return ""


def _profile_id(value: Any) -> str:
    return "" if value is None else str(value)


def _iso_ms(value: str, field: str) -> int:
    parsed = parse_iso_ms(value)
    if parsed is None:
        raise ValidationError(field, "is not an ISO 8601 date-time")
    return parsed


_blocked_name = functools.lru_cache(maxsize=4096)(blocked_event_name_reason)


def _validate(kind: str, payload: Any) -> None:
    """Semantic checks beyond the struct types (names, revenue, bounded properties)."""
    if kind == "track":
        name = payload.name
        if name in RESERVED_EVENT_NAMES:
            raise ValidationError("payload.name", f"{name} is a reserved event name")
        reason = _blocked_name(name)
        if reason:
            raise ValidationError("payload.name", reason)
        props = payload.properties or {}
        schema.check_properties(props, "payload.properties")
        revenue = props.get("__revenue")
        if (
            name == "revenue"
            and revenue is not None
            and (not isinstance(revenue, int) or isinstance(revenue, bool) or revenue < 0)
        ):
            raise ValidationError(
                "payload.properties.__revenue",
                "must be a non-negative integer (minor currency units)",
            )
    elif kind == "identify":
        schema.check_identify(payload, "payload")
    elif kind == "replay":
        _iso_ms(payload.started_at, "payload.started_at")
        _iso_ms(payload.ended_at, "payload.ended_at")
    elif kind == "group" and payload.properties is not None:
        schema.check_properties(payload.properties, "payload.properties")


# -- route handlers ----------------------------------------------------------------------------
@post("/track", status_code=200, summary="Ingest one SDK call (track, identify, …)")
async def track(request: Request[Any, Any, Any]) -> Response[Any]:
    """Served by the ASGI fast path in production (web/fastpath.py); this route keeps the
    endpoint in the OpenAPI schema and in-process test clients."""
    ingest: Ingest = request.app.state.ingest
    reply = await ingest.track(request.headers, await request.body())
    return reply.response()


@get("/track/device-id", summary="The visitor's device and session ids")
async def device_id(request: Request[Any, Any, Any]) -> Response[Any]:
    ingest: Ingest = request.app.state.ingest
    headers = request.headers
    ip = ingest.client_ip(headers)
    try:
        caller = await ingest.authenticate(headers, None, None, ip, "", False)
    except AuthError as exc:
        return text_response(str(exc), 401)
    ctx = ingest.context(caller, headers, ip)
    device, session, which = ingest.acceptor.identity.peek(
        project_id=ctx.project_id, ua=ctx.ua or "unknown/1.0", ip=ip, at_ms=now_ms()
    )
    message = (
        f"{which} session exists for this device id"
        if which
        else "No session exists for this device id"
    )
    return json_response({"deviceId": device, "sessionId": session, "message": message})


@post("/event", status_code=202, summary="Deprecated v1 event ingest")
async def legacy_event(request: Request[Any, Any, Any]) -> Response[Any]:
    ingest: Ingest = request.app.state.ingest
    body = await request.body()
    try:
        event = schema.decode(body, schema.LegacyEvent, "")
        payload = schema.TrackPayload(
            name=event.name, properties=event.properties, profileId=event.profileId
        )
        _validate("track", payload)
    except ValidationError as exc:
        return bad_request(exc)
    headers = request.headers
    ip = ingest.client_ip(headers)
    profile_id = _profile_id(event.profileId)
    try:
        caller = await ingest.authenticate(
            headers,
            event.clientId,
            event.clientSecret,
            ip,
            profile_id,
            "__revenue" in (event.properties or {}),
        )
    except AuthError as exc:
        return text_response(str(exc), 401)
    ctx = ingest.context(caller, headers, ip)
    await ingest.accept("track", ctx, payload, profile_id)
    return text_response("ok", 202)


@post("/profile", status_code=202, summary="Deprecated identify")
async def legacy_profile(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _legacy_profile_call(request, "identify", schema.LegacyProfile)


@post("/profile/increment", status_code=202, summary="Deprecated profile increment")
async def legacy_increment(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _legacy_profile_call(request, "increment", schema.LegacyIncrement)


@post("/profile/decrement", status_code=202, summary="Deprecated profile decrement")
async def legacy_decrement(request: Request[Any, Any, Any]) -> Response[Any]:
    return await _legacy_profile_call(request, "decrement", schema.LegacyIncrement)


async def _legacy_profile_call(
    request: Request[Any, Any, Any], kind: str, struct: type[Any]
) -> Response[Any]:
    ingest: Ingest = request.app.state.ingest
    body = await request.body()
    try:
        payload = schema.decode(body, struct, "")
        if kind == "identify":
            schema.check_identify(payload, "")
        elif payload.value is not None and (
            not isinstance(payload.value, int | float) or isinstance(payload.value, bool)
        ):
            return text_response("Not number", 400)
        if kind != "identify":
            payload = schema.convert(msgspec.structs.asdict(payload), schema.IncrementPayload, "")
    except ValidationError as exc:
        return bad_request(exc)
    headers = request.headers
    ip = ingest.client_ip(headers)
    profile_id = _profile_id(payload.profileId)
    try:
        caller = await ingest.authenticate(headers, None, None, ip, profile_id, False)
    except AuthError as exc:
        return text_response(str(exc), 401)
    await ingest.accept(kind, ingest.context(caller, headers, ip), payload, profile_id)
    return text_response(profile_id, 202)


INGEST_HANDLERS = [
    track,
    device_id,
    legacy_event,
    legacy_profile,
    legacy_increment,
    legacy_decrement,
]
