"""IP geolocation through a MaxMind-format database (compat §2.2, GeoLite2-City layout).

The reader opens the database in its constructor (never at import) and memoises lookups in an
LRU cache: the database is immutable while open, so entries never go stale.
"""

from __future__ import annotations

import functools
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geoip2.database
import geoip2.errors
import maxminddb

from jobs.enrich.ip import is_public_ip

__all__ = ["EMPTY_GEO", "Geo", "GeoDatabaseError", "GeoReader"]


class GeoDatabaseError(Exception):
    """The geo database file is missing, unreadable or not a City/Country database."""


@dataclass(frozen=True, slots=True)
class Geo:
    """Location of an IP: ISO alpha-2 country, English region/city names, coordinates."""

    country: str = ""
    region: str = ""
    city: str = ""
    latitude: float | None = None
    longitude: float | None = None


EMPTY_GEO = Geo()


class GeoReader:
    """Looks up IPs in a GeoLite2-City (or Country-only) database; without a path it is a no-op."""

    def __init__(self, path: Path | None, cache_size: int = 4096) -> None:
        """Open the database at ``path``; raises GeoDatabaseError naming the path on failure."""
        self.path = path
        self._reader: geoip2.database.Reader | None = None
        self._has_city = False
        if path is not None:
            self._reader, self._has_city = _open(path)
        self._cached = functools.lru_cache(maxsize=cache_size)(self._lookup_uncached)

    @property
    def available(self) -> bool:
        """True while a database is open and lookups can return data."""
        return self._reader is not None

    @property
    def database_type(self) -> str:
        """The database's self-declared type (e.g. ``GeoLite2-City``), ``""`` when none."""
        if self._reader is None:
            return ""
        return str(self._reader.metadata().database_type)

    def lookup(self, ip: str) -> Geo:
        """Return the location of ``ip``; empty Geo for "", private, unknown or no database."""
        if self._reader is None or not ip:
            return EMPTY_GEO
        return self._cached(ip)

    def cache_info(self) -> Any:
        """Hit/miss counters of the lookup cache (functools ``CacheInfo``)."""
        return self._cached.cache_info()

    def close(self) -> None:
        """Close the database and drop cached lookups; later lookups return empty Geo."""
        reader, self._reader = self._reader, None
        self._cached.cache_clear()
        if reader is not None:
            reader.close()

    def __enter__(self) -> GeoReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _lookup_uncached(self, ip: str) -> Geo:
        reader = self._reader
        if reader is None or not is_public_ip(ip):
            return EMPTY_GEO
        ip = _unmap(ip)
        try:
            if self._has_city:
                return _geo_from_city(reader.city(ip))
            return Geo(country=reader.country(ip).country.iso_code or "")
        except (geoip2.errors.AddressNotFoundError, ValueError):
            return EMPTY_GEO


def _open(path: Path) -> tuple[geoip2.database.Reader, bool]:
    """Open ``path`` and tell whether it carries city-level records."""
    try:
        reader = geoip2.database.Reader(str(path))
    except FileNotFoundError as exc:
        raise GeoDatabaseError(f"geo database not found: {path}") from exc
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
        raise GeoDatabaseError(f"geo database unreadable: {path}: {exc}") from exc
    db_type = str(reader.metadata().database_type)
    # geoip2 checks the declared type by substring before each lookup, so mirror that check.
    if "City" in db_type:
        return reader, True
    if "Country" in db_type:
        return reader, False
    reader.close()
    raise GeoDatabaseError(
        f"geo database {path} has type {db_type!r}; a City or Country database is required"
    )


def _unmap(ip: str) -> str:
    """Look ``::ffff:a.b.c.d`` up as ``a.b.c.d``: not every database aliases the mapped range."""
    if ":" not in ip:
        return ip
    mapped = ipaddress.IPv6Address(ip).ipv4_mapped
    return str(mapped) if mapped is not None else ip


def _geo_from_city(record: Any) -> Geo:
    """Map a geoip2 City model onto our Geo (English names; first subdivision as region)."""
    subdivisions = record.subdivisions
    subdivision = subdivisions[0] if len(subdivisions) else None
    location = record.location
    return Geo(
        country=record.country.iso_code or "",
        region=(subdivision.names.get("en", "") if subdivision is not None else ""),
        city=record.city.names.get("en", ""),
        latitude=location.latitude,
        longitude=location.longitude,
    )
