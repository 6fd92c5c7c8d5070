"""The Litestar `POST /track` route (used by in-process clients and the OpenAPI schema) answers
exactly like the ASGI fast path that serves it in production."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import json, sys
from pathlib import Path
from litestar.testing import TestClient
from appliance.app import create_app
from appliance.settings import load_settings
from embedded_db.meta import MetaStore

settings = load_settings({"data_dir": sys.argv[1]}, environ={})
meta = MetaStore(settings.meta_db)
project = meta.create_project("Route", cors=["https://example.com"])
client = meta.create_client(project_id=project.id).client
meta.close()
body = {"type": "track", "payload": {"name": "via_route", "properties": {"a": 1}}}
out = []
with TestClient(create_app(settings)) as http:
    for headers in ({"openpanel-client-id": client.id, "origin": "https://example.com"}, {}):
        r = http.post("/api/track", json=body, headers=headers)
        out.append([r.status_code, r.headers["content-type"], r.text])
    r = http.post("/track", content=b"{oops", headers={"openpanel-client-id": client.id})
    out.append([r.status_code, r.headers["content-type"], r.text])
    schema = http.get("/documentation/openapi.json").json()
    out.append(sorted(schema["paths"]))
print(json.dumps(out))
"""


def test_the_framework_route_matches_the_contract(tmp_path: Path) -> None:
    # A subprocess: chDB allows one data path per process and this needs a fresh one.
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    ok, unauthorized, bad, paths = json.loads(done.stdout.strip().splitlines()[-1])
    assert ok[0] == 200 and ok[1].startswith("application/json")
    assert set(json.loads(ok[2])) == {"deviceId", "sessionId"}
    assert unauthorized[:1] == [401] and unauthorized[2] == "Ingestion: Missing client id"
    assert bad[0] == 400 and json.loads(bad[2])["field"] == "body"
    assert {"/track", "/api/track", "/export/events", "/export/charts", "/-/health"} <= set(paths)
    reports = ("overview", "chart", "funnel", "conversion", "retention", "user_flow", "profiles")
    assert {f"/insights/{{project_id}}/{name}" for name in reports} <= set(paths)
