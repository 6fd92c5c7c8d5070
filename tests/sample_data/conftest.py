"""Fixtures for the sample-data tests: a GeoIP database that knows the scenario's places."""

from __future__ import annotations

from pathlib import Path

import pytest

from sample_data.site import PLACES
from tests.support.geo import build_test_mmdb


@pytest.fixture(scope="session")
def places_geoip_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A City-layout .mmdb locating every network of sample_data.site.PLACES."""
    entries = {
        p.network: {
            "country": p.country,
            "region": p.region,
            "city": p.city,
            "latitude": p.latitude,
            "longitude": p.longitude,
        }
        for p in PLACES
    }
    return build_test_mmdb(tmp_path_factory.mktemp("geo") / "places.mmdb", entries)
