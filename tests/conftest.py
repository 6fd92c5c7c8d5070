"""Shared fixtures: real stores in temp dirs, a real server on 127.0.0.1, a test GeoIP DB."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from playwright.sync_api import Browser

from embedded_db.store import EventStore
from tests.support.browser import artifacts_folder, launch_chromium
from tests.support.geo import DEFAULT_TEST_GEO, build_test_mmdb
from tests.support.server import LiveServer, make_server
from tests.support.stores import open_store

# CI replays the same examples on every run (a red build is reproducible); locally each run
# explores new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def geoip_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A City-layout .mmdb with a few known public IPs (see tests/support/geo.py)."""
    return build_test_mmdb(tmp_path_factory.mktemp("geo") / "test-city.mmdb", DEFAULT_TEST_GEO)


@pytest.fixture
def live_server(tmp_path: Path, geoip_db: Path) -> Iterator[LiveServer]:
    """A running appliance with one project (CORS: http://127.0.0.1 origins) and clients."""
    server = make_server(tmp_path, {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    server.create_project("Test site", cors=("http://127.0.0.1:*", "https://example.com"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EventStore]:
    """The test process's one chDB store (real, in a temp dir; chDB allows one path per
    process). Tests keep apart by using their own project ids."""
    s = open_store(tmp_path_factory.mktemp("chdb") / "events")
    yield s
    s.close()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's chromium for one test module (skipped without it, failed under CI)."""
    with launch_chromium() as browser:
        yield browser


@pytest.fixture
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go ($OPENPANEL_TEST_ARTIFACTS or a temp dir)."""
    return artifacts_folder(tmp_path_factory)
