"""`openpanel demo`: a "Demo" project with 30 days of realistic generated traffic, so a new user
sees a full dashboard in seconds (and `make run` starts with something to look at).

The rows come from sample_data's seeded generator (the same one the analytics tests and the
benchmarks use) and are bulk-loaded into chDB, so this needs the data directory to itself: run
it before `openpanel serve`, not while it runs. An existing Demo project is left untouched.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from appliance.app import open_stores
from appliance.errors import ConfigError
from appliance.settings import Settings
from embedded_db.meta import MetaStore, Project
from embedded_db.store import data_dir_in_use

log = logging.getLogger(__name__)

DEMO_NAME = "Demo"
DEFAULT_EVENTS = 100_000
DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What `create_demo` did; `created` False means a Demo project already existed."""

    project_id: str
    created: bool
    events: int = 0
    sessions: int = 0
    profiles: int = 0
    seconds: float = 0.0
    client_id: str = ""
    client_secret: str = ""


def find_demo(meta: MetaStore) -> Project | None:
    """The project named "Demo", if there is one."""
    return next((p for p in meta.list_projects() if p.name == DEMO_NAME), None)


def traffic_end_ms(now: datetime | None = None) -> int:
    """The generated traffic ends at the start of today (UTC): whole days, nothing in the future."""
    moment = now or datetime.now(UTC)
    epoch_ms = int(moment.timestamp() * 1000)
    return epoch_ms - epoch_ms % DAY_MS


def create_demo(
    settings: Settings,
    *,
    events: int = DEFAULT_EVENTS,
    days: int = 30,
    seed: int = 1,
    now: datetime | None = None,
) -> DemoResult:
    """Create the Demo project with `days` days of traffic (about `events` rows) ending today
    00:00 UTC. Raises ConfigError while a server holds the data directory."""
    if events <= 0 or days <= 0:
        raise ConfigError("demo: --events and --days must be positive")
    if data_dir_in_use(settings.events_dir):
        raise ConfigError(
            f"the data directory {settings.data_dir} is in use (the appliance is running): "
            "stop it, run `openpanel demo`, then start it again"
        )
    from sample_data.bulk import load
    from sample_data.scenario import sized

    store, meta = open_stores(settings)
    try:
        existing = find_demo(meta)
        if existing is not None:
            return DemoResult(existing.id, created=False)
        scenario = sized(events, days, seed=seed, end_ms=traffic_end_ms(now))
        project = meta.create_project(
            DEMO_NAME, cors=[scenario.origin], domain=urlsplit(scenario.origin).hostname or ""
        )
        client = meta.create_client(project_id=project.id, type="write", name="Demo (default)")
        started = time.perf_counter()
        stats = load(store, project.id, scenario)
        seconds = time.perf_counter() - started
        log.info(
            "demo: %s events in project %s in %.1f s", f"{stats.events:,}", project.id, seconds
        )
        return DemoResult(
            project.id,
            created=True,
            events=stats.events,
            sessions=stats.sessions,
            profiles=stats.profiles,
            seconds=seconds,
            client_id=client.client.id,
            client_secret=client.secret,
        )
    finally:
        store.close()
        meta.close()
