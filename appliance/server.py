"""Running the app: uvicorn with one worker in this process (chDB allows one process per data
directory, and must never be forked after import), plus the `serve --get` smoke path."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import uvicorn

from appliance.app import create_app
from appliance.settings import Settings
from web.fastpath import IngestFastPath

log = logging.getLogger(__name__)


def banner(settings: Settings) -> str:
    url = settings.base_url
    # The command as the user ran it (e.g. `.venv/bin/openpanel` under `make run`).
    cli = sys.argv[0] if Path(sys.argv[0]).name == "openpanel" else "openpanel"
    return (
        f"OpenPanel Appliance on {url}  (data: {settings.data_dir})\n"
        f'  create a project:  {cli} project create "My site" --cors https://example.com '
        f"--data-dir {settings.data_dir}\n"
        f'  then point an SDK at apiUrl: "{url}" (or "{url}/api"); health: {url}/-/health'
    )


def run_server(settings: Settings) -> None:
    """Serve until SIGINT/SIGTERM; shutdown drains the spool into chDB."""
    config = server_config(settings)
    # The pipeline thread shares the GIL with the event loop; a 1 ms switch interval (default 5)
    # keeps request latency low while a batch is being built (docs/benchmarks.md).
    sys.setswitchinterval(0.001)
    server = _Server(config)
    print(banner(settings), flush=True)  # noqa: T201 - the one line a user needs to see
    server.run()


def server_config(settings: Settings) -> uvicorn.Config:
    """The one uvicorn configuration (single worker, lifespan on, 10 s graceful shutdown) shared
    by `openpanel serve` and the desktop app's background server; raises ConfigError early."""
    app = IngestFastPath(create_app(settings), settings.max_body_kb * 1024)
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        lifespan="on",
        log_level=settings.log_level.lower(),
        access_log=False,
        loop="auto",
        http="auto",
        timeout_graceful_shutdown=10,
        proxy_headers=False,  # client IPs come from the ingest header order (jobs/enrich/ip.py)
        log_config=None,
        server_header=False,
    )


class _Server(uvicorn.Server):
    """uvicorn re-raises SIGTERM/SIGINT after a graceful shutdown, so the process would die by
    the signal; after draining everything we exit 0 instead (clean for Docker and systemd)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {
            sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def request_once(settings: Settings, path: str) -> tuple[int, str]:
    """Start the app in-process, GET `path`, stop; return (status, body)."""
    from litestar.testing import TestClient

    with TestClient(create_app(settings)) as client:
        response = client.get(path)
        return response.status_code, response.text
