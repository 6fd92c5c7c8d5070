"""The staged rows every format is mapped to, before enrichment and visits.

A reader gives a `Mapping`: a DuckDB source (a table function or a subquery over the file) and
SQL expressions for some canonical columns. `staging_query` fills the rest with defaults. Columns
that enrichment can derive (referrer classification, geo, device) stay NULL when the file does
not carry them, so enrichment knows what to fill; everything else defaults to '' / 0 / {}.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass

from embedded_db.sql import duck_select

# name → (DuckDB type, default when the file does not carry the column)
STAGED: dict[str, tuple[str, str]] = {
    "name": ("VARCHAR", "''"),
    "created_at": ("TIMESTAMP", "NULL"),
    "device_id": ("VARCHAR", "NULL"),
    "profile_id": ("VARCHAR", "''"),
    "url": ("VARCHAR", "NULL"),  # a page URL or path still to split into origin/path/query
    "path": ("VARCHAR", "''"),
    "origin": ("VARCHAR", "''"),
    "referrer": ("VARCHAR", "''"),
    "referrer_name": ("VARCHAR", "NULL"),
    "referrer_type": ("VARCHAR", "NULL"),
    "properties": ("MAP(VARCHAR, VARCHAR)", "MAP {}"),
    "ip": ("VARCHAR", "''"),
    "ua": ("VARCHAR", "''"),
    "country": ("VARCHAR", "NULL"),
    "region": ("VARCHAR", "NULL"),
    "city": ("VARCHAR", "NULL"),
    "latitude": ("FLOAT", "NULL"),
    "longitude": ("FLOAT", "NULL"),
    "os": ("VARCHAR", "NULL"),
    "os_version": ("VARCHAR", "NULL"),
    "browser": ("VARCHAR", "NULL"),
    "browser_version": ("VARCHAR", "NULL"),
    "device": ("VARCHAR", "NULL"),
    "brand": ("VARCHAR", "NULL"),
    "model": ("VARCHAR", "NULL"),
    "revenue": ("UBIGINT", "0"),
    "sdk_name": ("VARCHAR", "''"),
    "sdk_version": ("VARCHAR", "''"),
    "groups": ("VARCHAR[]", "[]"),
}
GEO = ("country", "region", "city", "latitude", "longitude")
DEVICE = ("os", "os_version", "browser", "browser_version", "device", "brand", "model")
# The `events` table's columns, in the order the staged Parquet is written and inserted.
EVENT_COLUMNS = (
    "id, name, sdk_name, sdk_version, device_id, profile_id, project_id, session_id, groups, "
    "path, origin, referrer, referrer_name, referrer_type, revenue, duration, properties, "
    "created_at, country, city, region, longitude, latitude, os, os_version, browser, "
    "browser_version, device, brand, model, imported_at"
)
SESSION_COLUMNS = (
    "id, project_id, profile_id, device_id, created_at, ended_at, is_bounce, entry_origin, "
    "entry_path, exit_origin, exit_path, screen_view_count, revenue, event_count, duration, "
    "country, region, city, longitude, latitude, device, brand, model, browser, "
    "browser_version, os, os_version, utm_medium, utm_source, utm_campaign, utm_content, "
    "utm_term, referrer, referrer_name, referrer_type, groups, version"
)


_LENIENT = frozenset({"latitude", "longitude", "revenue"})
# Reader expressions already produce these types (casting a map again copies it).
_TYPED = frozenset({"properties", "created_at"})


@dataclass(frozen=True)
class Mapping:
    """How one format becomes staged rows: `source` is the FROM part, `columns` maps canonical
    names to DuckDB expressions over it, `where` drops rows that are not events (log lines
    that are not page views). `row_number` numbers rows in file order (Parquet has its own
    `file_row_number`, which needs no window over the whole file)."""

    source: str
    columns: MappingType[str, str]
    where: str = ""
    row_number: str = "row_number() OVER ()"


def staging_query(mapping: Mapping) -> str:
    """The SELECT producing every STAGED column (plus `row_no`, the row's place in the file)."""
    unknown = set(mapping.columns) - set(STAGED)
    if unknown:
        raise ValueError(f"unknown canonical columns {sorted(unknown)}")
    exprs = [f"CAST({mapping.row_number} AS BIGINT) AS row_no"]
    for name, (kind, default) in STAGED.items():
        expr = mapping.columns.get(name)
        if not expr:
            exprs.append(f"CAST({default} AS {kind}) AS {name}")
            continue
        # numbers from text may be junk ("-", "n/a"): NULL rather than a failed import
        value = f"TRY_CAST({expr} AS {kind})" if name in _LENIENT else expr
        if default != "NULL":
            value = f"coalesce({value}, {default})"
        exprs.append(
            f"{value} AS {name}" if name in _TYPED else f"CAST({value} AS {kind}) AS {name}"
        )
    tail = f"WHERE {mapping.where}" if mapping.where else ""
    return duck_select(exprs, mapping.source, tail)
