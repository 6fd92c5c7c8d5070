from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from embedded_db.store import EventStore
from tests.support.stores import Harness, make_harness


@pytest.fixture
def harness(store: EventStore, tmp_path: Path, geoip_db: Path) -> Iterator[Harness]:
    """Acceptor, spool and pipeline over the shared store, with a project of its own."""
    yield from make_harness(store, tmp_path, geoip_db)
