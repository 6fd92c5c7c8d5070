"""The bulk rows of a scenario equal what the real pipeline stores for the same traffic.

One small scenario goes through the acceptor, spool and pipeline on a synthetic clock into
project A and is bulk-loaded into project B; every aggregate of events, visits and profiles must
be identical (ids aside), and both must match the plain-Python count of the scenario.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from embedded_db.store import EventStore
from sample_data.bulk import load
from sample_data.expected import expected
from sample_data.plans import Scenario
from sample_data.traffic import feed
from tests.sample_data.summary import QUERIES, summary
from tests.support.stores import Harness, make_harness, unique_project

SALT = "salt-now"  # the harness's current salt: both loads then share device ids
SCENARIO = Scenario(seed=11, days=2, visits_per_day=170, end_ms=1_764_460_800_000)


@pytest.fixture(scope="module")
def loaded(
    store: EventStore, tmp_path_factory: pytest.TempPathFactory, places_geoip_db: Path
) -> Iterator[tuple[Harness, str]]:
    """(harness whose project got the scenario through the pipeline, the bulk project)."""
    tmp = tmp_path_factory.mktemp("pipeline")
    for harness in make_harness(store, tmp, places_geoip_db, salts=(SALT, "salt-before")):
        asyncio.run(feed(harness.acceptor, harness.project_id, SCENARIO, on_tick=harness.flush))
        harness.flush()
        bulk = unique_project()
        load(store, bulk, SCENARIO, salt=SALT)
        yield harness, bulk


def test_the_pipeline_left_nothing_behind(loaded: tuple[Harness, str]) -> None:
    harness, _ = loaded
    assert harness.spool.backlog() == 0
    assert harness.spool.dead_letters() == 0
    assert harness.pipeline.visits.visits == {}  # every visit ended (reaped)


@pytest.mark.parametrize("aggregate", sorted(QUERIES))
def test_bulk_rows_equal_the_pipeline(
    loaded: tuple[Harness, str], store: EventStore, aggregate: str
) -> None:
    harness, bulk = loaded
    piped, bulked = summary(store, harness.project_id), summary(store, bulk)
    assert piped[aggregate], "the pipeline stored nothing"
    assert bulked[aggregate] == piped[aggregate]


def test_both_match_the_plain_count(loaded: tuple[Harness, str], store: EventStore) -> None:
    want = expected(SCENARIO)
    assert want.visits > 300 and 0 < want.bounces < want.visits
    for project in loaded[0].project_id, loaded[1]:
        names = store.query(
            "SELECT name, count() AS n FROM openpanel.events WHERE project_id = {p:String} "
            "GROUP BY name",
            {"p": project},
        )
        assert {r["name"]: r["n"] for r in names} == dict(want.events)
        [visits] = store.query(
            "SELECT count() AS n, countIf(is_bounce) AS bounces, sum(duration) AS duration, "
            "sum(screen_view_count) AS views, sum(revenue) AS revenue "
            "FROM openpanel.sessions FINAL WHERE project_id = {p:String}",
            {"p": project},
        )
        assert visits == {
            "n": want.visits,
            "bounces": want.bounces,
            "duration": want.duration_ms,
            "views": want.pageviews,
            "revenue": want.revenue,
        }
        entries = store.query(
            "SELECT entry_path AS path, count() AS n FROM openpanel.sessions FINAL "
            "WHERE project_id = {p:String} GROUP BY path",
            {"p": project},
        )
        assert {r["path"]: r["n"] for r in entries} == dict(want.entry_paths)
        exits = store.query(
            "SELECT exit_path AS path, count() AS n FROM openpanel.sessions FINAL "
            "WHERE project_id = {p:String} GROUP BY path",
            {"p": project},
        )
        assert {r["path"]: r["n"] for r in exits} == dict(want.exit_paths)
