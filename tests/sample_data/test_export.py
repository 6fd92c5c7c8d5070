"""Parquet/NDJSON files of a scenario: the tables' column order, the CLI, the committed sample."""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from embedded_db.store import EventStore
from sample_data.__main__ import main
from sample_data.expected import expected
from sample_data.plans import Scenario
from sample_data.scenario import sized
from sample_data.schema import SCHEMAS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "sample"
SAMPLE_ARGS = ["--events", "2000", "--days", "1", "--seed", "1", "--end", "2025-11-30T00:00:00Z"]


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_schemas_follow_the_tables_column_order(store: EventStore, table: str) -> None:
    described = store.query(f"DESCRIBE TABLE openpanel.{table}")
    assert [c["name"] for c in described] == SCHEMAS[table].names


def test_the_cli_writes_parquet_that_counts_like_the_scenario(tmp_path: Path) -> None:
    assert main(["--events", "3000", "--days", "2", "--seed", "2", "--out", str(tmp_path)]) == 0
    events = pq.read_table(tmp_path / "events.parquet")
    sessions = pq.read_table(tmp_path / "sessions.parquet")
    profiles = pq.read_table(tmp_path / "profiles.parquet")
    assert events.schema.names == SCHEMAS["events"].names
    names = events.column("name").value_counts().to_pylist()
    starts = next(n["counts"] for n in names if n["values"] == "session_start")
    assert starts == sessions.num_rows > 0
    assert pc.sum(sessions.column("screen_view_count")).as_py() == sum(
        n["counts"] for n in names if n["values"] == "screen_view"
    )
    assert len(set(events.column("id").to_pylist())) == events.num_rows
    assert profiles.num_rows >= len(set(sessions.column("profile_id").to_pylist()))


def test_exported_counts_match_the_plain_count(tmp_path: Path) -> None:
    from sample_data.bulk import export

    scenario = Scenario(seed=8, days=2, visits_per_day=120)
    stats = export(tmp_path, scenario)
    want = expected(scenario)
    assert stats.events == sum(want.events.values())
    assert stats.sessions == want.visits


def test_the_committed_sample_is_what_the_command_writes(tmp_path: Path) -> None:
    """Regenerate with `python -m sample_data <SAMPLE_ARGS> --format ndjson --out
    sample_data/sample` when the generator changes on purpose."""
    subprocess.run(
        [sys.executable, "-m", "sample_data", *SAMPLE_ARGS, "--format", "ndjson"]
        + ["--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = sorted(p.name for p in SAMPLE.iterdir())
    assert committed == ["events.ndjson.gz", "profiles.ndjson.gz", "sessions.ndjson.gz"]
    assert sum(p.stat().st_size for p in SAMPLE.iterdir()) <= 300 * 1024
    for name in committed:
        assert gzip.decompress((tmp_path / name).read_bytes()) == gzip.decompress(
            (SAMPLE / name).read_bytes()
        ), name


def test_sizing_is_linear_in_events() -> None:
    small, large = sized(10_000, days=5), sized(100_000, days=5)
    assert 9 <= large.visits_per_day / small.visits_per_day <= 11
