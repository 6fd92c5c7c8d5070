"""EventStore: the embedded chDB database, its sessions, migrations, batch inserts and queries.

chDB allows one process per data directory and several same-path sessions inside it that run
queries in parallel (ARCHITECTURE.md §3). The store owns one writer session and a few reader
sessions, hands them to threads one at a time, and is the only code that talks to chDB.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import msgspec

from embedded_db.errors import StoreError
from embedded_db.sql import insert_statement

log = logging.getLogger(__name__)

Row = dict[str, Any]
Statement = tuple[str, Mapping[str, Any] | None]
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
_encoder = msgspec.json.Encoder()
# chDB reads a `{name:String}` parameter in its escaped text format (a backslash starts an escape
# sequence; a raw tab or newline is refused), so such values are escaped to arrive verbatim.
_TEXT_PARAM = re.compile(r"\{(\w+):(?:String|LowCardinality\(String\)|Nullable\(String\))\}")
_ESCAPED_TEXT = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\0": "\\0"})


@dataclass(frozen=True, slots=True)
class StoreLimits:
    """Memory and cache bounds handed to chDB (MiB)."""

    memory_limit_mb: int = 1024
    mark_cache_mb: int = 64
    uncompressed_cache_mb: int = 0
    readers: int = 2

    @property
    def lanes(self) -> int:
        """Bulk sessions for side-by-side import statements: two when the server's memory
        (1.5 x the query limit) holds two inserts and the background merges they start, whose
        column buffers take ~100 MiB each whatever the rows; one below 512 MiB."""
        return 2 if self.memory_limit_mb >= 512 else 1

    def connection_string(self, path: Path) -> str:
        mib = 1024 * 1024
        # caches live in the server's memory: together they keep to a quarter of the query
        # limit, or a full cache under a small limit fails every query, deletes included
        marks = min(self.mark_cache_mb, self.memory_limit_mb // 8)
        params = {
            "max_server_memory_usage": int(self.memory_limit_mb * 1.5) * mib,
            "max_memory_usage": self.memory_limit_mb * mib,
            "mark_cache_size": marks * mib,
            "index_mark_cache_size": max(marks // 2, 1) * mib,
            "primary_index_cache_size": max(marks // 2, 1) * mib,
            "uncompressed_cache_size": min(self.uncompressed_cache_mb, self.memory_limit_mb // 8)
            * mib,
            "output_format_json_quote_64bit_integers": 0,
            # chDB lowers a query's threads when the server's free memory is under 1 GiB per
            # thread, which at these limits is always: every query ran on one core.
            # max_memory_usage bounds each query instead.
            "max_threads_min_free_memory_per_thread": 0,
            # the server's memory tracker drifts above what is really in use (memory freed
            # on another thread) until every query and delete fails; correct it from RSS
            "memory_worker_correct_memory_tracker": 1,
        }
        return str(path) + "?" + "&".join(f"{k}={v}" for k, v in params.items())


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every packaged migration, in order."""
    folder = resources.files("embedded_db") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"duplicate migration numbers in {versions}")
    return found


