"""`openpanel demo`: a Demo project with 30 days of generated traffic, loaded while the appliance
is stopped, then served; idempotent; refused while a server holds the data directory."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from appliance.demo import traffic_end_ms
from tests.support.server import ApiClient, make_server


def run_demo(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", "demo", "--data-dir", str(data_dir), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_traffic_ends_at_the_start_of_today_utc() -> None:
    now = datetime(2026, 3, 9, 17, 45, 12, tzinfo=UTC)
    assert traffic_end_ms(now) == int(datetime(2026, 3, 9, tzinfo=UTC).timestamp() * 1000)


def test_demo_creates_a_served_project_once_and_refuses_a_running_server(tmp_path: Path) -> None:
    server = make_server(tmp_path)
    first = run_demo(server.data_dir, "--events", "4000", "--json")
    assert first.returncode == 0, first.stderr[-3000:]
    made = json.loads(first.stdout)
    assert made["created"] is True and made["project_id"] == "demo"
    assert made["events"] > 3000 and made["sessions"] > 0 and made["profiles"] > 0

    again = json.loads(run_demo(server.data_dir, "--json").stdout)
    assert again["created"] is False and again["project_id"] == "demo"

    server.project_id = "demo"
    reader = server.cli("client", "create", "--project", "demo", "--type", "read", "--json")
    server.read = ApiClient(reader["client_id"], reader["client_secret"])
    server.start()
    try:
        refused = run_demo(server.data_dir)
        assert refused.returncode == 1 and "in use" in refused.stderr
        page = server.export(projectId="demo", limit=50)
        assert page["meta"]["totalCount"] == made["events"]
        end = datetime.fromtimestamp(traffic_end_ms() / 1000, UTC)
        stamps = [
            datetime.fromisoformat(e["createdAt"].replace("Z", "+00:00")) for e in page["data"]
        ]
        assert all(end - timedelta(days=30) <= t < end for t in stamps)
        health = httpx.get(server.url + "/-/health", timeout=10).json()
        assert health["ok"] is True
    finally:
        assert server.stop() == 0
