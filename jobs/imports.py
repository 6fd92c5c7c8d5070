"""The import job: a file → DuckDB staging with the live enrichment → the rows to store as
Parquet, one folder per bucket of devices → per bucket, visits in chDB and inserts → profiles
merged at the end. Idempotent per file (ledger keyed by content hash), resumable after a crash
at the last committed bucket (staging is deterministic, the bucket count is recorded and
inserts carry deduplication tokens), and rolled back when an insert fails.

Buckets are stored two lanes at once (`EventStore.execute_lanes`): one inserts a bucket's
events while the other inserts its visits, adds its profile touches and computes the next
bucket's visits, so both cores work (chDB writes an inserted part on one).

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
    profiles,
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
from embedded_db.store import EventStore, Statement
from jobs.enrich.bots import BotDetector
from jobs.enrich.geo import GeoReader
from jobs.enrich.referrer import ReferrerParser
from jobs.enrich.url import split_url
from jobs.enrich.useragent import UserAgentParser

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]  # (phase, done, total)
# How staged rows are laid out in buckets; a crashed import staged under another layout (or
# other engines, whose hashing may differ) is rolled back and imported again, not resumed.
LAYOUT = f"buckets-2 duckdb-{duck.version()}"


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
    """A file read and enriched (DuckDB) and written in buckets, ready to store bucket by
    bucket (`workspace` names the attempt's scratch tables in chDB)."""

    folder: Path
    buckets: int
    workspace: str
    params: dict[str, Any]
    measure: sessionize.Measure
    rows_read: int
    skipped: dict[str, int]
    notes: list[str]
    format: str

    def bucket(self, store: EventStore, index: int) -> visits.Workspace | None:
        """One bucket's workspace, or None when no rows fell in it."""
        files = sessionize.bucket_files(self.folder, index)
        if files is None:
            return None
        name = visits.bucket_name(self.workspace, index)
        return visits.Workspace(store, files, name, self.params)

    def time_range(self) -> tuple[str, str]:
        """First and last time of the rows to store (visit starts 100 ms before their first
        event, ends 1 s after their last), as UTC text; empty when nothing is stored."""
        m = self.measure
        if m.first is None or m.last is None:
            return "", ""
        first, last = m.first, m.last
        if m.device_first is not None and m.device_last is not None:
            first = min(first, m.device_first - timedelta(milliseconds=100))
            last = max(last, m.device_last + timedelta(seconds=1))
        return first.isoformat(sep=" "), last.isoformat(sep=" ")


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
        bucket_bytes: int | None = None,
    ) -> None:
        self.store = store
        self.meta = meta
        self.work_dir = Path(work_dir)
        self.lookups = lookups
        self.timeout_ms = timeout_ms
        self.memory_mb = memory_mb
        # a bucket's text: its statements need several times that, two buckets are live at
        # once and two statements run side by side, all under chDB's memory limit
        self.bucket_bytes = bucket_bytes or memory_mb * 1024 * 1024 // 24

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
        or StoreError (insert failed, rolled back). `on_chunk` (for tests) is called with each
        bucket's index once it is stored, and with the bucket count once the profiles are
        merged."""
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
        if record is not None and record.status == "rolling back":
            self._undo(record, AppError(record.error))
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
        if record.status == "rolling back":
            self._undo(record, AppError(record.error))
            return _result(path, record)
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
        """Stage (again, when resuming: it is deterministic, into the recorded number of
        buckets), then store the buckets not yet committed."""
        if record.status == "loading" and record.options.get("layout") != LAYOUT:
            self._undo(record, AppError(f"staged as {record.options.get('layout')}, now {LAYOUT}"))
            record = self._new_attempt(
                path, record.project_id, record.file_hash, detected, options, record
            )
        folder = self._folder(record)
        workspace = visits.workspace_name(record.id, record.attempt)
        report("reading", 0, 1)
        try:
            try:
                buckets = record.chunks_total if record.status == "loading" else None
                staged = self._stage(path, record, detected, options, folder, buckets)
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
                visits.drop_workspace(self.store, workspace)  # its Memory tables hold memory
                self._undo(record, exc)
                raise StoreError(
                    f"{path.name}: the import failed and was rolled back: {exc}"
                ) from exc
        finally:
            visits.drop_workspace(self.store, workspace)
            shutil.rmtree(folder, ignore_errors=True)
        return _result(path, record)

    def _stage(
        self,
        path: Path,
        record: ledger.ImportRecord,
        detected: sniff.Detected,
        options: Options,
        folder: Path,
        buckets: int | None = None,
    ) -> Staged:
        """Read and enrich `path` in DuckDB and write the rows to store in buckets of devices
        (`buckets` of them, or as many as their size needs); nothing is stored yet."""
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
                measure = sessionize.measure(con)
                skipped.update(measure.skipped)
                buckets = buckets or measure.buckets(self.bucket_bytes)
                sessionize.write_buckets(con, folder / "buckets", buckets)
        finally:
            con.close()  # DuckDB's copy of the rows is not needed any more
        return Staged(
            folder=folder / "buckets",
            buckets=buckets,
            workspace=visits.workspace_name(record.id, record.attempt),
            params={
                "project": record.project_id,
                "key": record.id,
                "imported_at": record.imported_moment.strftime("%Y-%m-%d %H:%M:%S"),
                "timeout": self.timeout_ms,
                "version": int(record.imported_moment.timestamp() * 1000),
            },
            measure=measure,
            rows_read=rows_read + sum(prepared.skipped.values()),
            skipped=skipped,
            notes=prepared.notes,
            format=prepared.format,
        )

    def _record_staged(self, record: ledger.ImportRecord, staged: Staged) -> None:
        record.skipped = staged.skipped
        record.events = staged.measure.rows  # visit starts and ends are added bucket by bucket
        record.sessions = 0
        record.rows_read = staged.rows_read
        record.first_at, record.last_at = staged.time_range()
        record.format = staged.format
        record.options["notes"] = staged.notes
        record.options["layout"] = LAYOUT
        record.chunks_total, record.chunks_done = staged.buckets, 0
        record.status = "loading"
        ledger.save(self.meta, record)

    def _load(
        self,
        record: ledger.ImportRecord,
        staged: Staged,
        report: Progress,
        on_chunk: Callable[[int], None] | None,
    ) -> None:
        """Store every bucket not yet committed, two lanes at once (see the module doc), then
        the profiles. Committed buckets' visits are computed again (their profile touches are
        needed), not stored again."""
        store, total = self.store, staged.buckets
        touches = profiles.Touches(store, staged.workspace)
        touches.create()
        visits_seen = 0
        current = staged.bucket(store, 0)
        if current is not None:
            store.execute_lanes([visits.build(current)])
        for index in range(total):
            report("loading", index, total)
            following = staged.bucket(store, index + 1) if index + 1 < total else None
            events: list[Statement] = []
            others: list[Statement] = []
            if current is not None:
                if index >= record.chunks_done:
                    events, others = visits.inserts(current, record.token, index)
                others.append(touches.add(current))
            if following is not None:
                others += visits.build(following)
            store.execute_lanes([events, others])
            if current is not None:
                visits_seen += visits.visit_count(current)
                current.drop()
            current = following
            if index < record.chunks_done:
                continue
            if on_chunk is not None:
                on_chunk(index)
            record.chunks_done = index + 1
            record.events = staged.measure.rows + 2 * visits_seen
            record.sessions = visits_seen
            ledger.save(self.meta, record)
        record.events = staged.measure.rows + 2 * visits_seen
        record.sessions = visits_seen
        report("profiles", total, total)
        slices = touches.slices(self.bucket_bytes)
        if not record.options.get("snapshot"):  # a resumed attempt keeps its first one
            store.execute_lanes([touches.snapshot(staged.params, slices)])
            record.options["snapshot"] = True
            ledger.save(self.meta, record)
        store.execute_lanes([[m] for m in touches.merges(staged.params, record.token, slices)])
        if on_chunk is not None:
            on_chunk(total)  # the profiles are merged
        touches.drop()
        self._mark_dirty(record)
        record.status, record.error = "done", ""
        ledger.save(self.meta, record)
        touches.forget()
        report("done", total, total)

    def _undo(self, record: ledger.ImportRecord, exc: BaseException) -> None:
        """Delete what an attempt stored. The ledger says "rolling back" until that is done, so
        a rollback that fails too (or a crash) is finished by the next start or re-import;
        raises StoreError then."""
        log.error("import %s failed; rolling back: %s", record.id, exc)
        record.status, record.error = "rolling back", str(exc)
        ledger.save(self.meta, record)
        touches = profiles.Touches(self.store, visits.workspace_name(record.id, record.attempt))
        try:
            loader.rollback(self.store, record.project_id, record.imported_moment)
            if record.options.get("snapshot"):  # the profile merges had begun
                self._restore_profiles(record, touches)
        except AppError as failed:
            raise StoreError(
                f"{record.file_name}: the import failed ({exc}) and so did its rollback "
                f"({failed}); the rollback is retried when the appliance next starts"
            ) from failed
        self._mark_dirty(record)
        record.status = "failed"
        ledger.save(self.meta, record)
        touches.forget()

    def _restore_profiles(self, record: ledger.ImportRecord, touches: profiles.Touches) -> None:
        """Put back the profiles as they were before the attempt's merges (its snapshot)."""
        if not touches.has_snapshot():  # dropped by hand: the rollback must still end
            log.error("import %s: its profile snapshot is gone; profiles kept", record.id)
            return
        token = f"{record.token}:r{time.time_ns()}"  # new each try: a retry is not a repeat
        self.store.execute_lanes([touches.restore({"project": record.project_id}, token)])

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
        """Stage the file and compute its visits bucket by bucket; store nothing."""
        run = f"dry-{time.time_ns()}"  # its own scratch tables, whatever else runs
        record = ledger.ImportRecord(
            id=run, project_id=project_id, file_hash="", imported_at=_now_second()
        )
        folder = self.work_dir / run
        sessions = 0
        try:
            staged = self._stage(path, record, detected, options, folder)
            for index in range(staged.buckets):
                report("reading", index, staged.buckets)
                bucket = staged.bucket(self.store, index)
                if bucket is not None:
                    self.store.execute_lanes([visits.build(bucket)])
                    sessions += visits.visit_count(bucket)
                    bucket.drop()
        finally:
            visits.drop_workspace(self.store, visits.workspace_name(record.id, record.attempt))
            shutil.rmtree(folder, ignore_errors=True)
        report("done", 1, 1)
        first_at, last_at = staged.time_range()
        return ImportResult(
            file=path.name,
            format=staged.format,
            dry_run=True,
            events=staged.measure.rows + 2 * sessions,
            sessions=sessions,
            rows_read=staged.rows_read,
            skipped=staged.skipped,
            notes=staged.notes,
            first_at=first_at,
            last_at=last_at,
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
