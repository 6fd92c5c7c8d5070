"""Data lifecycle on a schedule: the daily retention pass over every project that has a limit
(embedded_db/lifecycle.py does the deleting)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from huey import SqliteHuey, crontab

from embedded_db.lifecycle import apply_retention, projects_with_retention
from embedded_db.meta import MetaStore
from embedded_db.store import EventStore

log = logging.getLogger(__name__)


def apply_retention_everywhere(
    store: EventStore, meta: MetaStore, now: datetime | None = None
) -> dict[str, int]:
    """Apply every project's retention; returns {project id: events deleted}."""
    moment = now or datetime.now(UTC)
    deleted = {}
    for project_id, days in projects_with_retention(meta).items():
        deleted[project_id] = apply_retention(store, project_id, days, moment)
        if deleted[project_id]:
            log.info("retention: deleted %d events of %s", deleted[project_id], project_id)
    return deleted


def register_retention(huey: SqliteHuey, store: EventStore, meta: MetaStore) -> None:
    """The daily `purge_expired_events` task (03:15 UTC)."""

    @huey.periodic_task(crontab(minute="15", hour="3"), name="purge_expired_events")
    def purge_expired_events() -> None:
        apply_retention_everywhere(store, meta)
