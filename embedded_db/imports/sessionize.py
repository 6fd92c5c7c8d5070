"""Visits in SQL, under the live rules (jobs/visits.py, openpanel-compat.md §2.6), and the rows
to store, shaped exactly like the `events`, `sessions` and (merged later) `profiles` tables.

Per device, ordered by time, an event more than the timeout (30 min) after the previous one
starts a new visit. Each visit gets a `session_start` (a copy of its first event, 100 ms
earlier) and a `session_end` (1 s after its last event, with the duration and `__bounce`); its
sessions row takes entry page, referrer, utm, geo and device from the first event, the exit page
from the last event that had a path, counts page views (`screen_view` with a path) and other
events, and is a bounce unless it has more than one page view. Later events inherit the visit's
referrer. Rows without a device id are stored without a visit, as live server-side events are.
Ids are deterministic: events from (import key, row number), visits from (project, device,
start), so a re-run writes the same rows and chDB's insert deduplication drops them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from embedded_db.imports.canonical import DEVICE as DEVICE_COLUMNS
from embedded_db.imports.canonical import EVENT_COLUMNS, SESSION_COLUMNS
from embedded_db.sql import duck_copy, duck_create, duck_select

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
_ORDER = "ORDER BY created_at, row_no"
# Visit numbers are computed on a narrow projection (the window sort then moves three columns,
# not every property map) and joined back by row number.
_VISIT_NUMBERS = duck_select(
    [
        "row_no",
        "sum(CASE WHEN prev IS NULL OR epoch_ms(created_at) - epoch_ms(prev) > $timeout "
        f"THEN 1 ELSE 0 END) OVER (PARTITION BY device_id {_ORDER} ROWS UNBOUNDED PRECEDING) "
        "AS visit_no",
    ],
    "("
    + duck_select(
        [
            "row_no, device_id, created_at",
            f"lag(created_at) OVER (PARTITION BY device_id {_ORDER}) AS prev",
        ],
        "base",
        "WHERE device_id <> ''",
    )
    + ")",
)
# One sortable key for "time, then place in the file" (ties at the same millisecond).
_SEQ = "CAST(epoch_ms(b.created_at) AS HUGEINT) * 10000000000 + b.row_no AS seq"
_TRACKED = duck_select(
    [
        "b.row_no, b.device_id, b.created_at, b.name, b.path, b.origin, b.profile_id",
        "b.revenue, b.groups, n.visit_no",
        _SEQ,
    ],
    "base AS b JOIN visit_numbers AS n ON n.row_no = b.row_no",
)
_VISIT_AGGREGATES = duck_select(
    [
        "device_id",
        "visit_no",
        "min(created_at) AS started",
        "max(created_at) AS ended",
        "arg_min(row_no, seq) AS first_row",
        "arg_max(path, seq) FILTER (WHERE path <> '') AS last_path",
        "arg_max(origin, seq) FILTER (WHERE path <> '') AS last_origin",
        "count(*) FILTER (WHERE name = 'screen_view' AND path <> '') AS screen_views",
        "count(*) AS n",
        "sum(revenue) AS revenue",
        "arg_max(profile_id, seq) FILTER (WHERE profile_id <> '' AND profile_id <> device_id) "
        "AS ident",
        "list_distinct(flatten(list(groups))) AS visit_groups",
    ],
    "tracked",
    "GROUP BY device_id, visit_no",
)
_VISITS = duck_select(
    [
        "a.*",
        "b64_id('imp:v1:' || $project || ':' || a.device_id || ':' || "
        "CAST(epoch_ms(a.started) AS VARCHAR)) AS session_id",
        "coalesce(a.ident, nullif(f.profile_id, ''), a.device_id) AS visit_profile",
        "coalesce(nullif(f.profile_id, ''), a.device_id) AS first_profile",
        "coalesce(a.last_path, f.path) AS exit_path",
        "coalesce(a.last_origin, f.origin) AS exit_origin",
        "f.path AS entry_path",
        "f.origin AS entry_origin",
        "f.referrer AS v_referrer",
        "f.referrer_name AS v_referrer_name",
        "f.referrer_type AS v_referrer_type",
        "f.properties AS first_properties",
        "f.country AS v_country",
        "f.region AS v_region",
        "f.city AS v_city",
        "f.latitude AS v_latitude",
        "f.longitude AS v_longitude",
        "f.os AS v_os",
        "f.os_version AS v_os_version",
        "f.browser AS v_browser",
        "f.browser_version AS v_browser_version",
        "f.device AS v_device",
        "f.brand AS v_brand",
        "f.model AS v_model",
    ],
    "(" + _VISIT_AGGREGATES + ") AS a JOIN base AS f ON f.row_no = a.first_row",
)
_GEO_DEVICE = (
    "country, city, region, longitude, latitude, os, os_version, browser, browser_version, "
    "device, brand, model"
)
_T_GEO_DEVICE = ", ".join("t." + c.strip() for c in _GEO_DEVICE.split(","))
_V_GEO_DEVICE = ", ".join(f"v_{c.strip()} AS {c.strip()}" for c in _GEO_DEVICE.split(","))
_EVENT_ID = "hex_uuid(md5($key || ':' || CAST(row_no AS VARCHAR)))"
_VISITED_EVENTS = duck_select(
    [
        f"{_EVENT_ID.replace('row_no', 't.row_no')} AS id, t.name, t.sdk_name, t.sdk_version",
        "t.device_id",
        "coalesce(nullif(t.profile_id, ''), t.device_id) AS profile_id",
        "$project AS project_id, v.session_id, t.groups, t.path, t.origin",
        "v.v_referrer AS referrer, v.v_referrer_name AS referrer_name",
        "v.v_referrer_type AS referrer_type, t.revenue, CAST(0 AS UBIGINT) AS duration",
        f"t.properties, t.created_at, {_T_GEO_DEVICE}",
        "$imported_at AS imported_at",
        "t.row_no // $size AS chunk",
    ],
    "base AS t JOIN visit_numbers AS n ON n.row_no = t.row_no JOIN visits AS v "
    "ON v.device_id = t.device_id AND v.visit_no = n.visit_no",
)
_STARTS = duck_select(
    [
        "hex_uuid(md5(v.session_id || ':start')) AS id, 'session_start' AS name",
        "f.sdk_name, f.sdk_version, f.device_id",
        "coalesce(nullif(f.profile_id, ''), f.device_id) AS profile_id",
        "$project AS project_id, v.session_id, f.groups, f.path, f.origin, f.referrer",
        "f.referrer_name, f.referrer_type, CAST(0 AS UBIGINT) AS revenue",
        "CAST(0 AS UBIGINT) AS duration, f.properties",
        "v.started - INTERVAL 100 MILLISECOND AS created_at",
        ", ".join("f." + c.strip() for c in _GEO_DEVICE.split(",")),
        "$imported_at AS imported_at",
        "v.first_row // $size AS chunk",
    ],
    "visits AS v JOIN base AS f ON f.row_no = v.first_row",
)
_ENDS = duck_select(
    [
        "hex_uuid(md5(session_id || ':end')) AS id, 'session_end' AS name",
        "'' AS sdk_name, '' AS sdk_version, device_id, visit_profile AS profile_id",
        "$project AS project_id, session_id, visit_groups AS groups, exit_path AS path",
        "exit_origin AS origin, v_referrer AS referrer, v_referrer_name AS referrer_name",
        "v_referrer_type AS referrer_type, CAST(0 AS UBIGINT) AS revenue",
        "CAST(epoch_ms(ended) - epoch_ms(started) AS UBIGINT) AS duration",
        "MAP {'__bounce': CASE WHEN screen_views <= 1 THEN 'true' ELSE 'false' END} AS properties",
        "ended + INTERVAL 1 SECOND AS created_at",
        _V_GEO_DEVICE,
        "$imported_at AS imported_at",
        "first_row // $size AS chunk",
    ],
    "visits",
)
_LOOSE = duck_select(
    [
        f"{_EVENT_ID} AS id, name, sdk_name, sdk_version, '' AS device_id, profile_id",
        "$project AS project_id, '' AS session_id, groups, path, origin, referrer",
        "referrer_name, referrer_type, revenue, CAST(0 AS UBIGINT) AS duration, properties",
        f"created_at, {_GEO_DEVICE}, $imported_at AS imported_at",
        "row_no // $size AS chunk",
    ],
    "base",
    "WHERE device_id = ''",
)
_SESSIONS = duck_select(
    [
        "session_id AS id, $project AS project_id, visit_profile AS profile_id, device_id",
        "started AS created_at, ended AS ended_at, screen_views <= 1 AS is_bounce",
        "entry_origin, entry_path, exit_origin, exit_path",
        "CAST(screen_views AS INTEGER) AS screen_view_count",
        "CAST(revenue AS DOUBLE) AS revenue, CAST(n - screen_views AS INTEGER) AS event_count",
        "CAST(epoch_ms(ended) - epoch_ms(started) AS UINTEGER) AS duration",
        "v_country AS country, v_region AS region, v_city AS city, v_longitude AS longitude",
        "v_latitude AS latitude, v_device AS device, v_brand AS brand, v_model AS model",
        "v_browser AS browser, v_browser_version AS browser_version, v_os AS os",
        "v_os_version AS os_version",
        *(
            f"coalesce(first_properties['__query.{k}'], '') AS {k}"
            for k in ("utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term")
        ),
        "v_referrer AS referrer, v_referrer_name AS referrer_name",
        "v_referrer_type AS referrer_type, visit_groups AS groups",
        "CAST($version AS UBIGINT) AS version",
        "first_row // $size AS chunk",
    ],
    "visits",
)


_CONTEXT = ("country", "city", "region", "latitude", "longitude", *DEVICE_COLUMNS)


def _context(path: str) -> str:
    entries = ", ".join(
        f"{{'key': '{c}', 'value': coalesce(CAST(v_{c} AS VARCHAR), '')}}" for c in _CONTEXT
    )
    extra = (
        f"{{'key': 'path', 'value': {path}}}, {{'key': 'referrer', 'value': v_referrer}}, "
        "{'key': 'referrer_name', 'value': v_referrer_name}, "
        "{'key': 'referrer_type', 'value': v_referrer_type}"
    )
    return f"map_from_entries(list_filter([{entries}, {extra}], lambda e: e.value <> ''))"


# Profiles are touched when a visit starts (the first event's profile) and ends (the visit's),
# as live: first and last seen, identified or not, and the context of the latest touch (the
# visit's entry page when it was its start, the exit page when it was its end).
_TOUCHES = " UNION ALL ".join(
    (
        duck_select(
            [
                "first_profile AS id, device_id, started - INTERVAL 100 MILLISECOND AS seen",
                "first_row * 2 AS pick",
            ],
            "visits",
        ),
        duck_select(
            [
                "visit_profile AS id, device_id, ended + INTERVAL 1 SECOND AS seen",
                "first_row * 2 + 1 AS pick",
            ],
            "visits",
        ),
    )
)
_LATEST = duck_select(
    [
        "id, bool_or(id <> device_id) AS is_external, min(seen) AS first_seen",
        "max(seen) AS last_seen",
        "arg_max(pick, CAST(epoch_ms(seen) AS HUGEINT) * 100000000000 + pick) AS pick",
    ],
    "(" + _TOUCHES + ")",
    "GROUP BY id",
)
_PROFILES = duck_select(
    [
        "l.id, l.is_external, l.first_seen, l.last_seen",
        _context("CASE WHEN l.pick % 2 = 0 THEN v.entry_path ELSE v.exit_path END") + " AS context",
    ],
    "(" + _LATEST + ") AS l JOIN visits AS v ON v.first_row = l.pick // 2",
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


@dataclass(frozen=True)
class Output:
    """Where `sessionize` left its rows: chunk numbers, and the parameters of every chunk."""

    chunks: list[int]
    params: dict[str, Any]


def sessionize(
    con: Any,
    *,
    project_id: str,
    key: str,
    imported_at: datetime,
    chunk_rows: int,
    timeout_ms: int = 30 * 60_000,
    version: int = 1,
) -> Output:
    """Build the temp tables `visits` and `out_profiles` and list the chunks (ranges of file
    rows); `write_chunks` then writes each chunk's events and visits for chDB."""
    con.execute("CREATE OR REPLACE TEMP VIEW base AS " + _BASE)
    con.execute(duck_create("visit_numbers", _VISIT_NUMBERS), {"timeout": timeout_ms})
    con.execute(duck_create("tracked", _TRACKED))
    con.execute(duck_create("visits", _VISITS), {"project": project_id})
    con.execute(duck_create("out_profiles", _PROFILES))
    found = con.execute(_CHUNKS, {"size": chunk_rows}).fetchall()
    params = {
        "project": project_id,
        "imported_at": imported_at,
        "size": chunk_rows,
        "key": key,
        "version": version,
    }
    return Output([int(r[0]) for r in found], params)


