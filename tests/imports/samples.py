"""Small event files written by the tests, and the facts every import of them must produce.

Two browsers and one server-side event:
- device `dev-a`: /home (from Google, utm_source=newsletter), /pricing 10 min later, then an
  `add_to_cart` by the identified `user-1`; 48 min later /home again → a second, bounced visit;
- device `dev-b`: one page view at 10:05 → a bounced visit;
- `invoice_paid` for `user-9` with no device → stored without a visit.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DAY = "2024-05-01"
CAMEL_ROWS: list[dict[str, Any]] = [
    {
        "name": "screen_view",
        "createdAt": f"{DAY}T10:00:00.000Z",
        "deviceId": "dev-a",
        "profileId": "dev-a",
        "path": "/home",
        "origin": "https://shop.example",
        "properties": {"__query.utm_source": "newsletter", "__title": "Home"},
        "referrer": "https://www.google.com",
        "referrerName": "Google",
        "referrerType": "search",
        "country": "GB",
        "city": "London",
        "browser": "Chrome",
        "os": "Windows",
        "device": "desktop",
    },
    {
        "name": "screen_view",
        "createdAt": f"{DAY}T10:05:00.000Z",
        "deviceId": "dev-b",
        "profileId": "dev-b",
        "path": "/home",
        "origin": "https://shop.example",
        "properties": {},
        "country": "US",
    },
    {
        "name": "screen_view",
        "createdAt": f"{DAY}T10:10:00.000Z",
        "deviceId": "dev-a",
        "profileId": "dev-a",
        "path": "/pricing",
        "origin": "https://shop.example",
        "properties": {},
        "country": "GB",
    },
    {
        "name": "add_to_cart",
        "createdAt": f"{DAY}T10:12:00.000Z",
        "deviceId": "dev-a",
        "profileId": "user-1",
        "path": "",
        "origin": "",
        "properties": {"sku": '=HYPERLINK("http://evil")', "qty": "2"},
        "revenue": 0,
    },
    {
        "name": "screen_view",
        "createdAt": f"{DAY}T11:00:00.000Z",
        "deviceId": "dev-a",
        "profileId": "dev-a",
        "path": "/home",
        "origin": "https://shop.example",
        "properties": {},
    },
    {
        "name": "invoice_paid",
        "createdAt": f"{DAY}T12:00:00.000Z",
        "deviceId": "",
        "profileId": "user-9",
        "path": "",
        "origin": "",
        "properties": {"amount": "99"},
    },
    # Exports carry the visit events; the import recomputes them.
    {
        "name": "session_start",
        "createdAt": f"{DAY}T09:59:59.900Z",
        "deviceId": "dev-a",
        "profileId": "dev-a",
        "path": "/home",
        "origin": "https://shop.example",
        "properties": {},
    },
]
STORED_EVENTS = 6 + 2 * 3  # six file events and a start and an end for each of three visits

_CAMEL_COLUMNS = [
    "name",
    "createdAt",
    "deviceId",
    "profileId",
    "path",
    "origin",
    "properties",
    "referrer",
    "referrerName",
    "referrerType",
    "country",
    "city",
    "browser",
    "os",
    "device",
    "revenue",
]


def write_ndjson(path: Path, rows: list[dict[str, Any]] = CAMEL_ROWS) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def write_page(path: Path, rows: list[dict[str, Any]] = CAMEL_ROWS) -> Path:
    meta = {"count": len(rows), "totalCount": len(rows), "pages": 1, "current": 1}
    path.write_text(json.dumps({"meta": meta, "data": rows}), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict[str, Any]] = CAMEL_ROWS) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(_CAMEL_COLUMNS)
        for row in rows:
            values = []
            for col in _CAMEL_COLUMNS:
                value = row.get(col, "")
                values.append(json.dumps(value) if col == "properties" else value)
            writer.writerow(values)
    return path


def write_events_parquet(path: Path, rows: list[dict[str, Any]] = CAMEL_ROWS) -> Path:
    """The same rows shaped like the `events` table (snake_case, a map, a timestamp)."""
    from datetime import datetime

    def ts(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)

    table = pa.table(
        {
            "name": [r["name"] for r in rows],
            "created_at": pa.array([ts(r["createdAt"]) for r in rows], pa.timestamp("ms")),
            "device_id": [r["deviceId"] for r in rows],
            "profile_id": [r["profileId"] for r in rows],
            "path": [r["path"] for r in rows],
            "origin": [r["origin"] for r in rows],
            "properties": pa.array(
                [list(r["properties"].items()) for r in rows], pa.map_(pa.string(), pa.string())
            ),
            "referrer": [r.get("referrer", "") for r in rows],
            "referrer_name": [r.get("referrerName", "") for r in rows],
            "referrer_type": [r.get("referrerType", "") for r in rows],
            "country": [r.get("country", "") for r in rows],
            "city": [r.get("city", "") for r in rows],
            "browser": [r.get("browser", "") for r in rows],
            "os": [r.get("os", "") for r in rows],
            "device": [r.get("device", "") for r in rows],
            "session_id": ["ignored"] * len(rows),
        }
    )
    pq.write_table(table, path)
    return path
