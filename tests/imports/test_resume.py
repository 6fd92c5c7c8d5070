"""Imports are idempotent per file, resume after a crash at the last committed chunk without
double-counting, and roll back completely when an insert fails."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from embedded_db.errors import StoreError
from embedded_db.imports import ledger, visits
from embedded_db.sql import drop_scratch_table, scratch_table
from jobs.imports import Importer, resume_unfinished
from tests.imports import samples
from tests.imports.conftest import Imports


class Crash(BaseException):
    """Stands in for kill -9: not an Exception, so no handler in the importer runs."""


def _crash(index: int) -> None:
    if index == 1:
        raise Crash


def _counts(imports: Imports, project: str) -> tuple[int, int, int]:
    return (
        len(imports.events(project)),
        len(imports.sessions(project)),
        len(imports.profiles(project)),
    )


def _small_chunks(imports: Imports) -> Importer:
    return imports.small_buckets(200, "work2")


def test_reimporting_the_same_file_adds_nothing(imports: Imports) -> None:
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    first = imports.importer.run(path, imports.project_id)
    again = imports.importer.run(path, imports.project_id)
    assert first.already is False and again.already is True
    assert _counts(imports, imports.project_id) == (samples.STORED_EVENTS, 3, 3)
    copy = imports.tmp / "renamed.ndjson"  # the ledger keys on content, not on the name
    copy.write_bytes(path.read_bytes())
    assert imports.importer.run(copy, imports.project_id).already is True
    assert _counts(imports, imports.project_id) == (samples.STORED_EVENTS, 3, 3)


def test_a_crash_resumes_at_the_last_committed_chunk(imports: Imports) -> None:
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    importer = _small_chunks(imports)

    def crash_after_second(index: int) -> None:
        if index == 1:  # chunk 1 is in chDB, the ledger has not recorded it yet
            raise Crash

    with pytest.raises(Crash):
        importer.run(path, imports.project_id, on_chunk=crash_after_second)
    [record] = ledger.unfinished(imports.meta)
    assert (record.status, record.chunks_done, record.chunks_total) == ("loading", 1, 4)
    partial = len(imports.events())
    assert 0 < partial < samples.STORED_EVENTS

    assert resume_unfinished(importer) == [record.id]  # what the server does at start-up
    assert _counts(imports, imports.project_id) == (samples.STORED_EVENTS, 3, 3)
    assert ledger.get(imports.meta, record.id).status == "done"
    clean = imports.new_project()
    _small_chunks(imports).run(path, clean)
    assert _counts(imports, clean) == _counts(imports, imports.project_id)
    names = sorted(e["name"] for e in imports.events())
    assert names == sorted(e["name"] for e in imports.events(clean))


def test_a_failed_insert_is_rolled_back_and_can_be_retried(imports: Imports) -> None:
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    importer = _small_chunks(imports)

    def fail_third(index: int) -> None:
        if index == 2:
            raise StoreError("disk full (simulated)")

    with pytest.raises(StoreError, match="rolled back"):
        importer.run(path, imports.project_id, on_chunk=fail_third)
    assert _counts(imports, imports.project_id)[:2] == (0, 0)
    [record] = ledger.recent(imports.meta, imports.project_id)
    assert record.status == "failed" and "disk full" in record.error

    retried = importer.run(path, imports.project_id)
    assert retried.record is not None and retried.record.attempt == 2
    assert _counts(imports, imports.project_id) == (samples.STORED_EVENTS, 3, 3)


def _second_file(imports: Imports) -> Path:
    """After the sample is imported: a file that widens dev-a's profile and adds dev-c's."""
    imports.importer.run(samples.write_ndjson(imports.tmp / "e.ndjson"), imports.project_id)
    later = [
        {**row, "createdAt": row["createdAt"].replace(samples.DAY, "2024-05-02"), "path": "/x"}
        for row in samples.CAMEL_ROWS
        if row["deviceId"] == "dev-a"
    ]
    newcomer = {**samples.CAMEL_ROWS[1], "deviceId": "dev-c", "profileId": "dev-c"}
    return samples.write_ndjson(imports.tmp / "second.ndjson", [*later, newcomer])


def _crash_after_the_merges(imports: Imports, second: Path) -> ledger.ImportRecord:
    """A crash once the profiles are merged, then a rollback recorded but not done."""
    with pytest.raises(Crash):
        imports.importer.run(second, imports.project_id, on_chunk=_crash)
    [record] = ledger.unfinished(imports.meta)
    assert record.options["snapshot"] is True
    record.status, record.error = "rolling back", "disk full (simulated)"
    ledger.save(imports.meta, record)
    return record


def test_a_failure_after_the_profile_merges_puts_the_stored_profiles_back(
    imports: Imports,
) -> None:
    second = _second_file(imports)
    before = imports.profiles()

    def fail_once_merged(index: int) -> None:
        if index == 1:  # one bucket: called with 1 once the profiles are merged
            raise StoreError("disk full (simulated)")

    with pytest.raises(StoreError, match="rolled back"):
        imports.importer.run(second, imports.project_id, on_chunk=fail_once_merged)
    assert imports.profiles() == before  # dev-a's last seen and context, no dev-c
    snapshots = imports.store.query(
        "SELECT name FROM system.tables WHERE database = 'default' AND endsWith(name, '_before')"
    )
    assert snapshots == []
    imports.importer.run(second, imports.project_id)
    after = imports.profiles()
    assert set(after) == set(before) | {"dev-c"}
    assert after["dev-a"]["last_seen_at"] > before["dev-a"]["last_seen_at"]


def test_start_up_puts_the_profiles_back_after_a_crash_past_the_merges(
    imports: Imports,
) -> None:
    second = _second_file(imports)
    before = imports.profiles()
    record = _crash_after_the_merges(imports, second)
    assert "dev-c" in imports.profiles()
    assert resume_unfinished(imports.importer) == [record.id]
    assert imports.profiles() == before
    assert ledger.get(imports.meta, record.id).status == "failed"


def test_a_rollback_whose_profile_snapshot_is_gone_still_ends(imports: Imports) -> None:
    second = _second_file(imports)
    record = _crash_after_the_merges(imports, second)
    workspace = visits.workspace_name(record.id, record.attempt)
    imports.store.execute(drop_scratch_table(f"default.imp_{workspace}_before"))
    assert resume_unfinished(imports.importer) == [record.id]
    assert ledger.get(imports.meta, record.id).status == "failed"
    assert _counts(imports, imports.project_id)[:2] == (samples.STORED_EVENTS, 3)


def _interrupted_rollback(imports: Imports, importer: Importer) -> ledger.ImportRecord:
    """What a crash (or a store refusing the deletes) in the middle of a rollback leaves: the
    ledger says "rolling back", some of the attempt's rows are still stored."""
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    with pytest.raises(Crash):
        importer.run(path, imports.project_id, on_chunk=_crash)
    [record] = ledger.unfinished(imports.meta)
    record.status, record.error = "rolling back", "disk full (simulated)"
    ledger.save(imports.meta, record)
    assert len(imports.events()) > 0
    return record


