"""Helpers shared by the SDK compatibility tests: running the Node scripts, reading the export."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import LiveServer, make_server

CORS = ("http://127.0.0.1:*", "https://example.com")  # as the `live_server` fixture
DESKTOP_CHROME_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/156.0.0.0 Safari/537.36"
)


@contextmanager
def running_server(
    tmp: Path, geoip_db: Path, extra_env: dict[str, str] | None = None
) -> Iterator[LiveServer]:
    """A real appliance with one project (the same CORS list as `live_server`), for fixtures
    wider than one test: one SDK run then feeds several focused tests."""
    server = make_server(tmp, {"OPENPANEL_GEOIP_DB": str(geoip_db), **(extra_env or {})})
    server.create_project("Compat site", cors=CORS)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def run_node(
    node_dir: Path,
    script: str,
    *,
    env: dict[str, str] | None = None,
    stdin: Any = None,
    timeout: float = 120,
) -> Any:
    """Run `node <script>` in tests/compat/node; return the JSON of its last stdout line."""
    proc = subprocess.run(
        ["node", script],
        cwd=node_dir,
        input=None if stdin is None else json.dumps(stdin),
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(
            f"node {script} exited with {proc.returncode}\n"
            f"stderr:\n{proc.stderr[-4000:]}\nstdout:\n{proc.stdout[-2000:]}"
        )
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert lines, f"node {script} printed nothing; stderr:\n{proc.stderr[-4000:]}"
    return json.loads(lines[-1])


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["name"] for e in events]


def only(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    """The one exported event called `name` (fails if there are none or several)."""
    found = [e for e in events if e["name"] == name]
    assert len(found) == 1, f"expected one {name!r} event, got {len(found)}: {names(events)}"
    return found[0]


def post_track(
    server: LiveServer, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(server.url + "/track", json=body, headers=headers or {}, timeout=30)


def flush(server: LiveServer, marker: str, **params: Any) -> list[dict[str, Any]]:
    """Send a secret-authenticated `marker` event and wait until it is exported.

    The pipeline stores accepted requests in arrival order, so once the marker is visible
    everything accepted before it is too; returns the export at that moment."""
    sent = post_track(
        server,
        {"type": "track", "payload": {"name": marker, "properties": {}}},
        server.write.headers(),
    )
    assert sent.status_code == 200, sent.text
    return server.wait_for(lambda events: marker in names(events), timeout=30, **params)


# The sample properties both SDK scenarios send ({str, num, bool, nil, arr, nested}), as stored:
# flattened to dot keys, stringified like JavaScript, nulls dropped.
FLATTENED_SAMPLE = {
    "str": "a",
    "num": "1.5",
    "bool": "true",
    "arr.0": "1",
    "arr.1": "b",
    "nested.k": "v",
}
