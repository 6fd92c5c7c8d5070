"""Live visits (sessions) as the pipeline sees them: one mutable row per visit.

The pipeline applies each stored event to its visit (entry/exit, counts, bounce, duration,
revenue), writes `session_start` when a visit begins and `session_end` when it ends (a new visit
for the same device, or idle past the timeout at a `reap` command). Semantics follow
openpanel-compat.md §2.6. The book is persisted in the spool's `live_sessions` table together with
the batch that changed it, so a restart resumes exactly where the last stored batch left off.
"""

from __future__ import annotations

from typing import Any

import msgspec

from jobs.timefmt import ch_time

SESSION_COLUMNS = (
    "country",
    "region",
    "city",
    "longitude",
    "latitude",
    "device",
    "brand",
    "model",
    "browser",
    "browser_version",
    "os",
    "os_version",
)
REFERRER_COLUMNS = ("referrer", "referrer_name", "referrer_type")
UTM_KEYS = ("utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term")


class Visit(msgspec.Struct, kw_only=True):
    """The state of one live visit (the columns of `openpanel.sessions`, times in epoch ms)."""

    id: str
    project_id: str
    device_id: str
    profile_id: str
    created_ms: int
    ended_ms: int
    last_received_ms: int
    is_bounce: bool = True
    entry_origin: str = ""
    entry_path: str = ""
    exit_origin: str = ""
    exit_path: str = ""
    screen_view_count: int = 0
    event_count: int = 0
    revenue: float = 0.0
    groups: list[str] = []
    fields: dict[str, Any] = {}  # geo, device, referrer and utm columns copied from the first event

    def row(self, version: int) -> dict[str, Any]:
        """This visit as a `sessions` row."""
        row: dict[str, Any] = {
            "id": self.id,
            "project_id": self.project_id,
            "profile_id": self.profile_id,
            "device_id": self.device_id,
            "created_at": ch_time(self.created_ms),
            "ended_at": ch_time(self.ended_ms),
            "is_bounce": self.is_bounce,
            "entry_origin": self.entry_origin,
            "entry_path": self.entry_path,
            "exit_origin": self.exit_origin,
            "exit_path": self.exit_path,
            "screen_view_count": self.screen_view_count,
            "revenue": self.revenue,
            "event_count": self.event_count,
            "duration": self.ended_ms - self.created_ms,
            "groups": self.groups,
            "version": version,
        }
        row.update(self.fields)
        return row


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Visit)


