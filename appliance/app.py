"""Composition root: builds every part from Settings, wires them onto `app.state` in the
lifespan, and closes them in reverse order (spool drained into chDB before chDB closes)."""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from litestar import Litestar

from appliance.errors import ConfigError
from appliance.settings import Settings
from embedded_db.meta import MetaStore
from embedded_db.store import EventStore, StoreLimits, data_dir_in_use
from jobs.accept import Acceptor
from jobs.enrich.bots import BotDetector
from jobs.enrich.geo import GeoDatabaseError, GeoReader
from jobs.enrich.ip import parse_ip_header_order
from jobs.enrich.referrer import ReferrerParser
from jobs.enrich.useragent import UserAgentParser
from jobs.eventrows import Enricher
from jobs.hub import Hub
from jobs.identity import IdentityResolver, LiveIndex
from jobs.import_tasks import install_file_jobs
from jobs.pipeline import Pipeline
from jobs.queue import InProcessConsumer, make_huey, register_periodic, start_consumer
from jobs.rollups import Roller
from jobs.salts import SaltCache
from jobs.spool import Spool
from web.app import build_app
from web.auth import Authenticator
from web.dedup import DuplicateWindow
from web.ingest import Ingest
from web.security import RateLimiter

log = logging.getLogger(__name__)


@dataclass
class Components:
    """The running parts of one appliance process."""

    settings: Settings
    store: EventStore
    meta: MetaStore
    spool: Spool
    hub: Hub
    pipeline: Pipeline
    acceptor: Acceptor
    auth: Authenticator
    consumer: InProcessConsumer | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        """Stop intake, drain the spool into chDB, then close the stores."""
        if self.consumer is not None:
            with suppress(Exception):
                self.consumer.stop(graceful=True)
        self.spool.stop()
        self.pipeline.stop(drain=True)
        self.spool.close()
        self.store.close()
        self.meta.close()


def open_stores(settings: Settings) -> tuple[EventStore, MetaStore]:
    """Open chDB (applying migrations) and the MetaStore."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    limits = StoreLimits(
        memory_limit_mb=settings.chdb_memory_limit_mb,
        mark_cache_mb=settings.chdb_mark_cache_mb,
        uncompressed_cache_mb=settings.chdb_uncompressed_cache_mb,
        readers=settings.chdb_readers,
    )
    store = EventStore(settings.events_dir, limits).open()
    try:
        store.migrate()
        meta = MetaStore(settings.meta_db)
    except BaseException:
        store.close()
        raise
    return store, meta


def build_components(settings: Settings, *, start_workers: bool = True) -> Components:
    """Open stores, recover the spool, start the pipeline and the job consumer."""
    store, meta = open_stores(settings)
    timeout_ms = settings.session_timeout_minutes * 60_000
    spool = Spool(
        settings.spool_db, commit_window_ms=settings.spool_commit_ms, fsync=settings.spool_fsync
    )
    hub = Hub()
    geo_path = settings.resolved_geoip_db()
    enricher = Enricher(
        GeoReader(geo_path), UserAgentParser(), ReferrerParser(), store_ip=settings.store_ip
    )
    pipeline = Pipeline(
        store,
        spool,
        enricher,
        hub,
        timeout_ms=timeout_ms,
        batch_max=settings.batch_max_events,
        interval_ms=settings.batch_interval_ms,
        event_filter=_event_filter(meta),
        roller=Roller(store, timeout_ms),
    )
    salts = SaltCache(meta)
    salts.rotate_if_stale(datetime.now(UTC))
    index = LiveIndex(timeout_ms)
    pipeline.restore_index(index)
    acceptor = Acceptor(spool, IdentityResolver(index, salts.get), UserAgentParser())
    comps = Components(
        settings,
        store,
        meta,
        spool,
        hub,
        pipeline,
        acceptor,
        Authenticator(meta, settings.client_cache_seconds),
    )
    spool.start()
    if start_workers:
        pipeline.start()
        huey = make_huey(settings.jobs_db)
        register_periodic(huey, reap_sessions=acceptor.request_reap, rotate_salt=salts.rotate)
        comps.extras["files"] = install_file_jobs(
            huey,
            store,
            meta,
            data_dir=settings.data_dir,
            geo_db=geo_path,
            timeout_ms=timeout_ms,
            memory_mb=settings.chdb_memory_limit_mb,
            base_url=settings.base_url,
        )
        comps.consumer = start_consumer(huey, settings.jobs_workers)
        comps.extras["huey"] = huey
    log.info("appliance ready: data in %s, geo %s", settings.data_dir, geo_path or "not configured")
    return comps


def _geo_reader(path: Path | None) -> GeoReader:
    """The GeoIP reader; a configured but unreadable database stops start-up clearly."""
    try:
        return GeoReader(path)
    except GeoDatabaseError as exc:
        raise ConfigError(f"geoip_db: {exc}") from None


def _event_filter(meta: MetaStore) -> Any:
    """Project `{type: "event", name}` exclusion rules, re-read every few seconds."""
    cache: dict[str, tuple[float, set[str]]] = {}

    def drop(project_id: str, name: str) -> bool:
        hit = cache.get(project_id)
        if hit is None or hit[0] < time.monotonic():
            try:
                rules = meta.get_project(project_id).filters
            except Exception:
                rules = ()
            names = {str(r.get("name")) for r in rules if r.get("type") == "event"}
            hit = (time.monotonic() + 5, names)
            cache[project_id] = hit
        return name in hit[1] or "*" in hit[1]

    return drop


def preflight(settings: Settings) -> None:
    """Fail fast, with a message instead of a traceback, on what would break start-up."""
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"data_dir {settings.data_dir} cannot be created: {exc}") from None
    if data_dir_in_use(settings.events_dir):
        raise ConfigError(
            f"the data directory {settings.data_dir} is in use by another "
            "process (is the appliance already running?)"
        )
    _geo_reader(settings.resolved_geoip_db()).close()


def _settle_heap() -> None:
    """Move everything built at start-up (parsers, regexes, caches' tables) out of the garbage
    collector's reach and collect young objects less often: a full collection over them paused
    the event loop for ~95 ms, the p99 of ingest latency (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def create_app(settings: Settings) -> Litestar:
    """The appliance as an ASGI app; the lifespan owns every resource."""
    preflight(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        comps = build_components(settings)
        state = app.state
        state.settings = settings
        state.components = comps
        state.store, state.meta, state.spool = comps.store, comps.meta, comps.spool
        state.hub, state.pipeline, state.auth = comps.hub, comps.pipeline, comps.auth
        state.consumer = comps.consumer
        state.started_at = time.time()
        state.read_limiter = RateLimiter(settings.api_rate_limit, 10)
        state.ingest = Ingest(
            auth=comps.auth,
            acceptor=comps.acceptor,
            bots=BotDetector(),
            hub=comps.hub,
            dedup=DuplicateWindow(settings.dedup_window_ms),
            ip_headers=parse_ip_header_order(settings.ip_headers),
        )
        _settle_heap()
        try:
            yield
        finally:
            comps.close()

    return build_app(lifespan, max_body_bytes=settings.max_body_kb * 1024)
