"""One real chDB store per test process (chDB allows a single data path per process), shared by
the in-process tiers; tests keep apart by using their own project ids."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from embedded_db.store import EventStore, StoreLimits
from jobs.accept import Acceptor, Context
from jobs.enrich.geo import GeoReader
from jobs.enrich.referrer import ReferrerParser
from jobs.enrich.useragent import UserAgentParser
from jobs.eventrows import Enricher
from jobs.hub import Hub
from jobs.identity import IdentityResolver, LiveIndex
from jobs.pipeline import Pipeline
from jobs.records import Accepted, encode
from jobs.spool import Spool

_counter = itertools.count(1)
CHROME_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
TIMEOUT_MS = 30 * 60_000


def unique_project() -> str:
    return f"p{next(_counter)}-{uuid.uuid4().hex[:6]}"


def open_store(path: Path) -> EventStore:
    store = EventStore(path, StoreLimits(memory_limit_mb=512, mark_cache_mb=16, readers=2)).open()
    store.migrate()
    return store


@dataclass
class Harness:
    """Acceptor + spool + pipeline on the shared store, driven synchronously by the test."""

    store: EventStore
    spool: Spool
    pipeline: Pipeline
    acceptor: Acceptor
    index: LiveIndex
    project_id: str = field(default_factory=unique_project)

    def ctx(self, ip: str = "81.2.69.142", ua: str = CHROME_UA, sdk: str = "web") -> Context:
        return Context(project_id=self.project_id, ip=ip, ua=ua, sdk_name=sdk, sdk_version="1")

    def command(self, kind: str, received_ms: int) -> None:
        self.spool.append_sync(encode(Accepted(kind=kind, received_ms=received_ms)))  # type: ignore[arg-type]

    def flush(self) -> None:
        while self.pipeline.run_once():
            pass

    def events(self, *names: str) -> list[dict]:
        rows = self.store.query(
            "SELECT * FROM openpanel.events WHERE project_id = {p:String} "
            "ORDER BY created_at, name",
            {"p": self.project_id},
        )
        return [r for r in rows if not names or r["name"] in names]

    def sessions(self) -> list[dict]:
        return self.store.query(
            "SELECT * FROM openpanel.sessions FINAL WHERE project_id = {p:String} "
            "ORDER BY created_at",
            {"p": self.project_id},
        )

    def profile(self, profile_id: str) -> dict | None:
        rows = self.store.query(
            "SELECT * FROM openpanel.profiles FINAL WHERE project_id = {p:String} "
            "AND id = {id:String}",
            {"p": self.project_id, "id": profile_id},
        )
        return rows[0] if rows else None


def make_harness(
    store: EventStore,
    tmp: Path,
    geo: Path | None,
    salts: tuple[str, str] = ("salt-now", "salt-before"),
) -> Iterator[Harness]:
    spool = Spool(tmp / "spool.db", commit_window_ms=1, fsync=False)
    spool.start()
    enricher = Enricher(GeoReader(geo), UserAgentParser(), ReferrerParser())
    pipeline = Pipeline(store, spool, enricher, Hub(), timeout_ms=TIMEOUT_MS)
    index = LiveIndex(TIMEOUT_MS)
    acceptor = Acceptor(spool, IdentityResolver(index, lambda: salts), UserAgentParser())
    try:
        yield Harness(store, spool, pipeline, acceptor, index)
    finally:
        spool.close()
