"""`POST /import/events` (openpanel-compat.md §1.8): rows shaped like the `events` table inserted
as given — properties flattened to dot keys, the project forced to the caller's, `created_at`
normalized, `imported_at` = now — with no visit or profile processing, as upstream does."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.rollups import mark_dirty_range
from embedded_db.store import EventStore
from jobs.enrich.properties import flatten_properties
from jobs.eventrows import EVENT_DEFAULTS
from jobs.timefmt import ch_time, parse_iso_ms

MAX_ROWS = 100_000
_TEXT = {
    k for k, v in EVENT_DEFAULTS.items() if isinstance(v, str) and k not in ("id", "created_at")
}
_NUMBERS = ("revenue", "duration")
_COORDINATES = ("longitude", "latitude")


def raw_event_rows(body: Any, project_id: str, now: datetime) -> list[dict[str, Any]]:
    """Validate and normalize a JSON array of event rows; raise ValidationError naming the row."""
    if not isinstance(body, list):
        raise ValidationError("body", "expected a JSON array of event rows")
    if len(body) > MAX_ROWS:
        raise ValidationError("body", f"at most {MAX_ROWS} rows per request")
    imported = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return [_row(item, i, project_id, imported) for i, item in enumerate(body)]


def _row(item: Any, index: int, project_id: str, imported: str) -> dict[str, Any]:
    where = f"body.{index}"
    if not isinstance(item, dict):
        raise ValidationError(where, "each row must be an object")
    name = item.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{where}.name", "a non-empty event name is required")
    row = dict(EVENT_DEFAULTS)
    for key in _TEXT:
        value = item.get(key)
        if value is not None:
            row[key] = str(value)
    for key in _NUMBERS:
        row[key] = _number(item.get(key), f"{where}.{key}")
    for key in _COORDINATES:
        value = item.get(key)
        row[key] = float(value) if isinstance(value, int | float) else None
    props = item.get("properties") or {}
    if not isinstance(props, dict):
        raise ValidationError(f"{where}.properties", "must be an object")
    groups = item.get("groups") or []
    if not isinstance(groups, list):
        raise ValidationError(f"{where}.groups", "must be an array")
    row.update(
        id=_uuid(item.get("id")),
        name=name,
        project_id=project_id,
        properties=flatten_properties(props),
        groups=[str(g) for g in groups],
        created_at=ch_time(_time(item.get("created_at"), f"{where}.created_at")),
        imported_at=imported,
    )
    return row


def _number(value: Any, where: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValidationError(where, "must be a number ≥ 0")
    return int(value)


def _uuid(value: Any) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError):
        return str(uuid.uuid4())


def _time(value: Any, where: str) -> int:
    """Epoch ms from ISO text, ClickHouse text ('2024-05-01 10:00:00.000') or epoch ms."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str):
        ms = parse_iso_ms(value.replace(" ", "T", 1))
        if ms is not None:
            return ms
    raise ValidationError(where, "must be an ISO date-time or epoch milliseconds")


def insert_raw_rows(store: EventStore, rows: list[dict[str, Any]]) -> int:
    """Insert normalized rows as one batch; the hours they fall in are marked dirty."""
    if not rows:
        return 0
    store.insert("events", rows)
    times = sorted(r["created_at"] for r in rows)
    first = datetime.fromisoformat(times[0]).replace(tzinfo=UTC)
    last = datetime.fromisoformat(times[-1]).replace(tzinfo=UTC)
    mark_dirty_range(store, rows[0]["project_id"], first, last + timedelta(seconds=1))
    return len(rows)
