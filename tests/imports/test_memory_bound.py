"""An import bigger than chDB's per-query memory limit allows in one go still goes through:
700k events from the sample generator under a 512 MiB limit. The previous import pipeline
failed here with MEMORY_LIMIT_EXCEEDED (so does a plain chDB `INSERT … SELECT FROM file()` of
the same file); 1 M events under the default 1 GiB failed the same way. Run through the CLI in
its own process (chDB allows one data path per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


def test_a_big_import_fits_under_a_small_memory_limit(tmp_path: Path) -> None:
    made = _run("sample_data", "--events", "700000", "--days", "7", "--seed", "5", "--out",
                str(tmp_path / "sample"))  # fmt: skip
    assert made.returncode == 0, made.stderr
    data = str(tmp_path / "data")
    env = {"OPENPANEL_CHDB_MEMORY_LIMIT_MB": "512"}
    created = _run("appliance.cli", "project", "create", "Big", "--json", "--data-dir", data)
    project = json.loads(created.stdout)["project_id"]
    source = str(tmp_path / "sample" / "events.parquet")
    done = _run(
        "appliance.cli", "import", source, "--project", project, "--json", "--data-dir", data,
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    [result] = json.loads(done.stdout)
    assert result["status"] == "done"
    stored = result["rowsRead"] - sum(result["skipped"].values())
    assert result["sessions"] > 10_000
    assert result["events"] == stored + 2 * result["sessions"]  # every row, and visit start/end


def test_an_import_over_the_memory_limit_says_so_and_stores_nothing(tmp_path: Path) -> None:
    made = _run("sample_data", "--events", "300000", "--days", "7", "--seed", "6", "--out",
                str(tmp_path / "sample"))  # fmt: skip
    assert made.returncode == 0, made.stderr
    data = str(tmp_path / "data")
    created = _run("appliance.cli", "project", "create", "Tiny", "--json", "--data-dir", data)
    project = json.loads(created.stdout)["project_id"]
    source = str(tmp_path / "sample" / "events.parquet")
    failed = _run(
        "appliance.cli", "import", source, "--project", project, "--data-dir", data,
        # a limit too small for this file: 64 MiB, once, but imports go bucket by bucket and fit
        # there now; at 48 MiB whether chDB fails depends on the process's RSS of the moment
        # (its server limit is 1.5 times the query limit and idle chDB holds ~44 MiB), so the
        # test asks for 32 MiB, where the file engine's staging cannot fit
        env={"OPENPANEL_CHDB_MEMORY_LIMIT_MB": "32"},
    )  # fmt: skip
    assert failed.returncode != 0
    assert "events.parquet: " in failed.stderr
    assert "more than the event store's memory limit" in failed.stderr
    assert "Traceback" not in failed.stderr
    exported = _run(
        "appliance.cli", "export", "--project", project, "--format", "ndjson", "-o",
        str(tmp_path / "out.ndjson"), "--data-dir", data,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert "wrote 0 events" in exported.stdout  # rolled back: nothing half-imported
