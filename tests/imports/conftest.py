"""Fixtures for imports: a MetaStore per test, an Importer over the shared chDB store (with the
test GeoIP database), and helpers that read back what an import stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from embedded_db.meta import MetaStore
from embedded_db.store import EventStore
from jobs.enrich.geo import GeoReader
from jobs.imports import Importer, LiveLookups
from tests.support.stores import unique_project


@dataclass
class Imports:
    """An importer and a fresh project of its own on the shared store."""

    store: EventStore
    meta: MetaStore
    importer: Importer
    project_id: str
    tmp: Path

    def small_buckets(self, bucket_bytes: int, work: str = "work-small") -> Importer:
        """An importer on the same store whose buckets hold `bucket_bytes` of text (many buckets
        for a small file)."""
        return Importer(
            self.store,
            self.meta,
            self.tmp / work,
            self.importer.lookups,
            bucket_bytes=bucket_bytes,
            memory_mb=512,
        )

    def new_project(self) -> str:
        return self.meta.create_project(unique_project()).id

    def events(self, project: str | None = None, *names: str) -> list[dict[str, Any]]:
        rows = self.store.query(
            "SELECT * FROM openpanel.events WHERE project_id = {p:String} "
            "ORDER BY created_at, name",
            {"p": project or self.project_id},
        )
        return [r for r in rows if not names or r["name"] in names]

    def sessions(self, project: str | None = None) -> list[dict[str, Any]]:
        return self.store.query(
            "SELECT * FROM openpanel.sessions FINAL WHERE project_id = {p:String} "
            "ORDER BY created_at, device_id",
            {"p": project or self.project_id},
        )

    def profiles(self, project: str | None = None) -> dict[str, dict[str, Any]]:
        rows = self.store.query(
            "SELECT * FROM openpanel.profiles FINAL WHERE project_id = {p:String}",
            {"p": project or self.project_id},
        )
        return {r["id"]: r for r in rows}


@pytest.fixture
def imports(store: EventStore, tmp_path: Path, geoip_db: Path) -> Iterator[Imports]:
    meta = MetaStore(tmp_path / "meta.db")
    importer = Importer(
        store, meta, tmp_path / "work", LiveLookups(GeoReader(geoip_db)), memory_mb=512
    )
    project = meta.create_project(unique_project()).id
    try:
        yield Imports(store, meta, importer, project, tmp_path)
    finally:
        meta.close()
