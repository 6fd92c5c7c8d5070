"""EventStore against real chDB: binding, deduplication, migrations, the process lock."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from embedded_db.errors import StoreError
from embedded_db.sql import array_literal, dedup_token, identifier, insert_statement
from embedded_db.store import EventStore, migration_files, split_statements


def test_values_bind_safely(store: EventStore) -> None:
    nasty = 'x\'); DROP TABLE openpanel.events; --\\ {p:String} "quoted"'
    rows = store.query(
        "SELECT {v:String} AS v, {n:UInt32} AS n, {a:Array(String)} AS a",
        {"v": nasty, "n": 7, "a": array_literal([nasty, "b"])},
    )
    assert rows == [{"v": nasty, "n": 7, "a": [nasty, "b"]}]
    assert store.query("EXISTS TABLE openpanel.events") == [{"result": 1}]


def test_a_repeated_batch_token_is_stored_once(store: EventStore) -> None:
    project = "dedup-" + uuid.uuid4().hex[:8]
    rows = [
        {
            "id": str(uuid.uuid4()),
            "name": "e",
            "project_id": project,
            "created_at": "2026-01-01 00:00:00.000",
            "properties": {"k": "v"},
        }
    ]
    token = f"test:{project}"
    store.insert("events", rows, token)
    store.insert("events", rows, token)
    store.insert("events", rows, token + "-other")
    count = store.scalar(
        "SELECT count() FROM openpanel.events WHERE project_id = {p:String}", {"p": project}
    )
    assert count == 2


def test_migrations_are_numbered_and_idempotent(store: EventStore) -> None:
    versions = [v for v, _, _ in migration_files()]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert store.migrate() == []
    tables = {r["name"] for r in store.query("SHOW TABLES FROM openpanel")}
    assert {
        "events",
        "sessions",
        "profiles",
        "events_bots",
        "groups",
        "session_replay_chunks",
        "profile_aliases",
        "schema_migrations",
    } <= tables


def test_errors_surface_as_store_errors(store: EventStore) -> None:
    with pytest.raises(StoreError, match="UNKNOWN_TABLE|Unknown table"):
        store.query("SELECT * FROM openpanel.nope")


def test_sql_helpers_refuse_what_is_not_ours() -> None:
    with pytest.raises(ValueError):
        identifier("events; DROP", {"events"})
    with pytest.raises(ValueError):
        dedup_token("x' OR 1")
    assert insert_statement("events", "ab:1-2").startswith(
        "INSERT INTO openpanel.events SETTINGS insert_deduplication_token='ab:1-2'"
    )
    assert split_statements("-- c\nA;\nB;\n") == ["A", "B"]


def test_a_second_process_gets_a_clear_message(store: EventStore) -> None:
    code = (
        "import sys; from pathlib import Path; from embedded_db.store import EventStore\n"
        "from embedded_db.errors import StoreError\n"
        f"try:\n    EventStore(Path({str(store.path)!r})).open()\n"
        "except StoreError as e:\n    print(e); sys.exit(3)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3, out.stderr[-2000:]
    assert "in use by another process" in out.stdout


def test_memory_limits_reach_chdb(store: EventStore) -> None:
    rows = store.query("SELECT value FROM system.server_settings WHERE name = 'mark_cache_size'")
    assert int(rows[0]["value"]) == store.limits.mark_cache_mb * 1024 * 1024


def test_a_query_over_the_memory_limit_says_which_limit(store: EventStore) -> None:
    with pytest.raises(StoreError) as failed:
        store.query(
            "SELECT length(groupArray(number)) FROM numbers(10000000) "
            "SETTINGS max_memory_usage = 8000000"
        )
    limit = store.limits.memory_limit_mb
    assert f"more than the event store's memory limit ({limit} MiB per query" in str(failed.value)


def test_queries_run_on_more_than_one_thread(store: EventStore) -> None:
    # chDB lowers a query's threads to one when the server has less than 1 GiB free per
    # thread (always, at the appliance's limits) unless the store turns that rule off
    plan = store.query(
        "EXPLAIN PIPELINE SELECT sum(cityHash64(number)) FROM numbers_mt(1000000) "
        "SETTINGS max_threads = 2"
    )
    assert any("AggregatingTransform × 2" in row["explain"] for row in plan), plan


def test_closed_store_refuses_queries(tmp_path: Path) -> None:
    closed = EventStore(tmp_path / "never-opened")
    with pytest.raises(StoreError, match="closed"):
        closed.query("SELECT 1")
