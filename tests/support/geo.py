"""Build small GeoLite2-City-layout databases for tests (no MaxMind download needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mmdb_writer
import netaddr

__all__ = ["DEFAULT_TEST_GEO", "build_test_mmdb"]

# Public addresses with well-known owners; the locations are plausible, not authoritative.
DEFAULT_TEST_GEO: dict[str, dict[str, Any]] = {
    "81.2.69.142": {
        "country": "GB",
        "region": "England",
        "city": "London",
        "latitude": 51.5142,
        "longitude": -0.0931,
    },
    "8.8.8.8": {
        "country": "US",
        "region": "California",
        "city": "Mountain View",
        "latitude": 37.386,
        "longitude": -122.0838,
    },
    "2a02:2e0::/32": {
        "country": "DE",
        "region": "Land Berlin",
        "city": "Berlin",
        "latitude": 52.5244,
        "longitude": 13.4105,
    },
    "203.0.113.0/24": {
        "country": "FR",
        "region": "Île-de-France",
        "city": "Paris",
        "latitude": 48.8566,
        "longitude": 2.3522,
    },
    # Country only: no city, region or coordinates, like many real GeoLite2 records.
    "1.1.1.1": {"country": "AU"},
}


def build_test_mmdb(
    path: Path, entries: dict[str, dict[str, Any]] | None = None, *, database_type: str = ""
) -> Path:
    """Write a City-layout MMDB at ``path`` from {ip-or-cidr: {country, region, city, ...}}.

    Entry keys are single addresses or CIDR networks (IPv4 or IPv6); values use the flat keys
    ``country``, ``region``, ``city``, ``latitude``, ``longitude`` (all optional). The file is
    typed ``GeoLite2-City`` unless ``database_type`` says otherwise.
    """
    entries = DEFAULT_TEST_GEO if entries is None else entries
    writer = mmdb_writer.MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type or "GeoLite2-City",
        languages=["en"],
        description="openpanel-appliance test database",
    )
    for network, fields in entries.items():
        writer.insert_network(netaddr.IPSet([network]), _record(fields))
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(str(path))
    return path


def _record(fields: dict[str, Any]) -> dict[str, Any]:
    """Nest flat test fields into the GeoLite2-City record structure geoip2 expects."""
    record: dict[str, Any] = {}
    if fields.get("country"):
        record["country"] = {"iso_code": fields["country"], "names": {"en": fields["country"]}}
    if fields.get("region"):
        record["subdivisions"] = [{"names": {"en": fields["region"]}}]
    if fields.get("city"):
        record["city"] = {"names": {"en": fields["city"]}}
    if fields.get("latitude") is not None and fields.get("longitude") is not None:
        record["location"] = {
            "latitude": float(fields["latitude"]),
            "longitude": float(fields["longitude"]),
        }
    return record
