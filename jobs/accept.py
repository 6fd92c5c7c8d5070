"""Accepting a validated ingest request: time rules, ids, and the durable spool append.

Called by the ingest API after authentication. Returns the ids the SDK gets back. A record is
in the spool (committed) before this returns, so a 200 always means the event is safe.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from jobs.enrich.useragent import UserAgentParser
from jobs.identity import IdentityResolver
from jobs.records import Accepted, Kind, encode
from jobs.spool import Spool
from jobs.timefmt import now_ms, parse_iso_ms

FUTURE_TOLERANCE_MS = 60_000
PAST_LIMIT_MS = 15 * 60_000
SERVER_UA_DEFAULT = "unknown/1.0"


@dataclass(frozen=True, slots=True)
class Context:
    """Who sent a request: resolved before the payload is handled."""

    project_id: str
    ip: str
    ua: str
    sdk_name: str = ""
    sdk_version: str = ""


@dataclass(frozen=True, slots=True)
class Ids:
    device_id: str
    session_id: str

    def as_json(self) -> dict[str, str]:
        return {"deviceId": self.device_id, "sessionId": self.session_id}


def event_time(properties: dict[str, Any], received_ms: int) -> tuple[int, bool]:
    """(event time, is from the past) per §2.8: future > 1 min or invalid → server time."""
    raw = properties.get("__timestamp")
    if not isinstance(raw, str):
        return received_ms, False
    parsed = parse_iso_ms(raw)
    if parsed is None or parsed > received_ms + FUTURE_TOLERANCE_MS:
        return received_ms, False
    return parsed, parsed < received_ms - PAST_LIMIT_MS


def override_ip(properties: dict[str, Any], ip: str) -> str:
    """`properties.__ip` replaces the client IP when it is a valid address."""
    raw = properties.get("__ip")
    if isinstance(raw, str):
        try:
            return str(ipaddress.ip_address(raw.strip()))
        except ValueError:
            return ip
    return ip


def device_override(properties: dict[str, Any]) -> str:
    raw = properties.get("__deviceId")
    if isinstance(raw, str) and 0 < len(raw.strip()) <= 64:
        return raw.strip()
    return ""


class Acceptor:
    """Turns validated requests into spool records and answers with their ids."""

    def __init__(
        self, spool: Spool, identity: IdentityResolver, user_agents: UserAgentParser
    ) -> None:
        self.spool = spool
        self.identity = identity
        self.user_agents = user_agents

    async def track(
        self,
        ctx: Context,
        payload: dict[str, Any],
        profile_id: str,
        received_ms: int | None = None,
    ) -> Ids:
        """Accept a track event (`received_ms`: the server clock, epoch ms; default now)."""
        received = now_ms() if received_ms is None else received_ms
        props = payload.setdefault("properties", {})
        at, past = event_time(props, received)
        ip = override_ip(props, ctx.ip)
        ua = ctx.ua or SERVER_UA_DEFAULT
        identify = props.get("__identify")
        if isinstance(identify, dict) and identify.get("profileId") not in (None, ""):
            profile_id = str(identify["profileId"])
        override = device_override(props)
        server = self.user_agents.parse(ua).is_server and not override
        ident = self.identity.resolve(
            project_id=ctx.project_id,
            ua=ua,
            ip=ip,
            event_ms=at,
            profile_id=profile_id,
            device_override=override,
            sessionless=server or past,
        )
        record = Accepted(
            kind="track",
            project_id=ctx.project_id,
            received_ms=received,
            event_ms=at,
            device_id=ident.device_id,
            session_id=ident.session_id,
            profile_id=ident.profile_id,
            attached=ident.attached,
            ip=ip,
            ua=ua,
            sdk_name=ctx.sdk_name,
            sdk_version=ctx.sdk_version,
            payload=payload,
        )
        await self.spool.append(encode(record))
        return Ids(ident.device_id, ident.session_id)

    async def other(
        self,
        kind: Kind,
        ctx: Context,
        payload: dict[str, Any],
        received_ms: int | None = None,
    ) -> Ids:
        """Accept identify, increment, decrement, alias, group, assign_group or replay
        (`received_ms`: the server clock, epoch ms; default now)."""
        received = now_ms() if received_ms is None else received_ms
        ua = ctx.ua or SERVER_UA_DEFAULT
        device, session, _ = self.identity.peek(
            project_id=ctx.project_id, ua=ua, ip=ctx.ip, at_ms=received
        )
        record = Accepted(
            kind=kind,
            project_id=ctx.project_id,
            received_ms=received,
            event_ms=received,
            device_id=device,
            session_id=session,
            ip=ctx.ip,
            ua=ua,
            sdk_name=ctx.sdk_name,
            sdk_version=ctx.sdk_version,
            payload=payload,
        )
        await self.spool.append(encode(record))
        return Ids(device, session)

    async def bot(self, ctx: Context, name: str, type_: str, path: str) -> None:
        """Record a bot hit (not an event) for the bots report."""
        record = Accepted(
            kind="bot",
            project_id=ctx.project_id,
            received_ms=now_ms(),
            payload={"name": name, "type": type_, "path": path},
        )
        await self.spool.append(encode(record))

    def request_reap(self) -> None:
        """Ask the pipeline to end idle visits (a command through the spool, so replays agree)."""
        self.spool.append_sync(encode(Accepted(kind="reap", received_ms=now_ms())))
        self.identity.index.expire(now_ms())
