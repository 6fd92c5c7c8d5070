"""The PyInstaller one-folder bundle (openpanel.spec): built once, then `openpanel serve` from it
(health, an event in, the event back out through /export/events, SIGTERM → 0) and `openpanel
desktop` from it under Xvfb. Opt-in locally (`packaging` marker); CI runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.packaging.support import REPO, Xvfb, create_project, track, wait_for_event
from tests.packaging.test_desktop import ARTIFACTS, exercise_desktop, record
from tests.support.server import free_port

pytestmark = pytest.mark.packaging


def folder_mib(path: Path) -> float:
    """Disk use of a folder, MiB (symlinks counted once, as `du` does)."""
    files = (f for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return sum(f.stat().st_size for f in files) / 2**20


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """dist/openpanel built from openpanel.spec into a temp dir; yields the executable."""
    work = tmp_path_factory.mktemp("pyinstaller")
    started = time.monotonic()
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--workpath",
            str(work / "build"),
            "--distpath",
            str(work / "dist"),
            str(REPO / "openpanel.spec"),
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr[-5000:]
    exe = work / "dist" / "openpanel" / "openpanel"
    assert exe.is_file()
    record(
        "bundle-build",
        {
            "build_s": round(time.monotonic() - started),
            "bundle_mib": round(folder_mib(exe.parent)),
        },
    )
    yield exe


def test_bundle_contains_the_native_library_and_data_files(bundle: Path) -> None:
    internal = bundle.parent / "_internal"
    assert next(internal.glob("chdb/_chdb*.so"), None) is not None
    assert (internal / "embedded_db" / "migrations" / "0001_create_events.sql").is_file()
    assert (internal / "jobs" / "enrich" / "data" / "referrers.json").is_file()
    assert next(internal.glob("PyQt6/Qt6/libexec/QtWebEngineProcess"), None) is not None
    if (REPO / "web" / "templates").is_dir():
        assert (internal / "web" / "templates").is_dir()
    dangling = [str(f) for f in bundle.parent.rglob("*") if f.is_symlink() and not f.exists()]
    assert not dangling, dangling[:10]  # openpanel.spec's Qt trimming must not orphan links


def test_bundle_serves_ingests_and_exports(bundle: Path, tmp_path: Path) -> None:
    data_dir, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "OPENPANEL_BATCH_INTERVAL_MS": "200",
        "OPENPANEL_CLIENT_CACHE_SECONDS": "1",
    }
    project = create_project([str(bundle)], data_dir, env)
    log = tmp_path / "serve.log"
    started = time.monotonic()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [str(bundle), "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        health = _wait_healthy(url, proc, log)
        start_s = time.monotonic() - started
        assert health["ok"] is True
        track(url, project, "from_the_bundle")
        wait_for_event(url, project, "from_the_bundle")
        version = httpx.get(url + "/-/version", timeout=10).json()
        assert version["version"] == "0.1.0" and version["chdb"]
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
    assert code == 0, log.read_text()[-3000:]
    figures = json.loads((ARTIFACTS / "bundle-build.json").read_text())
    record("bundle-build", {**figures, "serve_start_to_healthy_s": round(start_s, 2)})


def test_bundle_desktop_window(bundle: Path, xvfb: Xvfb, tmp_path: Path) -> None:
    exercise_desktop([str(bundle)], xvfb, tmp_path, "desktop-bundle")


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path) -> dict[str, object]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the bundle exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            reply = httpx.get(url + "/-/health", timeout=2)
            if reply.status_code == 200:
                return dict(reply.json())
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the bundle did not become healthy:\n{log.read_text()[-3000:]}")
