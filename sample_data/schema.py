"""Arrow schemas of the rows a scenario produces, in the column order of the chDB tables
(embedded_db/migrations), so a Parquet file inserts with `SELECT *` and reads alike in DuckDB."""

from __future__ import annotations

import pyarrow as pa

_TEXT = pa.string()
_TIME = pa.timestamp("ms", tz="UTC")
_TEXTS = pa.list_(pa.string())
_MAP = pa.map_(pa.string(), pa.string())

EVENTS = pa.schema(
    [
        ("id", _TEXT),
        ("name", _TEXT),
        ("sdk_name", _TEXT),
        ("sdk_version", _TEXT),
        ("device_id", _TEXT),
        ("profile_id", _TEXT),
        ("project_id", _TEXT),
        ("session_id", _TEXT),
        ("groups", _TEXTS),
        ("path", _TEXT),
        ("origin", _TEXT),
        ("referrer", _TEXT),
        ("referrer_name", _TEXT),
        ("referrer_type", _TEXT),
        ("revenue", pa.uint64()),
        ("duration", pa.uint64()),
        ("properties", _MAP),
        ("created_at", _TIME),
        ("country", _TEXT),
        ("city", _TEXT),
        ("region", _TEXT),
        ("longitude", pa.float32()),
        ("latitude", pa.float32()),
        ("os", _TEXT),
        ("os_version", _TEXT),
        ("browser", _TEXT),
        ("browser_version", _TEXT),
        ("device", _TEXT),
        ("brand", _TEXT),
        ("model", _TEXT),
        ("imported_at", pa.timestamp("s", tz="UTC")),
    ]
)

SESSIONS = pa.schema(
    [
        ("id", _TEXT),
        ("project_id", _TEXT),
        ("profile_id", _TEXT),
        ("device_id", _TEXT),
        ("created_at", _TIME),
        ("ended_at", _TIME),
        ("is_bounce", pa.bool_()),
        ("entry_origin", _TEXT),
        ("entry_path", _TEXT),
        ("exit_origin", _TEXT),
        ("exit_path", _TEXT),
        ("screen_view_count", pa.int32()),
        ("revenue", pa.float64()),
        ("event_count", pa.int32()),
        ("duration", pa.uint32()),
        ("country", _TEXT),
        ("region", _TEXT),
        ("city", _TEXT),
        ("longitude", pa.float32()),
        ("latitude", pa.float32()),
        ("device", _TEXT),
        ("brand", _TEXT),
        ("model", _TEXT),
        ("browser", _TEXT),
        ("browser_version", _TEXT),
        ("os", _TEXT),
        ("os_version", _TEXT),
        ("utm_medium", _TEXT),
        ("utm_source", _TEXT),
        ("utm_campaign", _TEXT),
        ("utm_content", _TEXT),
        ("utm_term", _TEXT),
        ("referrer", _TEXT),
        ("referrer_name", _TEXT),
        ("referrer_type", _TEXT),
        ("groups", _TEXTS),
        ("version", pa.uint64()),
    ]
)

PROFILES = pa.schema(
    [
        ("id", _TEXT),
        ("is_external", pa.bool_()),
        ("first_name", _TEXT),
        ("last_name", _TEXT),
        ("email", _TEXT),
        ("avatar", _TEXT),
        ("properties", _MAP),
        ("project_id", _TEXT),
        ("groups", _TEXTS),
        ("created_at", _TIME),
        ("last_seen_at", _TIME),
    ]
)

SCHEMAS = {"events": EVENTS, "sessions": SESSIONS, "profiles": PROFILES}
