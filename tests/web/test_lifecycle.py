"""Start and stop: SIGTERM drains the spool into chDB and exits cleanly; a restart resumes."""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import httpx

from tests.support.server import make_server


def test_sigterm_stores_everything_accepted_and_exits_zero(tmp_path: Path) -> None:
    server = make_server(tmp_path, {"OPENPANEL_BATCH_INTERVAL_MS": "60000"})  # never on its own
    server.create_project("Lifecycle")
    server.start()
    headers = {**server.write.headers(), "user-agent": "node", "content-type": "application/json"}
    with httpx.Client(timeout=30) as client:
        for i in range(50):
            body = {"type": "track", "payload": {"name": "before_stop", "properties": {"i": i}}}
            r = client.post(server.url + "/track", content=json.dumps(body), headers=headers)
            assert r.status_code == 200
    assert server.stop(signal.SIGTERM) == 0
    spool = sqlite3.connect(server.data_dir / "spool.db")
    assert spool.execute("SELECT count(*) FROM spool").fetchone()[0] == 0  # drained at exit
    spool.close()
    server.start()
    try:
        stored = server.events(event="before_stop")
        assert sorted(int(e["properties"]["i"]) for e in stored) == list(range(50))
    finally:
        server.stop()
