"""Helpers of the packaging tests: a virtual X screen, the desktop app as a process, screenshots,
process trees, and sending/reading events with the appliance's own HTTP API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.server import ApiClient, LiveServer

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT_SCRIPT = Path(__file__).with_name("screenshot.py")


@dataclass
class Xvfb:
    proc: subprocess.Popen[bytes]
    display: str

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def start_xvfb(size: str = "1280x900x24") -> Xvfb:
    """Start Xvfb on the first free display number (it reports it through -displayfd)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()
    if not number:
        proc.kill()
        raise RuntimeError("Xvfb did not start")
    return Xvfb(proc, f":{number}")


def gui_env(display: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a process drawing on the virtual screen, with a small chDB footprint."""
    env = dict(os.environ)
    env.update(
        {
            "DISPLAY": display,
            "QT_QPA_PLATFORM": "xcb",
            "OPENPANEL_BATCH_INTERVAL_MS": "200",
            "OPENPANEL_CLIENT_CACHE_SECONDS": "1",
            "OPENPANEL_CHDB_MEMORY_LIMIT_MB": "512",
        }
    )
    env.pop("PYWEBVIEW_GUI", None)
    env.update(extra or {})
    return env


@dataclass
class DesktopRun:
    """A running `openpanel desktop` (source checkout or bundle)."""

    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    started: float
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return str(self.info["url"])

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_loaded(self, timeout: float = 120) -> float:
        """Wait for the window's first page load; return seconds since launch."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(
                    f"desktop exited {self.proc.returncode}:\n{self.log()[-4000:]}"
                )
            if "desktop: page loaded" in self.log():
                info = self.data_dir / "desktop.json"
                if info.is_file():
                    self.info = json.loads(info.read_text())
                    return time.monotonic() - self.started
            time.sleep(0.1)
        raise AssertionError(f"the window did not load in {timeout}s:\n{self.log()[-4000:]}")

    def stop(self, timeout: float = 90) -> int:
        """SIGTERM (the window closes, then the server drains); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            raise AssertionError(
                f"desktop did not exit on SIGTERM:\n{self.log()[-4000:]}"
            ) from None


def launch_desktop(
    command: Sequence[str], data_dir: Path, env: dict[str, str], log_path: Path
) -> DesktopRun:
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [*command, "--data-dir", str(data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    return DesktopRun(proc, data_dir, log_path, time.monotonic())


def descendants(pid: int) -> set[int]:
    """All live descendants of `pid` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                kids = {int(p) for p in task.read_text().split()}
            except OSError:
                continue
            todo.extend(kids - found)
            found |= kids
    return found


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def rss_mib(pids: set[int]) -> float:
    """Resident memory of these processes, MiB (shared pages counted once per process)."""
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def screenshot(display: str, target: Path, python: str = sys.executable) -> dict[str, int]:
    """Grab the virtual screen to a PNG; returns its size and how many colours it shows."""
    target.parent.mkdir(parents=True, exist_ok=True)
    out = subprocess.run(
        [python, str(SCREENSHOT_SCRIPT), str(target)],
        env=gui_env(display),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


@dataclass
class Project:
    project_id: str
    write: ApiClient
    read: ApiClient


def create_project(cli: Sequence[str], data_dir: Path, env: dict[str, str]) -> Project:
    """A project with write and read clients, through the CLI (meta.db only: works live)."""

    def run(*args: str) -> dict[str, Any]:
        out = subprocess.run(
            [*cli, *args, "--json", "--data-dir", str(data_dir)],
            capture_output=True,
            env=env,
            timeout=120,
            check=True,
        )
        return dict(json.loads(out.stdout))

    made = run("project", "create", "Desktop test")
    reader = run("client", "create", "--project", made["project_id"], "--type", "read")
    return Project(
        made["project_id"],
        ApiClient(made["client_id"], made["client_secret"]),
        ApiClient(reader["client_id"], reader["client_secret"]),
    )


def track(base_url: str, project: Project, name: str) -> None:
    """Send one server-side event (secret-authenticated) and expect a 200."""
    reply = httpx.post(
        base_url + "/track",
        json={"type": "track", "payload": {"name": name, "properties": {"run": uuid.uuid4().hex}}},
        headers=project.write.headers(),
        timeout=10,
    )
    assert reply.status_code == 200, reply.text


def event_names(base_url: str, project: Project) -> list[str]:
    reply = httpx.get(
        base_url + "/export/events",
        params={"project_id": project.project_id, "limit": 1000},
        headers=project.read.headers(),
        timeout=30,
    )
    reply.raise_for_status()
    return [e["name"] for e in reply.json()["data"]]


def wait_for_event(base_url: str, project: Project, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    names: list[str] = []
    while time.monotonic() < deadline:
        names = event_names(base_url, project)
        if name in names:
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} not exported within {timeout}s; saw {names}")


def events_after_restart(data_dir: Path, project: Project, tmp: Path) -> list[str]:
    """Start `openpanel serve` on the data dir and export the project's event names."""
    from tests.support.server import free_port

    server = LiveServer(
        url=f"http://127.0.0.1:{free_port()}",
        data_dir=data_dir,
        env=dict(os.environ),
        log_path=tmp / "after-restart.log",
    )
    server.start()
    try:
        return event_names(server.url, project)
    finally:
        assert server.stop() == 0
