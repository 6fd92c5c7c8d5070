"""The event pipeline: spool → enrich → visits → profiles → chDB, exactly once, in batches.

One thread drains the spool. For each batch it builds every row (events with their synthetic
session_start/session_end, visit rows, profiles, groups, replay chunks, bot hits), inserts them
with a deduplication token derived from the batch's spool range, then deletes the batch from the
spool in the same SQLite transaction that saves the live visits. A crash anywhere in between
replays the same batch from the same saved state, and chDB drops the repeated inserts.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from embedded_db.store import EventStore
from jobs.enrich.properties import flatten_properties
from jobs.eventrows import EVENT_DEFAULTS, Enricher
from jobs.hub import Hub
from jobs.identity import LiveIndex, LiveVisit
from jobs.profiles import NAME_FIELDS, ProfileBook, context_properties
from jobs.records import Accepted, decode
from jobs.rollups import Roller
from jobs.spool import Batch, Spool
from jobs.timefmt import ch_time, now_ms
from jobs.visits import Visit, VisitBook, session_end_event

log = logging.getLogger(__name__)

EventFilter = Callable[[str, str], bool]  # (project_id, event name) → drop?


@dataclass
class BatchRows:
    """Everything one batch writes."""

    events: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    replays: list[dict[str, Any]] = field(default_factory=list)
    bots: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[dict[str, Any]] = field(default_factory=list)
    failed: list[tuple[int, bytes, str]] = field(default_factory=list)


class Pipeline:
    """Owns the visit book and the profile cache; runs on its own thread."""

    def __init__(
        self,
        store: EventStore,
        spool: Spool,
        enricher: Enricher,
        hub: Hub,
        *,
        timeout_ms: int = 30 * 60_000,
        batch_max: int = 5000,
        interval_ms: int = 500,
        event_filter: EventFilter | None = None,
        roller: Roller | None = None,
    ) -> None:
        self.store = store
        self.spool = spool
        self.enricher = enricher
        self.hub = hub
        self.visits = VisitBook(timeout_ms)
        self.profiles = ProfileBook(store)
        self.batch_max = batch_max
        self.interval = interval_ms / 1000
        self.event_filter = event_filter
        self.roller = roller
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stored_events = 0
        self.last_batch_at = 0.0
        self.last_error = ""
        self.visits.load(spool.live_sessions())

    # -- lifecycle -----------------------------------------------------------------------------
    def restore_index(self, index: LiveIndex) -> None:
        """Rebuild the accept-side live index from saved visits and the unprocessed spool."""
        for visit in self.visits.visits.values():
            index.restore(
                visit.project_id,
                visit.device_id,
                LiveVisit(visit.id, visit.ended_ms, visit.profile_id),
            )
        for _, body in self.spool.pending_records():
            rec = decode(body)
            if rec.kind == "track" and rec.session_id and not rec.attached:
                index.restore(
                    rec.project_id,
                    rec.device_id,
                    LiveVisit(rec.session_id, rec.event_ms, rec.profile_id),
                )

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="pipeline", daemon=True)
        self._thread.start()

    def stop(self, drain: bool = True) -> None:
        """Stop the thread; with `drain`, store everything already spooled first."""
        self._stop.set()
        self.spool.appended.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        if drain:
            while self.run_once():
                pass

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                processed = self.run_once()
            except Exception as exc:  # chDB unavailable, disk full: keep the batch, retry
                self.last_error = str(exc)
                log.exception("pipeline batch failed; retrying")
                self._stop.wait(1.0)
                continue
            self._roll_up()
            if processed >= self.batch_max:
                continue  # backlog: go straight on
            self.spool.appended.wait(self.interval)
            self.spool.appended.clear()
            self._stop.wait(self.interval if processed else 0)

    def _roll_up(self) -> None:
        if self.roller is None or not self.roller.due():
            return
        try:
            self.roller.run(now_ms())
        except Exception:  # reports read raw until the next turn succeeds
            log.exception("rolling up failed; retrying later")
            self.roller.defer()

    # -- one batch -----------------------------------------------------------------------------
    def run_once(self) -> int:
        """Store the next batch (or the interrupted one); return how many records it had."""
        batch = self.spool.next_batch(self.batch_max)
        if batch is None:
            return 0
        rows = self.build(batch)
        token = batch.token(self.spool.epoch)
        self.store.insert("events", rows.events, token)
        self.store.insert("sessions", rows.sessions, token)
        self.store.insert("profiles", self.profiles.take_rows(), token)
        self.store.insert("groups", rows.groups, token)
        self.store.insert("session_replay_chunks", rows.replays, token)
        self.store.insert("events_bots", rows.bots, token)
        self.store.insert("profile_aliases", rows.aliases, token)
        if self.roller is not None:
            self.roller.note(now_ms(), rows.events, rows.sessions)
        upserts, deletes = self.visits.take_changes()
        self.spool.complete(batch, upserts, deletes, rows.failed)
        if batch.replay:
            self.profiles.clear()  # the cache may hold effects chDB dropped as duplicates
        self.stored_events += len(rows.events)
        self.last_batch_at = time.time()
        self.last_error = ""
        self.hub.publish_events(rows.events)
        return len(batch.records)

    def build(self, batch: Batch) -> BatchRows:
        """All rows of a batch; a record that fails is set aside, never blocks the rest."""
        out = BatchRows()
        records = []
        for seq, body in batch.records:
            try:
                rec = decode(body)
                rec.event_id = rec.event_id or event_uuid(self.spool.epoch, seq, rec.event_ms)
                records.append((seq, body, rec))
            except msgspec.DecodeError as exc:
                out.failed.append((seq, body, f"undecodable record: {exc}"))
        self.profiles.preload(_profile_keys(r for _, _, r in records))
        changed: dict[str, Visit] = {}
        for seq, body, rec in records:
            try:
                self._apply(rec, out, changed)
            except Exception as exc:
                log.exception("record %s could not be processed", seq)
                out.failed.append((seq, body, repr(exc)))
        for sid in self.visits.changed:
            changed[sid] = self.visits.visits[sid]
        out.sessions = [v.row(batch.last_seq) for v in changed.values()]
        return out

    def _apply(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        handler = getattr(self, "_on_" + rec.kind)
        handler(rec, out, changed)

    def _on_track(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        if self.event_filter and self.event_filter(rec.project_id, rec.payload["name"]):
            return
        event = self.enricher.track_event(rec)
        if rec.session_id and not rec.attached:
            extra, ended = self.visits.apply(event, rec.event_ms, rec.received_ms)
            for visit in ended:
                self._finish(visit, rec.received_ms, out, changed)
            for start in extra:
                self._visit_seen(start, rec.received_ms)
            out.events.extend(extra)
        elif rec.attached:
            self.visits.attach(event)
        else:
            event["device_id"] = ""
            event["session_id"] = ""
        out.events.append(event)
        identify = rec.payload.get("properties", {}).get("__identify")
        if isinstance(identify, dict) and len(identify) > 1 and identify.get("profileId"):
            self._identify(rec, identify)

    def _on_identify(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        self._identify(rec, rec.payload)

    def _identify(self, rec: Accepted, payload: dict[str, Any]) -> None:
        props = flatten_properties(payload.get("properties") or {})
        context = self.enricher.client_context(rec.ip, rec.ua, payload.get("properties") or {})
        props.update({k: str(v) for k, v in context.items() if v not in (None, "")})
        names = {f: payload.get(_camel(f)) or "" for f in NAME_FIELDS}
        key = (rec.project_id, str(payload["profileId"]))
        self.profiles.identify(key, rec.received_ms, names, props)

    def _on_increment(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        self._add(rec, 1)

    def _on_decrement(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        self._add(rec, -1)

    def _add(self, rec: Accepted, sign: int) -> None:
        value = rec.payload.get("value")
        amount = 1 if value is None else int(value)
        key = (rec.project_id, str(rec.payload["profileId"]))
        self.profiles.add(key, rec.received_ms, rec.payload["property"], sign * amount)

    def _on_group(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        p = rec.payload
        out.groups.append(
            {
                "id": p["id"],
                "project_id": rec.project_id,
                "type": p["type"],
                "name": p["name"],
                "properties": flatten_properties(p.get("properties") or {}),
                "created_at": ch_time(rec.received_ms),
                "version": rec.received_ms,
            }
        )

    def _on_assign_group(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        profile = str(rec.payload.get("profileId") or rec.device_id)
        self.profiles.assign_groups(
            (rec.project_id, profile),
            rec.received_ms,
            list(rec.payload["groupIds"]),
            profile != rec.device_id,
        )

    def _on_replay(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        p = rec.payload
        out.replays.append(
            {
                "project_id": rec.project_id,
                "session_id": p.get("sessionId") or rec.session_id,
                "chunk_index": p["chunk_index"],
                "started_at": ch_time(p["started_ms"]),
                "ended_at": ch_time(p["ended_ms"]),
                "events_count": p["events_count"],
                "is_full_snapshot": p["is_full_snapshot"],
                "payload": p["payload"],
            }
        )

    def _on_alias(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        out.aliases.append(
            {
                "project_id": rec.project_id,
                "profile_id": str(rec.payload["profileId"]),
                "alias": rec.payload["alias"],
                "created_at": ch_time(rec.received_ms),
            }
        )

    def _on_bot(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        p = rec.payload
        out.bots.append(
            {
                "id": rec.event_id,
                "project_id": rec.project_id,
                "name": p["name"],
                "type": p["type"],
                "path": p.get("path", ""),
                "created_at": ch_time(rec.received_ms),
            }
        )

    def _on_reap(self, rec: Accepted, out: BatchRows, changed: dict[str, Visit]) -> None:
        for sid in self.visits.idle(rec.received_ms):
            self._finish(self.visits.end(sid), rec.received_ms, out, changed)

    # -- visits ending -------------------------------------------------------------------------
    def _finish(self, visit: Visit, at_ms: int, out: BatchRows, changed: dict[str, Visit]) -> None:
        end = session_end_event(visit, EVENT_DEFAULTS)
        out.events.append(end)
        changed[visit.id] = visit
        self._visit_seen(end, at_ms)

    def _visit_seen(self, event: dict[str, Any], at_ms: int) -> None:
        profile = event["profile_id"] or event["device_id"]
        if profile:
            self.profiles.seen(
                (event["project_id"], profile), at_ms, event["device_id"], context_properties(event)
            )


def event_uuid(epoch: str, seq: int, at_ms: int) -> str:
    """The id of the event spooled at `seq`, happening at `at_ms`: deterministic, so a replayed
    batch is identical, and time-ordered like a UUIDv7 (48 bits of ms, then 32 bits naming the
    spool epoch and 42 bits of sequence), so ids stored in time order compress to a few bytes
    instead of 16 random ones."""
    tag = int.from_bytes(hashlib.blake2b(epoch.encode(), digest_size=4).digest())
    value = (at_ms & (2**48 - 1)) << 80
    value |= 0x7 << 76  # version 7
    value |= (tag >> 20) << 64  # 12 bits of the epoch tag
    value |= 0b10 << 62  # RFC 9562 variant
    value |= (tag & (2**20 - 1)) << 42
    value |= seq & (2**42 - 1)
    return str(uuid.UUID(int=value))


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def _profile_keys(records: Any) -> set[tuple[str, str]]:
    keys = set()
    for rec in records:
        if rec.kind == "track":
            keys.add((rec.project_id, rec.profile_id or rec.device_id))
        elif rec.kind in ("identify", "increment", "decrement", "assign_group"):
            keys.add((rec.project_id, str(rec.payload.get("profileId") or rec.device_id)))
    return keys
