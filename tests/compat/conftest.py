"""Fixtures for the SDK compatibility suite: the pinned npm packages and module-wide servers.

The published SDKs are installed by `npm ci` in tests/compat/node (the Makefile's `node-deps`);
these fixtures fail with the command to run when they are missing rather than skipping, so a
broken setup never looks like a green suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from tests.support.server import LiveServer, make_server

NODE_DIR = Path(__file__).parent / "node"
CORS = ("http://127.0.0.1:*", "https://example.com")


@pytest.fixture(scope="session")
def node_dir() -> Path:
    """tests/compat/node with its pinned packages installed."""
    if shutil.which("node") is None:
        pytest.fail("Node.js (>= 20) is not on PATH; the SDK compatibility tests need it")
    if not (NODE_DIR / "node_modules" / "@openpanel" / "sdk" / "package.json").is_file():
        pytest.fail(
            f"the pinned OpenPanel npm packages are not installed in {NODE_DIR}; run "
            f"`make node-deps` (or `cd {NODE_DIR} && npm ci`) first"
        )
    return NODE_DIR


@contextmanager
def running_server(
    tmp: Path, geoip_db: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """A real appliance with one project (the same CORS list as `live_server`)."""
    server = make_server(tmp, {"OPENPANEL_GEOIP_DB": str(geoip_db), **(extra_env or {})})
    server.create_project("Compat site", cors=CORS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


ServerFactory = Callable[..., LiveServer]


@pytest.fixture(scope="module")
def module_server(
    tmp_path_factory: pytest.TempPathFactory, geoip_db: Path
) -> Iterator[ServerFactory]:
    """Start servers that live as long as the test module (one SDK run feeds several tests)."""
    with ExitStack() as stack:

        def start(**extra_env: str) -> LiveServer:
            tmp = tmp_path_factory.mktemp("compat")
            return stack.enter_context(running_server(tmp, geoip_db, extra_env))

        yield start
