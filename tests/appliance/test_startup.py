"""Start-up fails fast with a message (not a traceback) on what would break the appliance."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from appliance.app import preflight
from appliance.cli import cli
from appliance.errors import ConfigError
from appliance.settings import load_settings
from embedded_db.store import EventStore


def test_an_unreadable_geoip_database_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mmdb"
    bad.write_text("not a database")
    result = CliRunner().invoke(
        cli,
        ["serve", "--data-dir", str(tmp_path / "d"), "--geoip-db", str(bad), "--get", "/-/health"],
    )
    assert result.exit_code == 1
    assert "geoip_db" in result.output and str(bad) in result.output
    assert "Traceback" not in result.output


def test_a_data_dir_held_by_a_running_appliance_is_refused(store: EventStore) -> None:
    # The session store holds chDB's lock on its directory, as a running server would.
    settings = load_settings({"data_dir": str(store.path.parent)}, environ={})
    assert settings.events_dir == store.path
    with pytest.raises(ConfigError, match="in use by another process"):
        preflight(settings)


def test_serve_get_answers_health_on_a_fresh_data_dir(tmp_path: Path) -> None:
    # In a subprocess: chDB allows one data path per process and this test needs a fresh one.
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance.cli",
            "serve",
            "--data-dir",
            str(tmp_path / "fresh"),
            "--get",
            "/-/health",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["ok"] is True
