"""The README's quick start on a clean copy of the repository: `make run` sets everything up,
loads the Demo project into the empty data dir and serves it. Opt-in locally (`packaging`
marker: a fresh venv and npm install, ~2 min with warm caches); CI runs it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.packaging.support import REPO
from tests.support.server import free_port

pytestmark = pytest.mark.packaging


def clean_copy(target: Path) -> Path:
    """The files a clone has: tracked and not-ignored ones (no .venv, data, node_modules)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for raw in filter(None, listed):
        source = REPO / raw.decode()
        if source.is_file():
            destination = target / raw.decode()
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def test_make_run_serves_the_demo_project_on_a_clean_copy(tmp_path: Path) -> None:
    clone = clean_copy(tmp_path / "clone")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "make-run.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENPANEL_", "VIRTUAL_ENV"))}
    with log.open("ab") as out:
        make = subprocess.Popen(
            ["make", "run", f"PORT={port}"],
            cwd=clone,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # make and the server it starts: one group to stop
        )
    try:
        deadline = time.monotonic() + 900
        while True:
            assert make.poll() is None, log.read_text()[-4000:]
            assert time.monotonic() < deadline, log.read_text()[-4000:]
            try:
                if httpx.get(url + "/-/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(1)
        assert httpx.get(url + "/", timeout=10).status_code == 200
        cli = [str(clone / ".venv" / "bin" / "openpanel")]
        data = ["--data-dir", str(clone / "data")]
        projects = json.loads(subprocess.check_output([*cli, "project", "list", "--json", *data]))
        assert [p["id"] for p in projects] == ["demo"]
        reader = json.loads(
            subprocess.check_output(
                [*cli, "client", "create", "--project", "demo", "--type", "read", "--json", *data]
            )
        )
        headers = {
            "openpanel-client-id": reader["client_id"],
            "openpanel-client-secret": reader["client_secret"],
        }
        time.sleep(1.5)  # client_cache_seconds: the server sees the new client
        page = httpx.get(
            url + "/export/events", params={"projectId": "demo", "limit": 1}, headers=headers
        )
        assert page.status_code == 200, page.text
        assert page.json()["meta"]["totalCount"] > 90_000
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(120)
