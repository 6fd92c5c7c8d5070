"""The desktop app for real: a Qt window under Xvfb, the dashboard (or welcome page) rendered
and photographed, an SDK-style event sent to the local port, a second launch, and closing the
window leaving no process and no lost event. Opt-in locally (`desktop` marker); CI runs it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.packaging.support import (
    REPO,
    Xvfb,
    alive,
    create_project,
    descendants,
    events_after_restart,
    gui_env,
    launch_desktop,
    rss_mib,
    screenshot,
    track,
    wait_for_event,
)

pytestmark = pytest.mark.desktop

SOURCE_CLI = [sys.executable, "-m", "appliance.cli"]
ARTIFACTS = REPO / "artifacts"


def record(name: str, figures: dict[str, object]) -> None:
    """Keep measured figures next to the screenshots (artifacts/, ignored by git)."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")


def exercise_desktop(cli: list[str], xvfb: Xvfb, tmp_path: Path, name: str) -> None:
    """The whole desktop story for one build of the app (source checkout or bundle)."""
    data_dir = tmp_path / "data"
    env = gui_env(xvfb.display)
    with socket.socket() as busy:  # the preferred port is taken: the app must move on
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        preferred = busy.getsockname()[1]
        run = launch_desktop(
            [*cli, "desktop", "--port", str(preferred)], data_dir, env, tmp_path / "d.log"
        )
        try:
            cold_start_s = run.wait_until_loaded()
        except BaseException:
            run.stop()
            raise
    try:
        url = run.url
        assert url.startswith("http://127.0.0.1:") and url != f"http://127.0.0.1:{preferred}"
        assert f"window shown: OpenPanel — ingest at {url}" in run.log()
        shot = screenshot(xvfb.display, ARTIFACTS / f"{name}.png")
        assert shot["colors"] >= 8, shot  # a rendered page, not a blank or black screen

        project = create_project(cli, data_dir, env)
        track(url, project, "from_local_sdk")
        wait_for_event(url, project, "from_local_sdk")

        second = subprocess.run(
            [*cli, "desktop", "--data-dir", str(data_dir)],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert second.returncode == 0, second.stdout + second.stderr
        assert "already running" in second.stdout
        deadline = time.monotonic() + 10
        while "a second launch asked for the window" not in run.log():
            assert time.monotonic() < deadline, run.log()[-2000:]
            time.sleep(0.1)

        time.sleep(2)  # let the page settle before measuring idle memory
        helpers = descendants(run.proc.pid)
        assert helpers, "QtWebEngine's helper processes should be running"
        idle_mib = rss_mib({run.proc.pid} | helpers)
        track(url, project, "just_before_close")  # still in the spool when the window closes
    finally:
        code = run.stop()
    assert code == 0, run.log()[-4000:]
    assert "server stopped cleanly" in run.log()
    deadline = time.monotonic() + 15
    while any(alive(pid) for pid in helpers):
        assert time.monotonic() < deadline, f"left behind: {[p for p in helpers if alive(p)]}"
        time.sleep(0.2)
    assert not (data_dir / "desktop.json").exists()

    names = events_after_restart(data_dir, project, tmp_path)
    assert {"from_local_sdk", "just_before_close"} <= set(names), names
    record(name, {"cold_start_to_page_s": round(cold_start_s, 2), "idle_rss_mib": round(idle_mib)})


def test_desktop_window_from_the_source_checkout(xvfb: Xvfb, tmp_path: Path) -> None:
    exercise_desktop(SOURCE_CLI, xvfb, tmp_path, "desktop-source")
