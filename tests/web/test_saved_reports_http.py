"""`/insights/{projectId}/reports/{reportId}/data` over real HTTP: saved reports (written to
the live server's meta.db, as the report builder saves them) run against two visits sent
through `/track`:

  visitor 1 (Chrome): screen_view /  → signup
  visitor 2 (Safari): screen_view /pricing

so a line chart of screen_view and signup totals 2 and 1, and the funnel screen_view → signup
has 2 and 1 visits.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from embedded_db.meta import MetaStore
from embedded_db.saved_reports import ReportSpec, SavedReports
from tests.support.sdk import CHROME, SAFARI
from tests.support.server import LiveServer, make_server

ORIGIN = "https://example.com"


def series(*names: str) -> list[dict[str, Any]]:
    return [{"type": "event", "name": n, "segment": "event", "filters": []} for n in names]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[LiveServer]:
    srv = make_server(tmp_path_factory.mktemp("reports"), {"OPENPANEL_GEOIP_DB": str(geoip_db)})
    srv.create_project("Reports", cors=(ORIGIN,))
    srv.start()
    visitors = srv.visitors(ORIGIN)
    visitors.track("screen_view", "81.2.69.142", CHROME, __path=ORIGIN + "/")
    visitors.track("signup", "81.2.69.142", CHROME)
    visitors.track("screen_view", "8.8.8.8", SAFARI, __path=ORIGIN + "/pricing")
    srv.wait_for(lambda ev: len(ev) == 5)  # three events and two session_starts
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def reports(server: LiveServer) -> dict[str, str]:
    """Saved reports by role: line, funnel, broken (a funnel step without an event) and
    foreign (a report of another project)."""
    other = server.cli("project", "create", "Other", "--json")["project_id"]
    meta = MetaStore(server.data_dir / "meta.db")
    try:
        saved = SavedReports(meta)
        specs = {
            "line": ReportSpec(chart_type="linear", series=series("screen_view", "signup")),
            "funnel": ReportSpec(chart_type="funnel", series=series("screen_view", "signup")),
            "broken": ReportSpec(chart_type="funnel", series=series("screen_view", "")),
        }
        ids = {
            role: saved.create_report(server.project_id, f"My {role}", spec, "tester").id
            for role, spec in specs.items()
        }
        ids["foreign"] = saved.create_report(other, "Theirs", specs["line"], "tester").id
    finally:
        meta.close()
    return ids


def data(server: LiveServer, report_id: str) -> httpx.Response:
    return server.insights(f"reports/{report_id}/data")


def test_a_saved_line_chart_runs_as_saved(server: LiveServer, reports: dict[str, str]) -> None:
    r = data(server, reports["line"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["report"] == {
        "id": reports["line"],
        "name": "My line",
        "chartType": "linear",
        "range": "30d",
        "interval": "day",
    }
    totals = {tuple(s["names"]): s["metrics"]["sum"] for s in body["data"]["series"]}
    assert totals == {("(A) screen_view",): 2, ("(B) signup",): 1}
    assert all(len(s["data"]) in (30, 31) for s in body["data"]["series"])


def test_a_saved_funnel_runs_as_saved(server: LiveServer, reports: dict[str, str]) -> None:
    r = data(server, reports["funnel"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["report"]["name"], body["report"]["chartType"]) == ("My funnel", "funnel")
    assert [s["count"] for s in body["data"]["steps"]] == [2, 1]


def test_unknown_foreign_and_broken_reports(server: LiveServer, reports: dict[str, str]) -> None:
    for report_id in ("nope", reports["foreign"]):
        r = data(server, report_id)
        assert r.status_code == 404 and r.json()["status"] == 404, r.text
    broken = data(server, reports["broken"])
    assert broken.status_code == 400 and broken.json()["field"].startswith("series"), broken.text


def test_reports_need_a_read_client_with_its_secret(
    server: LiveServer, reports: dict[str, str]
) -> None:
    url = f"{server.url}/insights/{server.project_id}/reports/{reports['line']}/data"
    assert httpx.get(url, timeout=30).status_code == 401
    secretless = httpx.get(url, headers=server.read.headers(secret=False), timeout=30)
    assert secretless.status_code == 401
    writer = server.insights(f"reports/{reports['line']}/data", server.write)
    assert writer.status_code == 403