_EVENTS = " UNION ALL ".join((_VISITED_EVENTS, _STARTS, _ENDS, _LOOSE))
# Every stored row belongs to the chunk of a file row (its own, or its visit's first row).
_CHUNKS = "SELECT DISTINCT row_no // $size FROM base ORDER BY 1"
# Hive-style folders `chunk=N/` (the chunk column is left out of the files). Timestamps stay
# naive (Parquet's not-adjusted-to-UTC), which chDB reads as UTC whatever the local zone.
_PARTITIONED = "FORMAT parquet, PARTITION_BY (chunk), OVERWRITE_OR_IGNORE, COMPRESSION lz4"
_SINGLE = "FORMAT parquet, COMPRESSION lz4"


def write_chunks(con: Any, output: Output, folder: Path) -> None:
    """Write every chunk's rows (events with the visit start/end events, and visits; columns in
    table order) as Parquet under `folder/events/chunk=N/` and `folder/sessions/chunk=N/`."""
    if not output.chunks:
        return
    p = output.params
    jobs = (
        ("events", EVENT_COLUMNS, _EVENTS, ("project", "imported_at", "size", "key")),
        ("sessions", SESSION_COLUMNS, _SESSIONS, ("project", "size", "version")),
    )
    for name, columns, query, keys in jobs:
        params = {k: p[k] for k in keys}
        if len(output.chunks) == 1:  # one file, no partitioning pass (DuckDB's is slow)
            target = folder / name / f"chunk={output.chunks[0]}"
            target.mkdir(parents=True, exist_ok=True)
            rows = duck_select([columns], "(" + query + ")")
            con.execute(duck_copy(rows, str(target / "data_0.parquet"), _SINGLE), params)
        else:
            folder.mkdir(parents=True, exist_ok=True)
            rows = duck_select([columns, "chunk"], "(" + query + ")")
            con.execute(duck_copy(rows, str(folder / name), _PARTITIONED), params)


def profile_table(con: Any) -> Any:
    """The import's profiles as an Arrow table (id, is_external, first/last seen, context)."""
    return _table(con.sql("SELECT * FROM out_profiles"))


def _table(result: Any) -> Any:
    """A DuckDB relation as one Arrow table (DuckDB 1.x calls it `.arrow()`)."""
    fetch = getattr(result, "to_arrow_table", None) or result.arrow
    table = fetch()
    return table.read_all() if hasattr(table, "read_all") else table


def summary(con: Any, output: Output) -> dict[str, Any]:
    """Rows to store (file events plus visit start/end) and their time range (UTC text)."""
    row = con.execute("SELECT count(*), min(created_at), max(created_at) FROM base").fetchall()[0]
    visits = con.execute("SELECT count(*), max(ended) FROM visits").fetchall()[0]
    first, last = row[1], row[2]
    if visits[0]:
        first = first - timedelta(milliseconds=100)
        last = max(last, visits[1] + timedelta(seconds=1))
    return {
        "events": int(row[0]) + 2 * int(visits[0]),
        "sessions": int(visits[0]),
        "first_at": first.isoformat(sep=" ") if first else "",
        "last_at": last.isoformat(sep=" ") if last else "",
    }
