"""Imports inside the server: the Huey task that runs one file's import, progress read from the
ledger, resumption of interrupted imports at start-up, and the local-admin token that lets the
CLI on the same machine hand a file to a running server.

Huey is for coarse jobs (one task per file). Without a consumer (tests, `start_workers=False`)
the import runs on a plain thread instead.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from huey import SqliteHuey

from embedded_db.imports.formats import Options
from embedded_db.meta import MetaStore
from embedded_db.store import EventStore
from jobs.enrich.geo import GeoReader
from jobs.imports import Importer, LiveLookups, resume_unfinished
from jobs.lifecycle import register_retention

log = logging.getLogger(__name__)
TOKEN_FILE = "local-admin.token"
URL_FILE = "server-url"  # where the running server listens, for the CLI on this machine


@dataclass
class FileJobs:
    """Runs imports for the web layer (queued on Huey when a consumer runs). Until the importer
    has written its ledger row, an import is `queued` here; a file refused before that (not
    readable, not a known format) is `failed` here with its error."""

    importer: Importer
    uploads: Path
    huey: SqliteHuey | None = None
    task: Any = None
    queued: dict[str, str] = field(default_factory=dict)  # import id → project id
    refused: dict[str, tuple[str, str]] = field(default_factory=dict)  # id → (project, error)

    def submit(
        self, import_id: str, path: Path, project_id: str, fmt: str, options: dict[str, Any]
    ) -> None:
        """Import `path` in the background (the ledger shows progress)."""
        self.queued[import_id] = project_id
        args = (import_id, str(path), project_id, fmt, options)
        if self.task is not None:
            self.task(*args)
            return
        threading.Thread(target=self.run, args=args, daemon=True).start()

    def run(
        self, import_id: str, path: str, project_id: str, fmt: str, options: dict[str, Any]
    ) -> None:
        """One import (the Huey task body); a failure is kept for the status endpoint."""
        try:
            self.importer.run(Path(path), project_id, options_of(options), fmt=fmt)
        except Exception as exc:  # the ledger (or `refused`) holds it; the worker goes on
            log.warning("import of %s failed: %s", path, exc)
            self.refused[import_id] = (project_id, str(exc))
        finally:
            self.queued.pop(import_id, None)
            if Path(path).is_relative_to(self.uploads):
                Path(path).unlink(missing_ok=True)


def options_of(values: dict[str, Any]) -> Options:
    """Import options from JSON (the API body or a queued task)."""
    return Options(
        mapping={str(k): str(v) for k, v in dict(values.get("mapping") or {}).items()},
        origin=str(values.get("origin") or ""),
        log_format=str(values.get("log_format") or ""),
        encoding=str(values.get("encoding") or "utf-8"),
        max_line_mb=float(values.get("max_line_mb") or 16),
    )


def install_file_jobs(
    huey: SqliteHuey | None,
    store: EventStore,
    meta: MetaStore,
    *,
    data_dir: Path,
    geo_db: Path | None,
    timeout_ms: int,
    memory_mb: int,
    base_url: str = "",
) -> FileJobs:
    """Build the importer, register the import and retention tasks on `huey` (if any) and
    resume interrupted imports in the background."""
    work = Path(data_dir) / "imports"
    importer = Importer(
        store,
        meta,
        work,
        LiveLookups(GeoReader(geo_db)),
        timeout_ms=timeout_ms,
        memory_mb=memory_mb,
    )
    jobs = FileJobs(importer, work / "uploads", huey)
    jobs.uploads.mkdir(parents=True, exist_ok=True)
    local_admin_token(Path(data_dir))
    if base_url:
        (Path(data_dir) / URL_FILE).write_text(base_url, encoding="utf-8")
    if huey is not None:
        jobs.task = huey.task(name="import_file")(jobs.run)
        register_retention(huey, store, meta)
    threading.Thread(target=resume_unfinished, args=(importer,), daemon=True).start()
    return jobs


def local_admin_token(data_dir: Path) -> str:
    """The secret a CLI on this machine proves itself with (created 0600 on first use):
    whoever can read the data directory already owns all of its data."""
    path = data_dir / TOKEN_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token)
    return token


def token_matches(data_dir: Path, offered: str) -> bool:
    """Constant-time check of a presented local-admin token."""
    path = data_dir / TOKEN_FILE
    if not offered or not path.is_file():
        return False
    return hmac.compare_digest(path.read_text(encoding="utf-8").strip(), offered)