def test_start_up_finishes_an_interrupted_rollback(imports: Imports) -> None:
    importer = _small_chunks(imports)
    record = _interrupted_rollback(imports, importer)
    assert resume_unfinished(importer) == [record.id]
    assert _counts(imports, imports.project_id)[:2] == (0, 0)
    assert ledger.get(imports.meta, record.id).status == "failed"
    assert ledger.unfinished(imports.meta) == []


def test_reimporting_during_an_interrupted_rollback_finishes_it_first(imports: Imports) -> None:
    importer = _small_chunks(imports)
    record = _interrupted_rollback(imports, importer)
    retried = importer.run(imports.tmp / "e.ndjson", imports.project_id)
    assert retried.record is not None and retried.record.attempt == record.attempt + 1
    assert _counts(imports, imports.project_id) == (samples.STORED_EVENTS, 3, 3)


def test_dry_run_stores_nothing(imports: Imports) -> None:
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    result = imports.importer.run(path, imports.project_id, dry_run=True)
    assert (result.dry_run, result.events, result.sessions) == (True, samples.STORED_EVENTS, 3)
    assert _counts(imports, imports.project_id) == (0, 0, 0)
    assert ledger.recent(imports.meta, imports.project_id) == []


def test_start_up_drops_the_scratch_tables_a_crash_left(imports: Imports) -> None:
    store = imports.store
    path = samples.write_ndjson(imports.tmp / "e.ndjson")
    importer = _small_chunks(imports)
    with pytest.raises(Crash):
        importer.run(path, imports.project_id, on_chunk=_crash)
    [record] = ledger.unfinished(imports.meta)
    running = visits.workspace_name(record.id, record.attempt)
    old_dry = visits.workspace_name(f"dry-{time.time_ns() - 7_200 * 10**9}", 1)
    new_dry = visits.workspace_name(f"dry-{time.time_ns()}", 1)
    for workspace in (running, "gone_1", old_dry, new_dry):  # what a kill -9 leaves
        store.execute(scratch_table(f"default.imp_{workspace}_numbers", "SELECT 1 AS x"))

    assert resume_unfinished(importer) == [record.id]
    left = store.query(
        "SELECT name FROM system.tables WHERE database = 'default' AND startsWith(name, 'imp_')"
    )
    # the resumed import dropped its own when done; a dry run that may still run is kept
    assert [r["name"] for r in left] == [f"imp_{new_dry}_numbers"]
    store.execute(drop_scratch_table(f"default.imp_{new_dry}_numbers"))
