"""DuckDB's last step of an import: the staged rows that will be stored, written as one Parquet
file for chDB, which computes the visits and the rows to store from it (imports/visits.py).

Rows without an event name or a valid time are not stored, nor are `session_start` and
`session_end` (an import recomputes visits); `skipped_rows` counts them by reason. Times are
cut to milliseconds (what `events.created_at` holds) and stay naive UTC (Parquet's
not-adjusted-to-UTC, which chDB reads as UTC whatever the local zone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from embedded_db.sql import duck_copy, duck_select

SESSION_EVENTS = "('session_start', 'session_end')"
_BASE = duck_select(
    [
        "row_no",
        "name",
        "date_trunc('millisecond', created_at) AS created_at",
        "coalesce(device_id, '') AS device_id",
        "profile_id",
        "path",
        "origin",
        "referrer",
        "coalesce(referrer_name, '') AS referrer_name",
        "coalesce(referrer_type, '') AS referrer_type",
        "properties",
        "coalesce(country, '') AS country",
        "coalesce(region, '') AS region",
        "coalesce(city, '') AS city",
        "latitude",
        "longitude",
        "coalesce(os, '') AS os",
        "coalesce(os_version, '') AS os_version",
        "coalesce(browser, '') AS browser",
        "coalesce(browser_version, '') AS browser_version",
        "coalesce(device, '') AS device",
        "coalesce(brand, '') AS brand",
        "coalesce(model, '') AS model",
        "revenue",
        "sdk_name",
        "sdk_version",
        "groups",
    ],
    "staged",
    f"WHERE name <> '' AND created_at IS NOT NULL AND name NOT IN {SESSION_EVENTS}",
)


def skipped_rows(con: Any) -> dict[str, int]:
    """Staged rows that will not be stored, by reason (counted before sessionizing)."""
    row = con.execute(
        duck_select(
            [
                "count(*) FILTER (WHERE name = '')",
                "count(*) FILTER (WHERE name <> '' AND created_at IS NULL)",
                f"count(*) FILTER (WHERE name IN {SESSION_EVENTS})",
            ],
            "staged",
        )
    ).fetchall()[0]
    labels = ("no event name", "no valid time", "session events (recomputed)")
    return {label: int(n) for label, n in zip(labels, row, strict=True) if n}


def write_staged(con: Any, path: Path) -> None:
    """Write the storable staged rows (columns as `visits.STAGED_STRUCTURE`) to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con.execute(duck_copy(_BASE, str(path), "FORMAT parquet, COMPRESSION lz4"))
