"""Bulk rows of a scenario: streamed Arrow chunks, Parquet files and a fast load into chDB.

`tables()` yields ("events" | "sessions" | "profiles", pyarrow.Table) chunks — about a day of
events at a time, profiles at the end — so memory stays bounded whatever the size. `load()`
writes each chunk to a temporary Parquet file and has chDB insert it (`INSERT … SELECT * FROM
file(…, Parquet)`). `export()` writes
events.parquet, sessions.parquet and profiles.parquet for DuckDB, the bench and `openpanel demo`.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from embedded_db.store import EventStore
from jobs.identity import device_id
from sample_data.plans import Scenario
from sample_data.rows import RowBuilder
from sample_data.scenario import Generator
from sample_data.site import USER_AGENTS

TABLES = ("events", "sessions", "profiles")
CHUNK_EVENTS = 400_000
# Fixed statements, one per table; the Parquet file's path is a bound parameter.
_INSERT = {
    "events": "INSERT INTO openpanel.events SELECT * FROM file({path:String}, Parquet)",
    "sessions": "INSERT INTO openpanel.sessions SELECT * FROM file({path:String}, Parquet)",
    "profiles": "INSERT INTO openpanel.profiles SELECT * FROM file({path:String}, Parquet)",
}


@dataclass
class LoadStats:
    """Rows written per table and where the time went (seconds)."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    generate_seconds: float = 0.0
    insert_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def events(self) -> int:
        return self.rows["events"]

    @property
    def sessions(self) -> int:
        return self.rows["sessions"]

    @property
    def profiles(self) -> int:
        return self.rows["profiles"]


def default_salt(scenario: Scenario) -> str:
    """The device-id salt bulk rows use unless told otherwise (fixed: no daily rotation)."""
    return f"sample-data-{scenario.seed}"


def tables(
    scenario: Scenario,
    project_id: str,
    *,
    salt: str | None = None,
    chunk_events: int = CHUNK_EVENTS,
) -> Iterator[tuple[str, pa.Table]]:
    """The scenario's rows as (table name, Arrow table) chunks, profiles last."""
    gen = Generator(scenario)
    salt = default_salt(scenario) if salt is None else salt
    builder = RowBuilder(project_id, gen.visitors, salt=salt, seed=scenario.seed)
    for plans in gen.days():
        for plan in plans:
            builder.add(plan)
            if len(builder) >= chunk_events:
                yield from _named(builder.take())
        if len(builder):
            yield from _named(builder.take())
    pool = gen.visitors

    def device_of(visitor: int) -> str:
        return device_id(USER_AGENTS[pool.ua[visitor]][0], pool.ip_text(visitor), project_id, salt)

    for table in builder.profiles.tables(project_id, device_of):
        yield "profiles", table


def _named(pair: tuple[pa.Table, pa.Table]) -> Iterator[tuple[str, pa.Table]]:
    yield "events", pair[0]
    yield "sessions", pair[1]


def load(
    store: EventStore,
    project_id: str,
    scenario: Scenario,
    *,
    salt: str | None = None,
    parquet_dir: Path | None = None,
) -> LoadStats:
    """Generate the scenario's rows into `project_id` of an open, migrated store; with
    `parquet_dir`, also write events/sessions/profiles.parquet there (as `export` does).

    Each chunk goes through a temporary Parquet file that chDB inserts from (inserting on a
    second thread is slower: the generator and chDB's parser then fight over the GIL).
    Raises embedded_db.errors.StoreError if chDB refuses an insert (earlier chunks stay)."""
    stats = LoadStats()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sample-data-") as tmp, _Writers(parquet_dir) as out:
        path = Path(tmp) / "chunk.parquet"
        for name, table in tables(scenario, project_id, salt=salt):
            pq.write_table(table, path, compression="lz4")
            began = time.perf_counter()
            store.execute(_INSERT[name], {"path": str(path)})
            stats.insert_seconds += time.perf_counter() - began
            stats.rows[name] += table.num_rows
            out.write(name, table)
    stats.seconds = time.perf_counter() - started
    stats.generate_seconds = stats.seconds - stats.insert_seconds
    return stats


def export(
    out_dir: Path, scenario: Scenario, project_id: str = "demo", *, salt: str | None = None
) -> LoadStats:
    """Write events.parquet, sessions.parquet and profiles.parquet (zstd) into `out_dir`."""
    started = time.perf_counter()
    stats = LoadStats()
    with _Writers(out_dir) as out:
        for name, table in tables(scenario, project_id, salt=salt):
            out.write(name, table)
            stats.rows[name] += table.num_rows
    stats.seconds = time.perf_counter() - started
    return stats


class _Writers:
    """One Parquet file per table in a directory (nothing when the directory is None)."""

    def __init__(self, out_dir: Path | None) -> None:
        self.out_dir = out_dir
        self._writers: dict[str, pq.ParquetWriter] = {}

    def __enter__(self) -> _Writers:
        if self.out_dir is not None:
            self.out_dir.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, name: str, table: pa.Table) -> None:
        if self.out_dir is None:
            return
        if name not in self._writers:
            path = self.out_dir / f"{name}.parquet"
            self._writers[name] = pq.ParquetWriter(path, table.schema, compression="zstd")
        self._writers[name].write_table(table)

    def __exit__(self, *exc: object) -> None:
        for writer in self._writers.values():
            writer.close()
