"""An import split into many buckets of devices stores exactly what one bucket stores: visits,
their start and end rows, sessions and profiles, including people seen on several devices
(whose devices land in different buckets) and rows without a device."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.imports.conftest import Imports

_PAGES = ["/", "/pricing", "/docs", "/blog/a", "/signup"]


def _write_people(path: Path, seed: int = 3) -> Path:
    """60 devices over two days; every fifth device belongs to one of 4 people, each on 3
    devices, identified part way through; gaps of up to 50 min make several visits each."""
    rng = random.Random(seed)
    start = datetime(2024, 5, 1, 8, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for device_no in range(60):
        device = f"dev-{device_no}"
        person = f"user-{device_no % 4}" if device_no % 5 == 0 else ""
        moment = start + timedelta(minutes=rng.randint(0, 2_000))
        for event_no in range(rng.randint(3, 12)):
            moment += timedelta(minutes=rng.choice([1, 4, 9, 35, 50]))
            identified = person and event_no >= 2
            rows.append(
                {
                    "name": "screen_view" if rng.random() < 0.7 else "click",
                    "createdAt": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    "deviceId": device,
                    "profileId": person if identified else device,
                    "path": rng.choice(_PAGES),
                    "origin": "https://shop.example",
                    "properties": {"__title": f"t{event_no}"},
                    "country": rng.choice(["GB", "US", "FR"]),
                    "browser": rng.choice(["Chrome", "Firefox"]),
                }
            )
    for n in range(5):  # server-side rows: no device, so no visit
        rows.append(
            {
                "name": "invoice_paid",
                "createdAt": f"2024-05-01T12:0{n}:00.000Z",
                "profileId": f"user-{n % 4}",
                "properties": {"amount": str(n)},
            }
        )
    rng.shuffle(rows)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _stored(imports: Imports, project: str) -> dict[str, Any]:
    # ids are derived from the project and the import, so they differ between the two
    drop = {"project_id", "imported_at", "id", "session_id", "version", "created_at_ms"}
    events = sorted(
        json.dumps({k: v for k, v in e.items() if k not in drop}, sort_keys=True)
        for e in imports.events(project)
    )
    sessions = sorted(
        json.dumps({k: v for k, v in s.items() if k not in drop}, sort_keys=True)
        for s in imports.sessions(project)
    )
    profiles = {
        pid: {k: v for k, v in p.items() if k not in drop}
        for pid, p in imports.profiles(project).items()
    }
    return {"events": events, "sessions": sessions, "profiles": profiles}


def test_many_buckets_store_what_one_bucket_stores(imports: Imports) -> None:
    path = _write_people(imports.tmp / "people.ndjson")
    one = imports.importer.run(path, imports.project_id)
    assert one.record is not None and one.record.chunks_total == 1
    many_project = imports.new_project()
    many = imports.small_buckets(1_000).run(path, many_project)
    assert many.record is not None and many.record.chunks_total > 10
    assert (many.events, many.sessions) == (one.events, one.sessions)

    expected, got = _stored(imports, imports.project_id), _stored(imports, many_project)
    assert got["sessions"] == expected["sessions"]
    assert got["events"] == expected["events"]
    assert got["profiles"] == expected["profiles"]
    people = {pid: p for pid, p in got["profiles"].items() if pid.startswith("user-")}
    assert sorted(people) == ["user-0", "user-1", "user-2", "user-3"]
    assert all(p["is_external"] for p in people.values())
    assert len(imports.events(many_project, "session_start")) == one.sessions
