"""`openpanel import/export/delete-profile/analyze` on a data directory no server owns (each
in its own process: chDB allows one data path per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq

from tests.imports import samples


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENPANEL_CHDB_MEMORY_LIMIT_MB": "512"}
    return subprocess.run(
        [sys.executable, "-m", "appliance.cli", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_import_export_and_erase_without_a_server(tmp_path: Path) -> None:
    data = tmp_path / "data"
    made = _cli(data, "project", "create", "Files", "--json")
    project = json.loads(made.stdout)["project_id"]
    source = samples.write_page(tmp_path / "page.json")

    dry = _cli(data, "import", str(source), "--project", project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run (openpanel) — 12 events, 3 visits from 7 rows" in dry.stdout
    assert "skipped 1: session events (recomputed)" in dry.stdout
    done = _cli(data, "import", str(source), "--project", project, "--json")
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)
    assert (result["status"], result["events"], result["sessions"]) == ("done", 12, 3)

    out = tmp_path / "events.parquet"
    exported = _cli(
        data,
        "export",
        "--project",
        project,
        "--format",
        "parquet",
        "-o",
        str(out),
        "--from",
        "2024-05-01",
        "--to",
        "2024-05-01",
    )
    assert exported.returncode == 0, exported.stderr
    assert "wrote 12 events" in exported.stdout
    table = pq.read_table(out)
    assert table.num_rows == 12 and "createdAt" in table.column_names

    erased = _cli(data, "delete-profile", "user-1", "--project", project)
    assert erased.returncode == 0, erased.stderr
    assert "erased user-1: 5 events, 1 visits, 1 profile" in erased.stdout
    missing = _cli(data, "import", str(tmp_path / "page.json"), "--project", "nope")
    assert missing.returncode != 0 and "project 'nope' not found" in missing.stderr
    wiped = _cli(data, "delete-project-data", "--project", project, "--yes")
    assert wiped.returncode == 0 and f"deleted the data of {project}" in wiped.stdout
    empty = _cli(data, "export", "--project", project, "-o", str(tmp_path / "none.csv"))
    assert "wrote 0 events" in empty.stdout


def test_analyze_imports_into_a_workspace(tmp_path: Path) -> None:
    log = tmp_path / "access.log"
    log.write_text(
        '81.2.69.142 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" '
        '"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"\n',
        encoding="utf-8",
    )
    env = {**os.environ, "OPENPANEL_DATA_DIR": str(tmp_path / "home" / "data")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "appliance.cli",
            "analyze",
            str(log),
            "--workspace",
            "w1",
            "--no-serve",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "access.log: done (access-log) — 3 events, 1 visits from 1 rows" in done.stdout
    assert (tmp_path / "home" / "openpanel-workspaces" / "w1" / "meta.db").is_file()
