"""The durable spool: accepted requests are committed to SQLite before they are answered.

Writers hand records to one committer thread, which writes everything that arrived within a
few milliseconds in a single transaction (group commit) and then resolves each caller's
future. The pipeline reads the spool in order, marks the batch it is storing as in flight
(so a replay after a crash reuses the same batch boundaries and deduplication token), and
deletes the rows in the same transaction that saves its live-session state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embedded_db.errors import StoreError

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT, record BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS inflight (id INTEGER PRIMARY KEY CHECK (id = 1),
                                     first_seq INTEGER NOT NULL, last_seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS live_sessions (id TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS spool_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS dead_letters (seq INTEGER PRIMARY KEY, record BLOB NOT NULL,
                                         error TEXT NOT NULL, failed_at TEXT NOT NULL);
"""


# (record, future, loop): asyncio futures carry their loop; thread callers pass None.
_Pending = tuple[bytes, "asyncio.Future[int] | Future[int]", "asyncio.AbstractEventLoop | None"]


def _settle(pending: list[_Pending], seqs: list[int], error: Exception | None) -> None:
    """Resolve every waiter of a commit, with one loop wake-up per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Any, int]]] = {}
    for i, (_, fut, loop) in enumerate(pending):
        seq = seqs[i] if seqs else 0
        if loop is None:
            if error is None:
                fut.set_result(seq)
            else:
                fut.set_exception(error)
        else:
            by_loop.setdefault(loop, []).append((fut, seq))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody is waiting
            loop.call_soon_threadsafe(_resolve, items, error)


def _resolve(items: list[tuple[Any, int]], error: Exception | None) -> None:
    for fut, seq in items:
        if fut.done():
            continue
        if error is None:
            fut.set_result(seq)
        else:
            fut.set_exception(error)


@dataclass(frozen=True, slots=True)
class Batch:
    """A run of spooled records [first_seq, last_seq], in order."""

    first_seq: int
    last_seq: int
    records: list[tuple[int, bytes]]
    replay: bool = False

    def token(self, epoch: str) -> str:
        return f"{epoch}:{self.first_seq}-{self.last_seq}"


class Spool:
    """Group-committing append log with an in-flight marker; thread-safe."""

    def __init__(self, path: Path, *, commit_window_ms: int = 2, fsync: bool = True) -> None:
        self.path = Path(path)
        self.commit_window = commit_window_ms / 1000
        self._fsync = fsync
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._write = self._connect()
        self._read_lock = threading.Lock()
        self._read = self._connect()
        self.epoch = self._epoch()
        self._thread: threading.Thread | None = None
        self._running = False  # cleared when the committer exits, however it exits
        self.appended = threading.Event()  # set after each commit; the pipeline waits on it
        self.last_error: str = ""

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            str(self.path), check_same_thread=False, timeout=30, isolation_level=None
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self._fsync else 'NORMAL'}")
        conn.executescript(_SCHEMA)
        return conn

    def _epoch(self) -> str:
        """A random id of this spool file; part of every dedup token so a new file never
        collides with tokens chDB remembers from an old one."""
        row = self._read.execute("SELECT value FROM spool_meta WHERE key='epoch'").fetchone()
        if row:
            return str(row[0])
        epoch = secrets.token_hex(6)
        self._read.execute("INSERT OR IGNORE INTO spool_meta VALUES ('epoch', ?)", [epoch])
        return self._epoch()

    # -- writing -------------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="spool-commit", daemon=True)
        self._running = True
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout=10)
            self._thread = None

    def close(self) -> None:
        self.stop()
        self._write.close()
        self._read.close()

    @property
    def alive(self) -> bool:
        return self._running and self._thread is not None and self._thread.is_alive()

    async def append(self, record: bytes) -> int:
        """Append and wait until the record is durable; returns its sequence number."""
        if not self._running:  # a flag, not Thread.is_alive(): this runs for every request
            raise StoreError("the spool is not running")
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        self._queue.put((record, fut, loop))
        return await fut

    def append_sync(self, record: bytes, timeout: float = 30) -> int:
        """`append` for threads without an event loop (periodic tasks, tests)."""
        if not self.alive:
            raise StoreError("the spool is not running")
        fut: Future[int] = Future()
        self._queue.put((record, fut, None))
        return fut.result(timeout)

    def _run(self) -> None:
        try:
            self._commit_loop()
        finally:
            self._running = False

    def _commit_loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            pending = [item]
            deadline = time.monotonic() + self.commit_window
            stop = False
            while len(pending) < 10000:
                timeout = deadline - time.monotonic()
                try:
                    nxt = (
                        self._queue.get(timeout=timeout)
                        if timeout > 0
                        else self._queue.get_nowait()
                    )
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                pending.append(nxt)
            self._commit(pending)
            if stop:
                return

    def _commit(self, pending: list[_Pending]) -> None:
        try:
            conn = self._write
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO spool (record) VALUES (?)", [(rec,) for rec, _, _ in pending]
            )
            # One writer connection inside one transaction: the sequence numbers are contiguous.
            last = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
            seqs = list(range(last - len(pending) + 1, last + 1))
            conn.execute("COMMIT")
        except Exception as exc:  # disk full, I/O error: every caller gets a clear failure
            self.last_error = str(exc)
            log.exception("spool commit failed")
            with contextlib.suppress(sqlite3.Error):
                self._write.execute("ROLLBACK")
            _settle(pending, [], StoreError(f"could not persist the event: {exc}"))
            return
        self.last_error = ""
        _settle(pending, seqs, None)
        self.appended.set()

    # -- reading (the pipeline) ----------------------------------------------------------------
    def next_batch(self, limit: int) -> Batch | None:
        """The in-flight batch if one was interrupted, else the next `limit` records."""
        with self._read_lock:
            conn = self._read
            marker = conn.execute("SELECT first_seq, last_seq FROM inflight").fetchone()
            if marker:
                rows = conn.execute(
                    "SELECT seq, record FROM spool WHERE seq BETWEEN ? AND ? ORDER BY seq", marker
                ).fetchall()
                return Batch(marker[0], marker[1], rows, replay=True)
            rows = conn.execute(
                "SELECT seq, record FROM spool ORDER BY seq LIMIT ?", [limit]
            ).fetchall()
            if not rows:
                return None
            batch = Batch(rows[0][0], rows[-1][0], rows)
            conn.execute("INSERT INTO inflight VALUES (1, ?, ?)", [batch.first_seq, batch.last_seq])
            return batch

    def complete(
        self,
        batch: Batch,
        upserts: Iterable[tuple[str, bytes]],
        deletes: Iterable[str],
        failed: Iterable[tuple[int, bytes, str]] = (),
    ) -> None:
        """Drop the batch's rows and save live-session changes in one transaction; records
        the pipeline could not process are kept in `dead_letters` with the error."""
        with self._read_lock:
            conn = self._read
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute("DELETE FROM spool WHERE seq <= ?", [batch.last_seq])
                conn.executemany("INSERT OR REPLACE INTO live_sessions VALUES (?, ?)", upserts)
                conn.executemany("DELETE FROM live_sessions WHERE id = ?", [(d,) for d in deletes])
                conn.executemany(
                    "INSERT OR REPLACE INTO dead_letters VALUES (?, ?, ?, datetime('now'))", failed
                )
                conn.execute("DELETE FROM inflight")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def pending_records(self) -> list[tuple[int, bytes]]:
        """Every record not yet stored (for rebuilding live state at start)."""
        with self._read_lock:
            return self._read.execute("SELECT seq, record FROM spool ORDER BY seq").fetchall()

    def live_sessions(self) -> list[bytes]:
        with self._read_lock:
            return [r[0] for r in self._read.execute("SELECT body FROM live_sessions")]

    def dead_letters(self) -> int:
        with self._read_lock:
            return int(self._read.execute("SELECT count(*) FROM dead_letters").fetchone()[0])

    def backlog(self) -> int:
        with self._read_lock:
            return int(self._read.execute("SELECT count(*) FROM spool").fetchone()[0])
