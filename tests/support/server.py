"""A real appliance process on 127.0.0.1 for HTTP, SDK and crash tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.sdk import Visitors, api_get


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ApiClient:
    id: str
    secret: str

    def headers(self, secret: bool = True) -> dict[str, str]:
        h = {"openpanel-client-id": self.id}
        if secret:
            h["openpanel-client-secret"] = self.secret
        return h


@dataclass
class LiveServer:
    """A running `openpanel serve` subprocess with one project and its clients."""

    url: str
    data_dir: Path
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None
    project_id: str = ""
    write: ApiClient = field(default_factory=lambda: ApiClient("", ""))
    read: ApiClient = field(default_factory=lambda: ApiClient("", ""))
    log_path: Path | None = None

    def cli(self, *args: str) -> Any:
        """Run `openpanel …` against this data dir; parse --json output."""
        out = subprocess.run(
            [sys.executable, "-m", "appliance.cli", *args, "--data-dir", str(self.data_dir)],
            check=True,
            capture_output=True,
            env=self.env,
            timeout=60,
        )
        text = out.stdout.decode()
        return json.loads(text) if "--json" in args else text

    def visitors(self, origin: str = "https://example.com") -> Visitors:
        """SDK calls from a site on `origin` through the project's write client."""
        return Visitors(self.url, self.write.id, origin)

    def insights(self, path: str, client: ApiClient | None = None, **params: Any) -> httpx.Response:
        """GET `/insights/<project>/<path>` as the read client (or `client`)."""
        url = f"{self.url}/insights/{self.project_id}/{path}"
        return api_get(url, (client or self.read).headers(), **params)

    def create_project(self, name: str = "Test site", cors: tuple[str, ...] = ()) -> None:
        args = ["project", "create", name, "--json"]
        for origin in cors:
            args += ["--cors", origin]
        created = self.cli(*args)
        self.project_id = created["project_id"]
        self.write = ApiClient(created["client_id"], created["client_secret"])
        reader = self.cli(
            "client", "create", "--project", self.project_id, "--type", "read", "--json"
        )
        self.read = ApiClient(reader["client_id"], reader["client_secret"])

    def launch(self) -> None:
        """Spawn `openpanel serve` on this data dir (without waiting for it)."""
        assert self.log_path is not None and self.proc is None
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "appliance.cli",
                    "serve",
                    "--data-dir",
                    str(self.data_dir),
                    "--port",
                    self.url.rsplit(":", 1)[1],
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
            )

    def start(self, timeout: float = 60) -> None:
        """Launch and wait until `/-/health` answers 200."""
        self.launch()
        assert self.proc is not None and self.log_path is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/-/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become healthy: {self.log_path.read_text()[-3000:]}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
        self.proc = None
        return code

    def export(self, **params: Any) -> dict[str, Any]:
        query = {k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()}
        query.setdefault("limit", 1000)
        r = httpx.get(
            self.url + "/export/events", params=query, headers=self.read.headers(), timeout=30
        )
        r.raise_for_status()
        return r.json()

    def events(self, **params: Any) -> list[dict[str, Any]]:
        return list(self.export(**params)["data"])

    def wait_for(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 15, **params: Any
    ) -> list[dict[str, Any]]:
        """Poll the export until `predicate(events)` holds; return the events."""
        deadline = time.monotonic() + timeout
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            events = self.events(**params)
            if predicate(events):
                return events
            time.sleep(0.2)
        raise AssertionError(
            f"condition not met in {timeout}s; last events: "
            f"{[(e['name'], e['path']) for e in events][:50]}"
        )


def make_server(tmp: Path, extra_env: dict[str, str] | None = None) -> LiveServer:
    env = dict(os.environ)
    env.update(
        {
            "OPENPANEL_BATCH_INTERVAL_MS": "100",
            "OPENPANEL_CLIENT_CACHE_SECONDS": "1",
            "OPENPANEL_CHDB_MEMORY_LIMIT_MB": "512",
        }
    )
    env.update(extra_env or {})
    server = LiveServer(
        url=f"http://127.0.0.1:{free_port()}",
        data_dir=tmp / "data",
        env=env,
        log_path=tmp / "server.log",
    )
    return server
