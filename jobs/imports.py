"""The import job: a file → DuckDB staging with the live enrichment → one Parquet file of the
rows to store → visits in chDB over that file → inserts in chunks, idempotent per file (ledger
keyed by content hash), resumable after a crash at the last committed chunk (staging is
deterministic and chunk inserts carry deduplication tokens), and rolled back when an insert
fails.

`Importer.run` is what the CLI calls directly (no server running) and what the Huey task
`import_file` runs inside the server (uploads, `openpanel import` against a running server).
"""

from __future__ import annotations

import logging
import shutil
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from embedded_db.errors import AppError, StoreError
from embedded_db.imports import (
    duck,
    enrich,
    formats,
    ledger,
    loader,
    sessionize,
    sniff,
    visits,
)
from embedded_db.imports.canonical import staging_query
from embedded_db.imports.duck import ImportFileError
from embedded_db.imports.formats import Options
from embedded_db.imports.scan import file_hash
from embedded_db.meta import MetaStore
from embedded_db.rollups import mark_dirty_range
from embedded_db.sql import duck_create
from embedded_db.store import EventStore
from jobs.enrich.bots import BotDetector
from jobs.enrich.geo import GeoReader
from jobs.enrich.referrer import ReferrerParser
from jobs.enrich.url import split_url
from jobs.enrich.useragent import UserAgentParser

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)
CHUNK_ROWS = 2_000_000  # file rows per chunk (a resumed import redoes at most one)


@dataclass
class ImportResult:
    """What one file's import did (`already`: the same file was imported before)."""

    file: str
    format: str
    record: ledger.ImportRecord | None = None
    already: bool = False
    dry_run: bool = False
    events: int = 0
    sessions: int = 0
    rows_read: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    first_at: str = ""
    last_at: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "format": self.format,
            "importId": self.record.id if self.record else None,
            "status": "already imported"
            if self.already
            else ("dry run" if self.dry_run else (self.record.status if self.record else "")),
            "events": self.events,
            "sessions": self.sessions,
            "rowsRead": self.rows_read,
            "skipped": self.skipped,
            "notes": self.notes,
            "firstAt": self.first_at,
            "lastAt": self.last_at,
        }


@dataclass
class Staged:
    """A file read and enriched (DuckDB), its visits computed (chDB), ready to insert chunk by
    chunk."""

    workspace: visits.Workspace
    chunks: list[int]
    summary: dict[str, Any]
    rows_read: int
    skipped: dict[str, int]
    notes: list[str]
    format: str


class LiveLookups:
    """The live pipeline's enrichment (jobs/enrich) behind `embedded_db.imports.enrich.Lookups`."""

    def __init__(self, geo: GeoReader, agents: UserAgentParser | None = None) -> None:
        self.geo_reader = geo
        self.agents = agents or UserAgentParser()
        self.referrers = ReferrerParser()
        self.bots = BotDetector()

    def url(self, url: str) -> tuple[str, str, dict[str, str]]:
        parts = split_url(url)
        extra = {f"__query.{k}": v for k, v in parts.query.items()}
        if parts.hash:
            extra["__hash"] = parts.hash
        return parts.origin, parts.path, extra

    def referrer(self, referrer: str, page: str, source: str) -> tuple[str, str, str]:
        ref = self.referrers.parse(referrer, page, {"utm_source": source} if source else {})
        return ref.url, ref.name, ref.type

    def geo(self, ip: str) -> enrich.Geo:
        g = self.geo_reader.lookup(ip)
        return g.country, g.region, g.city, g.latitude, g.longitude

    def device(self, ua: str) -> tuple[enrich.Device, bool]:
        d = self.agents.parse(ua)
        fields = (d.os, d.os_version, d.browser, d.browser_version, d.device, d.brand, d.model)
        return fields, self.bots.is_bot(ua)