def split_statements(sql: str) -> list[str]:
    """Split a migration file on `;` at line ends; comments are dropped."""
    body = "\n".join(line for line in sql.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*(?:\n|$)", body) if part.strip()]


class EventStore:
    """Owns the chDB sessions of one data directory; thread-safe; async helpers run on a pool."""

    def __init__(self, path: Path, limits: StoreLimits | None = None) -> None:
        self.path = Path(path)
        self.limits = limits or StoreLimits()
        self._writer: Any = None
        self._writer_lock = threading.Lock()
        self._readers: queue.Queue[Any] = queue.Queue()
        self._all: list[Any] = []
        self._pool: ThreadPoolExecutor | None = None
        self._bulk: list[Any] = []
        self._bulk_lock = threading.Lock()
        self._bulk_pool: ThreadPoolExecutor | None = None
        self._closed = True

    # -- lifecycle -----------------------------------------------------------------------------
    def open(self) -> EventStore:
        """Open the sessions; raise StoreError with a clear message if the directory is locked."""
        from chdb import session as chdb_session

        self.path.mkdir(parents=True, exist_ok=True)
        conn = self.limits.connection_string(self.path)
        try:
            self._writer = chdb_session.Session(conn)
            self._all.append(self._writer)
            for _ in range(self.limits.readers):
                reader = chdb_session.Session(conn)
                self._all.append(reader)
                self._readers.put(reader)
        except Exception as exc:
            self.close()
            if "lock" in str(exc).lower() or data_dir_in_use(self.path):
                raise StoreError(
                    f"the event store at {self.path} is in use by another process "
                    "(is the appliance already running?)"
                ) from exc
            raise StoreError(f"cannot open the event store at {self.path}: {exc}") from exc
        self._pool = ThreadPoolExecutor(self.limits.readers, thread_name_prefix="chdb-read")
        self._closed = False
        self.execute("CREATE DATABASE IF NOT EXISTS openpanel")
        return self

    def close(self) -> None:
        """Close every session (idempotent)."""
        self._closed = True
        for pool in (self._pool, self._bulk_pool):
            if pool is not None:
                pool.shutdown(wait=True)
        self._pool = self._bulk_pool = None
        self._bulk = []
        for sess in self._all:
            try:
                sess.close()
            except Exception:  # closing is best effort; the process may be exiting
                log.debug("closing a chDB session failed", exc_info=True)
        self._all.clear()
        self._readers = queue.Queue()
        self._writer = None

    @property
    def is_open(self) -> bool:
        return not self._closed

    # -- migrations ----------------------------------------------------------------------------
    def migrate(self) -> list[str]:
        """Apply pending numbered migrations; return the names applied."""
        self.execute(
            "CREATE TABLE IF NOT EXISTS openpanel.schema_migrations "
            "(version UInt32, name String, applied_at DateTime('UTC') DEFAULT now()) "
            "ENGINE = ReplacingMergeTree ORDER BY version"
        )
        done = {r["version"] for r in self.query("SELECT version FROM openpanel.schema_migrations")}
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            for statement in split_statements(sql):
                self.execute(statement)
            self.execute(
                "INSERT INTO openpanel.schema_migrations (version, name) VALUES "
                "({v:UInt32}, {n:String})",
                {"v": version, "n": name},
            )
            log.info("applied migration %s", name)
            applied.append(name)
        return applied

    # -- statements ----------------------------------------------------------------------------
    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Run a statement on the writer session."""
        with self._writer_lock:
            self._run(self._writer, sql, params, "CSV")

    def insert(self, table_name: str, rows: Sequence[Row], token: str | None = None) -> int:
        """Insert a batch as JSONEachRow; a repeated `token` is dropped by chDB (exactly once)."""
        if not rows:
            return 0
        body = _encoder.encode(rows)  # JSONEachRow also reads one JSON array of rows
        sql = insert_statement(table_name, token) + body.decode("utf-8")
        with self._writer_lock:
            self._run(self._writer, sql, None, "CSV")
        return len(rows)

    def execute_lanes(self, lanes: Sequence[Sequence[Statement]]) -> None:
        """Run each lane's statements in order and the lanes side by side on the bulk sessions
        (`limits.lanes` of them; lanes beyond that queue behind the first ones): chDB writes an
        inserted part on one core, so two lanes of inserts use both, and the writer session
        stays free for live ingest meanwhile. Raises the first failure once every lane has
        stopped."""
        width = self.limits.lanes
        queued = [lane for lane in lanes if lane]
        rounds = [[stmt for lane in queued[i::width] for stmt in lane] for i in range(width)]
        rounds = [r for r in rounds if r]
        with self._bulk_lock:
            sessions = self._bulk_sessions(len(rounds))
            if self._bulk_pool is None:
                self._bulk_pool = ThreadPoolExecutor(width, thread_name_prefix="chdb-bulk")
            futures = [
                self._bulk_pool.submit(self._run_lane, sess, lane)
                for sess, lane in zip(sessions, rounds, strict=True)
            ]
            errors = [f.exception() for f in futures]
        failed = next((e for e in errors if e is not None), None)
        if failed is not None:
            raise failed

    def query(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Row]:
        """Run a SELECT on a reader session; rows as dicts."""
        with self._reader() as sess:
            result = self._run(sess, sql, params, "JSONEachRow")
        data = result.bytes()
        if not data:
            return []
        return [msgspec.json.decode(line) for line in data.splitlines() if line]

    def scalar(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.query(sql, params)
        return next(iter(rows[0].values())) if rows else None

    async def run(self, fn: Any, *args: Any) -> Any:
        """Run a blocking report function `fn(*args)` on the reader thread pool."""
        if self._pool is None:
            raise StoreError("the event store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    def ping(self) -> float:
        """Round-trip a trivial query; return its latency in ms."""
        started = time.perf_counter()
        self.query("SELECT 1 AS ok")
        return (time.perf_counter() - started) * 1000

    # -- internals -----------------------------------------------------------------------------
    def _bulk_sessions(self, count: int) -> list[Any]:
        """The first `count` bulk sessions, opened on first use (caller holds the bulk lock)."""
        if self._closed:
            raise StoreError("the event store is closed")
        from chdb import session as chdb_session

        while len(self._bulk) < count:
            sess = chdb_session.Session(self.limits.connection_string(self.path))
            self._bulk.append(sess)
            self._all.append(sess)
        return self._bulk[:count]

    def _run_lane(self, sess: Any, lane: Sequence[Statement]) -> None:
        for sql, params in lane:
            self._run(sess, sql, params, "CSV")

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        if self._closed:
            raise StoreError("the event store is closed")
        sess = self._readers.get()
        try:
            yield sess
        finally:
            self._readers.put(sess)

    def _run(self, sess: Any, sql: str, params: Mapping[str, Any] | None, fmt: str) -> Any:
        if sess is None:
            raise StoreError("the event store is closed")
        try:
            if params:
                return sess.query(sql, fmt, params=bind_params(sql, params))
            return sess.query(sql, fmt)
        except Exception as exc:
            message = _first_line(str(exc))
            # the code's tag ends chDB's message, which may span lines (a part's path)
            if "MEMORY_LIMIT_EXCEEDED" in str(exc):
                message += (
                    f" — the work needs more than the event store's memory limit "
                    f"({self.limits.memory_limit_mb} MiB per query; raise it to go on)"
                )
            raise StoreError(message) from exc


def data_dir_in_use(path: Path) -> bool:
    """Whether chDB's `status` lock file in `path` is held by another process (chDB itself
    prints the reason to stderr and raises a generic error). Call it before opening."""
    import fcntl

    status = path / "status"
    if not status.exists():
        return False
    with status.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def bind_params(sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as chDB must receive them: text bound as `{name:String}` escaped so that
    backslashes, tabs and newlines arrive unchanged (Array parameters are literals already)."""
    text = set(_TEXT_PARAM.findall(sql))
    return {
        k: v.translate(_ESCAPED_TEXT) if k in text and isinstance(v, str) else v
        for k, v in params.items()
    }


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:500] if text.strip() else "chDB error"
