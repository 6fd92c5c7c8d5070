"""The import, export and lifecycle routes on a real server, and the CLI talking to it."""

from __future__ import annotations

import csv
import io
import json
import time
from typing import Any

import httpx

from tests.imports import samples
from tests.support.server import ApiClient, LiveServer


def _admin(server: LiveServer) -> dict[str, str]:
    token = (server.data_dir / "local-admin.token").read_text(encoding="utf-8").strip()
    return {"openpanel-admin-token": token}


def _root(server: LiveServer) -> ApiClient:
    made = server.cli(
        "client", "create", "--project", server.project_id, "--type", "root", "--json"
    )
    return ApiClient(made["client_id"], made["client_secret"])


def _wait(server: LiveServer, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = httpx.get(f"{server.url}/import/jobs/{import_id}", headers=_admin(server)).json()
        if status["status"] in ("done", "failed"):
            return dict(status)
        time.sleep(0.2)
    raise AssertionError(f"import {import_id} did not finish: {status}")


def test_raw_rows_are_inserted_without_visits(live_server: LiveServer) -> None:
    rows = [
        {
            "name": "server_sync",
            "created_at": "2024-05-01 10:00:00.000",
            "device_id": "d1",
            "profile_id": "p1",
            "project_id": "someone-else",
            "properties": {"a": {"b": 1}},
        },
        {"name": "server_sync", "created_at": "2024-05-01T10:01:00Z", "path": "/x"},
    ]
    r = httpx.post(
        f"{live_server.url}/import/events", json=rows, headers=live_server.read.headers()
    )
    assert (r.status_code, r.text) == (200, "OK")
    events = live_server.events()
    assert [(e["name"], e["createdAt"], e["sessionId"]) for e in events] == [
        ("server_sync", "2024-05-01T10:01:00.000Z", ""),
        ("server_sync", "2024-05-01T10:00:00.000Z", ""),
    ]
    assert events[1]["properties"] == {"a.b": "1"} and events[1]["projectId"] == (
        live_server.project_id
    )
    assert all(e["importedAt"] for e in events)
    bad = httpx.post(
        f"{live_server.url}/import/events", json=[{"name": "x"}], headers=live_server.read.headers()
    )
    assert bad.status_code == 400 and bad.json()["field"] == "body.0.created_at"
    anonymous = httpx.post(f"{live_server.url}/import/events", json=rows)
    assert anonymous.status_code == 401


def test_upload_import_then_export_files(live_server: LiveServer, tmp_path: Any) -> None:
    path = samples.write_ndjson(tmp_path / "events.ndjson")
    url = f"{live_server.url}/import/file"
    params = {"projectId": live_server.project_id, "name": path.name}
    refused = httpx.post(
        url, params=params, content=path.read_bytes(), headers=live_server.read.headers()
    )
    assert refused.status_code == 403 and "root client" in refused.json()["message"]
    admin = _admin(live_server)
    bad = httpx.post(url, params={**params, "format": "nope"}, content=b"x", headers=admin)
    assert bad.status_code == 400 and bad.json()["field"] == "format"
    junk = httpx.post(
        url, params={**params, "dryRun": "true"}, content=b"when,what\n1,2\n", headers=admin
    )
    assert junk.status_code == 400 and "not recognised" in junk.json()["message"]
    dry = httpx.post(
        url, params={**params, "dryRun": "true"}, content=path.read_bytes(), headers=admin
    )
    assert dry.status_code == 200 and dry.json()["status"] == "dry run"
    assert dry.json()["events"] == samples.STORED_EVENTS and live_server.events() == []
    r = httpx.post(url, params=params, content=path.read_bytes(), headers=admin)
    assert r.status_code == 202
    status = _wait(live_server, r.json()["importId"])
    assert (status["status"], status["events"], status["sessions"]) == (
        "done",
        samples.STORED_EVENTS,
        3,
    )

    export = f"{live_server.url}/export/events"
    headers = live_server.read.headers()
    as_csv = httpx.get(export, params={"format": "csv"}, headers=headers)
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(table) == samples.STORED_EVENTS
    cart = next(r for r in table if r["name"] == "add_to_cart")
    assert json.loads(cart["properties"])["sku"] == '\'=HYPERLINK("http://evil")'[1:]
    lines = httpx.get(
        export, params={"format": "ndjson", "event": "screen_view"}, headers=headers
    ).text.splitlines()
    assert [json.loads(x)["path"] for x in lines] == ["/home", "/home", "/pricing", "/home"]
    parquet = httpx.get(export, params={"format": "parquet"}, headers=headers)
    assert parquet.content[:4] == b"PAR1" and parquet.content[-4:] == b"PAR1"
    assert httpx.get(export, params={"format": "xml"}, headers=headers).status_code == 400
    assert list((live_server.data_dir / "exports").iterdir()) == []  # temp files removed


def test_erasure_and_retention_need_a_root_client(live_server: LiveServer, tmp_path: Any) -> None:
    path = samples.write_ndjson(tmp_path / "events.ndjson")
    r = httpx.post(
        f"{live_server.url}/import/file",
        params={"projectId": live_server.project_id},
        content=path.read_bytes(),
        headers=_admin(live_server),
    )
    _wait(live_server, r.json()["importId"])
    target = f"{live_server.url}/manage/profiles/user-1"
    params = {"projectId": live_server.project_id}
    assert httpx.delete(target, params=params, headers=live_server.read.headers()).status_code == (
        403
    )
    root = _root(live_server)
    erased = httpx.delete(target, params=params, headers=root.headers())
    assert erased.status_code == 200
    assert erased.json() == {"profileId": "user-1", "events": 5, "sessions": 1, "profiles": 1}
    assert len(live_server.events()) == samples.STORED_EVENTS - 5

    retention = f"{live_server.url}/manage/projects/{live_server.project_id}/retention"
    done = httpx.put(retention, json={"days": 400}, headers=root.headers())
    assert done.json() == {"projectId": live_server.project_id, "retentionDays": 400}
    assert httpx.put(retention, json={"days": "x"}, headers=root.headers()).status_code == 400
    shown = live_server.cli("retention", "--project", live_server.project_id)
    assert "keeps 400 days" in shown


def test_cli_import_and_export_go_through_the_running_server(
    live_server: LiveServer, tmp_path: Any
) -> None:
    path = samples.write_csv(tmp_path / "events.csv")
    out = live_server.cli("import", str(path), "--project", live_server.project_id, "--json")
    [result] = out
    assert (result["status"], result["events"], result["sessions"]) == (
        "done",
        samples.STORED_EVENTS,
        3,
    )
    again = live_server.cli("import", str(path), "--project", live_server.project_id, "--json")
    assert again[0]["status"] == "done" and len(live_server.events()) == samples.STORED_EVENTS
    target = tmp_path / "out.ndjson"
    live_server.cli(
        "export", "--project", live_server.project_id, "--format", "ndjson", "-o", str(target)
    )
    assert len(target.read_text(encoding="utf-8").splitlines()) == samples.STORED_EVENTS