class Importer:
    """Imports files into one store; `work_dir` holds staging folders until an import is done."""

    def __init__(
        self,
        store: EventStore,
        meta: MetaStore,
        work_dir: Path,
        lookups: enrich.Lookups,
        *,
        timeout_ms: int = 30 * 60_000,
        memory_mb: int = 1024,
        chunk_rows: int = CHUNK_ROWS,
    ) -> None:
        self.store = store
        self.meta = meta
        self.work_dir = Path(work_dir)
        self.lookups = lookups
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        self.chunk_rows = chunk_rows

    def run(
        self,
        path: Path,
        project_id: str,
        options: Options | None = None,
        *,
        fmt: str = "auto",
        dry_run: bool = False,
        progress: Progress | None = None,
        on_chunk: Callable[[int], None] | None = None,
    ) -> ImportResult:
        """Import one file into a project; raises ImportFileError (bad file, nothing stored)
        or StoreError (insert failed, rolled back)."""
        options = options or Options()
        path = self._unpacked(Path(path))
        self.meta.get_project(project_id)
        if options.log_format and fmt == "auto":
            fmt = "access-log"
        if fmt not in ("auto", *sniff.FORMATS):
            raise ImportFileError(f"unknown format {fmt!r}; use auto or {', '.join(sniff.FORMATS)}")
        detected = sniff.detect(path, fmt)
        report = progress or (lambda *_: None)
        report("hashing", 0, 1)
        digest = file_hash(path, int(options.max_line_mb * 1024 * 1024))
        record = ledger.find(self.meta, project_id, digest)
        if record is not None and record.status == "done" and not dry_run:
            return _result(path, record, already=True)
        if dry_run:
            return self._dry_run(path, project_id, detected, options, report)
        if record is None or record.status == "failed":
            record = self._new_attempt(path, project_id, digest, detected, options, record)
        return self._finish(path, record, detected, options, report, on_chunk)

    def _unpacked(self, path: Path) -> Path:
        """A zip archive's importable member, extracted next to the staging folders."""
        member = sniff.archive_member(path)
        if member is None:
            return path
        target = self.work_dir / "unzipped" / f"{path.stem}-{Path(member).name}"
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path) as archive, archive.open(member) as src:
            target.write_bytes(src.read())
        return target

    def resume(self, record: ledger.ImportRecord, progress: Progress | None = None) -> ImportResult:
        """Carry on an import a crash interrupted (from its ledger row)."""
        path = Path(record.options.get("path", ""))
        detected = sniff.Detected(record.format, record.options.get("container", ""))
        options = _options(record.options)
        if record.status == "staging":
            detected = sniff.detect(path, record.format)
        return self._finish(path, record, detected, options, progress or (lambda *_: None), None)

    # -- phases --------------------------------------------------------------------------------
    def _finish(
        self,
        path: Path,
        record: ledger.ImportRecord,
        detected: sniff.Detected,
        options: Options,
        report: Progress,
        on_chunk: Callable[[int], None] | None,
    ) -> ImportResult:
        """Stage (again, when resuming: it is deterministic), then insert the chunks not yet
        committed."""
        folder = self._folder(record)
        report("reading", 0, 1)
        staged: Staged | None = None
        try:
            try:
                staged = self._stage(path, record, detected, options, folder)
            except Exception as exc:
                if record.status == "loading":  # a resumed import whose file is gone
                    self._undo(record, exc)
                else:
                    record.status, record.error = "failed", str(exc)
                    ledger.save(self.meta, record)
                raise
            if record.status == "staging":
                self._record_staged(record, staged)
            try:
                self._load(record, staged, report, on_chunk)
            except (AppError, OSError) as exc:
                self._undo(record, exc)
                raise StoreError(
                    f"{path.name}: the import failed and was rolled back: {exc}"
                ) from exc
        finally:
            if staged is not None:
                staged.workspace.drop()
            shutil.rmtree(folder, ignore_errors=True)
        return _result(path, record)

    def _stage(
        self,
        path: Path,
        record: ledger.ImportRecord,
        detected: sniff.Detected,
        options: Options,
        folder: Path,
    ) -> Staged:
        """Read and enrich `path` in DuckDB, write the rows to store as one Parquet file, and
        compute their visits in chDB (nothing stored yet)."""
        con = duck.connect(folder / "tmp", self.memory_mb)
        try:
            with duck.reading(path):
                prepared = formats.prepare(con, path, detected, options)
                # Parquet is read by column, so its rows stay a view (each pass reads only the
                # columns it needs; `row_no` is the file's own row number); text formats are
                # parsed once into a table.
                view = detected.container == "parquet"
                con.execute(duck_create("staged", staging_query(prepared.mapping), view=view))
                rows_read = int(con.execute("SELECT count(*) FROM staged").fetchall()[0][0])
                skipped = dict(prepared.skipped)
                skipped.update(enrich.enrich(con, self.lookups, record.project_id))
                skipped.update(sessionize.skipped_rows(con))
            with duck.reading(folder):  # e.g. a full disk
                sessionize.write_staged(con, folder / "staged.parquet")
        finally:
            con.close()  # DuckDB's copy of the rows is not needed any more
        workspace = visits.Workspace(
            self.store,
            folder / "staged.parquet",
            visits.workspace_name(record.id, record.attempt),
            {
                "project": record.project_id,
                "key": record.id,
                "imported_at": record.imported_moment.strftime("%Y-%m-%d %H:%M:%S"),
                "size": self.chunk_rows,
                "timeout": self.timeout_ms,
                "version": int(record.imported_moment.timestamp() * 1000),
            },
        )
        try:
            visits.build(workspace)
            summary = visits.summary(workspace)
            chunks = summary.pop("chunks")
        except Exception:
            workspace.drop()
            raise
        return Staged(
            workspace=workspace,
            chunks=chunks,
            summary=summary,
            rows_read=rows_read + sum(prepared.skipped.values()),
            skipped=skipped,
            notes=prepared.notes,
            format=prepared.format,
        )

    def _record_staged(self, record: ledger.ImportRecord, staged: Staged) -> None:
        record.skipped = staged.skipped
        record.events = staged.summary["events"]
        record.sessions = staged.summary["sessions"]
        record.rows_read = staged.rows_read
        record.first_at, record.last_at = staged.summary["first_at"], staged.summary["last_at"]
        record.format = staged.format
        record.options["notes"] = staged.notes
        record.chunks_total, record.chunks_done = len(staged.chunks), 0
        record.status = "loading"
        ledger.save(self.meta, record)

    def _load(
        self,
        record: ledger.ImportRecord,
        staged: Staged,
        report: Progress,
        on_chunk: Callable[[int], None] | None,
    ) -> None:
        chunks = staged.chunks
        record.chunks_total = len(chunks)
        for index, chunk in enumerate(chunks):
            if index < record.chunks_done:
                continue
            report("loading", index, len(chunks))
            visits.load_chunk(staged.workspace, record.token, chunk)
            if on_chunk is not None:
                on_chunk(index)
            record.chunks_done = index + 1
            ledger.save(self.meta, record)
        report("profiles", len(chunks), len(chunks))
        workspace = staged.workspace
        loader.write_profiles(
            self.store, visits.profiles(workspace), workspace.params, record.token
        )
        self._mark_dirty(record)
        record.status, record.error = "done", ""
        ledger.save(self.meta, record)
        report("done", len(chunks), len(chunks))

    def _undo(self, record: ledger.ImportRecord, exc: BaseException) -> None:
        log.error("import %s failed; rolling back: %s", record.id, exc)
        try:
            loader.rollback(self.store, record.project_id, record.imported_moment)
            self._mark_dirty(record)
        finally:
            record.status, record.error = "failed", str(exc)
            ledger.save(self.meta, record)

    def _mark_dirty(self, record: ledger.ImportRecord) -> None:
        if not record.first_at:
            return
        start = datetime.fromisoformat(record.first_at).replace(tzinfo=UTC)
        end = datetime.fromisoformat(record.last_at).replace(tzinfo=UTC)
        mark_dirty_range(
            self.store, record.project_id, start - timedelta(seconds=1), end + timedelta(seconds=1)
        )

    def _dry_run(
        self,
        path: Path,
        project_id: str,
        detected: sniff.Detected,
        options: Options,
        report: Progress,
    ) -> ImportResult:
        run = f"dry-{time.time_ns()}"  # its own scratch tables, whatever else runs
        record = ledger.ImportRecord(
            id=run, project_id=project_id, file_hash="", imported_at=_now_second()
        )
        folder = self.work_dir / run
        try:
            staged = self._stage(path, record, detected, options, folder)
            staged.workspace.drop()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        report("done", 1, 1)
        return ImportResult(
            file=path.name,
            format=staged.format,
            dry_run=True,
            events=staged.summary["events"],
            sessions=staged.summary["sessions"],
            rows_read=staged.rows_read,
            skipped=staged.skipped,
            notes=staged.notes,
            first_at=staged.summary["first_at"],
            last_at=staged.summary["last_at"],
        )

    def _new_attempt(
        self,
        path: Path,
        project_id: str,
        digest: str,
        detected: sniff.Detected,
        options: Options,
        previous: ledger.ImportRecord | None,
    ) -> ledger.ImportRecord:
        taken = loader.imported_times(self.store, project_id)
        moment = datetime.fromisoformat(_now_second())
        while moment.strftime("%Y-%m-%d %H:%M:%S") in taken:
            moment += timedelta(seconds=1)
        values: dict[str, Any] = {
            "file_name": path.name,
            "format": detected.format,
            "status": "staging",
            "attempt": previous.attempt + 1 if previous else 1,
            "imported_at": moment.isoformat(sep=" "),
            "options": {
                **_options_json(options),
                "path": str(path.resolve()),
                "container": detected.container,
            },
        }
        return ledger.create(self.meta, project_id, digest, **values)

    def _folder(self, record: ledger.ImportRecord) -> Path:
        return self.work_dir / record.id / f"a{record.attempt}"


