"""OpenPanel's own exports (NDJSON, `/export/events` pages, CSV) and `events`-shaped Parquet are
imported with visits recomputed under the live rules."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.imports import samples
from tests.imports.conftest import Imports

WRITERS: dict[str, tuple[str, Callable[[Path], Path]]] = {
    "ndjson": ("events.ndjson", samples.write_ndjson),
    "page": ("page.json", samples.write_page),
    "csv": ("events.csv", samples.write_csv),
    "parquet": ("events.parquet", samples.write_events_parquet),
}


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_each_container_stores_the_same_visits(imports: Imports, kind: str) -> None:
    name, write = WRITERS[kind]
    result = imports.importer.run(write(imports.tmp / name), imports.project_id)

    assert result.format == ("events" if kind == "parquet" else "openpanel")
    assert result.events == samples.STORED_EVENTS and result.sessions == 3
    assert result.rows_read == 7
    assert result.skipped == {"session events (recomputed)": 1}
    events = imports.events()
    assert len(events) == samples.STORED_EVENTS
    names = [e["name"] for e in events]
    assert names.count("session_start") == 3 and names.count("session_end") == 3
    assert names.count("screen_view") == 4

    first, bounced_b, second_a = imports.sessions()
    assert (first["device_id"], first["entry_path"], first["exit_path"]) == (
        "dev-a",
        "/home",
        "/pricing",
    )
    assert first["profile_id"] == "user-1"  # identified during the visit
    assert (first["screen_view_count"], first["event_count"]) == (2, 1)
    assert first["is_bounce"] is False and first["duration"] == 12 * 60_000
    assert first["utm_source"] == "newsletter"
    assert (first["referrer_name"], first["referrer_type"]) == ("Google", "search")
    assert (first["country"], first["city"], first["browser"]) == ("GB", "London", "Chrome")
    assert bounced_b["device_id"] == "dev-b" and bounced_b["is_bounce"] is True
    assert bounced_b["country"] == "US" and bounced_b["duration"] == 0
    assert second_a["device_id"] == "dev-a" and second_a["created_at"] == "2024-05-01 11:00:00.000"
    assert second_a["is_bounce"] is True and second_a["profile_id"] == "dev-a"


def test_visit_events_follow_the_live_rules(imports: Imports) -> None:
    imports.importer.run(samples.write_ndjson(imports.tmp / "e.ndjson"), imports.project_id)
    events = imports.events()
    by_visit: dict[str, list[dict]] = {}
    for e in events:
        by_visit.setdefault(e["session_id"], []).append(e)
    loose = by_visit.pop("")
    assert [(e["name"], e["device_id"], e["profile_id"]) for e in loose] == [
        ("invoice_paid", "", "user-9")
    ]
    visit = next(v for v in by_visit.values() if len(v) == 5)
    start, home, pricing, cart, end = visit
    assert start["name"] == "session_start" and start["created_at"] == "2024-05-01 09:59:59.900"
    assert start["path"] == "/home" and start["properties"]["__title"] == "Home"
    assert cart["profile_id"] == "user-1" and cart["referrer_name"] == "Google"  # inherited
    assert pricing["referrer"] == "https://www.google.com"
    assert end["name"] == "session_end" and end["created_at"] == "2024-05-01 10:12:01.000"
    assert end["duration"] == 720_000 and end["properties"] == {"__bounce": "false"}
    assert end["path"] == "/pricing" and end["profile_id"] == "user-1"
    assert all(e["imported_at"] for e in events)


def test_profiles_of_the_visitors(imports: Imports) -> None:
    imports.importer.run(samples.write_ndjson(imports.tmp / "e.ndjson"), imports.project_id)
    profiles = imports.profiles()
    assert set(profiles) == {"dev-a", "dev-b", "user-1"}
    assert profiles["user-1"]["is_external"] is True
    assert profiles["dev-a"]["is_external"] is False
    assert profiles["dev-a"]["created_at"] == "2024-05-01 09:59:59.900"
    assert profiles["dev-a"]["last_seen_at"] == "2024-05-01 11:00:01.000"
    assert profiles["user-1"]["properties"]["path"] == "/pricing"
    assert profiles["user-1"]["properties"]["country"] == "GB"


def test_importing_merges_over_an_identified_profile(imports: Imports) -> None:
    imports.store.insert(
        "profiles",
        [
            {
                "id": "user-1",
                "project_id": imports.project_id,
                "is_external": True,
                "first_name": "Ada",
                "email": "ada@example.com",
                "properties": {"plan": "pro"},
                "created_at": "2024-01-01 00:00:00.000",
                "last_seen_at": "2024-01-02 00:00:00.000",
            }
        ],
    )
    imports.importer.run(samples.write_ndjson(imports.tmp / "e.ndjson"), imports.project_id)
    user = imports.profiles()["user-1"]
    assert (user["first_name"], user["email"]) == ("Ada", "ada@example.com")
    assert user["properties"]["plan"] == "pro" and user["properties"]["path"] == "/pricing"
    assert user["created_at"] == "2024-01-01 00:00:00.000"
    assert user["last_seen_at"] == "2024-05-01 10:12:01.000"


def test_a_column_mapping_reads_any_csv(imports: Imports) -> None:
    from embedded_db.imports.formats import Options

    path = imports.tmp / "custom.csv"
    path.write_text(
        "ts,event,uid,page,plan\n"
        "1714557600,page_view,u1,https://x.example/a?utm_source=ads,free\n"
        "1714557660000,screen_view,u1,https://x.example/b,free\n"
        "2024-05-01T10:30:00+02:00,signup,u2,,pro\n",
        encoding="utf-8",
    )
    mapping = {"created_at": "ts", "name": "event", "device_id": "uid", "url": "page"}
    result = imports.importer.run(path, imports.project_id, Options(mapping=mapping))

    assert result.format == "mapped" and result.sessions == 2
    events = [e for e in imports.events() if e["name"] not in ("session_start", "session_end")]
    assert [(e["name"], e["created_at"], e["path"], e["origin"]) for e in events] == [
        ("signup", "2024-05-01 08:30:00.000", "", ""),
        ("page_view", "2024-05-01 10:00:00.000", "/a", "https://x.example"),
        ("screen_view", "2024-05-01 10:01:00.000", "/b", "https://x.example"),
    ]
    assert events[1]["properties"] == {"__query.utm_source": "ads", "plan": "free"}
    assert events[0]["properties"] == {"plan": "pro"}


def test_compression_is_read_from_the_bytes_not_the_name(imports: Imports) -> None:
    import gzip

    plain = samples.write_ndjson(imports.tmp / "e.ndjson")
    upload = imports.tmp / "upload-without-suffix"
    upload.write_bytes(gzip.compress(plain.read_bytes()))
    result = imports.importer.run(upload, imports.project_id)
    assert (result.format, result.events, result.sessions) == (
        "openpanel",
        samples.STORED_EVENTS,
        3,
    )
