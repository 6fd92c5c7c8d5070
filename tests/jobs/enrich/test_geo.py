"""Geo lookups through a real geoip2 reader on a database built in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geoip2.database
import pytest

from jobs.enrich.geo import Geo, GeoDatabaseError, GeoReader
from tests.support.geo import DEFAULT_TEST_GEO, build_test_mmdb


@pytest.fixture
def city_db(tmp_path: Path) -> Path:
    return build_test_mmdb(tmp_path / "GeoLite2-City.mmdb", DEFAULT_TEST_GEO)


@pytest.fixture
def reader(city_db: Path) -> Iterator[GeoReader]:
    geo = GeoReader(city_db)
    yield geo
    geo.close()


def test_built_database_reads_back_through_geoip2(city_db: Path) -> None:
    with geoip2.database.Reader(str(city_db)) as db:
        assert db.metadata().database_type == "GeoLite2-City"
        london = db.city("81.2.69.142")
        assert london.country.iso_code == "GB"
        assert london.subdivisions[0].names["en"] == "England"
        assert london.city.names["en"] == "London"
        assert london.location.latitude == pytest.approx(51.5142)
        assert db.city("2a02:2e0::1").city.names["en"] == "Berlin"


def test_lookup_fills_every_field(reader: GeoReader) -> None:
    assert reader.available
    geo = reader.lookup("8.8.8.8")
    assert (geo.country, geo.region, geo.city) == ("US", "California", "Mountain View")
    assert geo.latitude == pytest.approx(37.386)
    assert geo.longitude == pytest.approx(-122.0838)


def test_ipv6_and_cidr_entries(reader: GeoReader) -> None:
    geo = reader.lookup("2a02:2e0:1234::42")
    assert (geo.country, geo.region, geo.city) == ("DE", "Land Berlin", "Berlin")
    assert reader.lookup("203.0.113.200").city == "Paris"


def test_ipv4_mapped_ipv6_is_looked_up_as_ipv4(reader: GeoReader) -> None:
    assert reader.lookup("::ffff:81.2.69.142").city == "London"


def test_country_only_record(reader: GeoReader) -> None:
    assert reader.lookup("1.1.1.1") == Geo(country="AU")


@pytest.mark.parametrize(
    "ip",
    ["", "127.0.0.1", "::1", "10.1.2.3", "192.168.0.7", "::ffff:10.0.0.1", "9.9.9.9", "nonsense"],
)
def test_empty_geo_for_missing_private_unknown_or_invalid(reader: GeoReader, ip: str) -> None:
    assert reader.lookup(ip) == Geo()


def test_lookups_are_cached(reader: GeoReader) -> None:
    first = reader.lookup("81.2.69.142")
    second = reader.lookup("81.2.69.142")
    assert first is second
    assert reader.cache_info().hits >= 1


def test_without_a_path_every_lookup_is_empty() -> None:
    geo = GeoReader(None)
    assert not geo.available
    assert geo.database_type == ""
    assert geo.lookup("8.8.8.8") == Geo()
    geo.close()


def test_close_makes_the_reader_unavailable(city_db: Path) -> None:
    geo = GeoReader(city_db)
    assert geo.lookup("8.8.8.8").country == "US"
    geo.close()
    assert not geo.available
    assert geo.lookup("8.8.8.8") == Geo()
    geo.close()  # idempotent


def test_context_manager_closes(city_db: Path) -> None:
    with GeoReader(city_db) as geo:
        assert geo.database_type == "GeoLite2-City"
    assert not geo.available


def test_missing_file_raises_with_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mmdb"
    with pytest.raises(GeoDatabaseError, match="nope.mmdb"):
        GeoReader(missing)


def test_garbage_file_raises_with_the_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mmdb"
    bad.write_bytes(b"this is not a maxmind database" * 10)
    with pytest.raises(GeoDatabaseError, match="bad.mmdb"):
        GeoReader(bad)


def test_directory_instead_of_file_raises(tmp_path: Path) -> None:
    with pytest.raises(GeoDatabaseError, match=str(tmp_path)):
        GeoReader(tmp_path)


def test_country_database_is_tolerated(tmp_path: Path) -> None:
    path = build_test_mmdb(
        tmp_path / "country.mmdb",
        {"8.8.8.8": {"country": "US"}},
        database_type="GeoLite2-Country",
    )
    with GeoReader(path) as geo:
        assert geo.lookup("8.8.8.8") == Geo(country="US")
        assert geo.lookup("1.2.3.4") == Geo()


def test_other_database_types_are_rejected(tmp_path: Path) -> None:
    path = build_test_mmdb(tmp_path / "asn.mmdb", {"8.8.8.8": {}}, database_type="GeoLite2-ASN")
    with pytest.raises(GeoDatabaseError, match="GeoLite2-ASN"):
        GeoReader(path)
