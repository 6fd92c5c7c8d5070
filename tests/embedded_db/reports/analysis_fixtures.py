"""Hand-built events with explicit timestamps for the funnel, conversion and retention tests:
rows go straight into openpanel.events (and sessions) of a fresh project, every column filled."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.store import EventStore
from embedded_db.timeframe import Window, resolve_range
from jobs.eventrows import EVENT_DEFAULTS
from tests.support.stores import unique_project

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday, noon UTC


def at(minutes: float = 0, days: float = 0, hours: float = 0, seconds: float = 0) -> datetime:
    """T0 shifted by the given amounts."""
    return T0 + timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def ch_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def day_window(first: str, last: str, tz: str = "UTC") -> Window:
    """Whole local days `first` … `last` (ISO dates) in `tz`, as a UTC window."""
    return resolve_range("custom", tz, T0, first, last)


@dataclass
class Events:
    """Rows for one project, inserted together by `save()`."""

    store: EventStore
    project: str = field(default_factory=unique_project)
    rows: list[dict[str, Any]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        name: str,
        when: datetime,
        session: str = "",
        profile: str = "",
        path: str = "",
        props: dict[str, str] | None = None,
        device: str = "",
        **cols: Any,
    ) -> Events:
        """One event; the device id defaults to the profile id (an anonymous visitor)."""
        row = dict(EVENT_DEFAULTS)
        row.update(
            id=str(uuid.uuid4()),
            name=name,
            project_id=self.project,
            session_id=session,
            profile_id=profile,
            device_id=device or profile,
            path=path,
            origin="https://shop.example" if path else "",
            properties=dict(props or {}),
            created_at=ch_time(when),
            **cols,
        )
        self.rows.append(row)
        return self

    def steps(self, session: str, profile: str, *steps: tuple[str, datetime]) -> Events:
        """Several events of one visit: (name, time) pairs; `/x` names are page views."""
        for name, when in steps:
            if name.startswith("/"):
                self.add("screen_view", when, session, profile, path=name)
            else:
                self.add(name, when, session, profile)
        return self

    def visit(self, session: str, profile: str, start: datetime, device: str = "") -> Events:
        """A `sessions` row (only the columns the reports read)."""
        self.visits.append(
            {
                "id": session,
                "project_id": self.project,
                "profile_id": profile,
                "device_id": device or profile,
                "created_at": ch_time(start),
                "ended_at": ch_time(start + timedelta(minutes=30)),
                "version": 1,
            }
        )
        return self

    def save(self) -> Events:
        self.store.insert("events", self.rows)
        self.store.insert("sessions", self.visits)
        return self
