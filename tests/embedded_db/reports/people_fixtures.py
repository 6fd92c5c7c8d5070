"""Hand-built rows with explicit timestamps for the flow, profile, session and event-list
reports: inserted straight into openpanel.events / sessions / profiles of a fresh project."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.store import EventStore
from embedded_db.timeframe import Window
from tests.support.stores import unique_project

BASE = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday, 10:00 UTC


def at(minutes: float = 0, days: int = 0) -> datetime:
    """BASE shifted by minutes (and days)."""
    return BASE + timedelta(days=days, minutes=minutes)


def ch(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def window(days_before: int = 1, days_after: int = 1, tz: str = "UTC") -> Window:
    return Window(BASE - timedelta(days=days_before), BASE + timedelta(days=days_after), tz)


@dataclass
class Book:
    """Rows for one project, inserted together by `save()`."""

    store: EventStore
    project: str = field(default_factory=unique_project)
    events: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)

    def event(
        self,
        name: str,
        when: datetime,
        session: str = "s1",
        profile: str = "u1",
        path: str = "",
        props: dict[str, str] | None = None,
        **cols: Any,
    ) -> dict[str, Any]:
        row = {
            "id": str(uuid.uuid4()),
            "project_id": self.project,
            "name": name,
            "session_id": session,
            "profile_id": profile,
            "device_id": cols.pop("device_id", profile),
            "path": path,
            "origin": "https://shop.example" if path else "",
            "properties": dict(props or {}),
            "created_at": ch(when),
            **cols,
        }
        self.events.append(row)
        return row

    def visit(self, session: str, start: datetime, *steps: str, profile: str = "") -> None:
        """session_start, then one event a minute: `/x` is a screen_view of /x, anything else
        an event of that name; session_end a minute after the last."""
        who = profile or "d-" + session
        self.event("session_start", start - timedelta(seconds=1), session, who)
        for i, step in enumerate(steps):
            when = start + timedelta(minutes=i)
            if step.startswith("/"):
                self.event("screen_view", when, session, who, path=step)
            else:
                self.event(step, when, session, who)
        self.event("session_end", start + timedelta(minutes=len(steps)), session, who)

    def session(
        self, sid: str, profile: str, created: datetime, minutes: float = 0, **cols: Any
    ) -> dict[str, Any]:
        ended = created + timedelta(minutes=minutes)
        row = {
            "id": sid,
            "project_id": self.project,
            "profile_id": profile,
            "device_id": cols.pop("device_id", profile),
            "created_at": ch(created),
            "ended_at": ch(ended),
            "duration": int(minutes * 60_000),
            "version": 1,
            **cols,
        }
        self.sessions.append(row)
        return row

    def profile(self, pid: str, last_seen: datetime, **cols: Any) -> dict[str, Any]:
        row = {
            "id": pid,
            "project_id": self.project,
            "created_at": ch(cols.pop("created", last_seen - timedelta(days=1))),
            "last_seen_at": ch(last_seen),
            **cols,
        }
        self.profiles.append(row)
        return row

    def save(self) -> Book:
        for table, rows in (
            ("events", self.events),
            ("sessions", self.sessions),
            ("profiles", self.profiles),
        ):
            self.store.insert(table, rows)
        return self
