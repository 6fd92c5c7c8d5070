"""Hand-built events (explicit UTC timestamps) for the chart engine tests, inserted straight into
openpanel.events / openpanel.profiles of a fresh project, and a helper that runs a chart."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from embedded_db.reports.chart_query import parse_chart
from embedded_db.reports.charts import chart
from embedded_db.store import EventStore
from tests.support.stores import unique_project

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def utc(text: str) -> datetime:
    """'2026-03-02 10:00' as a UTC instant."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class Events:
    """Rows for one project, inserted together by `save()`."""

    store: EventStore
    project: str = field(default_factory=unique_project)
    rows: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)

    def add(
        self,
        name: str,
        when: str,
        user: str = "u1",
        session: str = "s1",
        props: dict[str, str] | None = None,
        **cols: Any,
    ) -> Events:
        self.rows.append(
            {
                "id": str(uuid.uuid4()),
                "project_id": self.project,
                "name": name,
                "profile_id": user,
                "device_id": cols.pop("device_id", user),
                "session_id": session,
                "properties": dict(props or {}),
                "created_at": utc(when).strftime("%Y-%m-%d %H:%M:%S.000"),
                **cols,
            }
        )
        return self

    def profile(self, user: str, props: dict[str, str], email: str = "") -> Events:
        self.profiles.append(
            {
                "id": user,
                "project_id": self.project,
                "is_external": True,
                "email": email,
                "properties": props,
                "created_at": "2026-01-01 00:00:00.000",
                "last_seen_at": "2026-01-01 00:00:00.000",
            }
        )
        return self

    def save(self) -> Events:
        self.store.insert("events", self.rows)
        self.store.insert("profiles", self.profiles)
        return self

    def chart(self, tz: str = "UTC", **raw: Any) -> dict[str, Any]:
        """Run a chart request (OpenPanel's field names) for this project."""
        raw.setdefault("startDate", "2026-03-02")
        raw.setdefault("endDate", "2026-03-04")
        raw.setdefault("interval", "day")
        query = parse_chart(raw, self.project, tz, NOW, "30d")
        return chart(self.store, query)


def counts(serie: dict[str, Any]) -> list[Any]:
    return [point["count"] for point in serie["data"]]


def by_name(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Series keyed by their names joined with ' / '."""
    return {" / ".join(s["names"]): s for s in result["series"]}
