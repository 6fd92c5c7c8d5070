"""DuckDB's last step of an import: measure the staged rows that will be stored, then write them
as Parquet files, one folder per bucket of devices, for chDB, which computes the visits and the
rows to store bucket by bucket (imports/visits.py).

A visit never spans two devices, so every device's rows go to one bucket (by a hash of its id;
rows without a device, which have no visit, are spread by row number). The number of buckets
follows the rows' size, so every bucket's statements fit in chDB's memory limit however big the
file is.

Rows without an event name or a valid time are not stored, nor are `session_start` and
`session_end` (an import recomputes visits); `measure` counts them by reason. Times are cut to
milliseconds (what `events.created_at` holds) and stay naive UTC (Parquet's
not-adjusted-to-UTC, which chDB reads as UTC whatever the local zone).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from embedded_db.sql import duck_copy, duck_select

SESSION_EVENTS = "('session_start', 'session_end')"
_STORABLE = f"name <> '' AND created_at IS NOT NULL AND name NOT IN {SESSION_EVENTS}"
_DEVICE = "coalesce(device_id, '')"
_COLUMNS = [
    "row_no",
    "name",
    "date_trunc('millisecond', created_at) AS created_at",
    f"{_DEVICE} AS device_id",
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
]
# The text a row carries, a measure of what chDB holds of it while computing visits.
_TEXT_BYTES = (
    "strlen(name) + strlen(coalesce(device_id, '')) + strlen(profile_id) + strlen(path) + "
    "strlen(origin) + strlen(referrer) + strlen(CAST(properties AS VARCHAR)) + "
    "strlen(CAST(groups AS VARCHAR)) + 64"
)
MAX_BUCKETS = 4096
_SKIPPED = ("no event name", "no valid time", "session events (recomputed)")


@dataclass(frozen=True)
class Measure:
    """What will be stored: rows, their text bytes, their time range (and that of the rows with
    a device, whose visits start 100 ms earlier and end 1 s later), and what will not be, by
    reason."""

    rows: int
    text_bytes: int
    first: datetime | None
    last: datetime | None
    device_first: datetime | None
    device_last: datetime | None
    skipped: dict[str, int]

    def buckets(self, bucket_bytes: int) -> int:
        """How many buckets keep each one's text under `bucket_bytes`."""
        wanted = math.ceil(self.text_bytes / max(bucket_bytes, 1))
        return max(1, min(wanted, self.rows, MAX_BUCKETS))


def measure(con: Any) -> Measure:
    """One pass over the staged rows (after enrichment)."""
    stored = f"FILTER (WHERE {_STORABLE})"
    device = f"FILTER (WHERE {_STORABLE} AND {_DEVICE} <> '')"
    row = con.execute(
        duck_select(
            [
                "count(*) FILTER (WHERE name = '')",
                "count(*) FILTER (WHERE name <> '' AND created_at IS NULL)",
                f"count(*) FILTER (WHERE name IN {SESSION_EVENTS})",
                f"count(*) {stored}",
                f"coalesce(sum({_TEXT_BYTES}) {stored}, 0)",
                f"min(date_trunc('millisecond', created_at)) {stored}",
                f"max(date_trunc('millisecond', created_at)) {stored}",
                f"min(date_trunc('millisecond', created_at)) {device}",
                f"max(date_trunc('millisecond', created_at)) {device}",
            ],
            "staged",
        )
    ).fetchall()[0]
    skipped = {label: int(n) for label, n in zip(_SKIPPED, row[:3], strict=True) if n}
    return Measure(int(row[3]), int(row[4]), row[5], row[6], row[7], row[8], skipped)


def write_buckets(con: Any, folder: Path, buckets: int) -> None:
    """Write the storable staged rows (columns as `visits.STAGED_STRUCTURE`) to
    `folder/bucket=N/*.parquet`, one folder per non-empty bucket."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    count = int(buckets)
    bucket = (
        f"CAST((CASE WHEN {_DEVICE} <> '' THEN hash({_DEVICE}) ELSE hash(row_no) END) % {count} "
        "AS INTEGER) AS bucket"
    )
    query = duck_select([*_COLUMNS, bucket], "staged", f"WHERE {_STORABLE}")
    # the rows carry their place in the file (row_no): the files need not keep it, which lets
    # DuckDB write them in parallel
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(
            duck_copy(
                query,
                str(folder),
                "FORMAT parquet, COMPRESSION lz4, PARTITION_BY (bucket), OVERWRITE_OR_IGNORE",
            )
        )
    finally:
        con.execute("SET preserve_insertion_order = true")


def bucket_files(folder: Path, bucket: int) -> str | None:
    """The glob of one bucket's files for chDB, or None when the bucket is empty."""
    part = folder / f"bucket={int(bucket)}"
    return str(part / "*.parquet") if any(part.glob("*.parquet")) else None