def resume_unfinished(importer: Importer) -> list[str]:
    """Resume every import a crash interrupted; returns their ids (failures are logged). First
    drops the scratch tables a crash left behind (not those of imports still in progress)."""
    unfinished = ledger.unfinished(importer.meta)
    keep = {visits.workspace_name(r.id, r.attempt) for r in unfinished}
    hour_ago = time.time_ns() - 3_600 * 10**9  # a dry run that old is not running any more
    for name in visits.drop_leftovers(importer.store, keep, hour_ago):
        log.info("dropped the scratch table %s a crashed import left", name)
    done = []
    for record in unfinished:
        try:
            importer.resume(record)
            done.append(record.id)
        except AppError:
            log.exception("resuming import %s failed", record.id)
        upload = Path(record.options.get("path", ""))
        if upload.is_relative_to(importer.work_dir / "uploads"):  # an upload is kept until then
            upload.unlink(missing_ok=True)
    return done


def _result(path: Path, record: ledger.ImportRecord, already: bool = False) -> ImportResult:
    return ImportResult(
        file=path.name,
        format=record.format,
        record=record,
        already=already,
        events=record.events,
        sessions=record.sessions,
        rows_read=record.rows_read,
        skipped=dict(record.skipped),
        notes=list(record.options.get("notes", [])),
        first_at=record.first_at,
        last_at=record.last_at,
    )


def _now_second() -> str:
    return datetime.now(UTC).replace(microsecond=0, tzinfo=None).isoformat(sep=" ")


def _options_json(options: Options) -> dict[str, Any]:
    return {
        "mapping": dict(options.mapping),
        "origin": options.origin,
        "log_format": options.log_format,
        "encoding": options.encoding,
        "max_line_mb": options.max_line_mb,
    }


def _options(values: dict[str, Any]) -> Options:
    return Options(
        mapping=dict(values.get("mapping") or {}),
        origin=str(values.get("origin") or ""),
        log_format=str(values.get("log_format") or ""),
        encoding=str(values.get("encoding") or "utf-8"),
        max_line_mb=float(values.get("max_line_mb") or 16),
    )
