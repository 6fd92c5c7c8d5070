"""The import ledger in meta.db: one row per (project, file content hash), with the state that
makes an import idempotent and resumable.

States: `staging` (reading the file), `loading` (chunks being inserted; `chunks_done` counts the
committed ones), `done`, `failed` (rolled back; a new attempt starts over). A file whose hash is
`done` for a project is not imported again.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from embedded_db.errors import NotFoundError
from embedded_db.meta import MetaStore, now_iso

_FIELDS = (
    "id",
    "project_id",
    "file_hash",
    "file_name",
    "format",
    "status",
    "attempt",
    "imported_at",
    "chunks_total",
    "chunks_done",
    "rows_read",
    "events",
    "sessions",
    "skipped",
    "first_at",
    "last_at",
    "error",
    "options",
    "created_at",
    "updated_at",
)


@dataclass
class ImportRecord:
    """One ledger row (`imported_at` is the UTC second the attempt's rows carry)."""

    id: str
    project_id: str
    file_hash: str
    file_name: str = ""
    format: str = ""
    status: str = "staging"
    attempt: int = 1
    imported_at: str = ""
    chunks_total: int = 0
    chunks_done: int = 0
    rows_read: int = 0
    events: int = 0
    sessions: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    first_at: str = ""
    last_at: str = ""
    error: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    created_at: str = ""
    updated_at: str = ""

    @property
    def imported_moment(self) -> datetime:
        return datetime.fromisoformat(self.imported_at).replace(tzinfo=UTC)

    @property
    def token(self) -> str:
        """Deduplication token prefix of this attempt's chunk inserts."""
        return f"imp:{self.id}:{self.attempt}"

    def as_json(self) -> dict[str, Any]:
        """The record as the API and CLI show it."""
        out = {name: getattr(self, name) for name in _FIELDS if name != "options"}
        out["progress"] = (
            round(self.chunks_done / self.chunks_total, 4) if self.chunks_total else 0.0
        )
        return out


def find(meta: MetaStore, project_id: str, file_hash: str) -> ImportRecord | None:
    """The ledger row of a file for a project, if any."""
    with meta.transaction() as db:
        rows = list(
            db.query(
                "SELECT * FROM imports WHERE project_id = ? AND file_hash = ?",
                [project_id, file_hash],
            )
        )
    return _record(rows[0]) if rows else None


def get(meta: MetaStore, import_id: str) -> ImportRecord:
    """A ledger row by id; raises NotFoundError."""
    with meta.transaction() as db:
        rows = list(db.query("SELECT * FROM imports WHERE id = ?", [import_id]))
    if not rows:
        raise NotFoundError(f"import {import_id!r} not found")
    return _record(rows[0])


def unfinished(meta: MetaStore) -> list[ImportRecord]:
    """Imports a crash interrupted (still staging or loading) or whose rollback did not finish."""
    with meta.transaction() as db:
        rows = list(
            db.query("SELECT * FROM imports WHERE status IN ('staging', 'loading', 'rolling back')")
        )
    return [_record(r) for r in rows]


def recent(meta: MetaStore, project_id: str, limit: int = 50) -> list[ImportRecord]:
    """A project's imports, newest first."""
    with meta.transaction() as db:
        rows = list(
            db.query(
                "SELECT * FROM imports WHERE project_id = ? ORDER BY created_at DESC LIMIT ?",
                [project_id, limit],
            )
        )
    return [_record(r) for r in rows]


def import_id(project_id: str, file_hash: str) -> str:
    """The ledger id of a file's import into a project (one row per file and project)."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"openpanel-import:{project_id}:{file_hash}").hex


def create(meta: MetaStore, project_id: str, file_hash: str, **values: Any) -> ImportRecord:
    """A new ledger row (replacing a failed attempt's row of the same file)."""
    record = ImportRecord(
        id=import_id(project_id, file_hash), project_id=project_id, file_hash=file_hash, **values
    )
    record.created_at = record.updated_at = now_iso()
    with meta.transaction() as db:
        db.table("imports").insert(_row(record), replace=True)
    return record


def save(meta: MetaStore, record: ImportRecord) -> None:
    """Write every field of `record` (one short transaction)."""
    record.updated_at = now_iso()
    with meta.transaction() as db:
        db.table("imports").upsert(_row(record), pk="id")


def _row(record: ImportRecord) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in _FIELDS}
    row["skipped"] = json.dumps(record.skipped)
    row["options"] = json.dumps(record.options)
    return row


def _record(row: dict[str, Any]) -> ImportRecord:
    values: dict[str, Any] = {name: row.get(name) for name in _FIELDS}
    values["skipped"] = json.loads(values["skipped"] or "{}")
    values["options"] = json.loads(values["options"] or "{}")
    for name in ("attempt", "chunks_total", "chunks_done", "rows_read", "events", "sessions"):
        values[name] = int(values[name] or 0)
    for name in ("file_name", "format", "status", "imported_at", "first_at", "last_at", "error"):
        values[name] = values[name] or ""
    return ImportRecord(**values)
