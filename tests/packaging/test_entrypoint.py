"""The Docker image's runtime steps without Docker: packaging/entrypoint.sh on a /data-style
directory, packaging/healthcheck.py, and SIGTERM (`docker stop`) → exit 0 with no lost event.

Runs the current environment's `openpanel`; tests/packaging/test_install.py repeats the start
with a venv built by packaging/install.sh (the image's install step).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.packaging.support import REPO, Project, event_names, track, wait_for_event
from tests.support.server import ApiClient, free_port

ENTRYPOINT = REPO / "packaging" / "entrypoint.sh"
HEALTHCHECK = REPO / "packaging" / "healthcheck.py"


def container_env(data_dir: Path, port: int, bin_dir: Path, **extra: str) -> dict[str, str]:
    """The image's environment (Dockerfile ENV), on loopback and a temp data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENPANEL_")}
    env.update(
        {
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
            "PYTHONUNBUFFERED": "1",
            "OPENPANEL_DATA_DIR": str(data_dir),
            "OPENPANEL_HOST": "127.0.0.1",
            "OPENPANEL_PORT": str(port),
            "OPENPANEL_GEOIP_DB": "/opt/geoip/dbip-city-lite.mmdb",
            "OPENPANEL_BATCH_INTERVAL_MS": "300",
            "OPENPANEL_CLIENT_CACHE_SECONDS": "1",
            "OPENPANEL_CHDB_MEMORY_LIMIT_MB": "512",
        }
    )
    env.update(extra)
    return env


def entrypoint(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    out = subprocess.run(
        ["sh", str(ENTRYPOINT), *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return out.stdout


def healthy(env: dict[str, str], python: str = sys.executable) -> bool:
    out = subprocess.run([python, str(HEALTHCHECK)], env=env, capture_output=True, timeout=30)
    return out.returncode == 0


def start_container(
    env: dict[str, str], log: Path, timeout: float = 120
) -> subprocess.Popen[bytes]:
    """`entrypoint.sh` with no arguments (the image's CMD is `serve`), waiting for health."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["sh", str(ENTRYPOINT)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + timeout
    while not healthy(env):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"the container did not become healthy:\n{log.read_text()}")
        time.sleep(0.3)
    return proc


def create_project(env: dict[str, str]) -> Project:
    made = json.loads(entrypoint("project", "create", "Docker site", "--json", env=env))
    reader = json.loads(
        entrypoint(
            "client", "create", "--project", made["project_id"], "--type", "read", "--json", env=env
        )
    )
    return Project(
        made["project_id"],
        ApiClient(made["client_id"], made["client_secret"]),
        ApiClient(reader["client_id"], reader["client_secret"]),
    )


def run_container_lifecycle(bin_dir: Path, tmp_path: Path, python: str = sys.executable) -> None:
    """First run, an event, `docker stop` right after a second event, restart: nothing lost."""
    port = free_port()
    env = container_env(tmp_path / "data", port, bin_dir)
    url = f"http://127.0.0.1:{port}"
    assert not healthy(env, python)  # nothing listens yet: the healthcheck says so
    project = create_project(env)  # `docker run … project create` before the first start
    proc = start_container(env, tmp_path / "container.log")
    try:
        assert healthy(env, python)
        # `exec`: the server itself is the container's main process (receives SIGTERM).
        assert "openpanel" in Path(f"/proc/{proc.pid}/cmdline").read_text()
        track(url, project, "first_run")
        wait_for_event(url, project, "first_run")
        track(url, project, "just_before_stop")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    log = (tmp_path / "container.log").read_text()
    assert code == 0, log[-3000:]
    assert "no GeoIP database" in log  # the image's GeoIP path is absent here: a warning, no exit
    proc = start_container(env, tmp_path / "container.log")
    try:
        names = event_names(url, project)
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    assert sorted(n for n in names if n in ("first_run", "just_before_stop")) == [
        "first_run",
        "just_before_stop",
    ]


def test_entrypoint_serves_stops_cleanly_and_loses_nothing(tmp_path: Path) -> None:
    run_container_lifecycle(Path(sys.executable).parent, tmp_path)


def test_an_unwritable_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    env = container_env(blocker / "data", free_port(), Path(sys.executable).parent)
    out = subprocess.run(["sh", str(ENTRYPOINT)], env=env, capture_output=True, text=True)
    assert out.returncode == 70
    assert "is not writable" in out.stderr and "-v openpanel:/data" in out.stderr


def test_options_go_to_serve_and_commands_to_openpanel(tmp_path: Path) -> None:
    env = container_env(tmp_path / "data", free_port(), Path(sys.executable).parent)
    assert "Run the appliance" in entrypoint("--help", env=env)  # = openpanel serve --help
    assert "`OPENPANEL_PORT`" in entrypoint("settings", env=env)  # = openpanel settings


def test_healthcheck_reports_an_unhealthy_answer(tmp_path: Path) -> None:
    env = container_env(tmp_path, free_port(), Path(sys.executable).parent)
    out = subprocess.run(
        [sys.executable, str(HEALTHCHECK)], env=env, capture_output=True, text=True, timeout=30
    )
    assert out.returncode == 1 and "unhealthy" in out.stderr