class VisitBook:
    """Live visits by id and by (project, device); records what changed since the last save."""

    def __init__(self, timeout_ms: int) -> None:
        self.timeout_ms = timeout_ms
        self.visits: dict[str, Visit] = {}
        self.by_device: dict[tuple[str, str], str] = {}
        self.changed: set[str] = set()
        self.ended: set[str] = set()

    def load(self, bodies: list[bytes]) -> None:
        for body in bodies:
            visit = _decoder.decode(body)
            self.visits[visit.id] = visit
            self.by_device[(visit.project_id, visit.device_id)] = visit.id

    def take_changes(self) -> tuple[list[tuple[str, bytes]], list[str]]:
        """(upserts, deletes) for the spool's live_sessions table; resets the change set."""
        upserts = [
            (sid, _encoder.encode(self.visits[sid])) for sid in self.changed if sid in self.visits
        ]
        deletes = list(self.ended)
        self.changed.clear()
        self.ended.clear()
        return upserts, deletes

    def get(self, session_id: str) -> Visit | None:
        return self.visits.get(session_id)

    # -- applying events -----------------------------------------------------------------------
    def apply(
        self, event: dict[str, Any], event_ms: int, received_ms: int
    ) -> tuple[list[dict[str, Any]], list[Visit]]:
        """Apply a stored event to its visit. Returns (synthetic events to write before it,
        visits that ended because this device started a new one)."""
        sid = event["session_id"]
        key = (event["project_id"], event["device_id"])
        ended: list[Visit] = []
        extra: list[dict[str, Any]] = []
        visit = self.visits.get(sid)
        if visit is None:
            previous = self.by_device.get(key)
            if previous and previous in self.visits:
                ended.append(self.end(previous))
            visit = self._open(event, event_ms, received_ms)
            extra.append(session_start_event(event, event_ms))
        else:
            self._extend(visit, event, event_ms, received_ms)
        for column in REFERRER_COLUMNS:  # later events inherit the visit's referrer
            event[column] = visit.fields.get(column, "")
        self.changed.add(sid)
        return extra, ended

    def _open(self, event: dict[str, Any], event_ms: int, received_ms: int) -> Visit:
        is_view = event["name"] == "screen_view" and bool(event["path"])
        query = event["properties"]
        fields = {c: event[c] for c in SESSION_COLUMNS + REFERRER_COLUMNS}
        fields.update({k: query.get(f"__query.{k}", "") for k in UTM_KEYS})
        visit = Visit(
            id=event["session_id"],
            project_id=event["project_id"],
            device_id=event["device_id"],
            profile_id=event["profile_id"] or event["device_id"],
            created_ms=event_ms,
            ended_ms=event_ms,
            last_received_ms=received_ms,
            entry_origin=event["origin"],
            entry_path=event["path"],
            exit_origin=event["origin"],
            exit_path=event["path"],
            screen_view_count=1 if is_view else 0,
            event_count=0 if is_view else 1,
            revenue=float(event["revenue"]),
            groups=list(event["groups"]),
            fields=fields,
        )
        self.visits[visit.id] = visit
        self.by_device[(visit.project_id, visit.device_id)] = visit.id
        return visit

    def _extend(self, visit: Visit, event: dict[str, Any], event_ms: int, received_ms: int) -> None:
        if event_ms >= visit.ended_ms:
            visit.ended_ms = event_ms
            if event["path"]:
                visit.exit_path, visit.exit_origin = event["path"], event["origin"]
        visit.last_received_ms = max(visit.last_received_ms, received_ms)
        if event["name"] == "screen_view" and event["path"]:
            visit.screen_view_count += 1
        else:
            visit.event_count += 1
        visit.revenue += float(event["revenue"])
        if visit.screen_view_count > 1:
            visit.is_bounce = False
        profile = event["profile_id"]
        if profile and profile != visit.device_id and profile != visit.profile_id:
            visit.profile_id = profile
        for group in event["groups"]:
            if group not in visit.groups:
                visit.groups.append(group)

    def attach(self, event: dict[str, Any]) -> None:
        """Copy visit context onto a server-side event attached to the visit (not counted)."""
        visit = self.visits.get(event["session_id"])
        if visit is None:
            return
        event["device_id"] = visit.device_id
        for column in SESSION_COLUMNS + REFERRER_COLUMNS:
            event[column] = visit.fields.get(column, event.get(column))
        if not event["path"]:
            event["path"], event["origin"] = visit.exit_path, visit.exit_origin

    # -- ending --------------------------------------------------------------------------------
    def end(self, session_id: str) -> Visit:
        visit = self.visits.pop(session_id)
        key = (visit.project_id, visit.device_id)
        if self.by_device.get(key) == session_id:
            del self.by_device[key]
        self.changed.discard(session_id)
        self.ended.add(session_id)
        return visit

    def idle(self, now_ms: int) -> list[str]:
        """Ids of visits whose last received event is older than the timeout."""
        return [
            sid for sid, v in self.visits.items() if now_ms - v.last_received_ms > self.timeout_ms
        ]


def session_start_event(event: dict[str, Any], event_ms: int) -> dict[str, Any]:
    """The synthetic session_start: a copy of the first event, 100 ms earlier."""
    start = dict(event)
    start.update(
        name="session_start",
        created_at=ch_time(event_ms - 100),
        revenue=0,
        duration=0,
        id=_derived_uuid(event["session_id"], "start"),
    )
    return start


def session_end_event(visit: Visit, template: dict[str, Any]) -> dict[str, Any]:
    """The synthetic session_end: 1 s after the visit's last event, carrying its duration."""
    end = dict(template)
    end.update(
        id=_derived_uuid(visit.id, "end"),
        name="session_end",
        project_id=visit.project_id,
        device_id=visit.device_id,
        profile_id=visit.profile_id,
        session_id=visit.id,
        created_at=ch_time(visit.ended_ms + 1000),
        duration=visit.ended_ms - visit.created_ms,
        path=visit.exit_path,
        origin=visit.exit_origin,
        revenue=0,
        groups=visit.groups,
        properties={"__bounce": "true" if visit.is_bounce else "false"},
        sdk_name="",
        sdk_version="",
        imported_at=None,
    )
    for column in SESSION_COLUMNS + REFERRER_COLUMNS:
        end[column] = visit.fields.get(column, end.get(column))
    return end


def _derived_uuid(session_id: str, what: str) -> str:
    import uuid

    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"openpanel:{session_id}:{what}"))
